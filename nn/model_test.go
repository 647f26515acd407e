package nn_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
)

func courseCNN(t testing.TB) *nn.Model {
	t.Helper()
	m, err := nn.Sequential("fashion-cnn",
		nn.Input(28, 28, 1),
		nn.Conv2D(32, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)),
		nn.MaxPool2D(2),
		nn.Conv2D(64, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)),
		nn.MaxPool2D(2),
		nn.Flatten(),
		nn.Dense(100, nn.Activation(nn.ReLU)),
		nn.Dropout(0.4),
		nn.Dense(10, nn.Activation(nn.Softmax)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func randomBatch(dt tensor.Dtype, seed uint64, shape ...int) (tensor.Tensor, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	switch d := x.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = rng.Float32()
		}
	case []float64:
		for i := range d {
			d[i] = rng.Float64()
		}
	}
	labels := make([]int, shape[0])
	for i := range labels {
		labels[i] = rng.IntN(10)
	}
	return x, labels
}

func TestCourseCNNParamCount(t *testing.T) {
	m := courseCNN(t)
	total, trainable, non := m.ParamCounts()
	if total != 333526 || trainable != 333526 || non != 0 {
		t.Fatalf("params total %d trainable %d non-trainable %d; want 333526, 333526, 0", total, trainable, non)
	}
	s := m.Summary()
	for _, want := range []string{"Total params: 333,526", "Trainable params: 333,526", "Non-trainable params: 0",
		"conv2d (Conv2D)", "(None, 28, 28, 32)", "dense_1 (Dense)", "(None, 3136)"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	names := []string{}
	for _, p := range m.Params() {
		names = append(names, p.Name)
	}
	want := "conv2d/kernel conv2d/bias conv2d_1/kernel conv2d_1/bias dense/kernel dense/bias dense_1/kernel dense_1/bias"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("parameter names %q; want %q", got, want)
	}
}

func TestTrainStepGivesEveryGradient(t *testing.T) {
	m := courseCNN(t)
	gr, err := m.Compile(4, nn.Train)
	if err != nil {
		t.Fatal(err)
	}
	x, labels := randomBatch(tensor.Float32, 1, 4, 28, 28, 1)
	if err := gr.Run(x, labels); err != nil {
		t.Fatal(err)
	}
	if l := gr.Loss(); !(l > 1 && l < 4) {
		t.Errorf("initial loss %v; want about ln(10) = 2.3", l)
	}
	for _, p := range m.Params() {
		g := gr.Grad(p.Name)
		if g == nil || !g.Shape().Eq(p.Value.Shape()) {
			t.Fatalf("%s: gradient %v", p.Name, g)
		}
		var norm float64
		for _, v := range g.Data().([]float32) {
			norm += float64(v * v)
		}
		if norm == 0 {
			t.Errorf("%s: zero gradient", p.Name)
		}
	}
	probs := gr.Output()
	if !probs.Shape().Eq(tensor.Shape{4, 10}) {
		t.Fatalf("output shape %v", probs.Shape())
	}
	for r := 0; r < 4; r++ {
		var s float32
		for _, v := range probs.Data().([]float32)[r*10 : r*10+10] {
			s += v
		}
		if s < 0.999 || s > 1.001 {
			t.Errorf("row %d of the softmax sums to %v", r, s)
		}
	}
}

// Train and eval graphs share parameter tensors: a change made through one is seen by
// the other, with no copy.
func TestGraphsShareParameters(t *testing.T) {
	m := courseCNN(t)
	x, _ := randomBatch(tensor.Float32, 2, 2, 28, 28, 1)
	eval, err := m.Compile(2, nn.Eval)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := m.Compile(2, nn.Eval); again != eval {
		t.Error("Compile did not cache the eval graph")
	}
	if err := eval.Run(x, nil); err != nil {
		t.Fatal(err)
	}
	before := append([]float32(nil), eval.Output().Data().([]float32)...)
	bias := m.Param("dense_1/bias").Value.Data().([]float32)
	bias[3] += 5
	if err := eval.Run(x, nil); err != nil {
		t.Fatal(err)
	}
	after := eval.Output().Data().([]float32)
	if !(after[3] > before[3]) {
		t.Errorf("raising class 3's bias did not raise its probability: %v -> %v", before[3], after[3])
	}
	// Running a graph must not write into its parameters.
	k := append([]float32(nil), m.Param("conv2d/kernel").Value.Data().([]float32)...)
	tr, err := m.Compile(2, nn.Train)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(x, []int{1, 2}); err != nil {
		t.Fatal(err)
	}
	for i, v := range m.Param("conv2d/kernel").Value.Data().([]float32) {
		if v != k[i] {
			t.Fatalf("a training step changed conv2d/kernel[%d]", i)
		}
	}
}

