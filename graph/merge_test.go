package graph_test

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
)

func init() {
	// The merge ops' PyTorch fixtures (tools/parity/gen.py's merge cases).
	parityOps["concat"] = func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		if p.Axis == nil || *p.Axis != 1 {
			return nil, nil, errMsg("Concat joins axis 1; want params.axis 1")
		}
		n, err := in.get("x", "x2", "x3")
		if err != nil {
			return nil, nil, err
		}
		y, err := graph.Concat(n...)
		return y, nil, err
	}
	binaryParity := func(f func(a, b *G.Node) (*G.Node, error)) parityBuild {
		return func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
			n, err := in.get("x", "x2")
			if err != nil {
				return nil, nil, err
			}
			y, err := f(n[0], n[1])
			return y, nil, err
		}
	}
	parityOps["multiply"] = binaryParity(graph.Multiply)
	parityOps["subtract"] = binaryParity(graph.Subtract)
	parityOps["maximum"] = binaryParity(graph.Maximum)
	parityOps["average"] = func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		n, err := in.get("x", "x2", "x3")
		if err != nil {
			return nil, nil, err
		}
		y, err := graph.Average(n...)
		return y, nil, err
	}
}

type errMsg string

func (e errMsg) Error() string { return string(e) }

func mergeGradCases() []gradCase {
	return []gradCase{
		{"concat/4d", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
			a, b, c := input(g, rng, "a", 1, 2, 3, 4, 5), input(g, rng, "b", 1, 2, 1, 4, 5), input(g, rng, "c", 1, 2, 2, 4, 5)
			y, err := graph.Concat(a, b, c)
			return y, G.Nodes{a, b, c}, err
		}},
		{"concat/2d", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
			a, b := input(g, rng, "a", 1, 3, 4), input(g, rng, "b", 1, 3, 7)
			y, err := graph.Concat(a, b)
			return y, G.Nodes{a, b}, err
		}},
		{"multiply", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
			a, b := input(g, rng, "a", 1, 2, 3, 4, 4), input(g, rng, "b", 1, 2, 3, 4, 4)
			y, err := graph.Multiply(a, b)
			return y, G.Nodes{a, b}, err
		}},
		{"multiply/square", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
			a := input(g, rng, "a", 1, 3, 5)
			y, err := graph.Multiply(a, a)
			return y, G.Nodes{a}, err
		}},
		{"subtract", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
			a, b := input(g, rng, "a", 1, 2, 3, 4, 4), input(g, rng, "b", 1, 2, 3, 4, 4)
			y, err := graph.Subtract(a, b)
			return y, G.Nodes{a, b}, err
		}},
		{"maximum", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
			a, b := input(g, rng, "a", 1, 2, 3, 4, 4), input(g, rng, "b", 1, 2, 3, 4, 4)
			y, err := graph.Maximum(a, b)
			return y, G.Nodes{a, b}, err
		}},
		{"average", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
			a, b, c := input(g, rng, "a", 1, 3, 6), input(g, rng, "b", 1, 3, 6), input(g, rng, "c", 1, 3, 6)
			y, err := graph.Average(a, b, c)
			return y, G.Nodes{a, b, c}, err
		}},
		{"scale", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
			a := input(g, rng, "a", 1, 3, 6)
			y, err := graph.Scale(a, -0.7)
			return y, G.Nodes{a}, err
		}},
	}
}

// TestGradCheckMerge checks the merge ops' symbolic gradients against central
// differences in float64, as TestGradCheck does for the others.
func TestGradCheckMerge(t *testing.T) {
	for i, c := range mergeGradCases() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 43))
			g := G.NewGraph()
			y, wrt, err := c.build(g, rng)
			if err != nil {
				t.Fatal(err)
			}
			loss := probe(t, rng, y)
			res, err := graph.GradCheck(loss, wrt, graph.GradCheckConfig{})
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

