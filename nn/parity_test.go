package nn_test

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/nlpodyssey/safetensors"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
)

// fixture is one PyTorch reference file from testdata/parity (tools/parity/gen.py).
type fixture struct {
	t *testing.T
	s safetensors.SafeTensors
}

func loadFixture(t *testing.T, name string) fixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "parity", name+".safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := safetensors.Deserialize(b)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{t, s}
}

func (f fixture) shape(name string) []int {
	v, ok := f.s.Tensor(name)
	if !ok {
		f.t.Fatalf("fixture has no tensor %q", name)
	}
	var s []int
	for _, d := range v.Shape() {
		s = append(s, int(d))
	}
	return s
}

func (f fixture) f32(name string) []float32 {
	v, ok := f.s.Tensor(name)
	if !ok {
		f.t.Fatalf("fixture has no tensor %q", name)
	}
	d := v.Data()
	out := make([]float32, len(d)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:]))
	}
	return out
}

func (f fixture) ints(name string) []int {
	v, _ := f.s.Tensor(name)
	d := v.Data()
	out := make([]int, len(d)/8)
	for i := range out {
		out[i] = int(int64(binary.LittleEndian.Uint64(d[8*i:])))
	}
	return out
}

// close compares got with PyTorch's want: |got-want| <= 1e-4|want| + 1e-6 everywhere.
func (f fixture) close(what string, got, want []float32) {
	f.t.Helper()
	if len(got) != len(want) {
		f.t.Fatalf("%s: %d values; want %d", what, len(got), len(want))
	}
	worst, at := 0.0, 0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		tol := 1e-4*math.Abs(float64(want[i])) + 1e-6
		if d/tol > worst {
			worst, at = d/tol, i
		}
	}
	if worst > 1 {
		f.t.Errorf("%s: element %d is %v, PyTorch %v (%.1f times the tolerance)", what, at, got[at], want[at], worst)
	} else {
		f.t.Logf("%s: within %.3f of the tolerance", what, worst)
	}
}

func (f fixture) loadParams(m *nn.Model) {
	for _, p := range m.Params() {
		want := f.shape(p.Name)
		if !p.Value.Shape().Eq(tensor.Shape(want)) {
			f.t.Fatalf("%s: shape %v; fixture %v", p.Name, p.Value.Shape(), want)
		}
		copy(p.Value.Data().([]float32), f.f32(p.Name))
	}
}

// nchwToNHWC reorders a fixture's NCHW input for Graph.Run.
func nchwToNHWC(x []float32, n, c, h, w int) tensor.Tensor {
	out := make([]float32, len(x))
	for in := 0; in < n; in++ {
		for ic := 0; ic < c; ic++ {
			for ih := 0; ih < h; ih++ {
				for iw := 0; iw < w; iw++ {
					out[((in*h+ih)*w+iw)*c+ic] = x[((in*c+ic)*h+ih)*w+iw]
				}
			}
		}
	}
	return tensor.New(tensor.WithShape(n, h, w, c), tensor.WithBacking(out))
}

// The course CNN (dropout, the identity in PyTorch's eval, left out) computes PyTorch's
// logits, probabilities, loss and every gradient.
func TestParityCourseCNN(t *testing.T) {
	f := loadFixture(t, "model_fashion_cnn")
	m, err := nn.Sequential("fashion-cnn",
		nn.Input(28, 28, 1),
		nn.Conv2D(32, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)),
		nn.MaxPool2D(2),
		nn.Conv2D(64, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)),
		nn.MaxPool2D(2),
		nn.Flatten(),
		nn.Dense(100, nn.Activation(nn.ReLU)),
		nn.Dense(10, nn.Activation(nn.Softmax)))
	if err != nil {
		t.Fatal(err)
	}
	f.loadParams(m)
	gr, err := m.Compile(4, nn.Train)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(tensor.WithShape(4, 28, 28, 1), tensor.WithBacking(f.f32("x_nhwc")))
	if err := gr.Run(x, f.ints("labels")); err != nil {
		t.Fatal(err)
	}
	f.close("logits", gr.Logits().Data().([]float32), f.f32("logits"))
	f.close("probs", gr.Output().Data().([]float32), f.f32("probs"))
	f.close("loss", []float32{float32(gr.Loss())}, f.f32("loss"))
	for _, p := range m.Params() {
		f.close("grad/"+p.Name, gr.Grad(p.Name).Data().([]float32), f.f32("grad/"+p.Name))
	}
}

