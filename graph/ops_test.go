package graph_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
)

// input makes a named float64 input node filled with seeded normal values scaled by s,
// kept at least 0.01 away from zero so that ReLU's and pooling's kinks are not crossed.
func input(g *G.ExprGraph, rng *rand.Rand, name string, s float64, shape ...int) *G.Node {
	t := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(shape...))
	for i, d := 0, t.Data().([]float64); i < len(d); i++ {
		v := rng.NormFloat64()
		for v > -0.01 && v < 0.01 {
			v = rng.NormFloat64()
		}
		d[i] = v * s
	}
	return G.NewTensor(g, tensor.Float64, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(t))
}

// probe reduces y to a scalar sum(y * r) with a fixed random r, so every output element
// gets a different weight in the loss.
func probe(t *testing.T, rng *rand.Rand, y *G.Node) *G.Node {
	t.Helper()
	if y.IsScalar() {
		return y
	}
	r := input(y.Graph(), rng, fmt.Sprintf("probe%d", y.ID()), 1, y.Shape()...)
	p, err := G.HadamardProd(y, r)
	if err != nil {
		t.Fatal(err)
	}
	s, err := G.Sum(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type gradCase struct {
	name  string
	build func(g *G.ExprGraph, rng *rand.Rand) (y *G.Node, wrt G.Nodes, err error)
}

func convCase(name string, n, c, h, w, f, kh, kw int, cfg graph.Conv2DConfig, bias bool) gradCase {
	return gradCase{name, func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
		x := input(g, rng, "x", 1, n, c, h, w)
		k := input(g, rng, "w", 0.5, f, c, kh, kw)
		y, err := graph.Conv2D(x, k, cfg)
		if err != nil || !bias {
			return y, G.Nodes{x, k}, err
		}
		b := input(g, rng, "b", 1, f)
		y, err = graph.BiasAdd(y, b)
		return y, G.Nodes{x, k, b}, err
	}}
}

func poolCase(name string, max bool, n, c, h, w int, cfg graph.Pool2DConfig) gradCase {
	return gradCase{name, func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
		x := input(g, rng, "x", 1, n, c, h, w)
		var y *G.Node
		var err error
		if max {
			y, err = graph.MaxPool2D(x, cfg)
		} else {
			y, err = graph.AvgPool2D(x, cfg)
		}
		return y, G.Nodes{x}, err
	}}
}

func unaryCase(name string, f func(*G.Node) (*G.Node, error), shape ...int) gradCase {
	return gradCase{name, func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
		x := input(g, rng, "x", 1, shape...)
		y, err := f(x)
		return y, G.Nodes{x}, err
	}}
}

func same(in, k, s int) graph.Pad {
	t, b := graph.SamePad(in, k, s, 1)
	return graph.Pad{Top: t, Bottom: b, Left: t, Right: b}
}

