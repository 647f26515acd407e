package nn_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
)

// threeHeads is a model with a softmax head, a sigmoid head and a linear head.
func threeHeads(t *testing.T) *nn.Model {
	t.Helper()
	b := nn.NewBuilder("three-heads")
	x := b.Input(6)
	h := b.Apply(nn.Dense(8, nn.Activation(nn.Tanh)), x)
	class := b.Apply(nn.Dense(4, nn.Activation(nn.Softmax), nn.Name("class")), h)
	flags := b.Apply(nn.Dense(3, nn.Activation(nn.Sigmoid), nn.Name("flags")), h)
	value := b.Apply(nn.Dense(2, nn.Name("value")), h)
	m, err := b.Model(class, flags, value)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func floats(d *tensor.Dense) []float64 {
	switch s := d.Data().(type) {
	case []float32:
		out := make([]float64, len(s))
		for i, v := range s {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return append([]float64(nil), s...)
	}
	return nil
}

// TestLossesPerOutput trains three outputs with three losses and weights and checks
// each output's loss against the formula computed from the graph's outputs, and the
// total against the weighted sum.
func TestLossesPerOutput(t *testing.T) {
	cases := []struct {
		name               string
		class, flags, vals nn.Loss
		// want computes each output's loss from the outputs (probabilities, sigmoid
		// outputs, values) and the targets.
		class1, flags1, vals1 func(p, t []float64) float64
	}{
		{"cce+bce+huber", nn.CategoricalCrossentropy(nn.LabelSmoothing(0.1)), nn.BinaryCrossentropy(), nn.Huber(nn.Delta(0.5)),
			func(p, t []float64) float64 { // rows of 4
				var s float64
				for i := range p {
					s -= (0.9*t[i] + 0.1/4) * math.Log(p[i])
				}
				return s / float64(len(p)/4)
			},
			func(p, t []float64) float64 {
				var s float64
				for i := range p {
					s -= t[i]*math.Log(p[i]) + (1-t[i])*math.Log(1-p[i])
				}
				return s / float64(len(p))
			},
			func(p, t []float64) float64 {
				var s float64
				for i := range p {
					d := math.Abs(p[i] - t[i])
					if d <= 0.5 {
						s += d * d / 2
					} else {
						s += 0.5 * (d - 0.25)
					}
				}
				return s / float64(len(p))
			}},
		{"cce+bce smoothing+mae", nn.CategoricalCrossentropy(), nn.BinaryCrossentropy(nn.LabelSmoothing(0.2)), nn.MeanAbsoluteError(),
			func(p, t []float64) float64 {
				var s float64
				for i := range p {
					s -= t[i] * math.Log(p[i])
				}
				return s / float64(len(p)/4)
			},
			func(p, t []float64) float64 {
				var s float64
				for i := range p {
					y := t[i]*0.8 + 0.1
					s -= y*math.Log(p[i]) + (1-y)*math.Log(1-p[i])
				}
				return s / float64(len(p))
			},
			func(p, t []float64) float64 {
				var s float64
				for i := range p {
					s += math.Abs(p[i] - t[i])
				}
				return s / float64(len(p))
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := threeHeads(t)
			if err := m.SetDType(tensor.Float64); err != nil {
				t.Fatal(err)
			}
			for _, l := range []struct {
				out string
				l   nn.Loss
				w   float64
			}{{"class", c.class, 1}, {"flags", c.flags, 0.5}, {"value", c.vals, 2}} {
				if err := m.SetLoss(l.out, l.l, l.w); err != nil {
					t.Fatal(err)
				}
			}
			gr, err := m.Compile(5, nn.Train)
			if err != nil {
				t.Fatal(err)
			}
			x, _ := randomBatch(tensor.Float64, 1, 5, 6)
			oneHot := make([]float64, 20)
			for r, k := range []int{0, 3, 1, 1, 2} {
				oneHot[r*4+k] = 1
			}
			bits := []float64{1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0, 1}
			vals, _ := randomBatch(tensor.Float64, 2, 5, 2)
			ts := [][]float64{oneHot, bits, floats(vals.(*tensor.Dense))}
			targets := []nn.Target{
				{Values: tensor.New(tensor.WithShape(5, 4), tensor.WithBacking(oneHot))},
				{Values: tensor.New(tensor.WithShape(5, 3), tensor.WithBacking(bits))},
				{Values: vals}}
			if err := gr.RunMulti([]tensor.Tensor{x}, targets); err != nil {
				t.Fatal(err)
			}
			var total float64
			for i, f := range []func(p, t []float64) float64{c.class1, c.flags1, c.vals1} {
				want := f(floats(gr.OutputAt(i)), ts[i])
				if got := gr.LossAt(i); math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
					t.Errorf("output %d: loss %v; want %v", i, got, want)
				}
				total += []float64{1, 0.5, 2}[i] * want
			}
			if got := gr.Loss(); math.Abs(got-total) > 1e-9 {
				t.Errorf("total loss %v; want %v", got, total)
			}
			if g := gr.Grad("flags/kernel"); g == nil || floats(g)[0] == 0 {
				t.Errorf("no gradient for flags/kernel")
			}
		})
	}
}

// TestLossSpecRoundTrip saves every built-in loss and a custom one in a model's spec and
// reads them back.
func TestLossSpecRoundTrip(t *testing.T) {
	registerTestLosses()
	losses := []nn.Loss{
		nn.SparseCategoricalCrossentropy(nn.LabelSmoothing(0.1)),
		nn.CategoricalCrossentropy(nn.LabelSmoothing(0.05)),
		nn.BinaryCrossentropy(nn.FromLogits(), nn.LabelSmoothing(0.2)),
		nn.BinaryCrossentropy(),
		nn.MeanSquaredError(),
		nn.MeanAbsoluteError(),
		nn.Huber(nn.Delta(0.25)),
		nn.CustomLoss("test_squared_error"),
	}
	for _, l := range losses {
		t.Run(l.String(), func(t *testing.T) {
			b := nn.NewBuilder("spec")
			x := b.Input(6)
			out := b.Apply(nn.Dense(4, nn.Name("out")), x)
			other := b.Apply(nn.Dense(4, nn.Name("other")), x)
			m, err := b.Model(out, other)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.SetLoss("out", l, 0.75); err != nil {
				t.Fatal(err)
			}
			if err := m.SetLoss("other", nn.MeanSquaredError(), 1); err != nil {
				t.Fatal(err)
			}
			js, err := m.MarshalSpec()
			if err != nil {
				t.Fatal(err)
			}
			m2, err := nn.UnmarshalSpec(js)
			if err != nil {
				t.Fatal(err)
			}
			got := m2.Losses()
			if got[0].Loss != l || got[0].Weight != 0.75 || got[1].Loss != nn.MeanSquaredError() {
				t.Errorf("losses after round trip %+v; want %v (0.75), mean_squared_error\n%s", got, l, js)
			}
			if _, err := m2.Compile(3, nn.Train); err != nil {
				t.Error(err)
			}
		})
	}
}

var registered bool

// registerTestLosses registers the custom losses these tests use, once.
func registerTestLosses() {
	if registered {
		return
	}
	registered = true
	nn.RegisterLoss("test_squared_error", func(pred, target *G.Node) (*G.Node, error) {
		d, err := G.Sub(pred, target)
		if err != nil {
			return nil, err
		}
		sq, err := G.Square(d)
		if err != nil {
			return nil, err
		}
		return G.Mean(sq)
	})
	nn.RegisterLoss("test_not_scalar", func(pred, target *G.Node) (*G.Node, error) { return G.Sub(pred, target) })
	nn.RegisterLoss("test_panics", func(pred, target *G.Node) (*G.Node, error) { panic("boom") })
}

// TestCustomLoss checks a loss written as a Gorgonia expression against the built-in
// mean squared error: the same loss and the same gradients, through a sigmoid output
// whose backward pass reads the output the expression subtracts from.
func TestCustomLoss(t *testing.T) {
	registerTestLosses()
	run := func(l nn.Loss, mode nn.Mode) (float64, []float64, []float64) {
		m, err := nn.Sequential("custom",
			nn.Input(6),
			nn.Dense(5, nn.Activation(nn.Tanh)),
			nn.Dense(3, nn.Activation(nn.Sigmoid), nn.Name("out")))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.SetDType(tensor.Float64); err != nil {
			t.Fatal(err)
		}
		if err := m.SetLoss("out", l, 1); err != nil {
			t.Fatal(err)
		}
		gr, err := m.Compile(4, mode)
		if err != nil {
			t.Fatal(err)
		}
		x, _ := randomBatch(tensor.Float64, 1, 4, 6)
		y, _ := randomBatch(tensor.Float64, 2, 4, 3)
		if err := gr.RunMulti([]tensor.Tensor{x}, []nn.Target{{Values: y}}); err != nil {
			t.Fatal(err)
		}
		if mode == nn.Eval {
			return gr.Loss(), floats(gr.OutputAt(0)), nil
		}
		return gr.Loss(), floats(gr.Grad("out/kernel")), floats(gr.Grad("dense/kernel"))
	}
	// In inference, the expression must leave the output as it was.
	le1, o1, _ := run(nn.MeanSquaredError(), nn.Eval)
	le2, o2, _ := run(nn.CustomLoss("test_squared_error"), nn.Eval)
	if math.Abs(le1-le2) > 1e-12 {
		t.Errorf("eval: custom loss %v; built-in %v", le2, le1)
	}
	for i := range o1 {
		if o1[i] != o2[i] {
			t.Fatalf("eval: output %d is %v after the custom loss, %v after the built-in", i, o2[i], o1[i])
		}
	}
	l1, g1, h1 := run(nn.MeanSquaredError(), nn.Train)
	l2, g2, h2 := run(nn.CustomLoss("test_squared_error"), nn.Train)
	if math.Abs(l1-l2) > 1e-12 {
		t.Errorf("custom loss %v; built-in %v", l2, l1)
	}
	for i := range g1 {
		if math.Abs(g1[i]-g2[i]) > 1e-12 {
			t.Fatalf("out/kernel gradient %d: custom %v, built-in %v", i, g2[i], g1[i])
		}
	}
	for i := range h1 {
		if math.Abs(h1[i]-h2[i]) > 1e-12 {
			t.Fatalf("dense/kernel gradient %d: custom %v, built-in %v", i, h2[i], h1[i])
		}
	}
}

// TestLossErrors checks that a bad loss is a *nn.LossError naming the output.
func TestLossErrors(t *testing.T) {
	registerTestLosses()
	cases := []struct {
		out  string
		l    nn.Loss
		want string
	}{
		{"value", nn.Huber(nn.Delta(-1)), "delta -1"},
		{"value", nn.MeanAbsoluteError(nn.LabelSmoothing(0.1)), "option LabelSmoothing does not apply to mean_absolute_error"},
		{"value", nn.BinaryCrossentropy(nn.Delta(2)), "option Delta does not apply"},
		{"class", nn.CategoricalCrossentropy(nn.LabelSmoothing(1)), "label smoothing 1 must be in [0, 1)"},
		{"value", nn.CustomLoss("nobody"), `custom loss "nobody" is not registered`},
		{"flags", nn.BinaryCrossentropy(nn.FromLogits()), "from_logits on an output with a sigmoid"},
		{"value", nn.CustomLoss("test_not_scalar"), "want a scalar"},
		{"value", nn.CustomLoss("test_panics"), "boom"},
	}
	for _, c := range cases {
		t.Run(c.l.String(), func(t *testing.T) {
			m := threeHeads(t)
			err := m.SetLoss(c.out, c.l, 1)
			if err == nil {
				_, err = m.Compile(2, nn.Train)
			}
			var le *nn.LossError
			if !errors.As(err, &le) || le.Output != c.out || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v; want a LossError for output %q containing %q", err, c.out, c.want)
			}
		})
	}
}

