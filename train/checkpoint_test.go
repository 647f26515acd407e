package train_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

func TestCheckpointRoundTrip(t *testing.T) {
	s := sample(t)
	m, _ := zoo.New("fashion-cnn")
	if err := m.Freeze("conv2d"); err != nil {
		t.Fatal(err)
	}
	opt := &train.Adam{}
	h, err := train.Fit(context.Background(), m, s.Train.Take(64, 1), train.Config{Epochs: 1, Optimizer: opt, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := train.Save(path, m, opt, train.Checkpoint{Epoch: 1, Step: 2, Seed: 3, History: h, Extra: map[string]string{"dataset": "sample"}}); err != nil {
		t.Fatal(err)
	}
	c, err := train.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Epoch != 1 || c.Step != 2 || c.Seed != 3 || c.Optimizer != "adam" || c.Extra["dataset"] != "sample" || len(c.History.Epochs) != 1 {
		t.Errorf("run state %+v", c)
	}
	if c.Model.Summary() != m.Summary() {
		t.Errorf("rebuilt model differs:\n%s\n%s", c.Model.Summary(), m.Summary())
	}
	for _, p := range m.Params() {
		a, b := p.Value.Data().([]float32), c.Model.Param(p.Name).Value.Data().([]float32)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s[%d]: %v saved, %v loaded", p.Name, i, a[i], b[i])
			}
		}
	}
	if len(c.OptimizerState["dense/kernel/m"]) != 313600 || len(c.OptimizerState["conv2d/kernel/m"]) != 0 {
		t.Errorf("optimizer state keys: %d", len(c.OptimizerState))
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
}

func TestCheckpointErrors(t *testing.T) {
	dir := t.TempDir()
	cnn, _ := zoo.New("fashion-cnn")
	good := filepath.Join(dir, "cnn.safetensors")
	if err := train.Save(good, cnn, nil, train.Checkpoint{}); err != nil {
		t.Fatal(err)
	}
	mlp, _ := zoo.New("mlp")
	garbage := filepath.Join(dir, "garbage.safetensors")
	os.WriteFile(garbage, []byte("not a checkpoint at all"), 0o644)
	if _, err := train.Load(garbage); err == nil || !strings.Contains(err.Error(), "garbage.safetensors") {
		t.Errorf("loading garbage: %v", err)
	}
	if _, err := train.Load(filepath.Join(dir, "missing.safetensors")); err == nil || !strings.Contains(err.Error(), "missing.safetensors") {
		t.Errorf("loading a missing file: %v", err)
	}
	// A failed save leaves the previous good file untouched.
	before, _ := os.ReadFile(good)
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o700)
	if os.Getuid() != 0 {
		if err := train.Save(good, mlp, nil, train.Checkpoint{}); err == nil {
			t.Error("saved into a read-only directory")
		}
	}
	after, _ := os.ReadFile(good)
	if string(before) != string(after) {
		t.Error("the good checkpoint changed")
	}
	if err := train.Save(filepath.Join(dir, "no", "such", "dir.safetensors"), mlp, nil, train.Checkpoint{}); err == nil || !strings.Contains(err.Error(), "dir.safetensors") {
		t.Errorf("saving into a missing directory: %v", err)
	}
}
