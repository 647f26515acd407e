package graph

import (
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/internal/kernels"
)

// An op that panics while the tape machine runs it is an error of Machine.Run, not the end
// of the process. Gorgonia runs the ops on a goroutine of its own, out of reach of
// Machine.Run's recover, so every op's Do recovers by itself. Here the kernel panics on
// a negative padding that only a bug could produce.
func TestPanicInsideAnOpIsAnError(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(1, 1, 3, 3), G.WithName("x"), G.WithInit(G.Ones()))
	w := G.NewTensor(g, tensor.Float32, 4, G.WithShape(1, 1, 1, 1), G.WithName("w"), G.WithInit(G.Ones()))
	bad := kernels.Conv2DParams{N: 1, C: 1, H: 3, W: 3, F: 1, KH: 1, KW: 1, StrideH: 1, StrideW: 1,
		DilationH: 1, DilationW: 1, PadTop: -1}
	if _, err := apply(&conv2dOp{p: bad}, x, w); err != nil {
		t.Fatal(err)
	}
	m, err := NewMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	err = m.Run()
	if err == nil || !strings.Contains(err.Error(), "Conv2D") || !strings.Contains(err.Error(), "invalid parameters") {
		t.Fatalf("Run: %v; want the kernel's panic as an error naming the op", err)
	}
}
