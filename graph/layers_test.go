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
		depthwiseCase("depthwise_conv2d/same/s1", 2, 3, 5, 5, 1, 3, 3, graph.Conv2DConfig{Pad: same(5, 3, 1)}, true),
		depthwiseCase("depthwise_conv2d/valid/s2/mult2/odd", 2, 2, 7, 9, 2, 3, 3, graph.Conv2DConfig{StrideH: 2, StrideW: 2}, false),
		depthwiseCase("depthwise_conv2d/same/s2/asymmetric", 1, 2, 6, 6, 1, 3, 3, graph.Conv2DConfig{StrideH: 2, StrideW: 2, Pad: same(6, 3, 2)}, true),
		depthwiseCase("depthwise_conv2d/dilation2/mult3", 1, 2, 7, 7, 3, 3, 3, graph.Conv2DConfig{DilationH: 2, DilationW: 2}, true),
		depthwiseCase("depthwise_conv2d/rect/explicit", 2, 2, 5, 6, 2, 2, 3, graph.Conv2DConfig{StrideW: 2, Pad: graph.Pad{Top: 1, Left: 2, Right: 1}}, true),
		unaryCase("upsample2d/nearest/2x3", func(x *G.Node) (*G.Node, error) { return graph.Upsample2D(x, 2, 3, false) }, 2, 3, 3, 4),
		unaryCase("upsample2d/bilinear/2x2", func(x *G.Node) (*G.Node, error) { return graph.Upsample2D(x, 2, 2, true) }, 2, 2, 3, 4),
		unaryCase("upsample2d/bilinear/3x1", func(x *G.Node) (*G.Node, error) { return graph.Upsample2D(x, 3, 1, true) }, 1, 2, 3, 2),
		unaryCase("upsample2d/bilinear/1x1-image", func(x *G.Node) (*G.Node, error) { return graph.Upsample2D(x, 2, 2, true) }, 2, 2, 1, 1),
		convTCase("conv2d_transpose/valid/s2", 2, 3, 3, 4, 2, 3, 3, graph.Conv2DTransposeConfig{StrideH: 2, StrideW: 2}, true),
		convTCase("conv2d_transpose/same/s2", 2, 2, 3, 3, 3, 3, 3, graph.Conv2DTransposeConfig{StrideH: 2, StrideW: 2, Pad: same(6, 3, 2), OutH: 6, OutW: 6}, true),
		convTCase("conv2d_transpose/same/s1", 1, 2, 4, 4, 2, 3, 3, graph.Conv2DTransposeConfig{Pad: same(4, 3, 1)}, false),
		convTCase("conv2d_transpose/s3/k2/gaps", 1, 2, 2, 3, 2, 2, 2, graph.Conv2DTransposeConfig{StrideH: 3, StrideW: 3, OutH: 6, OutW: 9}, true),
		convTCase("conv2d_transpose/dilation2/rect", 1, 2, 3, 3, 2, 2, 3, graph.Conv2DTransposeConfig{StrideW: 2, DilationH: 2, DilationW: 2}, true),
		convTCase("conv2d_transpose/batch9/chunks", 9, 2, 3, 3, 2, 3, 3, graph.Conv2DTransposeConfig{StrideH: 2, StrideW: 2}, false),
		depthwiseCase("depthwise_conv2d/batch9/chunks", 9, 2, 4, 4, 1, 3, 3, graph.Conv2DConfig{Pad: same(4, 3, 1)}, false),
	}
}

func convTCase(name string, n, c, h, w, f, kh, kw int, cfg graph.Conv2DTransposeConfig, bias bool) gradCase {
	return gradCase{name, func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
		x := input(g, rng, "x", 1, n, c, h, w)
		k := input(g, rng, "w", 0.5, c, f, kh, kw)
		y, err := graph.Conv2DTranspose(x, k, cfg)
		if err != nil || !bias {
			return y, G.Nodes{x, k}, err
		}
		b := input(g, rng, "b", 1, f)
		y, err = graph.BiasAdd(y, b)
		return y, G.Nodes{x, k, b}, err
	}}
}

func depthwiseCase(name string, n, c, h, w, m, kh, kw int, cfg graph.Conv2DConfig, bias bool) gradCase {
	return gradCase{name, func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
		x := input(g, rng, "x", 1, n, c, h, w)
		k := input(g, rng, "w", 0.5, c*m, 1, kh, kw)
		y, err := graph.DepthwiseConv2D(x, k, cfg)
		if err != nil || !bias {
			return y, G.Nodes{x, k}, err
		}
		b := input(g, rng, "b", 1, c*m)
		y, err = graph.BiasAdd(y, b)
		return y, G.Nodes{x, k, b}, err
	}}
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
	parityOps["conv2d_transpose"] = func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		n, c, err := parityConv(in, p)
		if err != nil {
			return nil, nil, err
		}
		oh, ow, err := parityPair("out", p.Out)
		if err != nil {
			return nil, nil, err
		}
		if ws := n[1].Shape(); ws[1] != p.Filters || len(p.Kernel) != 2 || ws[2] != p.Kernel[0] || ws[3] != p.Kernel[1] {
			return nil, nil, errors.Errorf("kernel shape %v does not match filters %d, kernel %v", ws, p.Filters, p.Kernel)
		}
		y, err := graph.Conv2DTranspose(n[0], n[1], graph.Conv2DTransposeConfig{StrideH: c.StrideH, StrideW: c.StrideW,
			DilationH: c.DilationH, DilationW: c.DilationW, Pad: c.Pad, OutH: oh, OutW: ow})
		if err != nil || parityBool(p.UseBias, false) {
			return y, nil, err
		}
		b, err := in.get("b")
		if err != nil {
			return nil, nil, err
		}
		y, err = graph.BiasAdd(y, b[0])
		return y, nil, err
	}
	parityOps["upsample2d"] = func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		sh, sw, err := parityPair("size", p.Size)
		if err != nil {
			return nil, nil, err
		}
		if p.Interpolation != "nearest" && p.Interpolation != "bilinear" {
			return nil, nil, errors.Errorf("params.interpolation %q is not nearest or bilinear", p.Interpolation)
		}
		return parityUnary(func(x *G.Node) (*G.Node, error) {
			return graph.Upsample2D(x, sh, sw, p.Interpolation == "bilinear")
		})(in, p)
	}
	parityOps["depthwise_conv2d"] = func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		n, c, err := parityConv(in, p)
		if err != nil {
			return nil, nil, err
		}
		if ws := n[1].Shape(); ws[0] != n[0].Shape()[1]*p.DepthMultiplier || len(p.Kernel) != 2 || ws[2] != p.Kernel[0] || ws[3] != p.Kernel[1] {
			return nil, nil, errors.Errorf("kernel shape %v does not match depth multiplier %d, kernel %v", ws, p.DepthMultiplier, p.Kernel)
		}
		y, err := graph.DepthwiseConv2D(n[0], n[1], c)
		if err != nil || parityBool(p.UseBias, false) {
			return y, nil, err
		}
		b, err := in.get("b")
		if err != nil {
			return nil, nil, err
		}
		y, err = graph.BiasAdd(y, b[0])
		return y, nil, err
	}
}
