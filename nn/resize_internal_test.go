package nn

import (
	"strings"
	"testing"

	"github.com/convgraph/convgraph/graph"
)

func resizeModel(t *testing.T) *Model {
	t.Helper()
	m, err := Sequential("resize",
		Input(5, 4, 2),
		Conv2D(3, 3, Padding(Same), Name("conv")),
		Resizing(7, 9, Name("up")),
		Resizing(4, 3, Interpolation(Nearest), Name("down")),
		Flatten(),
		Dense(3, Activation(Softmax)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Initialize(6); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestResizingLayer(t *testing.T) {
	m := resizeModel(t)
	sum := strings.Join(strings.Fields(m.Summary()), " ")
	for _, row := range []string{"up (Resizing) (None, 7, 9, 3) 0 -", "down (Resizing) (None, 4, 3, 3) 0 -"} {
		if !strings.Contains(sum, row) {
			t.Errorf("summary has no row %q:\n%s", row, m.Summary())
		}
	}
	layers, err := m.DOT(DOTConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, label := range []string{"Resizing 7x9 bilinear", "Resizing 4x3 nearest"} {
		if !strings.Contains(string(layers), label) {
			t.Errorf("layer diagram has no %q", label)
		}
	}
	gr, err := m.Compile(2, Train)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := gr.DOT(graph.DOTConfig{Grads: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"Resize2D\\n", "Resize2DBackward", "out:7x9 bilinear", "out:4x3 nearest"} {
		if !strings.Contains(string(ops), op) {
			t.Errorf("op diagram has no %q", op)
		}
	}
	js, err := m.MarshalSpec()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := UnmarshalSpec(js)
	if err != nil || m2.Summary() != m.Summary() || !strings.Contains(string(js), `"height":7,"width":9`) {
		t.Fatalf("spec round trip: %v\n%s", err, js)
	}
	checkBuiltModel(t, m)
	for _, c := range []struct {
		l    *Layer
		want string
	}{
		{Resizing(0, 3), `layer "resizing" (Resizing): size 0x3 must be positive`},
		{Resizing(3, 3, Interpolation("bicubic")), `interpolation "bicubic" is not "nearest" or "bilinear"`},
	} {
		if _, err := Sequential("bad", Input(4, 4, 1), c.l); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v; want %q", err, c.want)
		}
	}
}

// A model that resizes up and down, whole-model, against central differences in float64.
func TestGradCheckResizing(t *testing.T) {
	gradCheckModel(t, resizeModel(t), 2, 30)
}
