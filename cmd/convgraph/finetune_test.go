package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestZooListAndPretrainedEval(t *testing.T) {
	code, stdout, stderr := runCLI("zoo", "list")
	if code != 0 {
		t.Fatal(stderr)
	}
	for _, want := range []string{"fashion-cnn", "333,526", "0.9208", "resnet-small", "alexnet-small"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("zoo list lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, stderr = runCLI("eval", "--model", "fashion-cnn", "--pretrained", "--dataset", "sample", "--json")
	var res map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res["test_accuracy"].(float64) < 0.88 {
		t.Fatalf("eval --pretrained: exit %d, %q, %q", code, stdout, stderr)
	}
}

func TestFinetune(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ft")
	code, stdout, stderr := runCLI("finetune", "--from", "fashion-cnn", "--freeze", "upto:conv2d_1", "--dataset", "sample-mnist",
		"--train-limit", "500", "--epochs", "2", "--out", out, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%q: %v", stdout, err)
	}
	if res["train_images"].(float64) != 500 || res["frozen_params"].(float64) != 320+18496 || res["test_accuracy"].(float64) < 0.2 {
		t.Errorf("result %v", res)
	}
	// Two phases, from the checkpoint just written: the second unfreezes the last stage.
	code, stdout, stderr = runCLI("finetune", "--from", filepath.Join(out, "model.safetensors"), "--freeze", "backbone",
		"--dataset", "sample-mnist", "--train-limit", "300", "--epochs", "1", "--two-phase", "--out", filepath.Join(out, "2"))
	if code != 0 || !strings.Contains(stderr, "phase 2: unfroze conv2d_1, dense") || !strings.HasPrefix(stdout, "test accuracy: ") {
		t.Fatalf("two-phase: exit %d, %q, %q", code, stdout, stderr)
	}
}

func TestFinetuneBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"finetune"}, 2, "finetune needs --from"},
		{[]string{"finetune", "--from", "vgg16"}, 2, `--from "vgg16" is neither a zoo model`},
		{[]string{"finetune", "--from", "logreg", "--dataset", "sample-mnist"}, 1, `model "logreg" has no pretrained weights`},
		{[]string{"finetune", "--from", "fashion-cnn", "--freeze", "conv9", "--dataset", "sample-mnist", "--out", filepath.Join(dir, "a")}, 2, `no layer "conv9"`},
		{[]string{"finetune", "--from", "fashion-cnn", "--freeze", "upto:zzz", "--dataset", "sample-mnist", "--out", filepath.Join(dir, "b")}, 2, `no layer "zzz"`},
		{[]string{"finetune", "--from", "fashion-cnn", "--classes", "5", "--dataset", "sample-mnist", "--out", filepath.Join(dir, "c")}, 2, "--classes 5 does not fit mnist/train, which has 10 classes"},
		{[]string{"finetune", "--from", "fashion-cnn", "--classes", "1"}, 2, "--classes 1 must be at least 2"},
		{[]string{"finetune", "--from", "fashion-cnn", "--epochs", "0"}, 2, "--epochs 0 must be positive"},
		{[]string{"finetune", "--from", "fashion-cnn", "--train-limit", "99999", "--dataset", "sample-mnist", "--out", filepath.Join(dir, "d")}, 2, "--train-limit 99999 is more than"},
		{[]string{"eval", "--model", "fashion-cnn"}, 2, "needs --pretrained"},
		{[]string{"eval", "--model", "nope", "--pretrained"}, 2, `unknown model "nope"`},
		{[]string{"eval", "--model", "mlp", "--pretrained"}, 1, "no pretrained weights"},
	} {
		code, _, stderr := runCLI(c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) || !strings.HasPrefix(stderr, "convgraph: ") || strings.Count(stderr, "convgraph: ") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
}
