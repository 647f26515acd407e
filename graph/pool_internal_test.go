package graph

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/internal/kernels"
)

// maxPoolStep builds x -> MaxPool2D(3x3/2, same) -> sum(y * r) in float32 with ties and
// NaN in x, and returns the graph, its nodes (r is the output gradient) and the pool's
// ops.
func maxPoolStep(t *testing.T) (g *G.ExprGraph, x, y, r, dx *G.Node, fwd *poolOp, back *poolBackOp) {
	t.Helper()
	g = G.NewGraph()
	rng := rand.New(rand.NewPCG(3, 4))
	xs := make([]float32, 2*3*9*10)
	for i := range xs {
		xs[i] = float32(rng.IntN(4)) // ties in most windows
		if rng.IntN(40) == 0 {
			xs[i] = float32(math.NaN())
		}
	}
	x = G.NewTensor(g, tensor.Float32, 4, G.WithShape(2, 3, 9, 10), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(2, 3, 9, 10), tensor.WithBacking(xs))))
	y, err := MaxPool2D(x, Pool2DConfig{KH: 3, KW: 3, StrideH: 2, StrideW: 2, Pad: Pad{Top: 1, Bottom: 1, Right: 1}})
	if err != nil {
		t.Fatal(err)
	}
	rs := make([]float32, y.Shape().TotalSize())
	for i := range rs {
		rs[i] = float32(rng.NormFloat64())
	}
	r = G.NewTensor(g, tensor.Float32, 4, G.WithShape(y.Shape()...), G.WithName("r"),
		G.WithValue(tensor.New(tensor.WithShape(y.Shape()...), tensor.WithBacking(rs))))
	loss := G.Must(G.Sum(G.Must(G.HadamardProd(y, r))))
	grads, err := G.Grad(loss, x)
	if err != nil {
		t.Fatal(err)
	}
	fwd, ok := y.Op().(*poolOp)
	if !ok || fwd.win == nil {
		t.Fatalf("forward op %v keeps no winners", y.Op())
	}
	back, ok = grads[0].Op().(*poolBackOp)
	if !ok || back.win != fwd.win {
		t.Fatalf("gradient op %v does not share the forward op's winners", grads[0].Op())
	}
	return g, x, y, r, grads[0], fwd, back
}

// TestMaxPoolWinners checks that a training step's max pool gradient comes from the
// winners its forward op recorded, equal bit for bit to the gradient recomputed from x,
// and that the gradient op recomputes when the recorded winners are not those of its
// inputs.
func TestMaxPoolWinners(t *testing.T) {
	g, x, y, r, dxNode, fwd, back := maxPoolStep(t)
	m, err := NewMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for step := range 2 {
		if err := m.Run(); err != nil {
			t.Fatal(err)
		}
		xv, yv := x.Value().(*tensor.Dense), y.Value().(*tensor.Dense)
		if !fwd.win.fresh(xv, yv) {
			t.Fatalf("step %d: the forward op recorded no winners for this step", step)
		}
		dy := f32(r.Value().(*tensor.Dense))
		want := make([]float32, xv.Size())
		kernels.MaxPool2DBackward(back.p, f32(xv), dy, want)
		assertSameBits(t, "dx", f32(dxNode.Value().(*tensor.Dense)), want)
	}

	// Without a forward run on these tensors, the gradient op recomputes the winners.
	xv := x.Value().(*tensor.Dense).Clone().(*tensor.Dense)
	xs := f32(xv)
	for i := range xs {
		xs[i] = -xs[i] // other winners
	}
	yv := y.Value().(*tensor.Dense).Clone().(*tensor.Dense)
	dy := tensor.New(tensor.WithShape(yv.Shape()...), tensor.WithBacking(make([]float32, yv.Size())))
	for i, d := 0, f32(dy); i < len(d); i++ {
		d[i] = float32(i%7) - 3
	}
	want := make([]float32, xv.Size())
	kernels.MaxPool2DBackward(back.p, xs, f32(dy), want)
	for _, tc := range []struct {
		name  string
		setup func()
	}{
		{"stale winners", func() {}},
		{"no forward run", func() { fwd.win.idx, fwd.win.x, fwd.win.y = nil, nil, nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup()
			got, err := (&poolBackOp{p: back.p, max: true, win: back.win}).Do(xv, yv, dy)
			if err != nil {
				t.Fatal(err)
			}
			assertSameBits(t, "dx", f32(got.(*tensor.Dense)), want)
		})
	}
}

// TestMaxPoolWinnersInference checks that a graph without gradients records no winners,
// and that the op's identity keeps two max pools of one input apart.
func TestMaxPoolWinnersInference(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(1, 2, 7, 7), G.WithName("x"), G.WithInit(G.Ones()))
	cfg := Pool2DConfig{KH: 3, KW: 3, StrideH: 2, StrideW: 2, Pad: Pad{Top: 1, Bottom: 1, Left: 1, Right: 1}}
	y1, err := MaxPool2D(x, cfg)
	if err != nil {
		t.Fatal(err)
	}
	y2, err := MaxPool2D(x, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if y1 == y2 {
		t.Fatal("two max pools of one input became one node")
	}
	if s := y1.Op().String(); !strings.Contains(s, " id:") {
		t.Errorf("op %q does not print its identity", s)
	}
	m, err := NewMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	if w := y1.Op().(*poolOp).win; w.idx != nil || w.x != nil {
		t.Error("an inference graph recorded winners")
	}
	plain, err := MaxPool2D(x, Pool2DConfig{KH: 2, KW: 2})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Op().(*poolOp).win != nil {
		t.Error("the 2x2/2 max pool keeps winners; its own backward kernel is faster")
	}
}

func assertSameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}
