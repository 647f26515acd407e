package nn

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
)

// twoInTwoOut is an image and a vector of metadata in, a class and a value out.
func twoInTwoOut(t testing.TB) *Model {
	t.Helper()
	b := NewBuilder("two-in-two-out")
	img := b.Input(6, 6, 1)
	meta := b.Input(3)
	x := b.Apply(Conv2D(4, 3, Padding(Same), Activation(Tanh)), img)
	x = b.Apply(GlobalAvgPool2D(), x)
	m := b.Apply(Dense(4, Activation(Tanh)), meta)
	x = b.Apply(Concatenate(), x, m)
	class := b.Apply(Dense(3, Activation(Softmax), Name("class")), x)
	value := b.Apply(Dense(1, Name("value")), x)
	model, err := b.Model(class, value)
	if err != nil {
		t.Fatal(err)
	}
	if err := model.SetLoss("class", SparseCategoricalCrossentropy(), 1); err != nil {
		t.Fatal(err)
	}
	if err := model.SetLoss("value", MeanSquaredError(), 0.5); err != nil {
		t.Fatal(err)
	}
	return model
}

// The weighted total loss of a two-input, two-output model has the gradients central
// differences give, for both inputs and every parameter.
func TestGradCheckTwoInputsTwoOutputs(t *testing.T) {
	m := twoInTwoOut(t)
	if err := m.SetDType(tensor.Float64); err != nil {
		t.Fatal(err)
	}
	const batch = 3
	gr, err := m.compile(batch, Train, false)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for _, v := range gr.inVals {
		for i, d := 0, v.Data().([]float64); i < len(d); i++ {
			d[i] = rng.Float64()
		}
	}
	setLabels(gr.heads[0].tgtVal, []int{0, 2, 1})
	for i, d := 0, gr.heads[1].tgtVal.Data().([]float64); i < len(d); i++ {
		d[i] = rng.NormFloat64()
	}
	wrt := append(G.Nodes(nil), gr.ins...)
	for _, p := range m.params {
		wrt = append(wrt, gr.params[p.Name])
	}
	res, err := graph.GradCheck(gr.loss, wrt, graph.GradCheckConfig{Samples: 20, Seed: 3})
	for _, r := range res {
		t.Log(r)
		if !r.Pass {
			t.Errorf("gradient check failed: %v", r)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}