func countOps(ins []string, op string) int {
	n := 0
	for _, s := range ins {
		if strings.Contains(s, op) {
			n++
		}
	}
	return n
}

// Freezing layers removes their backward ops from the compiled program: nothing of the
// backward pass below the lowest trainable layer is compiled.
func TestFrozenLayersCompileNoBackward(t *testing.T) {
	m := courseCNN(t)
	full, err := m.Compile(2, nn.Train)
	if err != nil {
		t.Fatal(err)
	}
	fullIns := full.Instructions()
	if countOps(fullIns, "Conv2DBackwardKernel") != 2 {
		t.Fatalf("full model: want 2 kernel-gradient convolutions, program:\n%s", strings.Join(fullIns, "\n"))
	}
	// The first convolution's input gradient is never needed.
	if got := countOps(fullIns, "Conv2DBackwardInput"); got != 1 {
		t.Errorf("full model: %d input-gradient convolutions; want 1 (conv2d_1 only)", got)
	}

	if err := m.Freeze("conv2d", "conv2d_1"); err != nil {
		t.Fatal(err)
	}
	head, err := m.Compile(2, nn.Train)
	if err != nil {
		t.Fatal(err)
	}
	ins := head.Instructions()
	for _, op := range []string{"Conv2DBackward", "MaxPool2DBackward", "reluBackward"} {
		if n := countOps(ins, op); n > 0 && op != "reluBackward" {
			t.Errorf("frozen convolutions: %d %s instructions remain", n, op)
		}
	}
	if len(ins) >= len(fullIns) {
		t.Errorf("frozen program has %d instructions, full %d", len(ins), len(fullIns))
	}
	t.Logf("instructions: full %d, convolutions frozen %d", len(fullIns), len(ins))
	if head.Grad("conv2d/kernel") != nil {
		t.Error("a frozen parameter has a gradient")
	}
	_, trainable, non := m.ParamCounts()
	if trainable != 313700+1010 || non != 320+18496 {
		t.Errorf("trainable %d non-trainable %d after freezing", trainable, non)
	}
	if err := m.Freeze("conv9"); err == nil || !strings.Contains(err.Error(), `"conv9"`) {
		t.Errorf("freezing an unknown layer: %v", err)
	}
	if err := m.Freeze("conv2d", "conv2d_1", "dense", "dense_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Compile(2, nn.Train); err == nil || !strings.Contains(err.Error(), "no trainable") {
		t.Errorf("compiling an all-frozen model: %v", err)
	}
}

