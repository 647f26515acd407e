package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/convgraph/convgraph/internal/mpi/mpitest"
	"github.com/convgraph/convgraph/train"
)

// mpirunBin runs np ranks of the binary with args under mpirun and returns mpirun's exit
// status and its output (every rank's stdout, then every rank's stderr).
func mpirunBin(t *testing.T, bin, dir string, np int, timeout time.Duration, args ...string) (int, string, string) {
	t.Helper()
	mpirun := mpitest.Mpirun(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, mpirun, append(append(mpitest.Args(np), bin), args...)...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("mpirun -np %d convgraph %s: still running after %v (hung)\n%s%s", np, strings.Join(args, " "), timeout, out.String(), errb.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

// `mpirun -np 2 convgraph train --distributed` trains, only rank 0 prints and writes the
// run, and the test accuracy comes from both ranks' halves of the test set.
func TestDistributedTrain(t *testing.T) {
	bin := sharedBinary(t)
	dir := t.TempDir()
	code, stdout, stderr := mpirunBin(t, bin, dir, 2, 5*time.Minute, "train", "--distributed", "--model", "mlp",
		"--dataset", "sample", "--epochs", "2", "--out", "run", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if n := strings.Count(stdout, "test_accuracy"); n != 1 {
		t.Fatalf("%d JSON results on stdout (want rank 0's only):\n%s", n, stdout)
	}
	var res trainResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.TestImages != 500 || res.TestAccuracy < 0.5 || res.Epochs != 2 {
		t.Errorf("result %+v", res)
	}
	c, err := train.Load(filepath.Join(dir, "run", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Extra["ranks"] != "2" || c.Epoch != 2 || len(c.History.Epochs) != 2 {
		t.Errorf("checkpoint: ranks %q, epoch %d, %d epochs of history", c.Extra["ranks"], c.Epoch, len(c.History.Epochs))
	}
	for _, f := range []string{"history.json", "history.csv", "curves.png"} {
		if _, err := os.Stat(filepath.Join(dir, "run", f)); err != nil {
			t.Error(err)
		}
	}
}

// A rank killed in the middle of a run ends the job (mpirun exits, nothing hangs), the
// checkpoint of the last finished epoch stays loadable, and --resume continues it on
// another number of ranks.
func TestDistributedRankKilledThenResumeOnThreeRanks(t *testing.T) {
	bin := sharedBinary(t)
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "run", "model.safetensors")
	cmd, done, out := startUntilCheckpoint(t, dir, ckpt, append(append(mpitest.Args(2), bin), "train", "--distributed", "--model", "mlp",
		"--dataset", "sample", "--epochs", "200", "--out", "run")...)
	ranks := childPIDs(cmd.Process.Pid)
	if len(ranks) != 2 {
		cmd.Process.Kill()
		t.Fatalf("mpirun has %d children, want 2 ranks", len(ranks))
	}
	if err := syscall.Kill(ranks[len(ranks)-1], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("mpirun succeeded after a rank was killed:\n%s", out.String())
		}
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatalf("mpirun still running a minute after a rank was killed (hung):\n%s", out.String())
	}
	c, err := train.Load(ckpt)
	if err != nil {
		t.Fatalf("the checkpoint after the kill: %v", err)
	}
	if c.Epoch < 1 || c.Epoch >= 200 || len(c.History.Epochs) != c.Epoch {
		t.Fatalf("checkpoint at epoch %d with %d epochs of history", c.Epoch, len(c.History.Epochs))
	}
	more := strconv.Itoa(c.Epoch + 1)
	code, stdout, stderr := mpirunBin(t, bin, dir, 3, 5*time.Minute, "train", "--distributed", "--out", "run", "--resume", "--epochs", more)
	if code != 0 || !strings.Contains(stdout, "test accuracy: ") {
		t.Fatalf("resume on 3 ranks: exit %d\n%s%s", code, stdout, stderr)
	}
	c2, err := train.Load(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Epoch != c.Epoch+1 || len(c2.History.Epochs) != c.Epoch+1 || c2.Extra["ranks"] != "3" {
		t.Errorf("after resuming: epoch %d, %d epochs of history, ranks %q", c2.Epoch, len(c2.History.Epochs), c2.Extra["ranks"])
	}
}

// startUntilCheckpoint starts mpirun with args and waits until ckpt exists: a run that
// has saved its first epoch. It returns the command, a channel with its exit, and its
// combined output.
func startUntilCheckpoint(t *testing.T, dir, ckpt string, args ...string) (*exec.Cmd, chan error, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(mpitest.Mpirun(t), args...)
	cmd.Dir = dir
	out := new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if _, err := os.Stat(ckpt); err == nil {
			return cmd, done, out
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no checkpoint after 3 minutes:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// childPIDs lists the processes whose parent is pid (from /proc), in increasing order.
func childPIDs(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			out = append(out, p)
		}
	}
	return out
}

// --distributed outside mpirun says how to launch the command, in one line.
func TestDistributedNeedsMpirun(t *testing.T) {
	for _, v := range []string{"OMPI_COMM_WORLD_SIZE", "PMIX_RANK"} {
		if _, ok := os.LookupEnv(v); ok {
			t.Skip("the tests run under mpirun")
		}
	}
	bin := sharedBinary(t)
	for _, args := range [][]string{{"train", "--dataset", "sample"}, {"finetune", "--from", "fashion-cnn", "--dataset", "sample-mnist"}} {
		cmd := args[0]
		code, _, stderr := runBin(t, bin, t.TempDir(), nil, append(args, "--distributed")...)
		if code != 1 {
			t.Errorf("%s: exit %d", cmd, code)
		}
		if err := checkErrorOutput(stderr, "not started by mpirun"); err != nil {
			t.Errorf("%s: %v:\n%s", cmd, err, stderr)
		}
	}
}

// `convgraph finetune --distributed` fine-tunes on two ranks.
func TestDistributedFinetune(t *testing.T) {
	bin := sharedBinary(t)
	dir := t.TempDir()
	code, stdout, stderr := mpirunBin(t, bin, dir, 2, 5*time.Minute, "finetune", "--distributed", "--from", "fashion-cnn",
		"--dataset", "sample-mnist", "--train-limit", "300", "--epochs", "1", "--out", "ft", "--json")
	if code != 0 || strings.Count(stdout, "test_accuracy") != 1 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := train.Load(filepath.Join(dir, "ft", "model.safetensors")); err != nil {
		t.Fatal(err)
	}
}

func TestResumeStepAcrossRankCounts(t *testing.T) {
	// 1000 images, batch 10 per rank: 50 steps per epoch on 2 ranks, 34 on 3, 100 on 1.
	for _, c := range []struct {
		extra              map[string]string
		epoch, step, ranks int
		want               int
		fails              bool
	}{
		{map[string]string{"ranks": "2"}, 3, 150, 2, 150, false}, // same ranks: as saved
		{map[string]string{"ranks": "2"}, 3, 150, 3, 102, false}, // epoch's end: any ranks
		{map[string]string{"ranks": "2"}, 3, 150, 1, 300, false},
		{map[string]string{}, 3, 300, 2, 150, false},             // no "ranks": one process
		{map[string]string{"ranks": "2"}, 3, 165, 1, 330, false}, // 300 images in: 30 steps of 10
		{map[string]string{"ranks": "2"}, 3, 165, 3, 112, false}, // 300 images: 10 steps of 30
		{map[string]string{"ranks": "2"}, 3, 160, 3, 0, true},    // 200 is not a multiple of 30
		{map[string]string{"ranks": "2"}, 3, 200, 1, 400, false}, // the whole epoch done
		{map[string]string{"ranks": "2"}, 3, 149, 1, 0, true},    // before the epoch: corrupt
	} {
		got, err := resumeStep(c.extra, c.epoch, c.step, 1000, 10, c.ranks)
		if (err != nil) != c.fails || got != c.want {
			t.Errorf("resumeStep(%v, epoch %d, step %d, %d ranks) = %d, %v; want %d (fails %v)", c.extra, c.epoch, c.step, c.ranks, got, err, c.want, c.fails)
		}
	}
}

// Ctrl-C on mpirun reaches the ranks as SIGTERM: they stop after the same step, rank 0
// saves the run, and --resume continues it. mpirun is given 10 s before its SIGKILL
// (odls_base_sigkill_timeout, 1 s by default), as docs/distributed.md advises.
func TestDistributedInterruptSavesTheRun(t *testing.T) {
	bin := sharedBinary(t)
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "run", "model.safetensors")
	args := append([]string{"--mca", "odls_base_sigkill_timeout", "10"}, mpitest.Args(2)...)
	cmd, done, out := startUntilCheckpoint(t, dir, ckpt, append(append(args, bin), "train", "--distributed", "--model", "mlp",
		"--dataset", "sample", "--epochs", "500", "--out", "run")...)
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("mpirun still running 2 minutes after Ctrl-C:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "continue with: mpirun -np 2 convgraph train --out run --resume --epochs 500 --distributed") {
		t.Fatalf("no interruption message:\n%s", out.String())
	}
	c, err := train.Load(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	more := strconv.Itoa(c.Epoch + 1)
	code, stdout, stderr := mpirunBin(t, bin, dir, 2, 5*time.Minute, "train", "--distributed", "--out", "run", "--resume", "--epochs", more)
	if code != 0 || !strings.Contains(stdout, "test accuracy: ") {
		t.Fatalf("resume: exit %d\n%s%s", code, stdout, stderr)
	}
	c2, err := train.Load(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Epoch != c.Epoch+1 {
		t.Fatalf("after resuming: epoch %d, want %d", c2.Epoch, c.Epoch+1)
	}
}

// A fine-tuning run interrupted on two ranks continues in one process: its step, counted
// in batches of 2 x 32 images (2 a 96-image epoch), is counted again in batches of 32 (3
// an epoch), so the run ends at exactly the step a one-process run would (Fit refuses a
// step that is not inside the epoch it resumes, so a step left unconverted fails the
// resume). Epochs are tiny and many because mpirun's output, which the test waits on,
// lags the ranks by seconds.
func TestDistributedFinetuneResumesOnOneProcess(t *testing.T) {
	bin := sharedBinary(t)
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "ft", "model.safetensors")
	const epochs, images, batch = 400, 96, 32
	args := append([]string{"--mca", "odls_base_sigkill_timeout", "10"}, mpitest.Args(2)...)
	cmd, done, out := startUntilCheckpoint(t, dir, ckpt, append(append(args, bin), "finetune", "--distributed", "--from", "fashion-cnn",
		"--dataset", "sample-mnist", "--train-limit", strconv.Itoa(images), "--epochs", strconv.Itoa(epochs), "--two-phase=false", "--out", "ft")...)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("mpirun still running 2 minutes after Ctrl-C:\n%s", out.String())
	}
	c, err := train.Load(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if c.Extra["ranks"] != "2" {
		t.Fatalf("checkpoint records ranks %q, want 2", c.Extra["ranks"])
	}
	if c.Epoch >= epochs {
		t.Skipf("the run finished (%d epochs) before the interrupt reached it:\n%s", c.Epoch, out.String())
	}
	if !strings.Contains(out.String(), "continue with: mpirun -np 2 convgraph finetune --out ft --resume --distributed") {
		t.Errorf("interruption message names no distributed resume:\n%s", out.String())
	}
	code, stdout, stderr := runBin(t, bin, dir, nil, "finetune", "--out", "ft", "--resume", "--json")
	if code != 0 {
		t.Fatalf("resume in one process: exit %d\n%s%s", code, stdout, stderr)
	}
	c2, err := train.Load(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	perEpoch := (images + batch - 1) / batch
	if c2.Epoch != epochs || len(c2.History.Epochs) != epochs || c2.Step != epochs*perEpoch || c2.Extra["ranks"] != "1" {
		t.Errorf("after resuming: epoch %d, %d epochs of history, step %d (want %d), ranks %q",
			c2.Epoch, len(c2.History.Epochs), c2.Step, epochs*perEpoch, c2.Extra["ranks"])
	}
}
