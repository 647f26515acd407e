package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/internal/testenv"
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
