package graph_test

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
)

// valueNode makes a named float64 node holding v.
func valueNode(g *G.ExprGraph, name string, v []float64, shape ...int) *G.Node {
	t := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	return G.NewTensor(g, tensor.Float64, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(t))
}

// uniform makes n values in [lo, hi).
func uniform(rng *rand.Rand, n int, lo, hi float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = lo + (hi-lo)*rng.Float64()
	}
	return v
}

// oneHot makes [len(labels), k] one-hot rows.
func oneHot(labels []int, k int) []float64 {
	v := make([]float64, len(labels)*k)
	for r, l := range labels {
		v[r*k+l] = 1
	}
	return v
}

type lossFn func(pred, target *G.Node, cfg graph.LossConfig) (*G.Node, error)

// lossCase checks a loss's gradient in its prediction, with targets from target and,
// when weighted, per-example weights.
func lossCase(name string, f lossFn, cfg graph.LossConfig, weighted bool, pred func(g *G.ExprGraph, rng *rand.Rand) *G.Node,
	target func(rng *rand.Rand) []float64) gradCase {
	return gradCase{name, func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
		p := pred(g, rng)
		s := p.Shape()
		t := valueNode(g, "target", target(rng), s...)
		if weighted {
			cfg.Weights = valueNode(g, "weights", uniform(rng, s[0], 0.2, 3), s[0])
		}
		y, err := f(p, t, cfg)
		return y, G.Nodes{p}, err
	}}
}

func lossGradCases() []gradCase {
	logits := func(g *G.ExprGraph, rng *rand.Rand) *G.Node { return input(g, rng, "x", 2, 5, 4) }
	probs := func(g *G.ExprGraph, rng *rand.Rand) *G.Node {
		return valueNode(g, "p", uniform(rng, 20, 0.05, 0.95), 5, 4)
	}
	values := func(g *G.ExprGraph, rng *rand.Rand) *G.Node { return input(g, rng, "pred", 1, 3, 2, 2, 2) }
	oneHots := func(rng *rand.Rand) []float64 { return oneHot([]int{3, 0, 1, 3, 2}, 4) }
	binary := func(rng *rand.Rand) []float64 {
		v := uniform(rng, 20, 0, 1)
		for i := range v {
			v[i] = math.Round(v[i])
		}
		return v
	}
	// Targets kept 0.05 away from the predictions, so no kink of |d| or of Huber's
	// switch lies within the finite-difference step.
	near := func(rng *rand.Rand) []float64 { return uniform(rng, 24, -2, 2) }
	sparse := func(cfg graph.LossConfig, weighted bool) gradCase {
		return gradCase{"", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
			x := input(g, rng, "x", 3, 5, 10)
			l := valueNode(g, "labels", []float64{3, 0, 9, 3, 5}, 5)
			if weighted {
				cfg.Weights = valueNode(g, "weights", uniform(rng, 5, 0.2, 3), 5)
			}
			y, err := graph.SoftmaxCrossEntropyWith(x, l, cfg)
			return y, G.Nodes{x}, err
		}}
	}
	named := func(name string, c gradCase) gradCase { c.name = name; return c }
	return []gradCase{
		named("sparse_cce/smoothing", sparse(graph.LossConfig{LabelSmoothing: 0.1}, false)),
		named("sparse_cce/weighted", sparse(graph.LossConfig{}, true)),
		named("sparse_cce/smoothing/weighted", sparse(graph.LossConfig{LabelSmoothing: 0.2}, true)),
		lossCase("cce", graph.CategoricalCrossEntropy, graph.LossConfig{}, false, logits, oneHots),
		lossCase("cce/smoothing/weighted", graph.CategoricalCrossEntropy, graph.LossConfig{LabelSmoothing: 0.1}, true, logits, oneHots),
		lossCase("cce/soft-targets", graph.CategoricalCrossEntropy, graph.LossConfig{}, false, logits,
			func(rng *rand.Rand) []float64 { return uniform(rng, 20, 0, 0.5) }),
		lossCase("bce/logits", graph.BinaryCrossEntropyFromLogits, graph.LossConfig{}, false, logits, binary),
		lossCase("bce/logits/smoothing/weighted", graph.BinaryCrossEntropyFromLogits, graph.LossConfig{LabelSmoothing: 0.1}, true, logits, binary),
		lossCase("bce/probs", graph.BinaryCrossEntropy, graph.LossConfig{}, false, probs, binary),
		lossCase("bce/probs/weighted", graph.BinaryCrossEntropy, graph.LossConfig{}, true, probs, binary),
		lossCase("mae", graph.MeanAbsoluteError, graph.LossConfig{}, false, values, near),
		lossCase("mae/weighted", graph.MeanAbsoluteError, graph.LossConfig{}, true, values, near),
		lossCase("huber", graph.Huber, graph.LossConfig{}, false, values, near),
		lossCase("huber/delta0.5/weighted", graph.Huber, graph.LossConfig{Delta: 0.5}, true, values, near),
		lossCase("mse/weighted", graph.MeanSquaredErrorWith, graph.LossConfig{}, true, values, near),
	}
}

