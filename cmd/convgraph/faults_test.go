package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/convgraph/convgraph/train"
)

// cnnRun is the course's CNN (dropout included) on half of the bundled sample: 1,000
// training images, 32 steps per epoch.
var cnnRun = []string{"train", "--model", "fashion-cnn", "--dataset", "sample", "--validation-split", "0.5",
	"--epochs", "2", "--seed", "3"}

const cnnStepsPerEpoch = 32

// sameCheckpointState fails unless two checkpoints hold bit-identical weights and
// optimizer state.
func sameCheckpointState(t *testing.T, what, pathA, pathB string) {
	t.Helper()
	a, err := train.Load(pathA)
	if err != nil {
		t.Fatal(err)
	}
	b, err := train.Load(pathB)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range a.Model.Params() {
		x, y := p.Value.Data().([]float32), b.Model.Param(p.Name).Value.Data().([]float32)
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
				t.Fatalf("%s: %s[%d] is %v in one and %v in the other", what, p.Name, i, x[i], y[i])
			}
		}
		n += len(x)
	}
	if len(a.OptimizerState) != len(b.OptimizerState) {
		t.Fatalf("%s: %d and %d optimizer slots", what, len(a.OptimizerState), len(b.OptimizerState))
	}
	for k, x := range a.OptimizerState {
		y := b.OptimizerState[k]
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
				t.Fatalf("%s: optimizer %s[%d] is %v in one and %v in the other", what, k, i, x[i], y[i])
			}
		}
	}
	if a.Epoch != b.Epoch || a.Step != b.Step {
		t.Fatalf("%s: epoch/step %d/%d and %d/%d", what, a.Epoch, a.Step, b.Epoch, b.Step)
	}
	t.Logf("%s: %d weights and %d optimizer slots bit-identical", what, n, len(a.OptimizerState))
}

// interruptRun starts args, sends SIGINT delay after training starts, and returns the
// exit status and stderr.
func interruptRun(t *testing.T, bin string, env []string, delay time.Duration, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(3*time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	sc := bufio.NewScanner(stderr)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.HasPrefix(sc.Text(), "training ") {
			time.Sleep(delay)
			cmd.Process.Signal(syscall.SIGINT)
			break
		}
	}
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	err = cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return code, strings.Join(lines, "\n")
}