func gradCases() []gradCase {
	return []gradCase{
		convCase("conv2d/same/s1", 2, 3, 5, 5, 4, 3, 3, graph.Conv2DConfig{Pad: same(5, 3, 1)}, true),
		convCase("conv2d/valid/s2/odd", 2, 2, 7, 9, 3, 3, 3, graph.Conv2DConfig{StrideH: 2, StrideW: 2}, false),
		convCase("conv2d/same/s2/asymmetric", 1, 2, 6, 6, 2, 3, 3, graph.Conv2DConfig{StrideH: 2, StrideW: 2, Pad: same(6, 3, 2)}, true),
		convCase("conv2d/dilation2", 1, 2, 7, 7, 2, 3, 3, graph.Conv2DConfig{DilationH: 2, DilationW: 2}, true),
		convCase("conv2d/batch1/1ch/kernel=input", 1, 1, 4, 4, 1, 4, 4, graph.Conv2DConfig{}, true),
		convCase("conv2d/rect/explicit", 2, 2, 5, 6, 3, 2, 3, graph.Conv2DConfig{StrideW: 2, Pad: graph.Pad{Top: 1, Left: 2, Right: 1}}, true),
		convCase("conv2d/1x1", 2, 4, 3, 3, 3, 1, 1, graph.Conv2DConfig{}, true),
		poolCase("max_pool2d/2x2/s2", true, 2, 3, 6, 6, graph.Pool2DConfig{KH: 2, KW: 2}),
		poolCase("max_pool2d/3x3/s2/same", true, 2, 2, 7, 7, graph.Pool2DConfig{KH: 3, KW: 3, StrideH: 2, StrideW: 2, Pad: same(7, 3, 2)}),
		poolCase("max_pool2d/2x2/odd/valid", true, 1, 2, 7, 7, graph.Pool2DConfig{KH: 2, KW: 2}),
		poolCase("max_pool2d/3x3/s1/same", true, 2, 1, 5, 5, graph.Pool2DConfig{KH: 3, KW: 3, StrideH: 1, StrideW: 1, Pad: same(5, 3, 1)}),
		poolCase("average_pool2d/2x2/s2", false, 2, 3, 6, 6, graph.Pool2DConfig{KH: 2, KW: 2}),
		poolCase("average_pool2d/3x3/s2/same", false, 2, 2, 7, 7, graph.Pool2DConfig{KH: 3, KW: 3, StrideH: 2, StrideW: 2, Pad: same(7, 3, 2)}),
		poolCase("average_pool2d/3x3/s1/same", false, 1, 2, 5, 5, graph.Pool2DConfig{KH: 3, KW: 3, StrideH: 1, StrideW: 1, Pad: same(5, 3, 1)}),
		unaryCase("global_average_pool2d", graph.GlobalAvgPool2D, 2, 3, 4, 5),
		{"dense", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
			x, w, b := input(g, rng, "x", 1, 4, 6), input(g, rng, "w", 1, 6, 5), input(g, rng, "b", 1, 5)
			y, err := graph.MatMul(x, w)
			if err != nil {
				return nil, nil, err
			}
			y, err = graph.BiasAdd(y, b)
			return y, G.Nodes{x, w, b}, err
		}},
		{"flatten", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
			x := input(g, rng, "x", 1, 2, 3, 4, 4)
			y, err := graph.Flatten(x)
			return y, G.Nodes{x}, err
		}},
		{"add", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
			a, b := input(g, rng, "a", 1, 2, 3, 4, 4), input(g, rng, "b", 1, 2, 3, 4, 4)
			y, err := graph.Add(a, b)
			return y, G.Nodes{a, b}, err
		}},
		unaryCase("relu", graph.ReLU, 3, 7),
		unaryCase("relu/4d", graph.ReLU, 2, 2, 3, 3),
		unaryCase("leaky_relu", func(x *G.Node) (*G.Node, error) { return graph.LeakyReLU(x, 0.3) }, 3, 7),
		unaryCase("sigmoid", graph.Sigmoid, 3, 7),
		unaryCase("tanh", graph.Tanh, 3, 7),
		unaryCase("softmax", graph.Softmax, 4, 10),
		{"dropout/fixed-mask", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
			x := input(g, rng, "x", 1, 4, 10)
			y, err := graph.Dropout(x, graph.DropoutConfig{Rate: 0.4, Seed: 7, FixedMask: true})
			return y, G.Nodes{x}, err
		}},
		{"softmax_cross_entropy", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
			x := input(g, rng, "x", 3, 5, 10)
			labels := tensor.New(tensor.WithBacking([]float64{3, 0, 9, 3, 5}))
			l := G.NewVector(g, tensor.Float64, G.WithShape(5), G.WithName("labels"), G.WithValue(labels))
			y, err := graph.SoftmaxCrossEntropy(x, l)
			return y, G.Nodes{x}, err
		}},
		{"mean_squared_error", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
			p, q := input(g, rng, "pred", 1, 4, 3), input(g, rng, "target", 1, 4, 3)
			y, err := graph.MeanSquaredError(p, q)
			return y, G.Nodes{p}, err
		}},
		{"batch_normalization/train/4d", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
			x, gm, bt := input(g, rng, "x", 2, 4, 3, 3, 3), input(g, rng, "gamma", 1, 3), input(g, rng, "beta", 1, 3)
			st := &graph.BatchNormStats{Mean: tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(3)),
				Variance: tensor.New(tensor.WithBacking([]float64{1, 1, 1})), Momentum: 0.99, Epsilon: 1e-3}
			y, err := graph.BatchNormTrain(x, gm, bt, st)
			return y, G.Nodes{x, gm, bt}, err
		}},
		{"batch_normalization/train/2d", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
			x, gm, bt := input(g, rng, "x", 2, 6, 4), input(g, rng, "gamma", 1, 4), input(g, rng, "beta", 1, 4)
			st := &graph.BatchNormStats{Mean: tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(4)),
				Variance: tensor.New(tensor.WithBacking([]float64{1, 1, 1, 1})), Momentum: 0.99, Epsilon: 1e-3}
			y, err := graph.BatchNormTrain(x, gm, bt, st)
			return y, G.Nodes{x, gm, bt}, err
		}},
		{"batch_normalization/infer/4d", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
			x, gm, bt := input(g, rng, "x", 2, 2, 3, 3, 3), input(g, rng, "gamma", 1, 3), input(g, rng, "beta", 1, 3)
			mean := input(g, rng, "mean", 1, 3)
			v := tensor.New(tensor.WithBacking([]float64{0.5, 1.5, 2}))
			variance := G.NewVector(g, tensor.Float64, G.WithShape(3), G.WithName("variance"), G.WithValue(v))
			y, err := graph.BatchNormInfer(x, gm, bt, mean, variance, 1e-3)
			return y, G.Nodes{x, gm, bt}, err
		}},
	}
}

// TestGradCheck checks every op's symbolic gradient against central differences in
// float64: relative error below 1e-6.
func TestGradCheck(t *testing.T) {
	for i, c := range append(append(gradCases(), layerGradCases()...), lossGradCases()...) {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 42))
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
