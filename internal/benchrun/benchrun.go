// Package benchrun measures a zoo model's training and inference throughput the way
// `convgraph bench` reports it, on seeded random images, so that the CLI and the Go
// benchmarks under bench/ time exactly the same loop.
//
// A training step is [train.Step], the step [train.Fit] takes per batch: copy the batch
// in, run the forward and backward graph, check the loss, and apply an Adam update to
// every trainable parameter. Inference
// runs the eval graph forward only. Data loading is not timed (PyTorch's reference script
// times the same loop on tensors it made beforehand).
package benchrun

import (
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

// Model is a zoo model ready to be stepped.
type Model struct {
	Name string
	m    *nn.Model
	opt  train.Optimizer
	rng  *rand.Rand
	step int
}

// New builds and initializes the zoo model name with a fixed seed.
func New(name string) (*Model, error) {
	m, err := zoo.New(name)
	if err != nil {
		return nil, err
	}
	if err := m.Initialize(1); err != nil {
		return nil, err
	}
	return &Model{Name: name, m: m, opt: &train.Adam{}, rng: rand.New(rand.NewPCG(1, 2))}, nil
}

// Net is the model being stepped, to freeze layers of before timing (a frozen layer gets
// no gradient and no backward ops, as in fine-tuning).
func (b *Model) Net() *nn.Model { return b.m }

// Batch is a seeded random batch in Keras's layout, with labels.
type Batch struct {
	X      *tensor.Dense
	Labels []int
}

// NewBatch draws n images with pixel values in [0,1) and uniform labels.
func (b *Model) NewBatch(n int) *Batch {
	shape := append(tensor.Shape{n}, b.m.InputShape()...)
	x := make([]float32, shape.TotalSize())
	for i := range x {
		x[i] = b.rng.Float32()
	}
	classes := b.m.OutputShape()[0]
	labels := make([]int, n)
	for i := range labels {
		labels[i] = b.rng.IntN(classes)
	}
	return &Batch{X: tensor.New(tensor.WithShape(shape...), tensor.WithBacking(x)), Labels: labels}
}

// TrainStep runs [train.Step] (what Fit runs per batch, loss check included) on batch
// with Adam at learning rate 1e-3.
func (b *Model) TrainStep(batch *Batch) error {
	_, err := train.Step(b.m, batch.X, batch.Labels, b.opt, 1e-3, b.step)
	b.step++
	return err
}

// Infer runs the eval graph forward on batch's images.
func (b *Model) Infer(batch *Batch) error {
	gr, err := b.m.Compile(len(batch.Labels), nn.Eval)
	if err != nil {
		return err
	}
	return gr.Run(batch.X, nil)
}

// Result is one timed loop.
type Result struct {
	Steps       int
	Images      int
	Seconds     float64
	ImgPerS     float64
	BytesPerOp  float64 // heap bytes allocated per step
	AllocsPerOp float64 // heap allocations per step
}

// Time runs step warmup times untimed, then repeatedly until at least minTime has passed
// (and at least minSteps times), and reports images per second for batchSize images a
// step, with the heap allocations per step.
func Time(step func() error, batchSize, warmup, minSteps int, minTime time.Duration) (Result, error) {
	for range warmup {
		if err := step(); err != nil {
			return Result{}, err
		}
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	steps := 0
	for steps < minSteps || time.Since(start) < minTime {
		if err := step(); err != nil {
			return Result{}, errors.Wrapf(err, "step %d", steps+1)
		}
		steps++
	}
	secs := time.Since(start).Seconds()
	runtime.ReadMemStats(&after)
	return Result{
		Steps:       steps,
		Images:      steps * batchSize,
		Seconds:     secs,
		ImgPerS:     float64(steps*batchSize) / secs,
		BytesPerOp:  float64(after.TotalAlloc-before.TotalAlloc) / float64(steps),
		AllocsPerOp: float64(after.Mallocs-before.Mallocs) / float64(steps),
	}, nil
}