// Bad configurations are errors that name the layer, never panics.
func TestBadConfigurations(t *testing.T) {
	cases := []struct {
		name   string
		layers []*nn.Layer
		want   string
	}{
		{"kernel larger than input", []*nn.Layer{nn.Input(2, 2, 1), nn.Conv2D(4, 3)}, `layer "conv2d" (Conv2D): kernel 3x3 larger than padded input 2x2`},
		{"zero filters", []*nn.Layer{nn.Input(8, 8, 1), nn.Conv2D(0, 3, nn.Name("c1"))}, `layer "c1" (Conv2D): filters 0 must be positive`},
		{"stride 0", []*nn.Layer{nn.Input(8, 8, 1), nn.Conv2D(4, 3, nn.Strides(0))}, `layer "conv2d" (Conv2D): strides 0x0 must be positive`},
		{"dense on an image", []*nn.Layer{nn.Input(8, 8, 1), nn.Dense(10)}, `layer "dense" (Dense): input (None, 8, 8, 1) is not flat`},
		{"zero units", []*nn.Layer{nn.Input(8), nn.Dense(0)}, `layer "dense" (Dense): units 0 must be positive`},
		{"padding on dense", []*nn.Layer{nn.Input(8), nn.Dense(3, nn.Padding(nn.Same))}, `layer "dense" (Dense): option Padding does not apply to Dense`},
		{"pool larger than input", []*nn.Layer{nn.Input(3, 3, 1), nn.MaxPool2D(4)}, `layer "max_pooling2d" (MaxPooling2D): pool size 4x4 larger than padded input 3x3`},
		{"dropout rate 1", []*nn.Layer{nn.Input(8), nn.Dropout(1)}, `layer "dropout" (Dropout): rate 1 must be in [0, 1)`},
		{"unknown activation", []*nn.Layer{nn.Input(8), nn.Dense(2, nn.Activation("mish"))}, `unknown activation "mish"`},
		{"softmax on an image", []*nn.Layer{nn.Input(8, 8, 1), nn.Conv2D(2, 3, nn.Activation(nn.Softmax))}, `layer "conv2d" (Conv2D): softmax needs a flat output`},
		{"duplicate names", []*nn.Layer{nn.Input(8), nn.Dense(2, nn.Name("d")), nn.Dense(2, nn.Name("d"))}, `layer "d" (Dense): name used twice`},
		{"no input", []*nn.Layer{nn.Dense(2)}, `the first layer must be nn.Input`},
		{"empty input", []*nn.Layer{nn.Input()}, `input shape is empty`},
		{"negative padding", []*nn.Layer{nn.Input(8, 8, 1), nn.Conv2D(2, 3, nn.ExplicitPadding(-1, 0, 0, 0))}, `must not be negative`},
		{"input of rank 2", []*nn.Layer{nn.Input(4, 4)}, `input shape [4 4] must be (features) or (height, width, channels)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := nn.Sequential("bad", c.layers...)
			if err == nil {
				t.Fatalf("no error; want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\nwant it to contain %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestAddOfDifferentShapes(t *testing.T) {
	b := nn.NewBuilder("bad-residual")
	x := b.Input(8, 8, 3)
	y := b.Apply(nn.Conv2D(4, 3, nn.Padding(nn.Same)), x)
	z := b.Block("block1").Apply(nn.Add(nn.Name("join")), x, y)
	_, err := b.Model(z)
	want := `layer "block1/join" (Add): inputs have different shapes (None, 8, 8, 3) and (None, 8, 8, 4)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v; want %q", err, want)
	}
}

func TestRunChecksItsInput(t *testing.T) {
	m := courseCNN(t)
	gr, err := m.Compile(2, nn.Train)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := randomBatch(tensor.Float32, 3, 2, 28, 28, 1)
	bad, _ := randomBatch(tensor.Float32, 3, 3, 28, 28, 1)
	for _, c := range []struct {
		x      tensor.Tensor
		labels []int
		want   string
	}{
		{bad, []int{1, 2, 3}, "input has shape (3, 28, 28, 1); want (2, 28, 28, 1)"},
		{x, []int{1}, "1 labels for a batch of 2"},
		{x, []int{1, 10}, "label 10 of example 1 is outside [0, 10)"},
		{x, nil, "training needs labels"},
	} {
		if err := gr.Run(c.x, c.labels); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Run: %v; want %q", err, c.want)
		}
	}
	if _, err := m.Compile(0, nn.Eval); err == nil {
		t.Error("batch 0 compiled")
	}
}

// A feature extractor built from a classifier's Builder shares its trained parameters,
// and outputs images.
func TestSubModelSharesParameters(t *testing.T) {
	b := nn.NewBuilder("clf")
	x := b.Input(6, 6, 1)
	feat := b.Apply(nn.Conv2D(2, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)), x)
	out := b.Apply(nn.Dense(3, nn.Activation(nn.Softmax)), b.Apply(nn.Flatten(), feat))
	clf, err := b.Model(out)
	if err != nil {
		t.Fatal(err)
	}
	clf.Param("conv2d/kernel").Value.Data().([]float32)[0] = 42
	fe, err := b.Model(feat)
	if err != nil {
		t.Fatal(err)
	}
	if v := fe.Param("conv2d/kernel").Value.Data().([]float32)[0]; v != 42 {
		t.Fatalf("building the feature extractor reset a shared kernel to %v", v)
	}
	gr, err := fe.Compile(1, nn.Eval)
	if err != nil {
		t.Fatal(err)
	}
	img, _ := randomBatch(tensor.Float32, 4, 1, 6, 6, 1)
	if err := gr.Run(img, nil); err != nil {
		t.Fatal(err)
	}
	if s := gr.Output().Shape(); !s.Eq(tensor.Shape{1, 2, 6, 6}) {
		t.Errorf("feature maps have shape %v; want NCHW [1 2 6 6]", s)
	}
	if gr.Loss() != 0 {
		t.Errorf("loss %v without labels", gr.Loss())
	}
	if _, err := fe.Compile(1, nn.Train); err == nil {
		t.Error("a model with image outputs compiled for training")
	}
	cg, err := clf.Compile(1, nn.Eval)
	if err != nil {
		t.Fatal(err)
	}
	if err := cg.Run(img, nil); err != nil || cg.Loss() != 0 {
		t.Errorf("unlabelled run: err %v, loss %v; want 0", err, cg.Loss())
	}
}
