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

// BenchmarkTrainStep times one training step (forward, backward, Adam) of the course CNN;
// B/op and allocs/op are the per-step garbage.
func BenchmarkTrainStep(b *testing.B) {
	for _, batch := range []int{32, 128} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			m, err := benchrun.New("fashion-cnn")
			if err != nil {
				b.Fatal(err)
			}
			x := m.NewBatch(batch)
			for range 3 { // compile and warm the buffers
				if sink = m.TrainStep(x); sink != nil {
					b.Fatal(sink)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				sink = m.TrainStep(x)
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "img/s")
		})
	}
}

// BenchmarkTrainStepZoo times one training step of the other zoo models at batch 32, the
// size `convgraph bench` reports.
func BenchmarkTrainStepZoo(b *testing.B) {
	for _, name := range []string{"resnet-small"} {
		b.Run(fmt.Sprintf("%s/batch=32", name), func(b *testing.B) {
			m, err := benchrun.New(name)
			if err != nil {
				b.Fatal(err)
			}
			x := m.NewBatch(32)
			for range 3 {
				if sink = m.TrainStep(x); sink != nil {
					b.Fatal(sink)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				sink = m.TrainStep(x)
			}
			b.ReportMetric(float64(b.N*32)/b.Elapsed().Seconds(), "img/s")
		})
	}
}

// BenchmarkInfer times the course CNN's forward pass at batch 256.
func BenchmarkInfer(b *testing.B) {
	m, err := benchrun.New("fashion-cnn")
	if err != nil {
		b.Fatal(err)
	}
	x := m.NewBatch(256)
	for range 3 {
		if sink = m.Infer(x); sink != nil {
			b.Fatal(sink)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sink = m.Infer(x)
	}
	b.ReportMetric(float64(b.N*256)/b.Elapsed().Seconds(), "img/s")
}
