package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/crc32"
	"image"
	"image/png"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// TestMain removes the binary that the process tests share.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// sharedBinary builds the command once for all the tests that run it as a process.
func sharedBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "convgraph-test-bin-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "convgraph")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// runBin runs the binary with args in dir and returns its exit status and output.
func runBin(t *testing.T, bin, dir string, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("%v: %v", args, err)
	}
	return code, out.String(), errb.String()
}

// informational stderr lines a failing command may print before its error.
var infoPrefixes = []string{"Run 'convgraph --help' for usage.", "NOTE", "NOTICE", "training ", "fine-tuning ", "epoch "}

// checkErrorOutput checks the error contract: exactly one line starting "convgraph: ",
// naming what is wrong, after any informational lines and before the usage hint; nothing
// that looks like a crash.
func checkErrorOutput(stderr, want string) error {
	for _, bad := range []string{"panic", "goroutine", "runtime.", "fatal error", "SIGSEGV"} {
		if strings.Contains(stderr, bad) {
			return errors.New("stderr has " + quote(bad))
		}
	}
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	var errLines []string
	for i, l := range lines {
		if strings.HasPrefix(l, "convgraph: ") {
			errLines = append(errLines, l)
			if rest := lines[i+1:]; len(rest) > 1 || (len(rest) == 1 && !strings.HasPrefix(rest[0], "Run 'convgraph --help'")) {
				return errors.New("lines after the error line")
			}
			continue
		}
		info := false
		for _, p := range infoPrefixes {
			info = info || strings.HasPrefix(l, p)
		}
		if !info {
			return errors.New("unexpected stderr line " + quote(l))
		}
	}
	if len(errLines) != 1 {
		return errors.New("want exactly one line starting \"convgraph: \"")
	}
	if !strings.Contains(errLines[0], want) {
		return errors.New("the error line does not name " + quote(want))
	}
	return repeatedPrefix(strings.TrimPrefix(errLines[0], "convgraph: "))
}

// labelPrefix is a context label an error is wrapped in: a flag, a package or a word
// ("--resume", "train", "checkpoint"), not a file name or a value.
var labelPrefix = regexp.MustCompile(`^-{0,2}[A-Za-z][A-Za-z-]*$`)

// repeatedPrefix reports an error message that stacks context labels ("--resume: train:
// checkpoint ...") or names one place twice ("x.onnx: onnx: x.onnx: ..."): every place
// is named once.
func repeatedPrefix(msg string) error {
	parts := strings.Split(msg, ": ")
	seen := map[string]bool{}
	for i, p := range parts[:len(parts)-1] {
		if i > 0 && labelPrefix.MatchString(parts[i-1]) && labelPrefix.MatchString(p) {
			return errors.New("the error line stacks prefixes " + quote(parts[i-1]+": "+p+": "))
		}
		if seen[p] {
			return errors.New("the error line names " + quote(p) + " twice")
		}
		seen[p] = true
	}
	return nil
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

// hashTree returns the SHA-256 of every file under root, by path relative to root.
func hashTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if !d.Type().IsRegular() {
			// Links, pipes and devices: record what they are, never read them (a pipe blocks).
			target, _ := os.Readlink(p)
			out[rel] = d.Type().String() + " " + target
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rewriteHeader decodes a safetensors file's JSON header, lets edit change it, and
// encodes the file again with the same tensor bytes.
func rewriteHeader(t *testing.T, b []byte, edit func(h map[string]any)) []byte {
	t.Helper()
	n := binary.LittleEndian.Uint64(b)
	var h map[string]any
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	edit(h)
	js, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(js)))
	out = append(out, js...)
	return append(out, b[8+n:]...)
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func saveModel(t *testing.T, path string, m *nn.Model, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if err := train.Save(path, m, nil, train.Checkpoint{Seed: 1, Extra: map[string]string{"dataset": "sample"}}); err != nil {
		t.Fatal(err)
	}
}

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// hugePNG is a PNG header (with a valid CRC) that claims w x h pixels, and no pixels.
func hugePNG(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	chunk := binary.BigEndian.AppendUint32([]byte("IHDR"), w)
	chunk = binary.BigEndian.AppendUint32(chunk, h)
	chunk = append(chunk, 8, 0, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, 13)
	b = append(b, chunk...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(chunk))
}

var idxFiles = []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}

