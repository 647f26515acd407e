package zoo_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/zoo"
)

// The zoo's graphs share output buffers between ops whose values are not alive at once
// (graph.ShareBuffers). Sharing changes no value: a model's compiled graph gives,
// bit for bit, what a machine without sharing gives on the same graph, run after run,
// in inference (output, logits, loss) and in training (loss, gradients).
func TestSharedBuffersChangeNoValue(t *testing.T) {
	for _, name := range []string{"resnet-small", "alexnet-small", "fashion-cnn"} {
		for _, mode := range []nn.Mode{nn.Eval, nn.Train} {
			for _, batch := range []int{1, 7} {
				checkSharing(t, name, mode, batch)
			}
		}
	}
}

func checkSharing(t *testing.T, name string, mode nn.Mode, batch int) {
	t.Helper()
	m, err := zoo.New(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Initialize(1); err != nil {
		t.Fatal(err)
	}
	gr, err := m.Compile(batch, mode)
	if err != nil {
		t.Fatal(err)
	}
	st := gr.Buffers()
	t.Logf("%s %v batch %d: %+v", name, mode, batch, st)
	if st.Disabled != "" || st.Shared == 0 {
		t.Fatalf("%s %v: nothing shared: %+v", name, mode, st)
	}
	// The same graph, and so the same ops and parameters, on a machine that shares nothing.
	own, err := graph.NewMachine(gr.ExprGraph())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(batch), 11))
	shape := append(tensor.Shape{batch}, m.InputShape()...)
	const runs = 3
	inputs := make([]*tensor.Dense, runs)
	labels := make([][]int, runs)
	for i := range inputs {
		x := make([]float32, shape.TotalSize())
		for j := range x {
			x[j] = rng.Float32()
		}
		inputs[i] = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(x))
		labels[i] = make([]int, batch)
		for j := range labels[i] {
			labels[i][j] = rng.IntN(m.OutputShape()[0])
		}
	}
	values := func() (float64, [][]float32) {
		vals := [][]float32{slices.Clone(gr.Output().Data().([]float32)), slices.Clone(gr.Logits().Data().([]float32))}
		for _, p := range gr.GradParams() {
			vals = append(vals, slices.Clone(gr.Grad(p.Name).Data().([]float32)))
		}
		return gr.Loss(), vals
	}
	type result struct {
		loss float64
		vals [][]float32
	}
	run := func(i int) result {
		gr.SetStep(uint64(i))
		if err := gr.Run(inputs[i], labels[i]); err != nil {
			t.Fatal(err)
		}
		loss, vals := values()
		return result{loss, vals}
	}
	var shared []result
	for i := range runs {
		shared = append(shared, run(i))
	}
	for i := range runs {
		again := run(i)       // also sets the input the other machine reads
		gr.SetStep(uint64(i)) // the run advanced the step; the other machine draws the same masks
		if err := own.Run(); err != nil {
			t.Fatal(err)
		}
		loss, vals := values()
		for _, got := range []result{shared[i], again} {
			if got.loss != loss {
				t.Errorf("%s %v batch %d run %d: loss %v shared, %v not", name, mode, batch, i, got.loss, loss)
			}
			for k := range vals {
				if !slices.Equal(got.vals[k], vals[k]) {
					t.Errorf("%s %v batch %d run %d: value %d differs with shared buffers", name, mode, batch, i, k)
				}
			}
		}
	}
}