// Maximum's ties split the gradient in half, as torch.maximum's do; Concat's gradient
// is each input's own slice.
func TestMergeGradientValues(t *testing.T) {
	g := G.NewGraph()
	av := tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float64{1, 5, 2}))
	bv := tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float64{3, 5, 1}))
	a := G.NewTensor(g, tensor.Float64, 2, G.WithShape(1, 3), G.WithName("a"), G.WithValue(av))
	b := G.NewTensor(g, tensor.Float64, 2, G.WithShape(1, 3), G.WithName("b"), G.WithValue(bv))
	y, err := graph.Maximum(a, b)
	if err != nil {
		t.Fatal(err)
	}
	c, err := graph.Concat(y, a)
	if err != nil {
		t.Fatal(err)
	}
	w := G.NewTensor(g, tensor.Float64, 2, G.WithShape(1, 6), G.WithName("w"),
		G.WithValue(tensor.New(tensor.WithShape(1, 6), tensor.WithBacking([]float64{1, 2, 3, 10, 20, 30}))))
	p, err := graph.Multiply(c, w)
	if err != nil {
		t.Fatal(err)
	}
	loss := G.Must(G.Sum(p))
	grads, err := G.Grad(loss, a, b)
	if err != nil {
		t.Fatal(err)
	}
	m, err := graph.NewMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	want := map[string][]float64{"a": {0 + 10, 1 + 20, 3 + 30}, "b": {1, 1, 0}}
	for i, name := range []string{"a", "b"} {
		got := grads[i].Value().Data().([]float64)
		for j := range got {
			if got[j] != want[name][j] {
				t.Errorf("d loss/d %s = %v; want %v", name, got, want[name])
				break
			}
		}
	}
	if got := c.Value().Data().([]float64); got[0] != 3 || got[1] != 5 || got[2] != 2 || got[3] != 1 {
		t.Errorf("concat(max(a, b), a) = %v", got)
	}
}

func TestMergeShapeErrors(t *testing.T) {
	g := G.NewGraph()
	a := G.NewTensor(g, tensor.Float32, 4, G.WithShape(2, 3, 4, 4), G.WithName("a"))
	b := G.NewTensor(g, tensor.Float32, 4, G.WithShape(2, 3, 5, 4), G.WithName("b"))
	v := G.NewTensor(g, tensor.Float32, 2, G.WithShape(2, 3), G.WithName("v"))
	for name, f := range map[string]func() error{
		"concat one":        func() error { _, err := graph.Concat(a); return err },
		"concat rows":       func() error { _, err := graph.Concat(a, b); return err },
		"concat dims":       func() error { _, err := graph.Concat(a, v); return err },
		"multiply":          func() error { _, err := graph.Multiply(a, b); return err },
		"subtract":          func() error { _, err := graph.Subtract(a, v); return err },
		"maximum":           func() error { _, err := graph.Maximum(b, a); return err },
		"average one input": func() error { _, err := graph.Average(a); return err },
	} {
		if err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// The merge ops at the course CNN's conv2 size (64 channels of 14x14), two inputs each.
func benchMerge(name string, f func(a, b *G.Node) (*G.Node, error)) benchOp {
	return benchOp{layer: name, build: func(g *G.ExprGraph, rng *rand.Rand, n int) (*G.Node, G.Nodes, error) {
		a, b := benchInput(g, rng, "a", 1, n, 64, 14, 14), benchInput(g, rng, "b", 1, n, 64, 14, 14)
		y, err := f(a, b)
		return y, G.Nodes{a, b}, err
	}}
}

func init() {
	benchOps["Concat"] = []benchOp{benchMerge("conv2", func(a, b *G.Node) (*G.Node, error) { return graph.Concat(a, b) })}
	benchOps["Multiply"] = []benchOp{benchMerge("conv2", graph.Multiply)}
	benchOps["Maximum"] = []benchOp{benchMerge("conv2", graph.Maximum)}
	benchOps["Average"] = []benchOp{benchMerge("conv2", func(a, b *G.Node) (*G.Node, error) { return graph.Average(a, b) })}
}

func BenchmarkConcat(b *testing.B)   { benchmarkOp(b, "Concat") }
func BenchmarkMultiply(b *testing.B) { benchmarkOp(b, "Multiply") }
func BenchmarkMaximum(b *testing.B)  { benchmarkOp(b, "Maximum") }
func BenchmarkAverage(b *testing.B)  { benchmarkOp(b, "Average") }
