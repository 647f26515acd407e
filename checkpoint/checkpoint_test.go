package checkpoint_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/checkpoint"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

// A strict load refuses a model of another architecture, naming the parameter and both
// shapes, and leaves the model unchanged; the deprecated train wrappers give the same.
func TestLoadWeightsWrongModel(t *testing.T) {
	dir := t.TempDir()
	cnn, _ := zoo.New("fashion-cnn")
	good := filepath.Join(dir, "cnn.safetensors")
	if err := checkpoint.Write(good, cnn, map[string]string{"note": "x"}, nil); err != nil {
		t.Fatal(err)
	}
	mlp, _ := zoo.New("mlp")
	before := append([]float32(nil), mlp.Param("dense/kernel").Value.Data().([]float32)...)
	want := `parameter "dense/kernel" has shape [3136 100]; model "mlp" needs [784 100]`
	if err := checkpoint.LoadWeights(good, mlp); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("loading into the wrong model: %v", err)
	}
	if err := train.LoadWeights(good, mlp); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("train.LoadWeights: %v", err)
	}
	for i, v := range mlp.Param("dense/kernel").Value.Data().([]float32) {
		if v != before[i] {
			t.Fatal("a failed load changed the model")
		}
	}
	f, err := checkpoint.Read(good)
	if err != nil || f.Meta["note"] != "x" || f.Model.Summary() != cnn.Summary() {
		t.Errorf("read back: %v %v", err, f)
	}
	garbage := filepath.Join(dir, "garbage.safetensors")
	os.WriteFile(garbage, []byte("not a checkpoint at all"), 0o644)
	if err := checkpoint.LoadWeights(garbage, cnn); err == nil || !strings.Contains(err.Error(), "garbage.safetensors") {
		t.Errorf("loading garbage: %v", err)
	}
}

// Transfer learning: a model with a new head for 5 classes takes every backbone weight
// and reports the head it skipped.
func TestLoadWeightsPartial(t *testing.T) {
	dir := t.TempDir()
	src, _ := zoo.New("fashion-cnn")
	path := filepath.Join(dir, "cnn.safetensors")
	if err := checkpoint.Write(path, src, nil, nil); err != nil {
		t.Fatal(err)
	}
	dst, _ := zoo.New("fashion-cnn", zoo.Classes(5))
	rep, err := checkpoint.LoadWeightsPartial(path, dst)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Loaded) != 6 || len(rep.Skipped) != 2 || rep.Skipped[0].Param != "dense_1/kernel" ||
		!strings.Contains(rep.Skipped[0].Reason, "[100 10] in the checkpoint, [100 5] in the model") {
		t.Errorf("report %+v", rep)
	}
	a := src.Param("conv2d_1/kernel").Value.Data().([]float32)
	b := dst.Param("conv2d_1/kernel").Value.Data().([]float32)
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("a backbone weight was not copied")
		}
	}
	headless, _ := zoo.New("fashion-cnn", zoo.IncludeHead(false))
	rep, err = checkpoint.LoadWeightsPartial(path, headless)
	if err != nil || len(rep.Unused) != 2 || len(rep.Skipped) != 0 {
		t.Errorf("headless: %v %+v", err, rep)
	}
}
