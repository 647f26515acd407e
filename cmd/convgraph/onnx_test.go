package main

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/internal/ortrun"
	"github.com/convgraph/convgraph/internal/testenv"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

// onnxCheck runs the reference checker (Debian's python3-onnx) on a file and returns what
// tools/onnx/check.py prints about it.
func onnxCheck(t *testing.T, path string) string {
	t.Helper()
	py := "/usr/bin/python3"
	testenv.Require(t, exec.Command(py, "-c", "import onnx").Run() == nil,
		"Debian's python3-onnx is not installed (apt-get install python3-onnx)")
	out, err := exec.Command(py, filepath.Join("..", "..", "tools", "onnx", "check.py"), path).CombinedOutput()
	if err != nil {
		t.Fatalf("onnx.checker.check_model: %v: %s", err, out)
	}
	return string(out)
}

func TestExportCheckpointAndPretrained(t *testing.T) {
	dir := t.TempDir()
	m, err := zoo.New("fashion-cnn")
	if err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(dir, "model.safetensors")
	if err := train.Save(ckpt, m, nil, train.Checkpoint{Extra: map[string]string{"classes": `["a","b","c","d","e","f","g","h","i","j"]`}}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "model.onnx")
	code, _, errs := runCLI("export", "--checkpoint", ckpt, "-o", out)
	if code != 0 || !strings.Contains(errs, `wrote `+out+`: model "fashion-cnn", input [N, 28, 28, 1], output [N, 10]`) {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if info := onnxCheck(t, out); !strings.Contains(info, `"classes": "[\"a\",\"b\"`) {
		t.Errorf("the checkpoint's class names are not in the file: %s", info)
	}
	code, _, errs = runCLI("export", "--model", "resnet-small", "--pretrained", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if info := onnxCheck(t, out); !strings.Contains(info, `Ankle boot`) || !strings.Contains(info, `"BatchNormalization"`) {
		t.Errorf("the pretrained resnet-small's file: %s", info)
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
}

func TestExportBadUsage(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export", "--model", "fashion-cnn", "--pretrained"}, 2, "export needs -o MODEL.onnx"},
		{[]string{"export", "-o", filepath.Join(dir, "m.onnx")}, 2, "export needs --model NAME"},
		{[]string{"export", "--model", "mlp", "-o", filepath.Join(dir, "m.onnx")}, 2, "needs --pretrained"},
		{[]string{"export", "--model", "nope", "--pretrained", "-o", filepath.Join(dir, "m.onnx")}, 2, `unknown model "nope"`},
		{[]string{"export", "--checkpoint", filepath.Join(dir, "none.safetensors"), "-o", filepath.Join(dir, "m.onnx")}, 1, "none.safetensors"},
		{[]string{"export", "--model", "fashion-cnn", "--pretrained", "-o", filepath.Join(dir, "no", "m.onnx")}, 1, "cannot write"},
	} {
		code, _, errs := runCLI(c.args...)
		if code != c.code || !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") > 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, errs, c.code, c.want)
		}
	}
}

// A PyTorch model imported, fine-tuned for a few steps, drawn and exported again runs in
// ONNX Runtime with the outputs convgraph computes.
func TestImportFinetuneExport(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "course.safetensors")
	src := filepath.Join("..", "..", "onnx", "testdata", "course_cnn.onnx")
	code, _, errs := runCLI("import", src, "-o", ckpt)
	if code != 0 || !strings.Contains(errs, `(pytorch 1.13.0, opset 13, input NCHW): model "course_cnn", 7 layers, 333526 parameters, input (None, 28, 28, 1), output (None, 10)`) {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	code, out, errs := runCLI("dot", "--checkpoint", ckpt)
	if code != 0 || !strings.Contains(out, "fc2") {
		t.Fatalf("dot: exit %d: %s", code, errs)
	}
	ft := filepath.Join(dir, "ft")
	code, out, errs = runCLI("finetune", "--from", ckpt, "--freeze", "conv1,conv2", "--keep-head", "--dataset", "sample",
		"--train-limit", "200", "--epochs", "1", "--out", ft, "--json")
	if code != 0 || !strings.Contains(out, `"frozen_params":18816`) {
		t.Fatalf("finetune: exit %d: %s %s", code, out, errs)
	}
	model := filepath.Join(dir, "ft.onnx")
	if code, _, errs = runCLI("export", "--checkpoint", filepath.Join(ft, "model.safetensors"), "-o", model); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errs)
	}
	ortrun.Require(t)
	saved, err := train.Load(filepath.Join(ft, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 4*28*28)
	for i := range x {
		x[i] = float32(i%97) / 97
	}
	res, err := ortrun.Run(model, x, []int{4, 28, 28, 1}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	g, err := saved.Model.Compile(4, nn.Eval)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Run(tensor.New(tensor.WithShape(4, 28, 28, 1), tensor.WithBacking(x)), nil); err != nil {
		t.Fatal(err)
	}
	want := g.Output().Data().([]float32)
	if len(res.Values) != len(want) {
		t.Fatalf("%d values from ONNX Runtime, %d from convgraph", len(res.Values), len(want))
	}
	for i, w := range want {
		if d := math.Abs(res.Values[i] - float64(w)); d > 1e-4*math.Abs(float64(w))+1e-6 {
			t.Fatalf("value %d: ONNX Runtime %v, convgraph %v", i, res.Values[i], w)
		}
	}
}

func TestImportBadInput(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.onnx")
	if err := os.WriteFile(junk, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "m.safetensors")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"import", "-o", out}, 2, "import needs one MODEL.onnx"},
		{[]string{"import", junk}, 2, "import needs -o MODEL.safetensors"},
		{[]string{"import", filepath.Join(dir, "none.onnx"), "-o", out}, 1, "none.onnx"},
		{[]string{"import", junk, "-o", out}, 1, "junk.onnx: not an ONNX model"},
		{[]string{"import", filepath.Join("..", "..", "onnx", "testdata", "instance_norm.onnx"), "-o", out}, 1,
			`instance_norm.onnx: node "/norm/InstanceNormalization" (InstanceNormalization): operator InstanceNormalization has no convgraph mapping`},
	} {
		code, _, errs := runCLI(c.args...)
		if code != c.code || !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") > 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, errs, c.code, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a failed import wrote %s", out)
	}
}

// A file of two inputs and three outputs imports as such a model, saved and reloaded.
func TestImportSeveralInputsAndOutputs(t *testing.T) {
	ckpt := filepath.Join(t.TempDir(), "two.safetensors")
	code, _, errs := runCLI("import", filepath.Join("..", "..", "onnx", "testdata", "two_heads.onnx"), "-o", ckpt)
	if want := `input NCHW, NC): model "two_heads", 9 layers, 191 parameters, inputs input (None, 8, 8, 1), input_1 (None, 3), outputs cls (None, 4), value (None, 1), maxpool (None, 4, 4, 6)`; code != 0 || !strings.Contains(errs, want) {
		t.Fatalf("import: exit %d: %s\nwant %s", code, errs, want)
	}
	c, err := train.Load(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if m := c.Model; len(m.Inputs()) != 2 || len(m.Outputs()) != 3 {
		t.Errorf("reloaded: inputs %v, outputs %v", m.Inputs(), m.Outputs())
	}
}
