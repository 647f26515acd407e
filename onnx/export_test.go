package onnx_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/internal/ortrun"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/onnx"
	"github.com/convgraph/convgraph/zoo"
)

// ONNX Runtime must give convgraph's outputs within 1e-4 relative (with a floor of 1e-6
// for values near zero: float32 rounding in a different order).
const (
	ortRtol = 1e-4
	ortAtol = 1e-6
)

// zooModel builds a zoo model with its shipped weights when it has some, else with
// random ones.
func zooModel(t testing.TB, name string, opts ...zoo.Option) *nn.Model {
	t.Helper()
	if _, ok := zoo.PretrainedAccuracy(name); ok && len(opts) == 0 {
		m, _, err := zoo.Pretrained(name)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m, err := zoo.New(name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Initialize(7); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestExportZooRunsInONNXRuntime(t *testing.T) {
	requireORT(t)
	cases := []struct {
		name string
		opts []zoo.Option
	}{}
	for _, name := range zoo.Names() {
		cases = append(cases, struct {
			name string
			opts []zoo.Option
		}{name, nil})
	}
	// A backbone without its head ends on an image: the output is transposed back to NHWC.
	cases = append(cases, struct {
		name string
		opts []zoo.Option
	}{"alexnet-small", []zoo.Option{zoo.IncludeHead(false), zoo.InputShape(32, 32, 3)}})
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s%d", c.name, len(c.opts)), func(t *testing.T) {
			m := zooModel(t, c.name, c.opts...)
			b := exportBytes(t, m)
			x, dims := randomInput(1, 5, m.InputShape())
			want, wantShape := runConvgraph(t, m, x, dims)
			got := runORT(t, b, x, dims)
			if fmt.Sprint(got.Shape) != fmt.Sprint(wantShape) {
				t.Fatalf("ONNX Runtime's output shape %v, convgraph's %v", got.Shape, wantShape)
			}
			closeTo(t, c.name, got.Values, want, ortRtol, ortAtol)
		})
	}
}

// everyLayer uses every layer type and option that has an ONNX mapping.
func everyLayer(t testing.TB) *nn.Model {
	t.Helper()
	b := nn.NewBuilder("every-layer")
	x := b.Input(17, 15, 3)
	x = b.Apply(nn.Conv2D(8, 3, nn.Padding(nn.Same), nn.Strides(2), nn.Activation(nn.LeakyReLU), nn.Alpha(0.1)), x)
	x = b.Apply(nn.Conv2D(8, 3, nn.Dilation(2), nn.ExplicitPadding(2, 1, 0, 2), nn.UseBias(false)), x)
	x = b.Apply(nn.BatchNorm(nn.Epsilon(1e-5), nn.Momentum(0.9)), x)
	x = b.Apply(nn.Conv2D(8, 3, nn.Groups(4), nn.Padding(nn.Same), nn.Activation(nn.ReLU)), x)
	y := b.Apply(nn.Activate(nn.Tanh), x)
	z := b.Apply(nn.Conv2D(8, 1, nn.Activation(nn.Sigmoid), nn.KernelSize(1, 1)), x)
	w := b.Apply(nn.Activate(nn.Linear), x)
	x = b.Apply(nn.Add(), y, z, w)
	x = b.Apply(nn.AvgPool2D(3, nn.Strides(2), nn.Padding(nn.Same)), x)
	x = b.Apply(nn.MaxPool2D(2, nn.Strides(1), nn.Padding(nn.Same)), x)
	x = b.Apply(nn.Conv2D(6, 2, nn.KernelSize(2, 3), nn.Activation(nn.ReLU)), x)
	p := b.Apply(nn.GlobalAvgPool2D(), x)
	f := b.Apply(nn.Flatten(), x)
	f = b.Apply(nn.Dropout(0.3), f)
	f = b.Apply(nn.Dense(6, nn.UseBias(false), nn.Activation(nn.Tanh)), f)
	x = b.Apply(nn.Add(), p, f)
	x = b.Apply(nn.BatchNorm(), x)
	x = b.Apply(nn.Flatten(), x)
	x = b.Apply(nn.Dense(5, nn.Activation(nn.Softmax)), x)
	m, err := b.Model(x)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Initialize(3); err != nil {
		t.Fatal(err)
	}
	// Moving statistics other than 0 and 1, so that the export must carry them.
	for _, p := range m.Params() {
		if p.Stat {
			d := p.Value.Data().([]float32)
			for i := range d {
				d[i] = 0.5 + 0.1*float32(i%7)
			}
		}
	}
	return m
}

