package graph_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/convgraph/convgraph/graph"
)

func groupedCase(name string, n, c, h, w, f, groups, kh, kw int, cfg graph.Conv2DConfig, bias bool) gradCase {
	return gradCase{name, func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes, error) {
		x := input(g, rng, "x", 1, n, c, h, w)
		k := input(g, rng, "w", 0.5, f, c/groups, kh, kw)
		y, err := graph.GroupedConv2D(x, k, groups, cfg)
		if err != nil || !bias {
			return y, G.Nodes{x, k}, err
		}
		b := input(g, rng, "b", 1, f)
		y, err = graph.BiasAdd(y, b)
		return y, G.Nodes{x, k, b}, err
	}}
}

// TestGradCheckGroupedConv2D checks the grouped convolution's symbolic gradients against
// float64 central differences, as TestGradCheck does for every other op.
func TestGradCheckGroupedConv2D(t *testing.T) {
	cases := []gradCase{
		groupedCase("g2/same/s1", 2, 4, 5, 5, 6, 2, 3, 3, graph.Conv2DConfig{Pad: same(5, 3, 1)}, true),
		groupedCase("g4/valid/s2/odd", 2, 8, 7, 9, 4, 4, 3, 3, graph.Conv2DConfig{StrideH: 2, StrideW: 2}, false),
		groupedCase("g2/dilation2/rect/explicit", 1, 4, 7, 8, 4, 2, 2, 3, graph.Conv2DConfig{DilationH: 2, DilationW: 2,
			StrideW: 2, Pad: graph.Pad{Top: 1, Left: 2, Right: 1}}, true),
		groupedCase("g3/1x1", 2, 6, 3, 4, 3, 3, 1, 1, graph.Conv2DConfig{}, true),
		groupedCase("g2/batch9/chunks", 9, 4, 4, 4, 4, 2, 3, 3, graph.Conv2DConfig{Pad: same(4, 3, 1)}, false),
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 43))
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

func TestGroupedConv2DErrors(t *testing.T) {
	g := G.NewGraph()
	rng := rand.New(rand.NewPCG(1, 1))
	x := input(g, rng, "x", 1, 1, 6, 5, 5)
	for _, c := range []struct {
		groups int
		w      []int
		want   string
	}{
		{4, []int{4, 1, 3, 3}, "4 groups do not divide the input's 6 channels"},
		{2, []int{4, 2, 3, 3}, "kernel has 2 input channels per group; 2 groups of the input's 6 channels have 3"},
		{0, []int{4, 6, 3, 3}, "0 groups must be positive"},
		{2, []int{4, 3, 7, 7}, "kernel 7x7 larger than padded input 5x5"},
	} {
		w := input(g, rng, "w"+strings.Repeat("_", len(c.want)), 1, c.w...)
		if _, err := graph.GroupedConv2D(x, w, c.groups, graph.Conv2DConfig{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("groups %d, kernel %v: error %v; want %q", c.groups, c.w, err, c.want)
		}
	}
}

func init() {
	parityOps["grouped_conv2d"] = func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		n, c, err := parityConv(in, p)
		if err != nil {
			return nil, nil, err
		}
		if ws := n[1].Shape(); p.Groups < 2 || ws[0] != p.Filters || len(p.Kernel) != 2 || ws[2] != p.Kernel[0] || ws[3] != p.Kernel[1] {
			return nil, nil, errors.Errorf("kernel shape %v does not match filters %d, groups %d, kernel %v", ws, p.Filters, p.Groups, p.Kernel)
		}
		y, err := graph.GroupedConv2D(n[0], n[1], p.Groups, c)
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
	// A ResNeXt block's 3x3 convolution: 32 groups of 4 channels at 14x14, and 8 groups of
	// 8 at 28x28.
	grouped := func(layer string, c, hw, groups int) benchOp {
		return benchOp{layer: layer, build: func(g *G.ExprGraph, rng *rand.Rand, n int) (*G.Node, G.Nodes, error) {
			x := benchInput(g, rng, "x", 1, n, c, hw, hw)
			w := benchInput(g, rng, "w", benchHeScale(9*c/groups), c, c/groups, 3, 3)
			y, err := graph.GroupedConv2D(x, w, groups, graph.Conv2DConfig{Pad: benchSamePad})
			return y, G.Nodes{x, w}, err
		}}
	}
	benchOps["GroupedConv2D"] = []benchOp{grouped("g8x8/28x28", 64, 28, 8), grouped("g32x4/14x14", 128, 14, 32)}
}

func BenchmarkGroupedConv2D(b *testing.B) { benchmarkOp(b, "GroupedConv2D") }
