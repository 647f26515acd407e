package onnx_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/internal/ortrun"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/onnx"
)

// runMulti runs a model of several inputs (each [N, example shape in Keras's order]) in
// inference mode and returns every output as convgraph holds it (images NCHW).
func runMulti(t testing.TB, m *nn.Model, xs [][]float32, dims [][]int) [][]float64 {
	t.Helper()
	g, err := m.Compile(dims[0][0], nn.Eval)
	if err != nil {
		t.Fatal(err)
	}
	var ins []tensor.Tensor
	for i, x := range xs {
		ins = append(ins, tensor.New(tensor.WithShape(dims[i]...), tensor.WithBacking(append([]float32(nil), x...))))
	}
	if err := g.RunMulti(ins, nil); err != nil {
		t.Fatal(err)
	}
	var outs [][]float64
	for i := range m.Outputs() {
		o := g.OutputAt(i)
		vals := make([]float64, o.Size())
		for j, v := range o.Data().([]float32) {
			vals[j] = float64(v)
		}
		outs = append(outs, vals)
	}
	return outs
}

// A PyTorch model of two inputs and three outputs imports as a model of two inputs and
// three outputs, in the file's order, with PyTorch's outputs.
func TestImportPyTorchTwoInputsThreeOutputs(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "two_heads.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, info, err := onnx.Import(f)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(info.Inputs, info.InputLayouts, info.Outputs) != "[input_0 input_1] [NCHW NC] [output_0 output_1 output_2]" || info.InputLayout != "NCHW" {
		t.Errorf("info %+v", info)
	}
	if got := fmt.Sprint(m.Inputs(), m.Outputs()); got != "[{input (None, 8, 8, 1)} {input_1 (None, 3)}] [{cls (None, 4)} {value (None, 1)} {maxpool (None, 4, 4, 6)}]" {
		t.Errorf("model inputs and outputs %s", got)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "two_heads.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		InputShapes  [][]int     `json:"input_shapes"`
		Inputs       [][]float64 `json:"inputs"`
		OutputShapes [][]int     `json:"output_shapes"`
		Outputs      [][]float64 `json:"outputs"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	img, imgDims := nhwc(c.Inputs[0], c.InputShapes[0])
	meta := make([]float32, len(c.Inputs[1]))
	for i, v := range c.Inputs[1] {
		meta[i] = float32(v)
	}
	got := runMulti(t, m, [][]float32{img, meta}, [][]int{imgDims, c.InputShapes[1]})
	for i := range c.Outputs {
		closeTo(t, info.Outputs[i], got[i], c.Outputs[i], 1e-4, 1e-5) // images are NCHW in both
	}
	t.Log(m.Summary())
}

// twoHeadsModel has an image and a vector in, and class probabilities, a value and a
// feature map out.
func twoHeadsModel(t testing.TB) *nn.Model {
	t.Helper()
	b := nn.NewBuilder("image-and-meta")
	img := b.Input(10, 9, 4)
	meta := b.Input(3)
	x := b.Apply(nn.Conv2D(8, 3, nn.Padding(nn.Same), nn.Groups(2), nn.Activation(nn.ReLU)), img)
	fm := b.Apply(nn.MaxPool2D(2, nn.Name("features")), x)
	x = b.Apply(nn.GlobalAvgPool2D(), fm)
	v := b.Apply(nn.Dense(6, nn.Activation(nn.Tanh)), meta)
	x = b.Apply(nn.Concatenate(), x, v)
	class := b.Apply(nn.Dense(3, nn.Activation(nn.Softmax), nn.Name("class")), x)
	value := b.Apply(nn.Dense(1, nn.Name("value")), x)
	m, err := b.Model(class, value, fm)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Initialize(11); err != nil {
		t.Fatal(err)
	}
	return m
}

// Export then import of a model of two inputs and three outputs gives the same model:
// the same inputs and outputs in the same order, the same summary, and bit-identical
// outputs.
func TestExportImportMultiIOBitIdentical(t *testing.T) {
	m := twoHeadsModel(t)
	back, info, err := onnx.Import(bytes.NewReader(exportBytes(t, m)))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(info.Inputs, info.InputLayouts, info.Outputs) != "[input input_1] [NHWC NC] [output_0 output_1 output_2]" {
		t.Errorf("info %+v", info)
	}
	if a, b := fmt.Sprint(m.Inputs(), m.Outputs()), fmt.Sprint(back.Inputs(), back.Outputs()); a != b {
		t.Errorf("inputs and outputs %s after export and import, %s before", b, a)
	}
	if a, b := m.Summary(), back.Summary(); a != b {
		t.Errorf("summary before:\n%s\nafter:\n%s", a, b)
	}
	img, imgDims := randomInput(7, 5, nn.Shape{10, 9, 4})
	meta, metaDims := randomInput(8, 5, nn.Shape{3})
	xs, dims := [][]float32{img, meta}, [][]int{imgDims, metaDims}
	want, got := runMulti(t, m, xs, dims), runMulti(t, back, xs, dims)
	for k := range want {
		for i := range want[k] {
			if math.Float64bits(got[k][i]) != math.Float64bits(want[k][i]) {
				t.Fatalf("output %d, value %d: %v after export and import, %v before", k, i, got[k][i], want[k][i])
			}
		}
	}
}

// The PyTorch model of two inputs and three outputs, imported and exported again by
// convgraph, runs in ONNX Runtime with PyTorch's three outputs.
func TestImportedTwoInputsRunInONNXRuntime(t *testing.T) {
	requireORT(t)
	f, err := os.Open(filepath.Join("testdata", "two_heads.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, _, err := onnx.Import(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "two_heads.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		InputShapes [][]int     `json:"input_shapes"`
		Inputs      [][]float64 `json:"inputs"`
		Outputs     [][]float64 `json:"outputs"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	img, imgDims := nhwc(c.Inputs[0], c.InputShapes[0])
	meta := make([]float32, len(c.Inputs[1]))
	for i, v := range c.Inputs[1] {
		meta[i] = float32(v)
	}
	p := filepath.Join(t.TempDir(), "two.onnx")
	if err := os.WriteFile(p, exportBytes(t, m), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := ortrun.RunMulti(p, [][]float32{img, meta}, [][]int{imgDims, c.InputShapes[1]}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.All) != 3 {
		t.Fatalf("ONNX Runtime gave %d outputs, want 3", len(r.All))
	}
	// The feature map comes out of the exported file as NHWC; PyTorch's is NCHW.
	fm := r.All[2]
	if fmt.Sprint(fm.Shape) != "[3 4 4 6]" {
		t.Fatalf("feature map shape %v", fm.Shape)
	}
	nchw := make([]float64, len(fm.Values))
	for n := 0; n < 3; n++ {
		for q := 0; q < 16; q++ {
			for ch := 0; ch < 6; ch++ {
				nchw[(n*6+ch)*16+q] = fm.Values[(n*16+q)*6+ch]
			}
		}
	}
	closeTo(t, "class", r.All[0].Values, c.Outputs[0], 1e-4, 1e-5)
	closeTo(t, "value", r.All[1].Values, c.Outputs[1], 1e-4, 1e-5)
	closeTo(t, "feature map", nchw, c.Outputs[2], 1e-4, 1e-5)
}
