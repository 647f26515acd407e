package graph

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The machine's engine adds as Gorgonia's does in every mode tensor.Add has: into a reuse
// tensor, in place (unsafe), into a new tensor, and, through the standard engine, with an
// increment or on a transposed view.
func TestEngineAdd(t *testing.T) {
	mk := func(vals ...float32) *tensor.Dense {
		return tensor.New(tensor.WithShape(2, 3), tensor.WithBacking(vals), tensor.WithEngine(engine{}))
	}
	a := func() *tensor.Dense { return mk(1, 2, 3, 4, 5, 6) }
	b := func() *tensor.Dense { return mk(10, 20, 30, 40, 50, 60) }
	want := []float32{11, 22, 33, 44, 55, 66}
	check := func(name string, got tensor.Tensor, err error, want []float32) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i, v := range got.Data().([]float32) {
			if v != want[i] {
				t.Fatalf("%s: %v, want %v", name, got.Data(), want)
			}
		}
	}
	reuse := mk(0, 0, 0, 0, 0, 0)
	got, err := tensor.Add(a(), b(), tensor.WithReuse(reuse))
	check("reuse", got, err, want)
	if got != reuse {
		t.Error("reuse: the result is not the reuse tensor")
	}
	x := a()
	got, err = tensor.Add(x, b(), tensor.UseUnsafe())
	check("unsafe", got, err, want)
	if got != x {
		t.Error("unsafe: the result is not the first operand")
	}
	x = a()
	got, err = tensor.Add(x, b())
	check("safe", got, err, want)
	check("safe leaves a alone", x, nil, []float32{1, 2, 3, 4, 5, 6})
	incr := mk(1, 1, 1, 1, 1, 1)
	got, err = tensor.Add(a(), b(), tensor.WithIncr(incr))
	check("incr", got, err, []float32{12, 23, 34, 45, 56, 67})
	// A transposed view needs an iterator, so the standard engine adds it.
	at := mk(1, 2, 3, 4, 5, 6)
	if err := at.T(); err != nil {
		t.Fatal(err)
	}
	bt := tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float32{10, 40, 20, 50, 30, 60}), tensor.WithEngine(engine{}))
	got, err = tensor.Add(at, bt)
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range [][]float32{{11, 44}, {22, 55}, {33, 66}} {
		for j, w := range row {
			if v, err := got.At(i, j); err != nil || v.(float32) != w {
				t.Fatalf("transposed: [%d,%d] = %v (%v), want %v", i, j, v, err, w)
			}
		}
	}
}

// The gradients of a node that feeds two ops (every ResNet block's input) are summed by
// Gorgonia with tensor.Add on values the machine's engine computed: y = x*x + relu(x)
// seen from x is 2x + (x > 0).
func TestGradientSumThroughEngine(t *testing.T) {
	g := G.NewGraph()
	xs := []float32{-2, -0.5, 0.5, 3}
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(1, 1, 2, 2), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(1, 1, 2, 2), tensor.WithBacking(append([]float32(nil), xs...)))))
	r, err := ReLU(x)
	if err != nil {
		t.Fatal(err)
	}
	sq := G.Must(G.HadamardProd(x, x))
	sum, err := Add(sq, r)
	if err != nil {
		t.Fatal(err)
	}
	cost := G.Must(G.Sum(sum))
	if _, err := G.Grad(cost, x); err != nil {
		t.Fatal(err)
	}
	m, err := NewMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	grad, err := x.Grad()
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range grad.Data().([]float32) {
		want := 2 * xs[i]
		if xs[i] > 0 {
			want++
		}
		if v != want {
			t.Fatalf("dx = %v; element %d should be %v", grad.Data(), i, want)
		}
	}
}
