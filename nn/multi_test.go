package nn_test

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
	"github.com/convgraph/convgraph/nn"
)

func twoInTwoOut(t testing.TB) *nn.Model {
	t.Helper()
	b := nn.NewBuilder("two-in-two-out")
	img := b.Input(8, 8, 1)
	meta := b.Input(3)
	x := b.Apply(nn.Conv2D(4, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)), img)
	x = b.Apply(nn.GlobalAvgPool2D(), x)
	v := b.Apply(nn.Dense(4, nn.Activation(nn.ReLU)), meta)
	x = b.Apply(nn.Concatenate(), x, v)
	class := b.Apply(nn.Dense(3, nn.Activation(nn.Softmax), nn.Name("class")), x)
	value := b.Apply(nn.Dense(1, nn.Name("value")), x)
	m, err := b.Model(class, value)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetLoss("class", nn.SparseCategoricalCrossentropy(), 1); err != nil {
		t.Fatal(err)
	}
	if err := m.SetLoss("value", nn.MeanSquaredError(), 0.5); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTwoInputsTwoOutputs(t *testing.T) {
	m := twoInTwoOut(t)
	if got := m.Inputs(); len(got) != 2 || got[0].Name != "input" || got[1].Name != "input_1" || got[1].Shape.String() != "(None, 3)" {
		t.Errorf("inputs %v", got)
	}
	if got := m.Outputs(); len(got) != 2 || got[0].Name != "class" || got[1].Name != "value" {
		t.Errorf("outputs %v", got)
	}
	gr, err := m.Compile(4, nn.Train)
	if err != nil {
		t.Fatal(err)
	}
	img, _ := randomBatch(tensor.Float32, 1, 4, 8, 8, 1)
	meta, _ := randomBatch(tensor.Float32, 2, 4, 3)
	vals, _ := randomBatch(tensor.Float32, 3, 4, 1)
	targets := []nn.Target{{Labels: []int{0, 1, 2, 1}}, {Values: vals}}
	if err := gr.RunMulti([]tensor.Tensor{img, meta}, targets); err != nil {
		t.Fatal(err)
	}
	l0, l1 := gr.LossAt(0), gr.LossAt(1)
	if !(l0 > 0) || !(l1 > 0) || math.Abs(gr.Loss()-(l0+0.5*l1)) > 1e-6 {
		t.Errorf("loss %v; want %v + 0.5 * %v", gr.Loss(), l0, l1)
	}
	if s := gr.OutputAt(1).Shape(); !s.Eq(tensor.Shape{4, 1}) {
		t.Errorf("second output has shape %v", s)
	}
	for _, p := range m.Params() {
		if g := gr.Grad(p.Name); g == nil {
			t.Errorf("no gradient for %s", p.Name)
		}
	}

	// Run is for the course's one-input classifiers; it says what to do instead.
	if err := gr.Run(img, []int{0, 1, 2, 1}); err == nil || !strings.Contains(err.Error(), "RunMulti") {
		t.Errorf("Run on a two-input model: %v", err)
	}
	for _, c := range []struct {
		ins     []tensor.Tensor
		targets []nn.Target
		want    string
	}{
		{[]tensor.Tensor{img}, targets, "1 input tensors for 2 inputs"},
		{[]tensor.Tensor{meta, img}, targets, `input "input" has shape (4, 3); want (4, 8, 8, 1)`},
		{[]tensor.Tensor{img, meta}, nil, "training needs targets (class: labels, value: values)"},
		{[]tensor.Tensor{img, meta}, targets[:1], "1 targets for 2 outputs"},
		{[]tensor.Tensor{img, meta}, []nn.Target{{Values: vals}, {Values: vals}}, `output "class", loss sparse_categorical_crossentropy: takes class labels`},
		{[]tensor.Tensor{img, meta}, []nn.Target{targets[0], {Labels: []int{1, 2, 3, 4}}}, `output "value", loss mean_squared_error: takes values`},
		{[]tensor.Tensor{img, meta}, []nn.Target{{Labels: []int{0, 1, 2, 3}}, targets[1]}, `label 3 of example 3 is outside [0, 3)`},
	} {
		if err := gr.RunMulti(c.ins, c.targets); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v; want %q", err, c.want)
		}
	}

	// Eval without targets gives outputs only.
	ev, err := m.Compile(4, nn.Eval)
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.RunMulti([]tensor.Tensor{img, meta}, nil); err != nil || ev.Loss() != 0 {
		t.Fatalf("eval run: %v, loss %v", err, ev.Loss())
	}

	// Summary, diagrams and the spec know both inputs and outputs and the losses.
	s := m.Summary()
	for _, want := range []string{"input_1 (InputLayer)", "class (Dense)", "value (Dense)"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	ops, err := gr.DOT(graph.DOTConfig{Grads: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"input_1", "labels/class", "targets/value"} {
		if !bytes.Contains(ops, []byte(want)) {
			t.Errorf("op DOT lacks %q", want)
		}
	}
	js, err := m.MarshalSpec()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := nn.UnmarshalSpec(js)
	if err != nil {
		t.Fatal(err)
	}
	if js2, _ := m2.MarshalSpec(); !bytes.Equal(js, js2) {
		t.Errorf("spec changed on a round trip:\n%s\n%s", js, js2)
	}
	if l := m2.Losses(); len(l) != 2 || l[1].Loss != nn.MeanSquaredError() || l[1].Weight != 0.5 {
		t.Errorf("rebuilt losses %+v", l)
	}
}

// Training a two-output model lowers both losses.
func TestTwoOutputsTrain(t *testing.T) {
	m := twoInTwoOut(t)
	const n = 16
	img, _ := randomBatch(tensor.Float32, 4, n, 8, 8, 1)
	meta, _ := randomBatch(tensor.Float32, 5, n, 3)
	labels := make([]int, n)
	vals := tensor.New(tensor.WithShape(n, 1), tensor.WithBacking(make([]float32, n)))
	for i := range labels {
		md := meta.Data().([]float32)
		for c := 1; c < 3; c++ { // the largest of the metadata values
			if md[3*i+c] > md[3*i+labels[i]] {
				labels[i] = c
			}
		}
		vals.Data().([]float32)[i] = md[3*i] - md[3*i+1] // learnable from the metadata
	}
	gr, err := m.Compile(n, nn.Train)
	if err != nil {
		t.Fatal(err)
	}
	var first [2]float64
	for step := 0; step < 150; step++ {
		if err := gr.RunMulti([]tensor.Tensor{img, meta}, []nn.Target{{Labels: labels}, {Values: vals}}); err != nil {
			t.Fatal(err)
		}
		if step == 0 {
			first = [2]float64{gr.LossAt(0), gr.LossAt(1)}
		}
		for _, p := range gr.GradParams() { // plain SGD
			g, w := gr.Grad(p.Name).Data().([]float32), p.Value.Data().([]float32)
			for i := range w {
				w[i] -= 0.2 * g[i]
			}
		}
	}
	if l0, l1 := gr.LossAt(0), gr.LossAt(1); !(l0 < first[0]*0.7) || !(l1 < first[1]*0.5) {
		t.Errorf("losses %v, %v after 150 steps; first %v", l0, l1, first)
	}
}
