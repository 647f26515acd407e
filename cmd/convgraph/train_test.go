package main

import (
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTrainEvalPredictOnTheSample(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runCLI("train", "--model", "mlp", "--dataset", "sample", "--epochs", "2", "--out", out, "--json")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	var res trainResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("train --json printed %q: %v", stdout, err)
	}
	if !res.Sample || res.Epochs != 2 || res.TestImages != 500 || res.TestAccuracy < 0.6 {
		t.Errorf("result %+v", res)
	}
	for _, f := range []string{"model.safetensors", "history.json", "history.csv", "curves.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	ckpt := filepath.Join(out, "model.safetensors")
	code, stdout, stderr = runCLI("eval", "--checkpoint", ckpt)
	if code != 0 || !strings.HasPrefix(stdout, "test accuracy: ") {
		t.Fatalf("eval: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if !strings.Contains(stdout, strings.TrimPrefix(strings.SplitN(stdout, "\n", 2)[0], "test accuracy: ")) {
		t.Error("eval output")
	}

	// A white square on black: predict prints the top three classes with probabilities.
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	for y := 8; y < 20; y++ {
		for x := 8; x < 20; x++ {
			img.SetGray(x, y, color.Gray{255})
		}
	}
	pngPath := filepath.Join(t.TempDir(), "square.png")
	f, _ := os.Create(pngPath)
	png.Encode(f, img)
	f.Close()
	code, stdout, stderr = runCLI("predict", "--checkpoint", ckpt, pngPath)
	if code != 0 || !strings.HasPrefix(stdout, pngPath+": ") || strings.Count(stdout, ",") != 2 {
		t.Fatalf("predict: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	// Resuming a finished run needs more epochs; then it continues from epoch 2.
	code, _, stderr = runCLI("train", "--out", out, "--resume", "--epochs", "2")
	if code != 2 || !strings.Contains(stderr, "already did 2 epochs") {
		t.Errorf("resume of a finished run: exit %d, %q", code, stderr)
	}
	code, stdout, stderr = runCLI("train", "--out", out, "--resume", "--epochs", "3", "--json")
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, stderr)
	}
	json.Unmarshal([]byte(stdout), &res)
	if res.Epochs != 3 {
		t.Errorf("resumed history has %d epochs; want 3", res.Epochs)
	}
}

// Each bad invocation exits non-zero with one readable line naming the problem, and
// leaves existing files alone.
func TestTrainBadInput(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if code, _, stderr := runCLI("train", "--model", "logreg", "--dataset", "sample", "--epochs", "1", "--out", run); code != 0 {
		t.Fatalf("setup: %s", stderr)
	}
	ckpt := filepath.Join(run, "model.safetensors")
	good, _ := os.ReadFile(ckpt)
	garbage := filepath.Join(dir, "garbage.safetensors")
	os.WriteFile(garbage, []byte("\x10\x00\x00\x00\x00\x00\x00\x00{}"), 0o644)
	notPNG := filepath.Join(dir, "notes.png")
	os.WriteFile(notPNG, []byte("hello"), 0o644)
	readOnly := filepath.Join(dir, "ro")
	os.Mkdir(readOnly, 0o500)
	fileAsDir := filepath.Join(dir, "file")
	os.WriteFile(fileAsDir, nil, 0o644)
	// A data directory whose training images are cut short: copy the bundled sample's
	// files and truncate one.
	corrupt := filepath.Join(dir, "corrupt")
	os.Mkdir(corrupt, 0o755)
	for _, name := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "data", "sample", "fashion-mnist", name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "train-images-idx3-ubyte.gz" {
			b = b[:len(b)/2]
		}
		os.WriteFile(filepath.Join(corrupt, name), b, 0o644)
	}

	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"train", "--epochs", "0"}, 2, "--epochs 0 must be positive"},
		{[]string{"train", "--epochs", "-3"}, 2, "--epochs -3 must be positive"},
		{[]string{"train", "--batch", "0"}, 2, "--batch 0 must be positive"},
		{[]string{"train", "--lr", "-1"}, 2, "--lr -1 must be positive"},
		{[]string{"train", "--optimizer", "adagrad"}, 2, `--optimizer "adagrad"`},
		{[]string{"train", "--model", "vgg", "--out", filepath.Join(dir, "x")}, 2, `unknown model "vgg"`},
		{[]string{"train", "--epochs", "x"}, 2, `invalid argument "x" for "--epochs"`},
		{[]string{"train", "--dataset", filepath.Join(dir, "nope"), "--out", filepath.Join(dir, "y")}, 2, "is not fashion-mnist, mnist, sample, or an image folder"},
		{[]string{"train", "--dataset", "sample", "--out", run}, 2, "already holds a run"},
		{[]string{"train", "--dataset", "sample", "--out", filepath.Join(fileAsDir, "sub")}, 1, "cannot create the directory"},
		{[]string{"train", "--dataset", "fashion-mnist", "--data-dir", dir, "--out", filepath.Join(dir, "z")}, 2, "does not hold fashion-mnist: missing train-images"},
		{[]string{"train", "--resume", "--out", filepath.Join(dir, "empty")}, 1, "--resume"},
		{[]string{"train", "--data-dir", corrupt, "--out", filepath.Join(dir, "c")}, 1, "train-images-idx3-ubyte.gz"},
		{[]string{"eval"}, 2, "eval needs --model NAME"},
		{[]string{"eval", "--checkpoint", filepath.Join(dir, "missing.safetensors")}, 1, "missing.safetensors"},
		{[]string{"eval", "--checkpoint", garbage}, 1, "garbage.safetensors"},
		{[]string{"predict", "--checkpoint", ckpt}, 2, "predict needs at least one IMAGE"},
		{[]string{"predict", "--checkpoint", ckpt, filepath.Join(dir, "none.png")}, 1, "none.png"},
		{[]string{"predict", "--checkpoint", ckpt, notPNG}, 1, "notes.png"},
	}
	if os.Getuid() != 0 {
		cases = append(cases, struct {
			args []string
			code int
			want string
		}{[]string{"train", "--dataset", "sample", "--out", readOnly}, 1, "is not writable"})
	}
	for _, c := range cases {
		code, _, stderr := runCLI(c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
		// The data set is read (and its notice printed) before --out is checked.
		if err := checkErrorOutput(stderr, c.want); err != nil {
			t.Errorf("%v: %v: stderr %q", c.args, err, stderr)
		}
	}
	if after, _ := os.ReadFile(ckpt); string(after) != string(good) {
		t.Error("a failed command changed the existing checkpoint")
	}
}

// A diverging run stops with an error naming the epoch and batch, and the last good
// checkpoint stays as it was.
func TestDivergenceKeepsTheLastCheckpoint(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	if code, _, stderr := runCLI("train", "--model", "mlp", "--dataset", "sample", "--epochs", "1", "--out", out); code != 0 {
		t.Fatal(stderr)
	}
	ckpt := filepath.Join(out, "model.safetensors")
	good, _ := os.ReadFile(ckpt)
	code, _, stderr := runCLI("train", "--out", out, "--resume", "--epochs", "2", "--lr", "1e30")
	if code != 1 || !strings.Contains(stderr, "epoch 2, batch") || !strings.Contains(stderr, "loss is NaN") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if after, _ := os.ReadFile(ckpt); string(after) != string(good) {
		t.Error("the diverged run changed the last good checkpoint")
	}
}
