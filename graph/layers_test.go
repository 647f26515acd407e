package graph_test

import (
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
)

// scaledCase is unaryCase with inputs scaled by s (to cross ReLU6's upper kink, say).
func scaledCase(name string, s float64, f func(*G.Node) (*G.Node, error), shape ...int) gradCase {
	return gradCase{name, func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
		x := input(g, rng, "x", s, shape...)
		y, err := f(x)
		return y, G.Nodes{x}, err
	}}
}

// layerGradCases are the gradient checks of the ops behind the layers of small modern
// CNNs (MobileNet-style blocks, padding and cropping, reshapes, activations); TestGradCheck
// runs them with the others.
func layerGradCases() []gradCase {
	softmaxAxis := func(axis int) func(*G.Node) (*G.Node, error) {
		return func(x *G.Node) (*G.Node, error) { return graph.SoftmaxAxis(x, axis) }
	}
	return []gradCase{
		scaledCase("relu6", 4, graph.ReLU6, 3, 7),
		unaryCase("elu", func(x *G.Node) (*G.Node, error) { return graph.ELU(x, 1) }, 3, 7),
		unaryCase("elu/alpha0.5/4d", func(x *G.Node) (*G.Node, error) { return graph.ELU(x, 0.5) }, 2, 2, 3, 3),
		scaledCase("gelu", 2, graph.GELU, 3, 7),
		scaledCase("swish", 2, graph.Swish, 2, 2, 3, 3),
		scaledCase("softmax/axis1/4d", 2, softmaxAxis(1), 2, 4, 3, 3),
		scaledCase("softmax/axis2/4d", 2, softmaxAxis(2), 2, 2, 4, 3),
		scaledCase("softmax/axis-1/2d", 2, softmaxAxis(-1), 3, 5),
		unaryCase("zero_pad2d", func(x *G.Node) (*G.Node, error) {
			return graph.ZeroPad2D(x, graph.Pad{Top: 1, Bottom: 2, Right: 3})
		}, 2, 3, 4, 5),
		unaryCase("crop2d", func(x *G.Node) (*G.Node, error) {
			return graph.Crop2D(x, graph.Pad{Top: 1, Left: 2, Right: 1})
		}, 2, 3, 5, 6),
		unaryCase("reshape", func(x *G.Node) (*G.Node, error) {
			return graph.Reshape(x, tensor.Shape{2, 6, 2, 4})
		}, 2, 3, 4, 4),
		unaryCase("global_max_pool2d", graph.GlobalMaxPool2D, 2, 3, 4, 5),
	}
}

func init() {
	parityOps["relu6"] = parityUnary(graph.ReLU6)
	parityOps["elu"] = func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		if p.Alpha == nil {
			return nil, nil, errors.New("params.alpha missing")
		}
		return parityUnary(func(x *G.Node) (*G.Node, error) { return graph.ELU(x, *p.Alpha) })(in, p)
	}
	parityOps["gelu"] = func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		if p.Approximate != "none" {
			return nil, nil, errors.New("GELU is the exact erf form; want params.approximate \"none\"")
		}
		return parityUnary(graph.GELU)(in, p)
	}
	parityOps["silu"] = parityUnary(graph.Swish)
	parityOps["softmax_axis"] = func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		if p.Axis == nil {
			return nil, nil, errors.New("params.axis missing")
		}
		return parityUnary(func(x *G.Node) (*G.Node, error) { return graph.SoftmaxAxis(x, *p.Axis) })(in, p)
	}
	parityOps["zero_pad2d"] = func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		pad, err := parityPad(p.Pad)
		if err != nil {
			return nil, nil, err
		}
		return parityUnary(func(x *G.Node) (*G.Node, error) { return graph.ZeroPad2D(x, pad) })(in, p)
	}
	parityOps["crop2d"] = func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		pad, err := parityPad(p.Pad)
		if err != nil {
			return nil, nil, err
		}
		return parityUnary(func(x *G.Node) (*G.Node, error) { return graph.Crop2D(x, pad) })(in, p)
	}
	parityOps["reshape"] = func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		if p.Order != "CHW" {
			return nil, nil, errors.New("Reshape keeps NCHW's C,H,W order; want params.order \"CHW\"")
		}
		return parityUnary(func(x *G.Node) (*G.Node, error) { return graph.Reshape(x, p.TargetShape) })(in, p)
	}
	parityOps["global_maxpool2d"] = parityUnary(graph.GlobalMaxPool2D)
}
