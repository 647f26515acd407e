package train_test

import (
	"bytes"
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

func sample(t testing.TB) *data.Split {
	t.Helper()
	s, err := data.Sample(data.FashionMNIST)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFitLearnsTheSample(t *testing.T) {
	s := sample(t)
	m, err := zoo.New("mlp")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	h, err := train.Fit(context.Background(), m, s.Train, train.Config{Epochs: 3, Validation: s.Test, Seed: 1, Progress: &out})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Epochs) != 3 {
		t.Fatalf("%d epochs in history", len(h.Epochs))
	}
	first, last := h.Epochs[0], h.Epochs[2]
	if !(last.Loss < first.Loss) {
		t.Errorf("loss did not fall: %v -> %v", first.Loss, last.Loss)
	}
	if last.ValAccuracy < 0.7 {
		t.Errorf("validation accuracy %v after 3 epochs on the sample; want >= 0.7", last.ValAccuracy)
	}
	if !strings.Contains(out.String(), "epoch 3/3") || !strings.Contains(out.String(), "val_accuracy") {
		t.Errorf("progress output:\n%s", out.String())
	}
	ev, err := train.Evaluate(m, s.Test, 64)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(ev.Accuracy-last.ValAccuracy) > 1e-9 || ev.Images != s.Test.Len() {
		t.Errorf("Evaluate accuracy %v on %d images; Fit's last val_accuracy %v", ev.Accuracy, ev.Images, last.ValAccuracy)
	}
}

// The same seed gives the same weights after an epoch, bit for bit.
func TestFitIsRepeatable(t *testing.T) {
	s := sample(t)
	small := s.Train.Take(256, 1)
	weights := func() []float32 {
		m, err := zoo.New("fashion-cnn")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := train.Fit(context.Background(), m, small, train.Config{Epochs: 1, Seed: 7}); err != nil {
			t.Fatal(err)
		}
		var all []float32
		for _, p := range m.Params() {
			all = append(all, p.Value.Data().([]float32)...)
		}
		return all
	}
	a, b := weights(), weights()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("weight %d differs between two runs with the same seed: %v vs %v", i, a[i], b[i])
		}
	}
}

func TestFitStopsOnNaN(t *testing.T) {
	s := sample(t)
	m, _ := zoo.New("logreg")
	m.Param("dense/bias").Value.Data().([]float32)[3] = float32(math.Inf(1))
	_, err := train.Fit(context.Background(), m, s.Train.Take(128, 1), train.Config{Epochs: 1})
	if err == nil || !strings.Contains(err.Error(), "epoch 1, batch") || !strings.Contains(err.Error(), "diverged") {
		t.Fatalf("error %v; want one naming the epoch and batch", err)
	}
}

func TestFitInterrupted(t *testing.T) {
	s := sample(t)
	m, _ := zoo.New("logreg")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h, err := train.Fit(ctx, m, s.Train, train.Config{Epochs: 2})
	if err != train.ErrInterrupted || len(h.Epochs) != 0 {
		t.Fatalf("err %v, %d epochs", err, len(h.Epochs))
	}
}

func TestFitRejectsMismatchedData(t *testing.T) {
	s := sample(t)
	m, _ := zoo.New("fashion-cnn", zoo.InputShape(32, 32, 3))
	_, err := train.Fit(context.Background(), m, s.Train, train.Config{})
	if err == nil || !strings.Contains(err.Error(), "28x28x1 images") {
		t.Fatalf("error %v", err)
	}
	m2, _ := zoo.New("mlp", zoo.Classes(5))
	if _, err := train.Evaluate(m2, s.Test, 0); err == nil || !strings.Contains(err.Error(), "10 classes") {
		t.Fatalf("error %v", err)
	}
	_ = nn.Train
}

