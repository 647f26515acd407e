package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/data"
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

// Fine-tuning on a folder of PNG files: three digit classes the test writes.
func TestFinetuneImageFolder(t *testing.T) {
	split, err := data.Sample(data.MNIST)
	if err != nil {
		t.Fatal(err)
	}
	var keep []int
	for i := range split.Test.Len() {
		if y := split.Test.Label(i); y == 0 || y == 1 || y == 7 {
			keep = append(keep, i)
		}
	}
	root := filepath.Join(t.TempDir(), "digits")
	if err := split.Test.Subset(keep).WriteImageFolder(root, "png"); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "ft")
	code, stdout, stderr := runCLI("finetune", "--from", "fashion-cnn", "--freeze", "upto:conv2d_1", "--dataset", root,
		"--epochs", "3", "--out", out, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%q: %v", stdout, err)
	}
	// 80% of the images train, 20% test; the head has 3 outputs (100*3+3 parameters).
	n := float64(len(keep))
	if res["train_images"].(float64)+res["test_images"].(float64) != n || res["test_images"].(float64) < 0.15*n ||
		res["dataset"] != "digits/test" || res["trainable_params"].(float64) != 3136*100+100+303 || res["test_accuracy"].(float64) < 0.9 {
		t.Errorf("result %v", res)
	}
	// predict names the folder's classes (0, 1, 7), not their indices (0, 1, 2).
	sevens, err := filepath.Glob(filepath.Join(root, "7", "*.png"))
	if err != nil || len(sevens) == 0 {
		t.Fatalf("no sevens: %v", err)
	}
	code, stdout, stderr = runCLI("predict", "--checkpoint", filepath.Join(out, "model.safetensors"), "--top", "1", sevens[0])
	if code != 0 || !strings.HasPrefix(stdout, sevens[0]+": 7 ") {
		t.Errorf("predict: exit %d, %q, %q", code, stdout, stderr)
	}
}

// --scratch trains the architecture from a fresh initialization: nothing frozen, and the
// result differs from fine-tuning the pretrained weights.
func TestFinetuneScratch(t *testing.T) {
	dir := t.TempDir()
	args := []string{"finetune", "--from", "fashion-cnn", "--dataset", "sample-mnist", "--train-limit", "200", "--epochs", "1", "--json"}
	code, stdout, stderr := runCLI(append(args, "--scratch", "--out", filepath.Join(dir, "s"))...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var scratch, tuned map[string]any
	if err := json.Unmarshal([]byte(stdout), &scratch); err != nil {
		t.Fatal(err)
	}
	if scratch["frozen_params"].(float64) != 0 || scratch["trainable_params"].(float64) != 333526 || scratch["scratch"] != true {
		t.Errorf("scratch: %v", scratch)
	}
	code, stdout, stderr = runCLI(append(args, "--freeze", "none", "--out", filepath.Join(dir, "t"))...)
	if code != 0 || json.Unmarshal([]byte(stdout), &tuned) != nil {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if tuned["test_loss"] == scratch["test_loss"] {
		t.Errorf("--scratch and the pretrained start gave the same loss %v", tuned["test_loss"])
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
		{[]string{"finetune", "--from", "fashion-cnn", "--scratch", "--freeze", "backbone"}, 2, `--scratch trains every layer: --freeze "backbone"`},
		{[]string{"finetune", "--from", "fashion-cnn", "--scratch", "--two-phase"}, 2, "--scratch and --two-phase do not go together"},
		{[]string{"finetune", "--from", "fashion-cnn", "--scratch", "--keep-head"}, 2, "--scratch and --keep-head do not go together"},
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

// finetune's default is Keras's recipe: the head on the frozen backbone, then its last
// stage thawed. A head-only run that ends below 90% training accuracy says the frozen
// features may not suit the data.
func TestFinetuneDefaultsToTwoPhasesAndHintsAtUnderfitting(t *testing.T) {
	dir := t.TempDir()
	args := []string{"finetune", "--from", "fashion-cnn", "--dataset", "sample-mnist", "--train-limit", "300", "--epochs", "1", "--json"}
	code, stdout, stderr := runCLI(append(args, "--out", filepath.Join(dir, "a"))...)
	var res map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil {
		t.Fatalf("exit %d, %q, %q", code, stdout, stderr)
	}
	if res["two_phase"] != true || res["epochs"].(float64) != 2 {
		t.Errorf("default run: two_phase %v, %v epochs; want two phases of one epoch", res["two_phase"], res["epochs"])
	}
	code, stdout, stderr = runCLI(append(args, "--two-phase=false", "--out", filepath.Join(dir, "b"))...)
	res = nil
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil {
		t.Fatalf("--two-phase=false: exit %d, %q, %q", code, stdout, stderr)
	}
	hint, _ := res["hint"].(string)
	if res["two_phase"] != false || !strings.Contains(hint, "frozen features may not suit this data; try --freeze none") {
		t.Errorf("head only: two_phase %v, hint %q", res["two_phase"], hint)
	}
	// Nothing frozen, nothing to thaw: one phase, no hint.
	code, stdout, stderr = runCLI(append(args, "--freeze", "none", "--out", filepath.Join(dir, "c"))...)
	res = nil
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res["two_phase"] != false || res["hint"] != nil {
		t.Errorf("--freeze none: exit %d, %q, %q", code, stdout, stderr)
	}
}

// With --data-dir, a missing set is an error about that folder alone.
func TestDataDirErrorNamesTheFolder(t *testing.T) {
	empty := t.TempDir()
	code, _, stderr := runCLI("train", "--model", "mlp", "--dataset", "mnist", "--data-dir", empty, "--epochs", "1")
	if code != 2 || !strings.Contains(stderr, "--data-dir "+empty+" does not hold mnist: missing train-images-idx3-ubyte.gz") ||
		strings.Contains(stderr, "CONVGRAPH_DATA") || strings.Count(strings.TrimSpace(stderr), "\n") > 1 {
		t.Errorf("exit %d: %s", code, stderr)
	}
}
