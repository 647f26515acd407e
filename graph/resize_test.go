package graph_test

import (
	"math/rand/v2"
	"testing"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/convgraph/convgraph/graph"
)

// TestGradCheckResize2D checks resizing's gradient against float64 central differences,
// enlarging and shrinking by ratios that are not whole.
func TestGradCheckResize2D(t *testing.T) {
	resize := func(oh, ow int, bilinear bool) func(*G.Node) (*G.Node, error) {
		return func(x *G.Node) (*G.Node, error) { return graph.Resize2D(x, oh, ow, bilinear) }
	}
	for i, c := range []gradCase{
		unaryCase("bilinear/5x4->7x9", resize(7, 9, true), 2, 2, 5, 4),
		unaryCase("bilinear/9x8->6x3", resize(6, 3, true), 1, 3, 9, 8),
		unaryCase("nearest/5x4->7x9", resize(7, 9, false), 2, 2, 5, 4),
		unaryCase("nearest/9x8->6x3", resize(6, 3, false), 1, 2, 9, 8),
		unaryCase("bilinear/batch9", resize(5, 5, true), 9, 1, 3, 3),
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 45))
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

func init() {
	parityOps["resize2d"] = func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		oh, ow, err := parityPair("out", p.Out)
		if err != nil {
			return nil, nil, err
		}
		if p.Interpolation != "nearest" && p.Interpolation != "bilinear" {
			return nil, nil, errors.Errorf("params.interpolation %q is not nearest or bilinear", p.Interpolation)
		}
		return parityUnary(func(x *G.Node) (*G.Node, error) {
			return graph.Resize2D(x, oh, ow, p.Interpolation == "bilinear")
		})(in, p)
	}
	resize := func(oh, ow int, bilinear bool) func(*G.Node) (*G.Node, error) {
		return func(x *G.Node) (*G.Node, error) { return graph.Resize2D(x, oh, ow, bilinear) }
	}
	benchOps["Resize2D"] = []benchOp{benchUnary("bilinear/32x28x28->40x40", false, resize(40, 40, true), 32, 28, 28),
		benchUnary("nearest/32x28x28->40x40", false, resize(40, 40, false), 32, 28, 28)}
}

func BenchmarkResize2D(b *testing.B) { benchmarkOp(b, "Resize2D") }
