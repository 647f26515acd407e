package zoo

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/preprocess"
)

// Shipped gray weights loaded into an RGB model: the first convolution is adapted, not
// refused, and a gray image fed as three equal channels gets the gray model's prediction.
func TestRGBModelFromGrayWeights(t *testing.T) {
	s, err := data.Sample(data.FashionMNIST)
	if err != nil {
		t.Fatal(err)
	}
	const n = 32
	gray := make([]float32, n*28*28)
	rgb := make([]float32, 3*len(gray))
	for i := range n {
		data.Normalization{}.Apply(gray[i*784:(i+1)*784], s.Test.Image(i), 1)
	}
	for i, v := range gray {
		rgb[3*i], rgb[3*i+1], rgb[3*i+2] = v, v, v
	}
	for _, tc := range []struct{ name, conv string }{{"fashion-cnn", "conv2d/kernel"}, {"resnet-small", "stem/conv/kernel"}, {"alexnet-small", "conv1/kernel"}} {
		orig, _, err := Pretrained(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		m, rep, err := Pretrained(tc.name, InputShape(28, 28, 3))
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Adapted) != 1 || rep.Adapted[0].Param != tc.conv || len(rep.Skipped) != 0 || len(rep.Loaded) != len(m.Params())-1 {
			t.Fatalf("%s: report %+v", tc.name, rep)
		}
		if !strings.Contains(rep.Adapted[0].Rule, "3 input channels from the weights' 1") {
			t.Errorf("%s: rule %q", tc.name, rep.Adapted[0].Rule)
		}
		want, err := orig.Predict(tensor.New(tensor.WithShape(n, 28, 28, 1), tensor.WithBacking(gray)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Predict(tensor.New(tensor.WithShape(n, 28, 28, 3), tensor.WithBacking(rgb)))
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for i := range n {
			w, g := want.Float32s()[i*10:(i+1)*10], got.Float32s()[i*10:(i+1)*10]
			if argmax(w) != argmax(g) {
				t.Errorf("%s: image %d: class %d in RGB, %d in gray", tc.name, i, argmax(g), argmax(w))
			}
			for k := range w {
				worst = max(worst, math.Abs(float64(w[k]-g[k])))
			}
		}
		if worst > 1e-5 {
			t.Errorf("%s: probabilities differ by up to %g", tc.name, worst)
		}
		t.Logf("%s: RGB and gray probabilities differ by at most %g", tc.name, worst)
		if m.Preprocessing().Background != preprocess.Dark || m.Preprocessing().Channels != 3 {
			t.Errorf("%s: preprocessing %+v", tc.name, m.Preprocessing())
		}
	}
}

func argmax(v []float32) int {
	best := 0
	for i := range v {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}

// Other input sizes: layers whose shapes do not depend on the image size load; a Dense
// after Flatten does not, and the report says why.
func TestPretrainedOtherSizes(t *testing.T) {
	m, rep, err := Pretrained("resnet-small", InputShape(32, 32, 3))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Skipped) != 0 || len(rep.Adapted) != 1 || m.InputShape()[0] != 32 {
		t.Errorf("resnet-small 32x32x3: %+v", rep)
	}
	// alexnet-small's three stride-2 pools take 28 and 32 alike to 4x4, so only 64x64
	// changes its fc1.
	for _, tc := range []struct {
		name, dense string
		size        int
	}{{"fashion-cnn", "dense/kernel", 32}, {"alexnet-small", "fc1/kernel", 64}} {
		_, rep, err := Pretrained(tc.name, InputShape(tc.size, tc.size, 1))
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Skipped) != 1 || rep.Skipped[0].Param != tc.dense ||
			!strings.Contains(rep.Skipped[0].Reason, fmt.Sprintf("its inputs depend on the image size (%dx%d here, 28x28 in the weights)", tc.size, tc.size)) {
			t.Errorf("%s 32x32: %+v", tc.name, rep)
		}
	}
}

// timm's rule on a tiny kernel, both ways: one channel to three, three to two.
func TestAdaptInputConvRule(t *testing.T) {
	src := []float64{3, 6} // [O=2, I=1, 1x1]
	dst := make([]float64, 6)
	adaptInputConv(dst, src, 2, 1, 3, 1)
	if want := []float64{1, 1, 1, 2, 2, 2}; !equal(dst, want) {
		t.Errorf("1 -> 3: %v, want %v", dst, want)
	}
	src = []float64{2, 4, 6} // [O=1, I=3, 1x1]
	dst = make([]float64, 2)
	adaptInputConv(dst, src, 1, 3, 2, 1)
	if want := []float64{3, 6}; !equal(dst, want) {
		t.Errorf("3 -> 2: %v, want %v", dst, want)
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-12 {
			return false
		}
	}
	return true
}