func TestExportEveryLayerRunsInONNXRuntime(t *testing.T) {
	requireORT(t)
	m := everyLayer(t)
	b := exportBytes(t, m)
	x, dims := randomInput(2, 4, m.InputShape())
	want, _ := runConvgraph(t, m, x, dims)
	closeTo(t, "every-layer", runORT(t, b, x, dims).Values, want, ortRtol, ortAtol)
	// The batch dimension is symbolic: another batch size runs the same file.
	x, dims = randomInput(3, 1, m.InputShape())
	want, _ = runConvgraph(t, m, x, dims)
	closeTo(t, "every-layer, batch 1", runORT(t, b, x, dims).Values, want, ortRtol, ortAtol)
}

func TestExportPassesTheONNXChecker(t *testing.T) {
	classes := []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
	for _, m := range []*nn.Model{zooModel(t, "fashion-cnn"), zooModel(t, "resnet-small"), everyLayer(t)} {
		var opts []onnx.ExportOption
		if m.OutputShape()[0] == 10 {
			opts = append(opts, onnx.ClassNames(classes))
		}
		info := checkONNX(t, exportBytes(t, m, opts...))
		t.Logf("%s: ops %v", m.Name(), info["ops"])
	}
}

func TestExportMetadata(t *testing.T) {
	classes := []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
	m := zooModel(t, "fashion-cnn")
	info := checkONNX(t, exportBytes(t, m, onnx.ClassNames(classes), onnx.Metadata("author", "test")))
	meta := info["metadata"].(map[string]any)
	var got []string
	if err := json.Unmarshal([]byte(meta[onnx.MetaClasses].(string)), &got); err != nil || fmt.Sprint(got) != fmt.Sprint(classes) {
		t.Errorf("classes %q (%v), want %q", meta[onnx.MetaClasses], err, classes)
	}
	var pre onnx.Preprocessing
	if err := json.Unmarshal([]byte(meta[onnx.MetaPreprocessing].(string)), &pre); err != nil {
		t.Fatal(err)
	}
	if want := m.Preprocessing(); !reflect.DeepEqual(pre, want) || pre.Scale != 1.0/255 || pre.Layout != "NHWC" || pre.Height != 28 || pre.Channels != 1 {
		t.Errorf("preprocessing %+v, want %+v", pre, want)
	}
	if meta["author"] != "test" || meta[onnx.MetaInputLayout] != "NHWC" || meta[onnx.MetaModel] != "fashion-cnn" {
		t.Errorf("metadata %v", meta)
	}
	if in := fmt.Sprint(info["inputs"]); in != "map[input:[N 28 28 1]]" {
		t.Errorf("inputs %s, want input [N 28 28 1]", in)
	}
	if out := fmt.Sprint(info["outputs"]); out != "map[output:[N 10]]" {
		t.Errorf("outputs %s, want output [N 10]", out)
	}
}

