package nn

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"gorgonia.org/tensor"
)

// The same batch gives bit-identical loss and gradients on any number of threads: every
// parallel split (batch workers, GEMM tiles, element-wise chunks, per-channel sums) either
// leaves each value to one goroutine or adds partial results in a fixed order.
func TestGradientsIndependentOfThreads(t *testing.T) {
	m, err := Sequential("threads",
		Input(28, 28, 1),
		Conv2D(32, 3, Padding(Same), Activation(ReLU)),
		MaxPool2D(2),
		Conv2D(64, 3, Padding(Same), Activation(ReLU)),
		BatchNorm(),
		MaxPool2D(2),
		Flatten(),
		Dense(100, Activation(ReLU)),
		Dense(10, Activation(Softmax)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Initialize(3); err != nil {
		t.Fatal(err)
	}
	const batch = 40
	rng := rand.New(rand.NewPCG(2, 2))
	xs := make([]float32, batch*28*28)
	for i := range xs {
		xs[i] = rng.Float32()
	}
	labels := make([]int, batch)
	for i := range labels {
		labels[i] = rng.IntN(10)
	}
	in := tensor.New(tensor.WithShape(batch, 28, 28, 1), tensor.WithBacking(xs))
	var first [][]float32
	for _, procs := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("procs=%d", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			gr, err := m.Compile(batch, Train)
			if err != nil {
				t.Fatal(err)
			}
			if err := gr.Run(in, labels); err != nil {
				t.Fatal(err)
			}
			got := [][]float32{{float32(gr.Loss())}}
			for _, p := range gr.GradParams() {
				got = append(got, slices.Clone(gr.Grad(p.Name).Data().([]float32)))
			}
			if first == nil {
				first = got
				return
			}
			for i := range got {
				if !slices.Equal(got[i], first[i]) {
					t.Errorf("value %d (0 is the loss) differs from the 1-thread run", i)
				}
			}
		})
	}
}
