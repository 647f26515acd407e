package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestTrainFreshRunDirs runs the built binary: without --out every new run gets its own
// directory (runs/MODEL, runs/MODEL-2, ...), skipping one another run has locked; with
// --out an existing run is still refused, and only after the other arguments are checked.
func TestTrainFreshRunDirs(t *testing.T) {
	bin := sharedBinary(t)
	dir := t.TempDir()
	trainArgs := []string{"train", "--model", "logreg", "--dataset", "sample", "--epochs", "1", "--validation-split", "0", "--json"}
	for i, want := range []string{"runs/logreg", "runs/logreg-2"} {
		code, stdout, stderr := runBin(t, bin, dir, nil, trainArgs...)
		if code != 0 {
			t.Fatalf("run %d: exit %d: %s", i+1, code, stderr)
		}
		if !strings.Contains(stdout, `"checkpoint":"`+filepath.Join(want, "model.safetensors")+`"`) {
			t.Errorf("run %d: %s; want its checkpoint in %s", i+1, stdout, want)
		}
		if _, err := os.Stat(filepath.Join(dir, want, "model.safetensors")); err != nil {
			t.Error(err)
		}
	}

	// A directory another run holds is skipped, even before it has a checkpoint.
	busy := filepath.Join(dir, "runs", "logreg-3")
	if err := os.MkdirAll(busy, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(busy)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runBin(t, bin, dir, nil, trainArgs...); code != 0 || !strings.Contains(stdout, "runs/logreg-4/model.safetensors") {
		t.Errorf("with runs/logreg-3 locked: exit %d, stdout %q, stderr %q; want runs/logreg-4", code, stdout, stderr)
	}

	// --out keeps refusing an existing run, but names a bad argument first.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--model", "logreg", "--dataset", "sample", "--out", "runs/logreg"}, "already holds a run"},
		{[]string{"train", "--model", "logreg", "--dataset", "nope", "--out", "runs/logreg"}, `"nope"`},
		{[]string{"train", "--model", "nope", "--dataset", "sample", "--out", "runs/logreg"}, `unknown model "nope"`},
	} {
		code, _, stderr := runBin(t, bin, dir, nil, c.args...)
		if code != 2 && code != 1 {
			t.Errorf("%v: exit %d", c.args, code)
		}
		if err := checkErrorOutput(stderr, c.want); err != nil {
			t.Errorf("%v: %v\n%s", c.args, err, stderr)
		}
	}
}
