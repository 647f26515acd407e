package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/convgraph/convgraph/train"
)

// startUntil starts the binary and returns once a stderr line starts with prefix; the
// rest of stderr is collected into the returned channel's value when the process ends.
func startUntil(t *testing.T, bin, prefix string, args ...string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.HasPrefix(sc.Text(), prefix) {
			break
		}
	}
	rest := make(chan string, 1)
	go func() {
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		rest <- strings.Join(lines, "\n")
	}()
	return cmd, rest
}

// waitExit waits for cmd (at most a minute) and returns its exit status.
func waitExit(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("the process did not exit")
	}
	return -1
}

// SIGTERM in the middle of a two-phase fine-tuning saves the run and exits 143; the
// epochs already done are in the checkpoint, and --resume finishes the run with every
// epoch of both phases in its history.
func TestFinetuneSIGTERMSavesAndResumes(t *testing.T) {
	bin := sharedBinary(t)
	out := filepath.Join(t.TempDir(), "ft")
	cmd, rest := startUntil(t, bin, "epoch 3/", "finetune", "--from", "fashion-cnn", "--dataset", "sample-mnist",
		"--epochs", "200", "--two-phase", "--fine-epochs", "2", "--out", out)
	cmd.Process.Signal(syscall.SIGTERM)
	if code := waitExit(t, cmd); code != 143 {
		t.Fatalf("exit %d after SIGTERM, want 143; stderr:\n%s", code, <-rest)
	}
	if s := <-rest; !strings.Contains(s, "convgraph finetune --out "+out+" --resume") {
		t.Errorf("stderr does not say how to resume:\n%s", s)
	}
	c, err := train.Load(filepath.Join(out, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Epoch < 2 || c.History == nil || len(c.History.Epochs) != c.Epoch || c.Extra["phase"] != "1" {
		t.Fatalf("saved epoch %d, phase %s, history %v", c.Epoch, c.Extra["phase"], c.History)
	}
	// Resuming with a changed setting is refused; with none it finishes both phases.
	if code, _, stderr := runBin(t, bin, "", nil, "finetune", "--out", out, "--resume", "--lr", "0.1"); code != 2 || !strings.Contains(stderr, "drop --lr") {
		t.Errorf("--resume --lr: exit %d: %s", code, stderr)
	}
	// 200 epochs are too many to finish here: cut the run short by rewriting its plan is
	// not allowed, so interrupt again in phase 1 and check the position moved on.
	cmd, rest = startUntil(t, bin, "epoch "+itoa(c.Epoch+2)+"/", "finetune", "--out", out, "--resume")
	cmd.Process.Signal(syscall.SIGINT)
	if code := waitExit(t, cmd); code != 130 {
		t.Fatalf("exit %d after SIGINT, want 130; stderr:\n%s", code, <-rest)
	}
	<-rest
	c2, err := train.Load(filepath.Join(out, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if c2.Epoch <= c.Epoch || len(c2.History.Epochs) != c2.Epoch || c2.Step <= c.Step {
		t.Errorf("after the resumed run: epoch %d step %d (was %d, %d)", c2.Epoch, c2.Step, c.Epoch, c.Step)
	}
}

// A two-phase run interrupted after phase 1 resumes into phase 2 and finishes it.
func TestFinetuneResumesIntoPhase2(t *testing.T) {
	bin := sharedBinary(t)
	out := filepath.Join(t.TempDir(), "ft")
	cmd, rest := startUntil(t, bin, "phase 2:", "finetune", "--from", "fashion-cnn", "--dataset", "sample-mnist",
		"--epochs", "2", "--two-phase", "--fine-epochs", "100", "--out", out)
	cmd.Process.Signal(syscall.SIGTERM)
	if code := waitExit(t, cmd); code != 143 {
		t.Fatalf("exit %d, want 143: %s", code, <-rest)
	}
	<-rest
	c, err := train.Load(filepath.Join(out, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Epoch < 2 {
		t.Fatalf("phase 1's two epochs are not in the checkpoint: epoch %d", c.Epoch)
	}
	cmd, rest = startUntil(t, bin, "epoch "+itoa(c.Epoch+2)+"/", "finetune", "--out", out, "--resume")
	cmd.Process.Signal(syscall.SIGTERM)
	if code := waitExit(t, cmd); code != 143 {
		t.Fatalf("resumed: exit %d, want 143: %s", code, <-rest)
	}
	if s := <-rest; !strings.Contains(s, "phase 2: unfroze") {
		t.Errorf("the resumed run did not go on with phase 2:\n%s", s)
	}
	c2, err := train.Load(filepath.Join(out, "model.safetensors"))
	if err != nil || c2.Extra["phase"] != "2" || c2.Epoch <= c.Epoch {
		t.Fatalf("after phase 2: %v, phase %q, epoch %d", err, c2.Extra["phase"], c2.Epoch)
	}
}

// SIGTERM stops train like Ctrl-C does: the run is saved and the exit status is 143.
func TestTrainSIGTERMSaves(t *testing.T) {
	bin := sharedBinary(t)
	out := filepath.Join(t.TempDir(), "run")
	cmd, rest := startUntil(t, bin, "epoch 2/", "train", "--model", "mlp", "--dataset", "sample", "--epochs", "1000", "--out", out)
	cmd.Process.Signal(syscall.SIGTERM)
	if code := waitExit(t, cmd); code != 143 {
		t.Fatalf("exit %d, want 143: %s", code, <-rest)
	}
	<-rest
	if c, err := train.Load(filepath.Join(out, "model.safetensors")); err != nil || c.Epoch < 1 {
		t.Fatalf("checkpoint after SIGTERM: %v", err)
	}
}

// A second run into a directory another run is writing gets a clear error at once and
// touches nothing; the first run finishes as if alone.
func TestRunDirectoryIsLocked(t *testing.T) {
	bin := sharedBinary(t)
	out := filepath.Join(t.TempDir(), "run")
	first, rest := startUntil(t, bin, "training ", "train", "--model", "mlp", "--dataset", "sample", "--epochs", "1000", "--out", out)
	for _, args := range [][]string{
		{"train", "--model", "mlp", "--dataset", "sample", "--epochs", "2", "--out", out, "--overwrite"},
		{"train", "--out", out, "--resume", "--epochs", "2000"},
		{"finetune", "--from", "fashion-cnn", "--dataset", "sample-mnist", "--out", out, "--overwrite"},
	} {
		code, stdout, stderr := runBin(t, bin, "", nil, args...)
		if code == 0 || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q", args, code, stdout)
		}
		if err := checkErrorOutput(stderr, "is in use by another convgraph run"); err != nil && !strings.Contains(stderr, "--resume: checkpoint") {
			t.Errorf("%v: %v:\n%s", args, err, stderr)
		}
	}
	first.Process.Signal(syscall.SIGINT)
	if code := waitExit(t, first); code != 130 {
		t.Fatalf("first run: exit %d: %s", code, <-rest)
	}
	<-rest
	var h struct {
		Model string `json:"model"`
	}
	b, _ := os.ReadFile(filepath.Join(out, "history.json"))
	if err := json.Unmarshal(b, &h); err != nil || h.Model != "mlp" {
		t.Errorf("the first run's history: %v %q", err, b)
	}
}

// Output that cannot be written (a full disk: /dev/full) is an error, exit 1, for every
// command that prints its result on stdout.
func TestFailedStdoutIsAnError(t *testing.T) {
	bin := sharedBinary(t)
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if code, _, stderr := runBin(t, bin, dir, nil, "train", "--model", "logreg", "--dataset", "sample", "--epochs", "1", "--out", run); code != 0 {
		t.Fatalf("setup: %s", stderr)
	}
	img := filepath.Join(dir, "a.png")
	writeFile(t, img, pngBytes(t, 28, 28))
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full")
	}
	defer full.Close()
	for _, args := range [][]string{
		{"eval", "--checkpoint", filepath.Join(run, "model.safetensors")},
		{"eval", "--checkpoint", filepath.Join(run, "model.safetensors"), "--json"},
		{"predict", "--checkpoint", filepath.Join(run, "model.safetensors"), img},
		{"train", "--model", "logreg", "--dataset", "sample", "--epochs", "1", "--out", filepath.Join(dir, "r2")},
		{"train", "--model", "logreg", "--dataset", "sample", "--epochs", "1", "--out", filepath.Join(dir, "r3"), "--json"},
		{"summary", "--model", "fashion-cnn"},
		{"zoo", "list"},
		{"dot", "--model", "logreg"},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Stdout = full
		var errb strings.Builder
		cmd.Stderr = &errb
		err := cmd.Run()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 1 {
			t.Errorf("%v >/dev/full: %v, want exit 1", args, err)
			continue
		}
		// train has saved its run (and said so) before printing its result.
		stderr := strings.ReplaceAll(errb.String(), "\nsaved ", "\nNOTE saved ")
		if err := checkErrorOutput(stderr, "no space left on device"); err != nil {
			t.Errorf("%v: %v:\n%s", args, err, errb.String())
		}
	}
}