// modernLayers uses the layers beyond the course's: the newer activations, padding and
// cropping, reshaping, global max pooling, softmax over channels and the merge layers.
func modernLayers(t testing.TB) *nn.Model {
	t.Helper()
	b := nn.NewBuilder("modern")
	x := b.Input(12, 10, 3)
	x = b.Apply(nn.ZeroPadding2D(1, nn.ExplicitPadding(1, 2, 0, 1)), x)
	x = b.Apply(nn.Conv2D(8, 3, nn.Activation(nn.ReLU6)), x)
	x = b.Apply(nn.Cropping2D(0, nn.Crop(1, 0, 1, 1)), x)
	x = b.Apply(nn.DepthwiseConv2D(3, nn.DepthMultiplier(2), nn.Padding(nn.Same), nn.Activation(nn.ReLU6)), x)
	x = b.Apply(nn.SeparableConv2D(8, 3, nn.Strides(1), nn.Padding(nn.Same), nn.Activation(nn.ReLU)), x)
	x = b.Apply(nn.DepthwiseConv2D(3, nn.Padding(nn.Same), nn.UseBias(false)), x)
	x = b.Apply(nn.BatchNorm(), x)
	x = b.Apply(nn.Conv2DTranspose(6, 3, nn.Strides(2), nn.Padding(nn.Same), nn.Activation(nn.ReLU)), x)
	x = b.Apply(nn.Conv2DTranspose(6, 4, nn.Strides(2), nn.ExplicitPadding(1, 1, 1, 1)), x)
	x = b.Apply(nn.Conv2DTranspose(5, 2, nn.UseBias(false)), x)
	x = b.Apply(nn.Conv2D(8, 3, nn.Strides(4)), x)
	x = b.Apply(nn.UpSampling2D(2, nn.Size(2, 1)), x)
	x = b.Apply(nn.UpSampling2D(1, nn.Size(1, 2), nn.Interpolation(nn.Bilinear)), x)
	x = b.Apply(nn.Resizing(11, 13), x)
	x = b.Apply(nn.Resizing(9, 17, nn.Interpolation(nn.Nearest)), x)
	x = b.Apply(nn.Conv2D(8, 3, nn.Strides(2, 2)), x)
	x = b.Apply(nn.PReLU(), x)
	y := b.Apply(nn.Conv2D(8, 1, nn.Activation(nn.ELU), nn.Alpha(0.7)), x)
	z := b.Apply(nn.Conv2D(8, 1, nn.Activation(nn.GELU)), x)
	w := b.Apply(nn.Conv2D(4, 1, nn.Activation(nn.Swish)), x)
	m := b.Apply(nn.Multiply(), y, z)
	a := b.Apply(nn.Average(), m, y, z)
	s := b.Apply(nn.Subtract(), a, z)
	mx := b.Apply(nn.Maximum(), s, y)
	x = b.Apply(nn.Concatenate(), mx, w)
	sm := b.Apply(nn.Activate(nn.Softmax, nn.Axis(-1)), x)
	x = b.Apply(nn.Activate(nn.ELU), sm)
	g := b.Apply(nn.GlobalMaxPool2D(), x)
	f := b.Apply(nn.Flatten(), x)
	f = b.Apply(nn.PReLU(nn.SharedAlpha(true)), f)
	f = b.Apply(nn.Reshape(nn.Shape{-1, 4, 3}), f)
	f = b.Apply(nn.Activate(nn.Softmax, nn.Axis(1)), f)
	f = b.Apply(nn.GlobalAvgPool2D(), f)
	x = b.Apply(nn.Concatenate(), g, f)
	x = b.Apply(nn.PReLU(), x)
	x = b.Apply(nn.Dense(4, nn.Activation(nn.Softmax)), x)
	model, err := b.Model(x)
	if err != nil {
		t.Fatal(err)
	}
	if err := model.Initialize(11); err != nil {
		t.Fatal(err)
	}
	// PReLU's slopes start at zero (Keras's default); other values make the test see them.
	for _, p := range model.Params() {
		if strings.HasSuffix(p.Name, "/alpha") {
			for i, d := 0, p.Value.Data().([]float32); i < len(d); i++ {
				d[i] = 0.05 + 0.03*float32(i%7)
			}
		}
	}
	return model
}

