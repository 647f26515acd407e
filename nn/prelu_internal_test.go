package nn

import (
	"fmt"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/graph"
)

// preluModel has a PReLU per channel on images, a shared one, and one per feature of a
// vector.
func preluModel(t *testing.T) *Model {
	t.Helper()
	m, err := Sequential("prelu",
		Input(6, 6, 2),
		Conv2D(4, 3, Name("conv")),
		PReLU(Name("act")),
		Conv2D(3, 3, Name("conv2")),
		PReLU(SharedAlpha(true), Name("shared")),
		Flatten(),
		Dense(5),
		PReLU(Name("dense_act")),
		Dense(3, Activation(Softmax)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Initialize(5); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		if strings.HasSuffix(p.Name, "/alpha") {
			for i, d := 0, p.Value.Data().([]float32); i < len(d); i++ {
				d[i] = 0.1 + 0.1*float32(i)
			}
		}
	}
	return m
}

func TestPReLULayer(t *testing.T) {
	m := preluModel(t)
	for name, want := range map[string]string{"act/alpha": "[4]", "shared/alpha": "[1]", "dense_act/alpha": "[5]"} {
		if p := m.Param(name); p == nil || fmt.Sprint(p.Shape()) != want {
			t.Errorf("%s: %v, want shape %s", name, p, want)
		}
	}
	sum := strings.Join(strings.Fields(m.Summary()), " ")
	for _, row := range []string{"act (PReLU) (None, 4, 4, 4) 4 Y", "shared (PReLU) (None, 2, 2, 3) 1 Y", "dense_act (PReLU) (None, 5) 5 Y"} {
		if !strings.Contains(sum, row) {
			t.Errorf("summary has no row %q:\n%s", row, m.Summary())
		}
	}
	layers, err := m.DOT(DOTConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(layers), "PReLU shared") {
		t.Errorf("layer diagram has no %q", "PReLU shared")
	}
	gr, err := m.Compile(2, Train)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := gr.DOT(graph.DOTConfig{Grads: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"PReLU\\n", "PReLUBackwardInput", "PReLUBackwardAlpha"} {
		if !strings.Contains(string(ops), op) {
			t.Errorf("op diagram has no %q", op)
		}
	}
	js, err := m.MarshalSpec()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := UnmarshalSpec(js)
	if err != nil || m2.Summary() != m.Summary() || !strings.Contains(string(js), `"shared_alpha":true`) {
		t.Fatalf("spec round trip: %v\n%s", err, js)
	}
	checkBuiltModel(t, m)
}

// A model of PReLUs, whole-model, against central differences in float64.
func TestGradCheckPReLU(t *testing.T) {
	gradCheckModel(t, preluModel(t), 2, 30)
}