// Ctrl-C in the middle of an epoch saves the run, and --resume then ends with exactly
// the weights and optimizer state of a run that was never interrupted: end to end, through
// the binary, with dropout. The same seed also gives the same bits on 1 and 2 threads.
func TestInterruptResumeAndThreadsGiveTheSameWeights(t *testing.T) {
	bin := sharedBinary(t)
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref")
	if code, _, stderr := runBin(t, bin, dir, []string{"GOMAXPROCS=2"}, append(cnnRun, "--out", ref)...); code != 0 {
		t.Fatalf("uninterrupted run: %s", stderr)
	}
	refCkpt := filepath.Join(ref, "model.safetensors")

	one := filepath.Join(dir, "one-thread")
	if code, _, stderr := runBin(t, bin, dir, []string{"GOMAXPROCS=1"}, append(cnnRun, "--out", one)...); code != 0 {
		t.Fatalf("GOMAXPROCS=1 run: %s", stderr)
	}
	sameCheckpointState(t, "GOMAXPROCS=1 vs 2", refCkpt, filepath.Join(one, "model.safetensors"))

	// Interrupt inside an epoch; try later moments if a signal lands on an epoch's end.
	var out string
	var stoppedAt int
	for i, delay := range []time.Duration{300 * time.Millisecond, 900 * time.Millisecond, 1500 * time.Millisecond, 100 * time.Millisecond} {
		out = filepath.Join(dir, fmt.Sprintf("interrupted-%d", i))
		code, stderr := interruptRun(t, bin, []string{"GOMAXPROCS=2"}, delay, append(cnnRun, "--out", out)...)
		if code != 130 {
			t.Logf("SIGINT after %v: exit %d (the run ended first?)", delay, code)
			continue
		}
		if strings.Contains(stderr, "panic") || !strings.Contains(stderr, "--resume") {
			t.Fatalf("stderr after SIGINT:\n%s", stderr)
		}
		c, err := train.Load(filepath.Join(out, "model.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(out, "history.json")); err != nil {
			t.Fatal(err)
		}
		stoppedAt = c.Step
		if c.Step > 0 && c.Step%cnnStepsPerEpoch != 0 {
			break
		}
		t.Logf("SIGINT after %v stopped at step %d, an epoch's edge; trying another moment", delay, c.Step)
		stoppedAt = 0
	}
	if stoppedAt == 0 {
		t.Fatal("no SIGINT landed inside an epoch")
	}
	t.Logf("interrupted at step %d (epoch %d, batch %d)", stoppedAt, stoppedAt/cnnStepsPerEpoch+1, stoppedAt%cnnStepsPerEpoch)
	if code, _, stderr := runBin(t, bin, dir, []string{"GOMAXPROCS=2"}, "train", "--out", out, "--resume", "--epochs", "2"); code != 0 {
		t.Fatalf("resume: %s", stderr)
	}
	sameCheckpointState(t, "interrupted and resumed vs uninterrupted", refCkpt, filepath.Join(out, "model.safetensors"))
	var h struct {
		Epochs []json.RawMessage `json:"epochs"`
	}
	b, _ := os.ReadFile(filepath.Join(out, "history.json"))
	if err := json.Unmarshal(b, &h); err != nil || len(h.Epochs) != 2 {
		t.Errorf("history after resuming: %v, %d epochs", err, len(h.Epochs))
	}
}

// SIGKILL at random moments of a training run that saves a checkpoint after every epoch
// (one step each) never leaves a checkpoint or history that does not load, and each
// kill's run resumes from the last one. The moments come from a fixed seed, counted from
// the first checkpoint's appearance for the first run.
func TestSIGKILLAtRandomMomentsKeepsTheRunLoadable(t *testing.T) {
	bin := sharedBinary(t)
	out := filepath.Join(t.TempDir(), "run")
	ckpt := filepath.Join(out, "model.safetensors")
	rng := rand.New(rand.NewPCG(7, 7))
	kills, withCheckpoint, lastEpoch := 12, 0, 0
	for i := range kills {
		args := []string{"train", "--model", "mlp", "--dataset", "sample", "--validation-split", "0", "--batch", "2000",
			"--epochs", "100000", "--out", out}
		if _, err := os.Stat(ckpt); err == nil {
			args = []string{"train", "--out", out, "--resume", "--epochs", "100000"}
		}
		cmd := exec.Command(bin, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The first run is killed only once its first checkpoint exists: how long loading
		// and the first epoch take depends on the machine's load, not on what is tested.
		for deadline := time.Now().Add(2 * time.Minute); i == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if _, err := os.Stat(ckpt); err == nil {
				break
			}
		}
		delay := time.Duration(150+rng.IntN(750)) * time.Millisecond
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if _, err := os.Stat(ckpt); err != nil {
			t.Logf("kill %d after %v: no checkpoint yet", i+1, delay)
			continue
		}
		c, err := train.Load(ckpt)
		if err != nil {
			t.Fatalf("kill %d after %v: the checkpoint does not load: %v", i+1, delay, err)
		}
		if c.Epoch < lastEpoch {
			t.Fatalf("kill %d: the run went back from epoch %d to %d", i+1, lastEpoch, c.Epoch)
		}
		b, err := os.ReadFile(filepath.Join(out, "history.json"))
		var h struct {
			Epochs []json.RawMessage `json:"epochs"`
		}
		if err != nil || json.Unmarshal(b, &h) != nil {
			t.Fatalf("kill %d after %v: history.json: %v %q", i+1, delay, err, b)
		}
		withCheckpoint++
		lastEpoch = c.Epoch
		t.Logf("kill %d after %v: checkpoint at epoch %d loads, history has %d epochs", i+1, delay, c.Epoch, len(h.Epochs))
	}
	if withCheckpoint < kills/2 {
		t.Fatalf("only %d of %d kills came after the first checkpoint", withCheckpoint, kills)
	}
	// The run still finishes.
	code, stdout, stderr := runBin(t, bin, "", nil, "train", "--out", out, "--resume", "--epochs", fmt.Sprint(lastEpoch+1))
	if code != 0 || !strings.HasPrefix(stdout, "test accuracy: ") {
		t.Fatalf("resuming after the kills: exit %d, %s", code, stderr)
	}
}
