package nn_test

import (
	"slices"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
)

// A loop that never calls SetStep draws a new dropout mask at every run; SetStep and
// PinStep make masks repeat.
func TestDropoutMasksAdvance(t *testing.T) {
	m, err := nn.Sequential("drop", nn.Input(64), nn.Dropout(0.5), nn.Dense(10, nn.Activation(nn.Softmax)))
	if err != nil {
		t.Fatal(err)
	}
	gr, err := m.Compile(4, nn.Train)
	if err != nil {
		t.Fatal(err)
	}
	x, labels := randomBatch(tensor.Float32, 1, 4, 64)
	run := func() []float32 {
		t.Helper()
		if err := gr.Run(x, labels); err != nil {
			t.Fatal(err)
		}
		return slices.Clone(gr.Grad("dense/kernel").Data().([]float32))
	}
	a, b := run(), run()
	if slices.Equal(a, b) {
		t.Error("two runs without SetStep used the same dropout mask")
	}
	if gr.Step() != 2 {
		t.Errorf("step %d after two runs; want 2", gr.Step())
	}
	gr.SetStep(0)
	if c := run(); !slices.Equal(a, c) {
		t.Error("SetStep(0) did not bring back the first run's mask")
	}
	gr.PinStep(true)
	d, e := run(), run()
	if !slices.Equal(d, e) || !slices.Equal(d, b) {
		t.Error("pinned runs drew different masks")
	}
	gr.PinStep(false)
	if f, g := run(), run(); !slices.Equal(f, e) || slices.Equal(g, f) {
		t.Error("unpinned runs did not go on from the pinned step")
	}
}