// dataDir copies the bundled Fashion-MNIST sample into dir, letting change alter a file.
func dataDir(t *testing.T, dir string, change func(name string, b []byte) []byte) {
	t.Helper()
	for _, name := range idxFiles {
		b, err := os.ReadFile(filepath.Join("..", "..", "data", "sample", "fashion-mnist", name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name), change(name, b))
	}
}

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBadInput runs the built binary on bad invocations: missing, truncated, random and
// mismatched files, bad flag values, unknown flags, commands and models, unwritable
// outputs, bad images and image folders, and freeze specs that match nothing. Each must
// exit non-zero (2 for usage, 1 otherwise) with one line on stderr that starts with
// "convgraph: " and names the problem, print no trace, and leave every existing file
// exactly as it was.
func TestBadInput(t *testing.T) {
	bin := sharedBinary(t)
	fx := t.TempDir() // fixtures: existing files the commands must not touch
	newDir := filepath.Join(fx, "new")
	out := func(name string) string { return filepath.Join(newDir, name) }
	at := func(parts ...string) string { return filepath.Join(append([]string{fx}, parts...)...) }

	// A good run of the logistic regression to point the commands at.
	if code, _, stderr := runBin(t, bin, fx, nil, "train", "--model", "logreg", "--dataset", "sample", "--epochs", "1",
		"--validation-split", "0", "--out", at("run")); code != 0 {
		t.Fatalf("setup: %s", stderr)
	}
	// An MLP, whose ReLUs let a huge learning rate reach NaN.
	if code, _, stderr := runBin(t, bin, fx, nil, "train", "--model", "mlp", "--dataset", "sample", "--epochs", "1",
		"--validation-split", "0", "--out", at("mlprun")); code != 0 {
		t.Fatalf("setup: %s", stderr)
	}
	ckpt := at("run", "model.safetensors")
	good, err := os.ReadFile(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rng.UintN(256))
	}
	writeFile(t, at("random.safetensors"), random)
	writeFile(t, at("empty.safetensors"), nil)
	writeFile(t, at("truncated.safetensors"), good[:len(good)/2])
	writeFile(t, at("randomrun", "model.safetensors"), random)
	// Another model's spec over these weights.
	cnn, _ := zoo.New("fashion-cnn")
	cnnSpec, _ := cnn.MarshalSpec()
	writeFile(t, at("other.safetensors"), rewriteHeader(t, good, func(h map[string]any) {
		h["__metadata__"].(map[string]any)["spec"] = string(cnnSpec)
	}))
	rgb, err := zoo.New("fashion-cnn", zoo.InputShape(32, 32, 3))
	saveModel(t, at("rgb32.safetensors"), rgb, err)
	five, err := zoo.New("logreg", zoo.Classes(5))
	saveModel(t, at("five.safetensors"), five, err)
	vec, err := nn.Sequential("vec", nn.Input(100), nn.Dense(10, nn.Activation(nn.Softmax)))
	saveModel(t, at("vec.safetensors"), vec, err)
	nan, err := zoo.New("logreg")
	if err == nil {
		nan.Param("dense/kernel").Value.Data().([]float32)[7] = float32(math.NaN())
	}
	saveModel(t, at("nan.safetensors"), nan, err)
	// A run whose checkpoint path is a directory: training works, saving cannot.
	if err := os.MkdirAll(at("dirrun", "model.safetensors"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, at("file"), []byte("a regular file, not a directory"))

	// Data directories.
	dataDir(t, at("truncgz"), func(name string, b []byte) []byte {
		if name == "train-images-idx3-ubyte.gz" {
			return b[:len(b)/2]
		}
		return b
	})
	dataDir(t, at("randlabels"), func(name string, b []byte) []byte {
		if name == "train-labels-idx1-ubyte.gz" {
			return random[:500]
		}
		return b
	})
	dataDir(t, at("fewlabels"), func(name string, b []byte) []byte {
		if name == "train-labels-idx1-ubyte.gz" {
			// 1,999 labels for 2,000 images.
			lab := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 0x801), 1999)
			return gz(t, append(lab, make([]byte, 1999)...))
		}
		return b
	})
	if err := os.MkdirAll(at("emptydata"), 0o755); err != nil {
		t.Fatal(err)
	}

	// Images and image folders.
	img := pngBytes(t, 28, 28)
	writeFile(t, at("good.png"), img)
	writeFile(t, at("text.png"), []byte("this is not a picture"))
	writeFile(t, at("huge.png"), hugePNG(100000, 100000))
	writeFile(t, at("truncated.png"), img[:len(img)/2])
	writeFile(t, at("bitmap.png"), append([]byte("BM"), random[:200]...))
	writeFile(t, at("nofolders", "a.png"), img)
	writeFile(t, at("noimages", "cat", "a.png"), img)
	writeFile(t, at("noimages", "dog", "readme.txt"), []byte("no images here"))
	writeFile(t, at("brokenimages", "cat", "a.png"), img)
	writeFile(t, at("brokenimages", "dog", "b.png"), []byte("not a png"))
	writeFile(t, at("tinyimages", "cat", "a.png"), pngBytes(t, 1, 1))
	writeFile(t, at("hugeimages", "cat", "a.png"), hugePNG(70000, 70000))
	writeFile(t, at("hugeimages", "dog", "b.png"), img)

	before := hashTree(t, fx)

	cases := []struct {
		args []string
		code int
		want string
	}{
		// Flags and commands.
		{[]string{"train", "--epochs", "0"}, 2, "--epochs 0 must be positive"},
		{[]string{"train", "--epochs", "-3"}, 2, "--epochs -3 must be positive"},
		{[]string{"train", "--batch", "0"}, 2, "--batch 0 must be positive"},
		{[]string{"train", "--batch", "-1"}, 2, "--batch -1 must be positive"},
		{[]string{"train", "--lr", "0"}, 2, "--lr 0 must be positive"},
		{[]string{"train", "--lr", "NaN"}, 2, "--lr NaN must be positive"},
		{[]string{"train", "--validation-split", "1"}, 2, "--validation-split 1 must be in [0, 1)"},
		{[]string{"train", "--patience", "-1"}, 2, "--patience -1"},
		{[]string{"train", "--optimizer", "adagrad"}, 2, `--optimizer "adagrad"`},
		{[]string{"train", "--model", "vgg16", "--out", out("a")}, 2, `unknown model "vgg16"`},
		{[]string{"train", "--bogus"}, 2, "unknown flag: --bogus"},
		{[]string{"train", "--epochs", "99999999999999999999"}, 2, `"--epochs"`},
		{[]string{"train", "--seed", "-1"}, 2, `"--seed"`},
		{[]string{"train", "--epochs"}, 2, "flag needs an argument: --epochs"},
		{[]string{"train", "extra"}, 2, "takes no arguments"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"zoo", "lst"}, 2, `"lst"`},
		{[]string{"summary"}, 2, "summary needs --model NAME"},
		{[]string{"summary", "--model", "resnet-9000"}, 2, `unknown model "resnet-9000"`},
		// Data.
		{[]string{"train", "--dataset", at("nope"), "--out", out("b")}, 2, at("nope")},
		{[]string{"train", "--data-dir", at("truncgz"), "--out", out("c")}, 1, "train-images-idx3-ubyte.gz: truncated"},
		{[]string{"train", "--data-dir", at("randlabels"), "--out", out("d")}, 1, "train-labels-idx1-ubyte.gz"},
		{[]string{"train", "--data-dir", at("fewlabels"), "--out", out("e")}, 1, "1999 labels but 2000 images"},
		{[]string{"train", "--data-dir", at("emptydata"), "--out", out("f")}, 2, "emptydata does not hold fashion-mnist: missing train-images-idx3-ubyte.gz"},
		{[]string{"train", "--dataset", at("nofolders"), "--out", out("g")}, 1, "no class folders"},
		{[]string{"train", "--dataset", at("noimages"), "--out", out("h")}, 1, "dog: class folder has no images"},
		{[]string{"train", "--dataset", at("brokenimages"), "--out", out("i")}, 1, "b.png: cannot decode image"},
		{[]string{"train", "--dataset", at("hugeimages"), "--out", out("j")}, 1, "a.png: image of 70000x70000 pixels is too large"},
		{[]string{"train", "--dataset", at("tinyimages"), "--out", out("k")}, 1, "tinyimages"},
		// Outputs that cannot be written, even by root.
		{[]string{"train", "--model", "logreg", "--dataset", "sample", "--out", at("file", "sub")}, 1, "cannot create the directory"},
		{[]string{"train", "--model", "logreg", "--dataset", "sample", "--out", "/proc/convgraph-test/run"}, 1, "--out /proc/convgraph-test/run"},
		{[]string{"train", "--model", "logreg", "--dataset", "sample", "--epochs", "1", "--overwrite", "--out", at("dirrun")}, 1,
			"cannot write checkpoint \"" + at("dirrun", "model.safetensors") + "\""},
		{[]string{"finetune", "--from", "fashion-cnn", "--dataset", "sample-mnist", "--out", at("file", "ft")}, 1, "cannot create the directory"},
		// Runs and checkpoints.
		{[]string{"train", "--dataset", "sample", "--out", at("run")}, 2, "already holds a run"},
		{[]string{"train", "--resume", "--out", out("l")}, 1, "--resume"},
		{[]string{"train", "--resume", "--out", at("randomrun")}, 1, "randomrun/model.safetensors"},
		{[]string{"train", "--resume", "--model", "fashion-cnn", "--out", at("run"), "--epochs", "3"}, 2, "trains logreg, not --model fashion-cnn"},
		{[]string{"train", "--resume", "--out", at("run"), "--epochs", "1"}, 2, "already did 1 epochs"},
		{[]string{"train", "--resume", "--out", at("mlprun"), "--epochs", "3", "--lr", "1e30"}, 1, "epoch 2, batch"},
		{[]string{"eval"}, 2, "eval needs --model NAME"},
		{[]string{"eval", "--checkpoint", at("missing.safetensors")}, 1, "missing.safetensors"},
		{[]string{"eval", "--checkpoint", at("random.safetensors")}, 1, "random.safetensors"},
		{[]string{"eval", "--checkpoint", at("empty.safetensors")}, 1, "empty.safetensors"},
		{[]string{"eval", "--checkpoint", at("truncated.safetensors")}, 1, "truncated.safetensors"},
		{[]string{"eval", "--checkpoint", at("run")}, 1, "is a directory"},
		{[]string{"eval", "--checkpoint", at("truncgz", "t10k-labels-idx1-ubyte.gz")}, 1, "is not a safetensors file"},
		{[]string{"eval", "--checkpoint", at("other.safetensors")}, 1, `other.safetensors" has no parameter "conv2d/kernel"`},
		{[]string{"eval", "--checkpoint", at("rgb32.safetensors"), "--dataset", "sample"}, 1, "28x28x1 images; model \"fashion-cnn\" takes (None, 32, 32, 3)"},
		{[]string{"eval", "--checkpoint", at("five.safetensors"), "--dataset", "sample"}, 1, "has 10 classes; model \"logreg\" outputs 5"},
		{[]string{"eval", "--checkpoint", at("vec.safetensors"), "--dataset", "sample"}, 1, "784 values per image; model \"vec\" takes 100"},
		{[]string{"eval", "--checkpoint", at("nan.safetensors")}, 1, `parameter "dense/kernel" holds NaN`},
		{[]string{"eval", "--checkpoint", ckpt, "--batch", "0"}, 2, "--batch 0 must be positive"},
		{[]string{"eval", "--model", "fashion-cnn"}, 2, "needs --pretrained"},
		{[]string{"eval", "--model", "mlp", "--pretrained"}, 1, `"mlp" has no pretrained weights`},
		// Images.
		{[]string{"predict", "--checkpoint", ckpt}, 2, "predict needs at least one IMAGE"},
		{[]string{"predict", at("good.png")}, 2, "predict needs --model NAME"},
		{[]string{"predict", "--checkpoint", ckpt, "--top", "0", at("good.png")}, 2, "--top 0 must be positive"},
		{[]string{"predict", "--checkpoint", ckpt, at("missing.png")}, 1, "missing.png"},
		{[]string{"predict", "--checkpoint", ckpt, at("text.png")}, 1, "text.png: cannot decode image"},
		{[]string{"predict", "--checkpoint", ckpt, at("bitmap.png")}, 1, "bitmap.png: cannot decode image"},
		{[]string{"predict", "--checkpoint", ckpt, at("truncated.png")}, 1, "truncated.png: cannot decode image"},
		{[]string{"predict", "--checkpoint", ckpt, at("huge.png")}, 1, "huge.png: image of 100000x100000 pixels is too large"},
		{[]string{"predict", "--checkpoint", ckpt, at("good.png"), at("run")}, 1, "is a directory"},
		{[]string{"predict", "--checkpoint", at("vec.safetensors"), at("good.png")}, 1, `model "vec" takes vectors, not images`},
		{[]string{"predict", "--checkpoint", at("random.safetensors"), at("good.png")}, 1, "random.safetensors"},
		// Fine-tuning.
		{[]string{"finetune"}, 2, "finetune needs --from"},
		{[]string{"finetune", "--from", "vgg16"}, 2, `--from "vgg16" is neither a zoo model`},
		{[]string{"finetune", "--from", "logreg", "--dataset", "sample-mnist", "--out", out("m")}, 1, `"logreg" has no pretrained weights`},
		{[]string{"finetune", "--from", at("random.safetensors"), "--out", out("n")}, 1, "random.safetensors"},
		{[]string{"finetune", "--from", at("other.safetensors"), "--out", out("o")}, 1, "other.safetensors"},
		{[]string{"finetune", "--from", at("rgb32.safetensors"), "--dataset", "sample-mnist", "--out", out("p")}, 1, "28x28x1 images"},
		{[]string{"finetune", "--from", "fashion-cnn", "--freeze", "conv9", "--dataset", "sample-mnist", "--out", out("q")}, 2, `no layer "conv9"`},
		{[]string{"finetune", "--from", "fashion-cnn", "--freeze", "upto:zzz", "--dataset", "sample-mnist", "--out", out("r")}, 2, `no layer "zzz"`},
		{[]string{"finetune", "--from", "fashion-cnn", "--freeze", "stage9/", "--dataset", "sample-mnist", "--out", out("s")}, 2, `no layer "stage9/"`},
		{[]string{"finetune", "--from", "fashion-cnn", "--freeze", " , ", "--dataset", "sample-mnist", "--out", out("t")}, 2, "names no layer"},
		{[]string{"finetune", "--from", "fashion-cnn", "--classes", "5", "--dataset", "sample-mnist", "--out", out("u")}, 2, "--classes 5 does not fit"},
		{[]string{"finetune", "--from", "fashion-cnn", "--classes", "-3"}, 2, "--classes -3 must be at least 2"},
		{[]string{"finetune", "--from", "fashion-cnn", "--epochs", "0"}, 2, "--epochs 0 must be positive"},
		{[]string{"finetune", "--from", "fashion-cnn", "--batch", "-8"}, 2, "--batch -8 must be positive"},
		{[]string{"finetune", "--from", "fashion-cnn", "--dataset", at("brokenimages"), "--out", out("v")}, 1, "b.png: cannot decode image"},
		{[]string{"finetune", "--from", "fashion-cnn", "--dataset", at("noimages"), "--out", out("w")}, 1, "class folder has no images"},
		{[]string{"finetune", "--from", "fashion-cnn", "--dataset", "sample-mnist", "--out", at("run")}, 2, "already holds a run"},
	}
	for _, c := range cases {
		code, stdout, stderr := runBin(t, bin, fx, nil, c.args...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d; stderr:\n%s", c.args, code, c.code, stderr)
			continue
		}
		if err := checkErrorOutput(stderr, c.want); err != nil {
			t.Errorf("%v: %v; stderr:\n%s", c.args, err, stderr)
		}
		if stdout != "" {
			t.Errorf("%v: stdout %q", c.args, stdout)
		}
		if testing.Verbose() {
			for _, l := range strings.Split(stderr, "\n") {
				if strings.HasPrefix(l, "convgraph: ") {
					t.Logf("exit %d: %s", code, strings.ReplaceAll(l, fx, "FX"))
				}
			}
		}
	}
	t.Logf("%d bad invocations", len(cases))

	after := hashTree(t, fx)
	for path, sum := range before {
		if after[path] != sum {
			t.Errorf("%s changed or vanished", path)
		}
	}
	for path := range after {
		if _, ok := before[path]; !ok {
			t.Errorf("a failed command left %s", path)
		}
	}
}
