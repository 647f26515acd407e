package train_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nlpodyssey/safetensors"

	"github.com/convgraph/convgraph/train"
)

// craft rebuilds checkpoint b with edit applied to its tensors and metadata.
func craft(t *testing.T, b []byte, edit func(views map[string]safetensors.TensorView, meta map[string]string)) []byte {
	t.Helper()
	st, err := safetensors.Deserialize(b)
	if err != nil {
		t.Fatal(err)
	}
	_, md, err := safetensors.ReadMetadata(b)
	if err != nil {
		t.Fatal(err)
	}
	views := map[string]safetensors.TensorView{}
	for _, name := range st.Names() {
		tv, _ := st.Tensor(name)
		views[name] = tv
	}
	meta := md.Metadata()
	edit(views, meta)
	var buf bytes.Buffer
	if err := safetensors.SerializeToWriter(views, meta, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// f64Tensor is a float64 tensor of the shape given, every value v.
func f64Tensor(t *testing.T, shape []uint64, v float64) safetensors.TensorView {
	n := uint64(1)
	for _, d := range shape {
		n *= d
	}
	b := make([]byte, 8*n)
	for i := range n {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	tv, err := safetensors.NewTensorView(safetensors.F64, shape, b)
	if err != nil {
		t.Fatal(err)
	}
	return tv
}

// Crafted values and run state are refused with an error naming the checkpoint and the
// field: values are checked in the model's dtype, variances for their sign, the epoch
// against its limit and the history, the optimizer state against the parameters.
func TestLoadRefusesCraftedValuesAndState(t *testing.T) {
	good := tinyCheckpoint(t)
	replace := func(name string, v float64) func(map[string]safetensors.TensorView, map[string]string) {
		return func(views map[string]safetensors.TensorView, _ map[string]string) {
			views[name] = f64Tensor(t, views[name].Shape(), v)
		}
	}
	setMeta := func(k, v string) func(map[string]safetensors.TensorView, map[string]string) {
		return func(_ map[string]safetensors.TensorView, meta map[string]string) { meta[k] = v }
	}
	cases := []struct {
		name string
		edit func(map[string]safetensors.TensorView, map[string]string)
		want string
	}{
		{"1e300 weight", replace("conv2d/kernel", 1e300), `parameter "conv2d/kernel" holds 1e+300, which is +Inf in float32`},
		{"negative variance", replace("batch_normalization/moving_variance", -1), `parameter "batch_normalization/moving_variance" holds -1: a variance cannot be negative`},
		{"NaN variance", replace("batch_normalization/moving_variance", math.NaN()), `"batch_normalization/moving_variance" holds NaN`},
		{"billions of epochs", setMeta("epoch", "2000000000"), "epoch 2000000000 is more than the limit of 100000"},
		{"epoch against history", setMeta("epoch", "7"), "epoch 7, but its history holds 1 epochs"},
		{"Inf optimizer state", replace("optimizer/conv2d/kernel/m", math.Inf(1)), `optimizer state "optimizer/conv2d/kernel/m": holds +Inf`},
		{"optimizer state of the wrong size", func(views map[string]safetensors.TensorView, _ map[string]string) {
			views["optimizer/conv2d/kernel/m"] = f64Tensor(t, []uint64{3}, 0)
		}, "holds 3 values; parameter \"conv2d/kernel\" has 18"},
		{"optimizer state of no parameter", func(views map[string]safetensors.TensorView, _ map[string]string) {
			views["optimizer/ghost/m"] = f64Tensor(t, []uint64{3}, 0)
		}, `"optimizer/ghost/m": belongs to no parameter`},
		{"fractional step", func(views map[string]safetensors.TensorView, _ map[string]string) {
			views["optimizer/conv2d/kernel/step"] = f64Tensor(t, []uint64{1}, 1.5)
		}, "want one whole step count"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".safetensors")
		if err := os.WriteFile(path, craft(t, good, c.edit), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := train.Load(path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), strconv.Quote(path)) {
			t.Errorf("%s: error %v, want %q naming the file", c.name, err, c.want)
		}
	}
	// The unedited rebuild loads: the edits, not craft, are refused.
	path := filepath.Join(dir, "same.safetensors")
	os.WriteFile(path, craft(t, good, func(map[string]safetensors.TensorView, map[string]string) {}), 0o644)
	if _, err := train.Load(path); err != nil {
		t.Errorf("unedited: %v", err)
	}
}

// A checkpoint path that is a device, a named pipe or a folder is refused unread.
func TestLoadRefusesDevicesAndPipes(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "model.safetensors")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for path, want := range map[string]string{"/dev/zero": "is a device", fifo: "is a named pipe", dir: "is a directory"} {
			if _, err := train.Load(path); err == nil || !strings.Contains(err.Error(), `"`+path+`": `+want) {
				t.Errorf("Load(%s): %v, want %q", path, err, want)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Load blocked")
	}
}
