package train_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
)

// fileStream reads examples from files on disk, one file per chunk: each example is 4
// float32 features and its id, written little-endian. It is how a user streams a data
// set that does not fit in memory.
type fileStream struct {
	files []string
	next  int
}

func (s *fileStream) Reset() error { s.next = 0; return nil }

func (s *fileStream) Next() (*train.Tensors, error) {
	if s.next >= len(s.files) {
		return nil, io.EOF
	}
	raw, err := os.ReadFile(s.files[s.next])
	if err != nil {
		return nil, err
	}
	s.next++
	n := len(raw) / 20
	x, ids := make([]float32, 4*n), make([]float32, n)
	for i := 0; i < n; i++ {
		for j := 0; j < 4; j++ {
			x[4*i+j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[20*i+4*j:]))
		}
		ids[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[20*i+16:]))
	}
	return &train.Tensors{
		X: []tensor.Tensor{tensor.New(tensor.WithShape(n, 4), tensor.WithBacking(x))},
		Y: []nn.Target{{Values: tensor.New(tensor.WithShape(n, 1), tensor.WithBacking(ids))}},
	}, nil
}

// writeExamples writes n examples in files of up to per examples; example i has
// target i.
func writeExamples(t *testing.T, n, per int) []string {
	t.Helper()
	dir := t.TempDir()
	var files []string
	for lo := 0; lo < n; lo += per {
		var buf []byte
		for i := lo; i < min(lo+per, n); i++ {
			for j := 0; j < 4; j++ {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(math.Sin(float64(i*4+j)))))
			}
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(i)))
		}
		f := filepath.Join(dir, fmt.Sprintf("part-%03d.bin", len(files)))
		if err := os.WriteFile(f, buf, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

// orderMetric records the targets (example ids) it sees, epoch by epoch.
type orderMetric struct {
	epochs [][]int
	cur    []int
}

func (o *orderMetric) Update(out *tensor.Dense, t nn.Target) error {
	for _, v := range t.Values.Data().([]float32) {
		o.cur = append(o.cur, int(v))
	}
	return nil
}
func (o *orderMetric) Result() map[string]float64 {
	o.epochs = append(o.epochs, o.cur)
	return map[string]float64{"seen": float64(len(o.cur))}
}
func (o *orderMetric) Reset() { o.cur = nil }

func regressor(t *testing.T) *nn.Model {
	t.Helper()
	m, err := nn.Sequential("regressor", nn.Input(4), nn.Dense(8, nn.Activation(nn.Tanh)), nn.Dense(1, nn.Name("value")))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetLoss("value", nn.Huber(), 1); err != nil {
		t.Fatal(err)
	}
	return m
}

// streamOrder trains 3 epochs on the files and returns the ids in the order training
// saw them, per epoch.
func streamOrder(t *testing.T, files []string, buffer int, seed uint64) [][]int {
	t.Helper()
	rec := &orderMetric{}
	h, err := train.FitStream(context.Background(), regressor(t), &fileStream{files: files},
		train.Config{Epochs: 3, BatchSize: 8, ShuffleBuffer: buffer, Seed: seed, LR: 1e-3, Metrics: []train.Metric{rec}})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Epochs) != 3 || h.Epochs[2].Metrics["seen"] != 50 {
		t.Fatalf("history %+v", h.Epochs)
	}
	return rec.epochs
}

// TestFitStream streams 50 examples from 8 files on disk and checks that every epoch
// sees every example exactly once, that a shuffle buffer reorders them as the seed says
// (the same seed the same order, epochs and seeds different orders), and that no buffer
// keeps the files' order.
func TestFitStream(t *testing.T) {
	files := writeExamples(t, 50, 7)
	inOrder := make([]int, 50)
	for i := range inOrder {
		inOrder[i] = i
	}
	plain := streamOrder(t, files, 0, 1)
	for e, ids := range plain {
		if !slices.Equal(ids, inOrder) {
			t.Errorf("epoch %d without a buffer saw %v; want the files' order", e+1, ids)
		}
	}
	a, b, c := streamOrder(t, files, 16, 1), streamOrder(t, files, 16, 1), streamOrder(t, files, 16, 2)
	for e := range a {
		sorted := slices.Sorted(slices.Values(a[e]))
		if !slices.Equal(sorted, inOrder) {
			t.Errorf("epoch %d saw %v; want each of 0..49 once", e+1, a[e])
		}
		if !slices.Equal(a[e], b[e]) {
			t.Errorf("epoch %d: seed 1 gave two orders:\n%v\n%v", e+1, a[e], b[e])
		}
		if slices.Equal(a[e], c[e]) || slices.Equal(a[e], inOrder) {
			t.Errorf("epoch %d: order %v is the other seed's or the files'", e+1, a[e])
		}
		// When position pos is drawn, the buffer holds examples read up to pos+15: none
		// comes more than 15 places early.
		for pos, id := range a[e] {
			if id > pos+15 {
				t.Errorf("epoch %d: example %d at position %d, earlier than a buffer of 16 allows", e+1, id, pos)
			}
		}
	}
	if slices.Equal(a[0], a[1]) {
		t.Error("epochs 1 and 2 saw the same order")
	}
}

// TestFitStreamValidationAndErrors evaluates a validation stream each epoch and checks
// that a bad chunk is an error naming it.
func TestFitStreamValidationAndErrors(t *testing.T) {
	files := writeExamples(t, 30, 10)
	m := regressor(t)
	h, err := train.FitStream(context.Background(), m, &fileStream{files: files},
		train.Config{Epochs: 2, BatchSize: 8, ShuffleBuffer: 30, ValidationStream: &fileStream{files: files[:1]}})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := train.EvaluateStream(m, &fileStream{files: files[:1]}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Epochs[1].ValLoss; math.IsNaN(got) || math.Abs(got-ev["loss"]) > 1e-6 {
		t.Errorf("validation loss %v; EvaluateStream says %v", got, ev["loss"])
	}
	// A chunk whose examples have 3 features.
	bad := filepath.Join(t.TempDir(), "bad.bin")
	if err := os.WriteFile(bad, make([]byte, 16), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = train.FitStream(context.Background(), m, &badShape{fileStream{files: []string{files[0], bad}}}, train.Config{})
	if err == nil || !strings.Contains(err.Error(), "chunk 2") {
		t.Errorf("error %v; want one naming chunk 2", err)
	}
	if _, err := train.FitStream(context.Background(), m, &fileStream{}, train.Config{}); err == nil {
		t.Error("an empty stream trained")
	}
}

// badShape gives a second chunk with 3 features per example.
type badShape struct{ fileStream }

func (b *badShape) Next() (*train.Tensors, error) {
	if b.next == 1 {
		b.next++
		return &train.Tensors{X: []tensor.Tensor{tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(2, 3))},
			Y: []nn.Target{{Values: tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(2, 1))}}}, nil
	}
	return b.fileStream.Next()
}
