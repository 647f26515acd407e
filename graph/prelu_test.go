package graph_test

import (
	"math/rand/v2"
	"testing"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/convgraph/convgraph/graph"
)

func preluCase(name string, alphas int, shape ...int) gradCase {
	return gradCase{name, func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
		x := input(g, rng, "x", 1, shape...)
		a := input(g, rng, "alpha", 0.5, alphas)
		y, err := graph.PReLU(x, a)
		return y, G.Nodes{x, a}, err
	}}
}

// TestGradCheckPReLU checks PReLU's gradients (input and slopes) against float64 central
// differences.
func TestGradCheckPReLU(t *testing.T) {
	for i, c := range []gradCase{
		preluCase("channels/4d", 3, 2, 3, 4, 5),
		preluCase("shared/4d", 1, 2, 3, 4, 5),
		preluCase("features/2d", 6, 4, 6),
		preluCase("batch9/chunks", 2, 9, 2, 3, 3),
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 44))
			g := G.NewGraph()
			y, wrt, err := c.build(g, rng)
			if err != nil {
				t.Fatal(err)
			}
			res, err := graph.GradCheck(probe(t, rng, y), wrt, graph.GradCheckConfig{})
			for _, r := range res {
				t.Log(r)
				if r.RelErr >= 1e-6 {
					t.Errorf("%s: relative error %.2e >= 1e-6", r.Name, r.RelErr)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestPReLUErrors(t *testing.T) {
	g := G.NewGraph()
	rng := rand.New(rand.NewPCG(1, 1))
	x := input(g, rng, "x", 1, 2, 3, 4, 4)
	if _, err := graph.PReLU(x, input(g, rng, "a4", 1, 4)); err == nil || err.Error() != "graph: prelu: alpha has shape (4); want [3] (one per channel) or [1]" {
		t.Errorf("error %v", err)
	}
	if _, err := graph.PReLU(input(g, rng, "x3", 1, 2, 3, 4), input(g, rng, "a3", 1, 3)); err == nil {
		t.Error("a 3-D input gave no error")
	}
}

func init() {
	parityOps["prelu"] = func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		n, err := in.get("x", "alpha")
		if err != nil {
			return nil, nil, err
		}
		if p.Shared == nil || *p.Shared != (n[1].Shape()[0] == 1) {
			return nil, nil, errors.Errorf("params.shared %v does not match alpha's shape %v", p.Shared, n[1].Shape())
		}
		y, err := graph.PReLU(n[0], n[1])
		return y, nil, err
	}
	prelu := func(layer string, alphas int, shape ...int) benchOp {
		return benchOp{layer: layer, build: func(g *G.ExprGraph, rng *rand.Rand, n int) (*G.Node, G.Nodes, error) {
			x := benchInput(g, rng, "x", 1, append([]int{n}, shape...)...)
			a := benchInput(g, rng, "alpha", 0.25, alphas)
			y, err := graph.PReLU(x, a)
			return y, G.Nodes{x, a}, err
		}}
	}
	benchOps["PReLU"] = []benchOp{prelu("channels/32x28x28", 32, 32, 28, 28), prelu("shared/64x14x14", 1, 64, 14, 14)}
}

func BenchmarkPReLU(b *testing.B) { benchmarkOp(b, "PReLU") }
