package graph_test

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
)

// The benchmarks of the ops behind the layers of small modern CNNs run at the sizes of a
// MobileNet-style network on 28x28 images: 32 channels at 28x28 (the first block), 64 at
// 14x14 and 128 at 7x7.

// benchUnary benchmarks f on a seeded input of the given example shape.
func benchUnary(layer string, readsY bool, f func(*G.Node) (*G.Node, error), shape ...int) benchOp {
	return benchOp{layer: layer, readsY: readsY, build: func(g *G.ExprGraph, rng *rand.Rand, n int) (*G.Node, G.Nodes, error) {
		x := benchInput(g, rng, "x", 2, append([]int{n}, shape...)...)
		y, err := f(x)
		return y, G.Nodes{x}, err
	}}
}

func init() {
	for _, a := range []struct {
		name string
		f    func(*G.Node) (*G.Node, error)
		y    bool // the backward reads the output (every activation but ReLU passes it)
	}{
		{"ReLU6", graph.ReLU6, true},
		{"ELU", func(x *G.Node) (*G.Node, error) { return graph.ELU(x, 1) }, true},
		{"GELU", graph.GELU, true},
		{"Swish", graph.Swish, true},
	} {
		benchOps[a.name] = []benchOp{benchUnary("block1", a.y, a.f, 32, 28, 28), benchUnary("block2", a.y, a.f, 64, 14, 14)}
	}
	channels := func(x *G.Node) (*G.Node, error) { return graph.SoftmaxAxis(x, 1) }
	benchOps["SoftmaxAxis"] = []benchOp{benchUnary("channels", true, channels, 10, 28, 28)}
	pad := func(x *G.Node) (*G.Node, error) {
		return graph.ZeroPad2D(x, graph.Pad{Top: 1, Bottom: 1, Left: 1, Right: 1})
	}
	crop := func(x *G.Node) (*G.Node, error) {
		return graph.Crop2D(x, graph.Pad{Top: 1, Bottom: 1, Left: 1, Right: 1})
	}
	benchOps["ZeroPad2D"] = []benchOp{benchUnary("block1", false, pad, 32, 28, 28), benchUnary("block2", false, pad, 64, 14, 14)}
	benchOps["Crop2D"] = []benchOp{benchUnary("block1", false, crop, 32, 30, 30), benchUnary("block2", false, crop, 64, 16, 16)}
	benchOps["Reshape"] = []benchOp{{layer: "head", build: func(g *G.ExprGraph, rng *rand.Rand, n int) (*G.Node, G.Nodes, error) {
		x := benchInput(g, rng, "x", 1, n, 128, 7, 7)
		y, err := graph.Reshape(x, tensor.Shape{n, 128 * 49})
		return y, G.Nodes{x}, err
	}}}
	benchOps["GlobalMaxPool2D"] = []benchOp{benchUnary("head", false, graph.GlobalMaxPool2D, 128, 7, 7)}
}

func BenchmarkReLU6(b *testing.B)           { benchmarkOp(b, "ReLU6") }
func BenchmarkELU(b *testing.B)             { benchmarkOp(b, "ELU") }
func BenchmarkGELU(b *testing.B)            { benchmarkOp(b, "GELU") }
func BenchmarkSwish(b *testing.B)           { benchmarkOp(b, "Swish") }
func BenchmarkSoftmaxAxis(b *testing.B)     { benchmarkOp(b, "SoftmaxAxis") }
func BenchmarkZeroPad2D(b *testing.B)       { benchmarkOp(b, "ZeroPad2D") }
func BenchmarkCrop2D(b *testing.B)          { benchmarkOp(b, "Crop2D") }
func BenchmarkReshape(b *testing.B)         { benchmarkOp(b, "Reshape") }
func BenchmarkGlobalMaxPool2D(b *testing.B) { benchmarkOp(b, "GlobalMaxPool2D") }

// benchDepthwise is a MobileNet block's 3x3 depthwise convolution over c channels of
// hw x hw, same padding, with the given stride.
func benchDepthwise(layer string, c, hw, stride int) benchOp {
	return benchOp{layer: layer, build: func(g *G.ExprGraph, rng *rand.Rand, n int) (*G.Node, G.Nodes, error) {
		x := benchInput(g, rng, "x", 1, n, c, hw, hw)
		w := benchInput(g, rng, "w", benchHeScale(9), c, 1, 3, 3)
		t, b := graph.SamePad(hw, 3, stride, 1)
		y, err := graph.DepthwiseConv2D(x, w, graph.Conv2DConfig{StrideH: stride, StrideW: stride,
			Pad: graph.Pad{Top: t, Bottom: b, Left: t, Right: b}})
		return y, G.Nodes{x, w}, err
	}}
}

func init() {
	benchOps["DepthwiseConv2D"] = []benchOp{benchDepthwise("block1", 32, 28, 1), benchDepthwise("block2", 64, 28, 2),
		benchDepthwise("block3", 128, 7, 1)}
}

func BenchmarkDepthwiseConv2D(b *testing.B) { benchmarkOp(b, "DepthwiseConv2D") }

func init() {
	for _, m := range []struct {
		name     string
		bilinear bool
	}{{"nearest", false}, {"bilinear", true}} {
		up := func(x *G.Node) (*G.Node, error) { return graph.Upsample2D(x, 2, 2, m.bilinear) }
		benchOps["Upsample2D"] = append(benchOps["Upsample2D"], benchUnary(m.name+"/64x7x7", false, up, 64, 7, 7),
			benchUnary(m.name+"/32x14x14", false, up, 32, 14, 14))
	}
}

func BenchmarkUpsample2D(b *testing.B) { benchmarkOp(b, "Upsample2D") }

// benchConvT is a decoder's 3x3 stride-2 transposed convolution from c channels of
// hw x hw to f channels of 2hw x 2hw (Keras's padding="same").
func benchConvT(layer string, c, hw, f int) benchOp {
	return benchOp{layer: layer, build: func(g *G.ExprGraph, rng *rand.Rand, n int) (*G.Node, G.Nodes, error) {
		x := benchInput(g, rng, "x", 1, n, c, hw, hw)
		w := benchInput(g, rng, "w", benchHeScale(c*9), c, f, 3, 3)
		t, b := graph.SamePad(2*hw, 3, 2, 1)
		y, err := graph.Conv2DTranspose(x, w, graph.Conv2DTransposeConfig{StrideH: 2, StrideW: 2,
			Pad: graph.Pad{Top: t, Bottom: b, Left: t, Right: b}, OutH: 2 * hw, OutW: 2 * hw})
		return y, G.Nodes{x, w}, err
	}}
}

func init() {
	benchOps["Conv2DTranspose"] = []benchOp{benchConvT("7to14", 64, 7, 32), benchConvT("14to28", 32, 14, 16)}
}

func BenchmarkConv2DTranspose(b *testing.B) { benchmarkOp(b, "Conv2DTranspose") }