// A residual block with batch normalisation in training mode matches PyTorch, moving
// statistics included.
func TestParityResidual(t *testing.T) {
	f := loadFixture(t, "model_residual")
	b := nn.NewBuilder("residual")
	x := b.Input(8, 8, 3)
	y := b.Apply(nn.Conv2D(4, 3, nn.Padding(nn.Same), nn.UseBias(false), nn.Name("stem")), x)
	y = b.Apply(nn.BatchNorm(nn.Name("stem_bn")), y)
	y = b.Apply(nn.Activate(nn.ReLU), y)
	blk := b.Block("block1")
	z := blk.Apply(nn.Conv2D(4, 3, nn.Padding(nn.Same), nn.UseBias(false), nn.Name("conv1")), y)
	z = blk.Apply(nn.Activate(nn.ReLU), z)
	z = blk.Apply(nn.Conv2D(4, 3, nn.Padding(nn.Same), nn.UseBias(false), nn.Name("conv2")), z)
	z = blk.Apply(nn.Add(), z, y)
	z = b.Apply(nn.Activate(nn.ReLU), z)
	z = b.Apply(nn.GlobalAvgPool2D(), z)
	z = b.Apply(nn.Dense(3, nn.Name("head")), z)
	m, err := b.Model(z)
	if err != nil {
		t.Fatal(err)
	}
	f.loadParams(m)
	gr, err := m.Compile(2, nn.Train)
	if err != nil {
		t.Fatal(err)
	}
	if err := gr.Run(nchwToNHWC(f.f32("x"), 2, 3, 8, 8), f.ints("labels")); err != nil {
		t.Fatal(err)
	}
	f.close("logits", gr.Logits().Data().([]float32), f.f32("logits"))
	f.close("loss", []float32{float32(gr.Loss())}, f.f32("loss"))
	for _, p := range gr.GradParams() {
		f.close("grad/"+p.Name, gr.Grad(p.Name).Data().([]float32), f.f32("grad/"+p.Name))
	}
	f.close("moving_mean", m.Param("stem_bn/moving_mean").Value.Data().([]float32), f.f32("stem_bn/new_moving_mean"))
	f.close("moving_variance", m.Param("stem_bn/moving_variance").Value.Data().([]float32), f.f32("stem_bn/new_moving_variance"))
}

// The MobileNet-era layers in one network (a stride-2 stem with batch norm in training
// mode and ReLU6, a depthwise convolution, a separable one with depth multiplier 2, a
// stride-2 transposed convolution) match PyTorch: logits, loss, every gradient and the
// moving statistics.
func TestParityMobileNetLayers(t *testing.T) {
	f := loadFixture(t, "model_mobilenet")
	m, err := nn.Sequential("mobilenet-layers",
		nn.Input(8, 8, 3),
		nn.Conv2D(4, 3, nn.Padding(nn.Same), nn.Strides(2), nn.UseBias(false), nn.Name("stem")),
		nn.BatchNorm(nn.Name("stem_bn")),
		nn.Activate(nn.ReLU6),
		nn.DepthwiseConv2D(3, nn.Padding(nn.Same), nn.UseBias(false), nn.Activation(nn.Swish), nn.Name("dw")),
		nn.SeparableConv2D(6, 3, nn.Padding(nn.Same), nn.DepthMultiplier(2), nn.Activation(nn.GELU), nn.Name("sep")),
		nn.Conv2DTranspose(4, 2, nn.Strides(2), nn.Name("up")),
		nn.GlobalAvgPool2D(nn.Name("pool")),
		nn.Dense(3, nn.Name("head")))
	if err != nil {
		t.Fatal(err)
	}
	f.loadParams(m)
	gr, err := m.Compile(2, nn.Train)
	if err != nil {
		t.Fatal(err)
	}
	if err := gr.Run(nchwToNHWC(f.f32("x"), 2, 3, 8, 8), f.ints("labels")); err != nil {
		t.Fatal(err)
	}
	f.close("logits", gr.Logits().Data().([]float32), f.f32("logits"))
	f.close("loss", []float32{float32(gr.Loss())}, f.f32("loss"))
	for _, p := range gr.GradParams() {
		f.close("grad/"+p.Name, gr.Grad(p.Name).Data().([]float32), f.f32("grad/"+p.Name))
	}
	f.close("moving_mean", m.Param("stem_bn/moving_mean").Value.Data().([]float32), f.f32("stem_bn/new_moving_mean"))
	f.close("moving_variance", m.Param("stem_bn/moving_variance").Value.Data().([]float32), f.f32("stem_bn/new_moving_variance"))
}
