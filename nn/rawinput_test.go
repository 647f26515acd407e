package nn_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/preprocess"
)

func rawModel(t *testing.T) *nn.Model {
	t.Helper()
	m, err := nn.Sequential("raw",
		nn.Input(8, 8, 1),
		nn.Conv2D(3, 3, nn.Activation(nn.ReLU)),
		nn.Flatten(),
		nn.Dense(4, nn.Activation(nn.Softmax)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The three raw-input paths (image.Image, encoded bytes, a file) and the Predictor all
// give, bit for bit, what Predict gives on the pixels scaled by hand.
func TestRawInputsMatchPredict(t *testing.T) {
	m := rawModel(t)
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		if x, y := i%8, i/8; x > 1 && x < 6 && y > 1 && y < 6 {
			img.Pix[i] = uint8(40 * (i % 6))
		}
	}
	x := make([]float32, 64)
	for i, p := range img.Pix {
		x[i] = float32(1.0/255) * float32(p)
	}
	want, err := m.Predict(tensor.New(tensor.WithShape(1, 8, 8, 1), tensor.WithBacking(x)))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	path := filepath.Join(t.TempDir(), "item.png")
	os.WriteFile(path, b.Bytes(), 0o644)
	p, err := nn.NewPredictor(m)
	if err != nil {
		t.Fatal(err)
	}
	for name, run := range map[string]func() (*tensor.Dense, []preprocess.Report, error){
		"image":     func() (*tensor.Dense, []preprocess.Report, error) { return m.PredictImages([]image.Image{img}) },
		"encoded":   func() (*tensor.Dense, []preprocess.Report, error) { return m.PredictEncoded([][]byte{b.Bytes()}) },
		"file":      func() (*tensor.Dense, []preprocess.Report, error) { return m.PredictFiles([]string{path}) },
		"predictor": func() (*tensor.Dense, []preprocess.Report, error) { return p.PredictFiles([]string{path}) },
	} {
		got, reps, err := run()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(reps) != 1 || reps[0].Inverted {
			t.Errorf("%s: reports %+v", name, reps)
		}
		for i, v := range want.Float32s() {
			if got.Float32s()[i] != v {
				t.Fatalf("%s: output %d is %v, want %v", name, i, got.Float32s()[i], v)
			}
		}
	}
}

// The preprocessing travels in the spec (so in checkpoints) and into a Predictor; a bad
// one in a spec is an error naming the field.
func TestPreprocessingInTheSpec(t *testing.T) {
	m := rawModel(t)
	if m.HasPreprocessing() || m.Preprocessing().Resize != preprocess.Fit {
		t.Errorf("default %+v", m.Preprocessing())
	}
	if !strings.Contains(string(must(m.MarshalSpec())), `"name":"raw"`) || strings.Contains(string(must(m.MarshalSpec())), "preprocessing") {
		t.Error("a default preprocessing is written into the spec")
	}
	set := preprocess.Config{Background: preprocess.Light, Mean: []float64{0.5}, Std: []float64{0.25}, Resize: preprocess.Stretch}
	if err := m.SetPreprocessing(set); err != nil {
		t.Fatal(err)
	}
	b := must(m.MarshalSpec())
	back, err := nn.UnmarshalSpec(b)
	if err != nil {
		t.Fatal(err)
	}
	got := back.Preprocessing()
	if got.Background != preprocess.Light || got.Mean[0] != 0.5 || got.Std[0] != 0.25 || got.Resize != preprocess.Stretch || got.Height != 8 || !back.HasPreprocessing() {
		t.Errorf("round trip %+v", got)
	}
	p, err := nn.NewPredictor(back)
	if err != nil || p.Preprocessing().Background != preprocess.Light {
		t.Errorf("predictor: %+v %v", p.Preprocessing(), err)
	}
	bad := strings.Replace(string(b), `"channels":1`, `"channels":3`, 1)
	if _, err := nn.UnmarshalSpec([]byte(bad)); err == nil || !strings.Contains(err.Error(), "channels 3, but the model's input is 8x8x1") {
		t.Errorf("bad spec: %v", err)
	}
	if err := m.SetPreprocessing(preprocess.Config{Resize: "crop"}); err == nil || !strings.Contains(err.Error(), `model "raw"`) {
		t.Errorf("bad config: %v", err)
	}
}

func TestRawInputErrors(t *testing.T) {
	m := rawModel(t)
	vec, _ := nn.Sequential("vec", nn.Input(5), nn.Dense(2, nn.Activation(nn.Softmax)))
	for _, tc := range []struct {
		err  error
		want string
	}{
		{second(m.PredictFiles([]string{filepath.Join(t.TempDir(), "gone.png")})), "gone.png"},
		{second(m.PredictEncoded([][]byte{[]byte("not an image")})), "image 1: cannot decode image"},
		{second(m.PredictImages(nil)), "no images"},
		{second(vec.PredictImages([]image.Image{image.NewGray(image.Rect(0, 0, 2, 2))})), `model "vec" takes input of shape (5), not images`},
		{second(m.PredictImages([]image.Image{image.NewUniform(color.White)})), "too large"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("error %v, want %q", tc.err, tc.want)
		}
	}
}

func second(_ *tensor.Dense, _ []preprocess.Report, err error) error { return err }

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
