package train_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
)

// tinyModel has a parameter of every kind (kernel, bias, BatchNorm's scale, shift and
// moving statistics) and is small enough for a seed corpus.
func tinyModel(tb testing.TB) *nn.Model {
	tb.Helper()
	m, err := nn.Sequential("tiny",
		nn.Input(4, 4, 1),
		nn.Conv2D(2, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)),
		nn.BatchNorm(),
		nn.MaxPool2D(2),
		nn.Flatten(),
		nn.Dense(3, nn.Activation(nn.Softmax)))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// tinyCheckpoint trains tinyModel for one epoch of 8 images and returns its checkpoint,
// with Adam's state and a history, as bytes.
func tinyCheckpoint(tb testing.TB) []byte {
	tb.Helper()
	m := tinyModel(tb)
	px := make([]uint8, 8*16)
	for i := range px {
		px[i] = uint8(i * 37)
	}
	ds, err := data.New(px, []int{0, 1, 2, 0, 1, 2, 0, 1}, 4, 4, 1, []string{"a", "b", "c"})
	if err != nil {
		tb.Fatal(err)
	}
	opt := &train.Adam{}
	h, err := train.Fit(context.Background(), m, ds, train.Config{BatchSize: 4, Optimizer: opt})
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "tiny.safetensors")
	if err := train.Save(path, m, opt, train.Checkpoint{Epoch: 1, Step: 2, Seed: 1, History: h,
		Extra: map[string]string{"dataset": "tiny"}}); err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzLoadCheckpoint feeds arbitrary bytes to the checkpoint reader. Each call returns
// an error that names the file, or a checkpoint whose model has finite weights and a spec
// that survives a round trip. A partial
// load into a model of its own either fails naming the file or accounts for every
// parameter. The seed corpus (testdata/fuzz/FuzzLoadCheckpoint) holds a real checkpoint
// with optimizer state and history, and damaged copies of it.
//
//	go test -run '^$' -fuzz '^FuzzLoadCheckpoint$' -fuzztime 1m ./train
func FuzzLoadCheckpoint(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		const name = "fuzz.safetensors"
		c, err := train.LoadBytes(name, b)
		if err != nil {
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("error does not name the file: %v", err)
			}
		} else {
			checkLoaded(t, c)
		}
		m := tinyModel(t)
		rep, err := train.LoadWeightsPartialBytes(name, b, m)
		if err != nil {
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("partial load: error does not name the file: %v", err)
			}
			return
		}
		if len(rep.Loaded)+len(rep.Skipped) != len(m.Params()) {
			t.Fatalf("report %+v does not account for the model's %d parameters", rep, len(m.Params()))
		}
		for _, p := range m.Params() {
			for _, v := range p.Value.Data().([]float32) {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("partial load put %v into %s", v, p.Name)
				}
			}
		}
	})
}

// checkLoaded checks what a checkpoint that loads must satisfy. (Saving it back would
// sync a file per input and slow the fuzzer a hundredfold; TestCheckpointRoundTrip
// covers saving.)
func checkLoaded(t *testing.T, c *train.Checkpoint) {
	t.Helper()
	m := c.Model
	for _, p := range m.Params() {
		for _, v := range p.Value.Data().([]float32) {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("loaded %v into %s", v, p.Name)
			}
		}
	}
	if c.Epoch < 0 || c.Step < 0 {
		t.Fatalf("epoch %d, step %d", c.Epoch, c.Step)
	}
	spec := mustSpec(t, m)
	m2, err := nn.UnmarshalSpec(spec)
	if err != nil {
		t.Fatalf("the loaded model's spec does not decode: %v", err)
	}
	if !bytes.Equal(spec, mustSpec(t, m2)) {
		t.Fatal("the spec changed on a round trip")
	}
}

// The seed checkpoint loads, and rebuilds the model it came from.
func TestTinyCheckpointLoads(t *testing.T) {
	c, err := train.LoadBytes("tiny.safetensors", tinyCheckpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.Model.Summary() != tinyModel(t).Summary() || len(c.OptimizerState) == 0 || len(c.History.Epochs) != 1 {
		t.Errorf("checkpoint %+v", c)
	}
}

func mustSpec(t *testing.T, m *nn.Model) []byte {
	t.Helper()
	b, err := m.MarshalSpec()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
