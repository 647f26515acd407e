package onnx_test

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/internal/ortrun"
	"github.com/convgraph/convgraph/internal/testenv"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/onnx"
)

func requireORT(t testing.TB) { t.Helper(); ortrun.Require(t) }

type ortResult = ortrun.Result

// runORT runs an ONNX model on x (shape given, float32) in ONNX Runtime.
func runORT(t testing.TB, model []byte, x []float32, shape []int) *ortResult {
	t.Helper()
	requireORT(t)
	p := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(p, model, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := ortrun.Run(p, x, shape, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// checkONNX runs the reference checker (Debian's python3-onnx) on a model and returns
// what tools/onnx/check.py prints about it.
func checkONNX(t testing.TB, model []byte) map[string]any {
	t.Helper()
	py := "/usr/bin/python3"
	ok := exec.Command(py, "-c", "import onnx").Run() == nil
	testenv.Require(t, ok, "Debian's python3-onnx is not installed (apt-get install python3-onnx)")
	p := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(p, model, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, filepath.Join("..", "tools", "onnx", "check.py"), p)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("onnx.checker.check_model: %v: %s", err, stderr.String())
	}
	var info map[string]any
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	return info
}

// randomInput draws a batch in [0, 1) in Keras's order.
func randomInput(seed uint64, batch int, shape nn.Shape) ([]float32, []int) {
	dims := append([]int{batch}, shape...)
	n := batch * shape.Size()
	x := make([]float32, n)
	s := seed*2654435761 + 1
	for i := range x {
		s ^= s << 13
		s ^= s >> 7
		s ^= s << 17
		x[i] = float32(s>>40) / float32(1<<24)
	}
	return x, dims
}

// runConvgraph runs m in inference mode and returns its output in the order an exported
// model gives it: [N, classes], or [N, height, width, channels] for images.
func runConvgraph(t testing.TB, m *nn.Model, x []float32, dims []int) ([]float64, []int) {
	t.Helper()
	g, err := m.Compile(dims[0], nn.Eval)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Run(tensor.New(tensor.WithShape(dims...), tensor.WithBacking(append([]float32(nil), x...))), nil); err != nil {
		t.Fatal(err)
	}
	out := g.Output()
	return nhwcOf(out), nhwcShape(out)
}

// nhwcShape is an output's shape in the order an exported model gives it.
func nhwcShape(out *tensor.Dense) []int {
	s := out.Shape()
	if len(s) == 4 {
		return []int{s[0], s[2], s[3], s[1]}
	}
	return append([]int(nil), s...)
}

// nhwcOf reads a convgraph output as float64s, images reordered from NCHW to NHWC.
func nhwcOf(out *tensor.Dense) []float64 {
	vals := make([]float64, out.Size())
	switch d := out.Data().(type) {
	case []float32:
		for i, v := range d {
			vals[i] = float64(v)
		}
	case []float64:
		copy(vals, d)
	}
	s := out.Shape()
	if len(s) == 4 { // NCHW inside convgraph
		n, c, h, w := s[0], s[1], s[2], s[3]
		nhwc := make([]float64, len(vals))
		for in := 0; in < n; in++ {
			for ic := 0; ic < c; ic++ {
				for p := 0; p < h*w; p++ {
					nhwc[(in*h*w+p)*c+ic] = vals[(in*c+ic)*h*w+p]
				}
			}
		}
		return nhwc
	}
	return vals
}

// closeTo checks got against want elementwise: |got-want| <= rtol*|want| + atol.
func closeTo(t testing.TB, what string, got, want []float64, rtol, atol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst, at := 0.0, -1
	for i := range got {
		d := math.Abs(got[i] - want[i])
		if !(d <= rtol*math.Abs(want[i])+atol) {
			t.Fatalf("%s: value %d is %v, want %v (difference %.3g)", what, i, got[i], want[i], d)
		}
		if r := d / (math.Abs(want[i]) + atol); r > worst {
			worst, at = r, i
		}
	}
	t.Logf("%s: %d values, worst relative difference %.3g (value %d)", what, len(got), worst, at)
}

func exportBytes(t testing.TB, m *nn.Model, opts ...onnx.ExportOption) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := onnx.Export(m, &buf, opts...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