// A run stopped mid-epoch and resumed from its checkpoint ends with the weights of an
// uninterrupted run.
func TestResumeMatchesUninterrupted(t *testing.T) {
	s := sample(t)
	small := s.Train.Take(96, 2) // 3 batches of 32 per epoch
	ref, _ := zoo.New("fashion-cnn")
	if _, err := train.Fit(context.Background(), ref, small, train.Config{Epochs: 2, Seed: 4}); err != nil {
		t.Fatal(err)
	}

	m, _ := zoo.New("fashion-cnn")
	opt := &train.Adam{}
	ctx, cancel := context.WithCancel(context.Background())
	var stoppedAt int
	_, err := train.Fit(ctx, m, small, train.Config{Epochs: 2, Seed: 4, Optimizer: opt,
		OnStep: func(epoch, step int) {
			if step == 4 { // inside the second epoch
				stoppedAt = step
				cancel()
			}
		}})
	if err != train.ErrInterrupted {
		t.Fatalf("err %v", err)
	}
	path := t.TempDir() + "/ckpt.safetensors"
	if err := train.Save(path, m, opt, train.Checkpoint{Epoch: 1, Step: stoppedAt, Seed: 4}); err != nil {
		t.Fatal(err)
	}
	c, err := train.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	opt2 := &train.Adam{}
	if err := opt2.SetState(c.OptimizerState); err != nil {
		t.Fatal(err)
	}
	if _, err := train.Fit(context.Background(), c.Model, small, train.Config{Epochs: 2, Seed: 4, Optimizer: opt2,
		InitialEpoch: c.Epoch, InitialStep: c.Step}); err != nil {
		t.Fatal(err)
	}
	a, b := allWeights(ref), allWeights(c.Model)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("weight %d: uninterrupted %v, resumed %v", i, a[i], b[i])
		}
	}
}

// allWeights is every float32 parameter of m, in order.
func allWeights(m *nn.Model) []float32 {
	var all []float32
	for _, p := range m.Params() {
		all = append(all, p.Value.Data().([]float32)...)
	}
	return all
}

// InitialEpoch alone (InitialStep 0) starts at the beginning of that epoch, as Keras's
// initial_epoch does: two calls give the same weights as one.
func TestInitialEpochAlone(t *testing.T) {
	small := sample(t).Train.Take(96, 2)
	ref, _ := zoo.New("fashion-cnn")
	if _, err := train.Fit(context.Background(), ref, small, train.Config{Epochs: 3, Seed: 4}); err != nil {
		t.Fatal(err)
	}
	m, _ := zoo.New("fashion-cnn")
	opt := &train.Adam{}
	if _, err := train.Fit(context.Background(), m, small, train.Config{Epochs: 1, Seed: 4, Optimizer: opt}); err != nil {
		t.Fatal(err)
	}
	h, err := train.Fit(context.Background(), m, small, train.Config{Epochs: 3, InitialEpoch: 1, Seed: 4, Optimizer: opt})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Epochs) != 2 || h.Epochs[0].Epoch != 2 {
		t.Errorf("history of the second call: %+v", h.Epochs)
	}
	if !slices.Equal(allWeights(ref), allWeights(m)) {
		t.Error("1 epoch then InitialEpoch 1 to 3 differs from 3 epochs in one call")
	}
}

func TestSchedules(t *testing.T) {
	for _, c := range []struct {
		s    train.Schedule
		step int
		want float64
	}{
		{train.Constant(0.1), 99, 0.1},
		{train.StepDecay{Base: 1, Every: 10, Factor: 0.5}, 25, 0.25},
		{train.Cosine{Base: 1, Min: 0, Steps: 100}, 0, 1},
		{train.Cosine{Base: 1, Min: 0, Steps: 100}, 50, 0.5},
		{train.Cosine{Base: 1, Min: 0.1, Steps: 100}, 100, 0.1},
		{train.Warmup{Steps: 4, Then: train.Constant(0.8)}, 0, 0.2},
		{train.Warmup{Steps: 4, Then: train.Constant(0.8)}, 3, 0.8},
		{train.Warmup{Steps: 4, Then: train.StepDecay{Base: 1, Every: 2, Factor: 0.1}}, 6, 0.1},
	} {
		if got := c.s.LR(c.step); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%#v.LR(%d) = %v; want %v", c.s, c.step, got, c.want)
		}
	}
}