// TestLossValues checks each loss's value against a direct computation of its formula.
func TestLossValues(t *testing.T) {
	p := []float64{0.5, -1.5, 2, 0.2}
	q := []float64{0.4, 1, -1, 0.2}
	w := []float64{2, 0.5}
	cases := []struct {
		name string
		f    lossFn
		cfg  graph.LossConfig
		pred []float64
		want float64
	}{
		// (|0.1| + |-2.5|)*2 + (|3| + 0)*0.5 over 4
		{"mae", graph.MeanAbsoluteError, graph.LossConfig{}, p, ((0.1+2.5)*2 + 3*0.5) / 4},
		// Huber δ=1: 0.005, 2.0, 2.5, 0
		{"huber", graph.Huber, graph.LossConfig{}, p, ((0.005+2)*2 + 2.5*0.5) / 4},
		{"mse", graph.MeanSquaredErrorWith, graph.LossConfig{}, p, ((0.01+6.25)*2 + 9*0.5) / 4},
		{"bce/probs", graph.BinaryCrossEntropy, graph.LossConfig{}, []float64{0.9, 0.2, 0.3, 0.6},
			(-(0.4*math.Log(0.9)+0.6*math.Log(0.1))*2 - (math.Log(0.2))*2 +
				(-(0*math.Log(0.3) + 1*math.Log(0.7)))*0.5 - (0.2*math.Log(0.6)+0.8*math.Log(0.4))*0.5) / 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := G.NewGraph()
			x := valueNode(g, "x", c.pred, 2, 2)
			tv := q
			if c.name == "bce/probs" {
				tv = []float64{0.4, 1, 0, 0.2}
			}
			y := valueNode(g, "y", tv, 2, 2)
			cfg := c.cfg
			cfg.Weights = valueNode(g, "w", w, 2)
			l, err := c.f(x, y, cfg)
			if err != nil {
				t.Fatal(err)
			}
			m, err := graph.NewMachine(g)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if err := m.Run(); err != nil {
				t.Fatal(err)
			}
			got := l.Value().Data().(float64)
			if math.Abs(got-c.want) > 1e-12 {
				t.Errorf("loss %v; want %v", got, c.want)
			}
		})
	}
}

// TestLossErrors checks that a bad configuration is an error naming the loss.
func TestLossErrors(t *testing.T) {
	g := G.NewGraph()
	x := valueNode(g, "x", make([]float64, 6), 2, 3)
	y := valueNode(g, "y", make([]float64, 6), 2, 3)
	for _, c := range []struct {
		name string
		f    func() error
	}{
		{"smoothing 1", func() error {
			_, err := graph.CategoricalCrossEntropy(x, y, graph.LossConfig{LabelSmoothing: 1})
			return err
		}},
		{"negative delta", func() error { _, err := graph.Huber(x, y, graph.LossConfig{Delta: -1}); return err }},
		{"smoothing on mae", func() error {
			_, err := graph.MeanAbsoluteError(x, y, graph.LossConfig{LabelSmoothing: 0.1})
			return err
		}},
		{"weights shape", func() error {
			_, err := graph.MeanAbsoluteError(x, y, graph.LossConfig{Weights: valueNode(g, "w", make([]float64, 3), 3)})
			return err
		}},
	} {
		if err := c.f(); err == nil {
			t.Errorf("%s: no error", c.name)
		} else {
			t.Log(err)
		}
	}
}
