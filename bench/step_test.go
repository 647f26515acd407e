// Package bench holds convgraph's throughput benchmarks (Go) and the PyTorch reference
// and comparison scripts; see docs/benchmarks.md.
package bench

import (
	"fmt"
	"testing"

	"github.com/convgraph/convgraph/internal/benchrun"
)

// sink keeps results alive.
var sink error

// BenchmarkTrainStep times one training step (forward, backward, Adam) of the course CNN
// at batch 32 and 128, and of the other zoo models at 32, the size `convgraph bench`
// reports; B/op and allocs/op are the per-step garbage.
func BenchmarkTrainStep(b *testing.B) {
	for _, c := range []struct {
		model string
		batch int
	}{{"fashion-cnn", 32}, {"fashion-cnn", 128}, {"alexnet-small", 32}, {"resnet-small", 32}, {"mobilenet-small", 32}} {
		name := fmt.Sprintf("batch=%d", c.batch)
		if c.model != "fashion-cnn" {
			name = c.model + "/" + name
		}
		b.Run(name, func(b *testing.B) { benchStep(b, c.model, c.batch, (*benchrun.Model).TrainStep) })
	}
}

// BenchmarkInfer times the course CNN's forward pass at batch 256.
func BenchmarkInfer(b *testing.B) {
	benchStep(b, "fashion-cnn", 256, (*benchrun.Model).Infer)
}

// benchStep times step on a seeded batch of the zoo model, after compiling and warming its
// buffers, and reports images per second.
func benchStep(b *testing.B, model string, batch int, step func(*benchrun.Model, *benchrun.Batch) error) {
	m, err := benchrun.New(model)
	if err != nil {
		b.Fatal(err)
	}
	x := m.NewBatch(batch)
	for range 3 {
		if sink = step(m, x); sink != nil {
			b.Fatal(sink)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sink = step(m, x)
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "img/s")
}
