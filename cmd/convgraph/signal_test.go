package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/convgraph/convgraph/train"
)

// buildBinary compiles the command once for tests that need a real process.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "convgraph")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Ctrl-C during training saves the checkpoint and history, exits with status 130, and
// --resume continues the run.
func TestInterruptSavesAndResumes(t *testing.T) {
	bin := buildBinary(t)
	out := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(bin, "train", "--model", "mlp", "--dataset", "sample", "--epochs", "1000", "--out", out)
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
		if strings.HasPrefix(sc.Text(), "epoch 2/1000") {
			cmd.Process.Signal(syscall.SIGINT)
			break
		}
	}
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("training did not stop after SIGINT")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit %v; want status 130\n%s", err, strings.Join(lines, "\n"))
	}
	text := strings.Join(lines, "\n")
	if !strings.Contains(text, "interrupted after") || !strings.Contains(text, "--resume") || strings.Contains(text, "panic") {
		t.Errorf("stderr:\n%s", text)
	}
	c, err := train.Load(filepath.Join(out, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Epoch < 2 || c.Step <= 0 {
		t.Errorf("checkpoint at epoch %d step %d", c.Epoch, c.Step)
	}
	if _, err := os.Stat(filepath.Join(out, "history.json")); err != nil {
		t.Error(err)
	}
	res, err := exec.Command(bin, "train", "--out", out, "--resume", "--epochs", itoa(c.Epoch+1)).CombinedOutput()
	if err != nil || !strings.Contains(string(res), "test accuracy: ") {
		t.Fatalf("resume: %v\n%s", err, res)
	}
	c2, err := train.Load(filepath.Join(out, "model.safetensors"))
	if err != nil || c2.Epoch != c.Epoch+1 || len(c2.History.Epochs) != c.Epoch+1 {
		t.Errorf("after resuming: %v, epoch %d, %d history epochs", err, c2.Epoch, len(c2.History.Epochs))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
