package nn

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
)

// gradCheckModel checks every trainable parameter's gradient (a random sample of each
// tensor's elements) and the input's against central differences, in float64, with
// dropout masks held fixed.
func gradCheckModel(t *testing.T, m *Model, batch, samples int) {
	t.Helper()
	fixedDropoutMasks = true
	defer func() { fixedDropoutMasks = false }()
	if err := m.SetDType(tensor.Float64); err != nil {
		t.Fatal(err)
	}
	gr, err := m.compile(batch, Train, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.params {
		if p.Trainable {
			gr.gradParams = append(gr.gradParams, p)
		}
	}
	rng := rand.New(rand.NewPCG(5, 5))
	in := gr.inVal.Data().([]float64)
	for i := range in {
		in[i] = rng.Float64()
	}
	labels := make([]int, batch)
	for i := range labels {
		labels[i] = rng.IntN(m.output.out[0])
	}
	setLabels(gr.labVal, labels)
	wrt := G.Nodes{gr.input}
	for _, p := range gr.gradParams {
		wrt = append(wrt, gr.params[p.Name])
	}
	res, err := graph.GradCheck(gr.loss, wrt, graph.GradCheckConfig{Samples: samples, Seed: 3})
	for _, r := range res {
		t.Log(r)
		if !r.Pass {
			t.Errorf("gradient check failed: %v", r)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}

// The whole course CNN, dropout included, has the gradients central differences give.
func TestGradCheckCourseCNN(t *testing.T) {
	m, err := Sequential("fashion-cnn",
		Input(28, 28, 1),
		Conv2D(32, 3, Padding(Same), Activation(ReLU)),
		MaxPool2D(2),
		Conv2D(64, 3, Padding(Same), Activation(ReLU)),
		MaxPool2D(2),
		Flatten(),
		Dense(100, Activation(ReLU)),
		Dropout(0.4),
		Dense(10, Activation(Softmax)))
	if err != nil {
		t.Fatal(err)
	}
	gradCheckModel(t, m, 2, 24)
}

// A residual network: stride-2 projection shortcut, batch normalisation in training
// mode, an Add join, global average pooling, in nested blocks.
func TestGradCheckResidual(t *testing.T) {
	b := NewBuilder("tiny-resnet")
	x := b.Input(8, 8, 3)
	y := b.Apply(Conv2D(4, 3, Padding(Same), UseBias(false), Name("stem")), x)
	y = b.Apply(BatchNorm(Name("stem_bn")), y)
	y = b.Apply(Activate(ReLU), y)
	blk := b.Block("stage1/block1")
	z := blk.Apply(Conv2D(6, 3, Padding(Same), Strides(2), Name("conv1")), y)
	z = blk.Apply(BatchNorm(Name("bn1")), z)
	z = blk.Apply(Activate(LeakyReLU, Name("act1")), z)
	z = blk.Apply(Conv2D(6, 3, Padding(Same), Name("conv2")), z)
	short := blk.Apply(Conv2D(6, 1, Strides(2), Name("shortcut")), y)
	z = blk.Apply(Add(), z, short)
	z = b.Apply(Activate(Tanh), z)
	z = b.Apply(AvgPool2D(2, Padding(Same)), z)
	z = b.Apply(GlobalAvgPool2D(), z)
	z = b.Apply(Dense(3, Activation(Softmax), Name("head")), z)
	m, err := b.Model(z)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Param("stage1/block1/conv1/kernel"); got == nil {
		t.Fatal("no parameter stage1/block1/conv1/kernel")
	}
	gradCheckModel(t, m, 3, 30)
}