// TestExampleWeights checks per-example weights against a hand computation: the output's
// loss is Σ w·loss / batch.
func TestExampleWeights(t *testing.T) {
	m := threeHeads(t)
	if err := m.SetDType(tensor.Float64); err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{"class", "flags", "value"} {
		l, w := nn.MeanSquaredError(), 0.0 // the others only so that their parameters get gradients
		if o == "class" {
			l, w = nn.SparseCategoricalCrossentropy(), 1
		}
		if err := m.SetLoss(o, l, w); err != nil {
			t.Fatal(err)
		}
	}
	x, _ := randomBatch(tensor.Float64, 1, 4, 6)
	zeros3 := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(4, 3))
	zeros2 := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(4, 2))
	labels := []int{0, 3, 1, 1}
	w := []float64{2, 0, 0.5, 1}
	gr, err := m.Compile(4, nn.Train)
	if err != nil {
		t.Fatal(err)
	}
	targets := []nn.Target{{Labels: labels, Weights: w}, {Values: zeros3}, {Values: zeros2}}
	if err := gr.RunMulti([]tensor.Tensor{x}, targets); err == nil || !strings.Contains(err.Error(), "SetExampleWeights") {
		t.Fatalf("weights without SetExampleWeights: %v", err)
	}
	m.SetExampleWeights(true)
	if gr, err = m.Compile(4, nn.Train); err != nil {
		t.Fatal(err)
	}
	if err := gr.RunMulti([]tensor.Tensor{x}, targets); err != nil {
		t.Fatal(err)
	}
	p := floats(gr.OutputAt(0))
	var want float64
	for r, k := range labels {
		want -= w[r] * math.Log(p[r*4+k])
	}
	want /= 4
	if got := gr.LossAt(0); math.Abs(got-want) > 1e-9 {
		t.Errorf("weighted loss %v; want %v", got, want)
	}
	// Run, and RunMulti without weights, weight every example alike again.
	targets[0].Weights = nil
	if err := gr.RunMulti([]tensor.Tensor{x}, targets); err != nil {
		t.Fatal(err)
	}
	want = 0
	for r, k := range labels {
		want -= math.Log(p[r*4+k])
	}
	if got := gr.LossAt(0); math.Abs(got-want/4) > 1e-9 {
		t.Errorf("unweighted loss %v; want %v", got, want/4)
	}
	bad := []nn.Target{{Labels: labels, Weights: []float64{1, -1, 1, 1}}, {Values: zeros3}, {Values: zeros2}}
	if err := gr.RunMulti([]tensor.Tensor{x}, bad); err == nil || !strings.Contains(err.Error(), "weight -1 of example 1") {
		t.Errorf("negative weight: %v", err)
	}
}