func TestExportModernLayersRunInONNXRuntime(t *testing.T) {
	requireORT(t)
	m := modernLayers(t)
	b := exportBytes(t, m)
	x, dims := randomInput(4, 3, m.InputShape())
	want, _ := runConvgraph(t, m, x, dims)
	closeTo(t, "modern", runORT(t, b, x, dims).Values, want, ortRtol, ortAtol)
	info := checkONNX(t, b)
	t.Logf("ops %v", info["ops"])

	// The enlarging layers, compared on every value of an image output.
	m, err := nn.Sequential("enlarge", nn.Input(5, 4, 3),
		nn.Conv2DTranspose(4, 3, nn.Strides(2), nn.Padding(nn.Same)),
		nn.Conv2DTranspose(4, 2, nn.Strides(3, 2), nn.Dilation(2), nn.ExplicitPadding(1, 0, 2, 1), nn.Activation(nn.Tanh)),
		nn.Conv2DTranspose(3, 1, nn.Strides(2), nn.Padding(nn.Same)),
		nn.UpSampling2D(2, nn.Interpolation(nn.Bilinear)),
		nn.UpSampling2D(1, nn.Size(2, 3)),
		nn.Resizing(101, 77),
		nn.Resizing(67, 93, nn.Interpolation(nn.Nearest)),
		nn.Resizing(45, 31, nn.Interpolation(nn.Nearest)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Initialize(12); err != nil {
		t.Fatal(err)
	}
	b = exportBytes(t, m)
	checkONNX(t, b)
	x, dims = randomInput(8, 2, m.InputShape())
	want, _ = runConvgraph(t, m, x, dims)
	closeTo(t, "enlarge", runORT(t, b, x, dims).Values, want, ortRtol, ortAtol)
}

// A model with an image and a vector input, and a classifier and an image output.
func TestExportSeveralInputsAndOutputs(t *testing.T) {
	requireORT(t)
	b := nn.NewBuilder("two-ways")
	img := b.Input(8, 7, 2)
	meta := b.Input(3)
	fm := b.Apply(nn.Conv2D(4, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU), nn.Name("features")), img)
	x := b.Apply(nn.GlobalAvgPool2D(), fm)
	v := b.Apply(nn.Dense(4, nn.Activation(nn.Tanh)), meta)
	x = b.Apply(nn.Concatenate(), x, v)
	class := b.Apply(nn.Dense(3, nn.Activation(nn.Softmax), nn.Name("class")), x)
	m, err := b.Model(class, fm)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Initialize(5); err != nil {
		t.Fatal(err)
	}
	file := exportBytes(t, m)
	info := checkONNX(t, file)
	if got := fmt.Sprint(info["inputs"], info["outputs"]); got != "map[input:[N 8 7 2] input_1:[N 3]] map[output_0:[N 3] output_1:[N 8 7 4]]" {
		t.Errorf("inputs and outputs %s", got)
	}
	if got := info["metadata"].(map[string]any)[onnx.MetaOutputs]; got != `["class","features"]` {
		t.Errorf("output names %v", got)
	}
	xi, di := randomInput(6, 3, nn.Shape{8, 7, 2})
	xv, dv := randomInput(7, 3, nn.Shape{3})
	g, err := m.Compile(3, nn.Eval)
	if err != nil {
		t.Fatal(err)
	}
	ins := []tensor.Tensor{tensor.New(tensor.WithShape(di...), tensor.WithBacking(append([]float32(nil), xi...))),
		tensor.New(tensor.WithShape(dv...), tensor.WithBacking(append([]float32(nil), xv...)))}
	if err := g.RunMulti(ins, nil); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "m.onnx")
	if err := os.WriteFile(p, file, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := ortrun.RunMulti(p, [][]float32{xi, xv}, [][]int{di, dv}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.All) != 2 {
		t.Fatalf("%d outputs from ONNX Runtime", len(res.All))
	}
	for i := 0; i < 2; i++ {
		want := nhwcOf(g.OutputAt(i))
		closeTo(t, res.All[i].Name, res.All[i].Values, want, ortRtol, ortAtol)
	}
}
