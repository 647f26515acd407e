package train_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

// A Predictor serves the weights it was made with while the model trains in another
// goroutine: every answer equals the snapshot's serial answer, and the race detector
// (CI) sees no shared write.
func TestPredictorServesWhileTheModelTrains(t *testing.T) {
	s := sample(t)
	m, err := zoo.New("fashion-cnn")
	if err != nil {
		t.Fatal(err)
	}
	p, err := nn.NewPredictor(m)
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	x := make([]float32, n*784)
	for i := 0; i < n; i++ {
		data.Normalization{}.Apply(x[i*784:(i+1)*784], s.Test.Image(i), 1)
	}
	batch := tensor.New(tensor.WithShape(n, 28, 28, 1), tensor.WithBacking(x))
	want, err := p.Predict(batch)
	if err != nil {
		t.Fatal(err)
	}
	before := allWeights(m)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		images := 320
		if testing.Short() {
			images = 64 // two steps: the race detector makes each slow
		}
		if _, err := train.Fit(ctx, m, s.Train.Take(images, 1), train.Config{Epochs: 1, Seed: 1}); err != nil && ctx.Err() == nil {
			t.Error(err)
		}
	}()
	goroutines, calls := 4, 20
	if testing.Short() {
		goroutines, calls = 2, 5
	}
	var preds sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		preds.Add(1)
		go func() {
			defer preds.Done()
			for i := 0; i < calls; i++ {
				got, err := p.Predict(batch)
				if err != nil {
					t.Error(err)
					return
				}
				if !slices.Equal(got.Float32s(), want.Float32s()) {
					t.Errorf("goroutine %d, call %d: the snapshot's answer changed", g, i)
					return
				}
			}
		}()
	}
	preds.Wait()
	wg.Wait()
	cancel()
	if slices.Equal(allWeights(m), before) {
		t.Fatal("training did not change the model")
	}
}

// Evaluate and Predict from several goroutines on one model give the serial results.
func TestConcurrentEvaluate(t *testing.T) {
	s := sample(t)
	m, _, err := zoo.Pretrained("fashion-cnn")
	if err != nil {
		t.Fatal(err)
	}
	test := s.Test.Take(200, 1)
	goroutines, rounds := 4, 3
	if testing.Short() {
		test, goroutines, rounds = s.Test.Take(40, 1), 2, 1 // batches of 32 and 8
	}
	want, err := train.Evaluate(m, test, 32)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				got, err := train.Evaluate(m, test, 32)
				if err != nil {
					t.Error(err)
					return
				}
				if got.Loss != want.Loss || got.Accuracy != want.Accuracy {
					t.Errorf("goroutine %d: loss %v accuracy %v; serially %v, %v", g, got.Loss, got.Accuracy, want.Loss, want.Accuracy)
					return
				}
			}
		}()
	}
	wg.Wait()
}
