package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nlpodyssey/safetensors"

	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/onnx"
)

// Hostile-input limits every case of TestHostileInput runs under: the child's address
// space (ulimit -v; a Go process reserves about 1 GB of it at start), the memory budget
// it is told, and its wall time.
const (
	hostileAddressSpaceKB = 3 << 20 // 3 GiB
	hostileBudget         = "1GiB"
	hostileTimeout        = 90 * time.Second
)

// runHostile runs the binary under the hostile-input limits and returns its exit status,
// output and wall time; a run past the timeout is killed and fails the test.
func runHostile(t *testing.T, bin, dir string, args ...string) (code int, stdout, stderr string, took time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hostileTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", "ulimit -v " + strconv.Itoa(hostileAddressSpaceKB) + ` && exec "$0" "$@"`, bin}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CONVGRAPH_MEMORY_LIMIT="+hostileBudget)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	took = time.Since(start)
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%v: still running after %v (killed)", args, hostileTimeout)
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("%v: %v", args, err)
	}
	return code, out.String(), errb.String(), took
}

// checkpointEdit rebuilds the safetensors checkpoint b with edit applied.
func checkpointEdit(t *testing.T, b []byte, edit func(views map[string]safetensors.TensorView, meta map[string]string)) []byte {
	t.Helper()
	st, err := safetensors.Deserialize(b)
	if err != nil {
		t.Fatal(err)
	}
	_, md, err := safetensors.ReadMetadata(b)
	if err != nil {
		t.Fatal(err)
	}
	views := map[string]safetensors.TensorView{}
	for _, name := range st.Names() {
		views[name], _ = st.Tensor(name)
	}
	meta := md.Metadata()
	edit(views, meta)
	var buf bytes.Buffer
	if err := safetensors.SerializeToWriter(views, meta, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// filled is a float64 tensor of shape with every value v.
func filled(t *testing.T, shape []uint64, v float64) safetensors.TensorView {
	t.Helper()
	n := uint64(1)
	for _, d := range shape {
		n *= d
	}
	b := make([]byte, 8*n)
	for i := range n {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	tv, err := safetensors.NewTensorView(safetensors.F64, shape, b)
	if err != nil {
		t.Fatal(err)
	}
	return tv
}

// thinPNG is a gray PNG of 1 x h pixels (compressed, it is small).
func thinPNG(t *testing.T, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gzipBomb is a gzipped IDX images file of n 28x28 zero images: about 1000 times
// smaller than what it expands to.
func gzipBomb(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	hdr := binary.BigEndian.AppendUint32(nil, 0x803)
	for _, d := range []int{n, 28, 28} {
		hdr = binary.BigEndian.AppendUint32(hdr, uint32(d))
	}
	w.Write(hdr)
	zeros := make([]byte, 28*28*1000)
	for range n / 1000 {
		w.Write(zeros)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type hostileCase struct {
	class string // the class of problem (docs/reliability.md)
	args  []string
	code  int
	want  string
}

// TestHostileInput runs the binary on crafted inputs of every class of hostile input in
// docs/reliability.md, generated here. Each case must exit 1 or 2 with one
// "convgraph: " line naming the problem and no runtime trace, within its address-space
// limit and time, and leave every file that existed before exactly as it was.
func TestHostileInput(t *testing.T) {
	bin := sharedBinary(t)
	fx := t.TempDir()
	at := func(parts ...string) string { return filepath.Join(append([]string{fx}, parts...)...) }
	out := func(name string) string { return at("new", name) }
	if code, _, stderr := runBin(t, bin, fx, nil, "train", "--model", "logreg", "--dataset", "sample", "--epochs", "1",
		"--validation-split", "0", "--out", at("run")); code != 0 {
		t.Fatalf("setup: %s", stderr)
	}
	good, err := os.ReadFile(at("run", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	img := pngBytes(t, 28, 28)
	writeFile(t, at("good.png"), img)
	mkfifo := func(path string) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(path, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	symlink := func(target, path string) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, path); err != nil {
			t.Fatal(err)
		}
	}
	edited := func(name string, edit func(map[string]safetensors.TensorView, map[string]string)) string {
		writeFile(t, at(name), checkpointEdit(t, good, edit))
		return at(name)
	}

	// Files that are not regular files.
	symlink("/dev/zero", at("zero.safetensors"))
	mkfifo(at("fifo.png"))
	symlink("/dev/zero", at("zeroimg", "cat", "z.png"))
	writeFile(t, at("zeroimg", "dog", "a.png"), img)
	mkfifo(at("fifoimg", "cat", "x.png"))
	writeFile(t, at("fifoimg", "dog", "a.png"), img)
	// Images whose resize or pixels would take gigabytes.
	writeFile(t, at("thin4m.png"), thinPNG(t, 1<<22))
	writeFile(t, at("thin67m.png"), thinPNG(t, 1<<26))
	writeFile(t, at("thinimg", "cat", "a.png"), thinPNG(t, 1<<22))
	writeFile(t, at("thinimg", "dog", "a.png"), img)
	// A gzip IDX bomb: 300,000 images (235 MB) from about 230 KB.
	dataDir(t, at("bomb"), func(name string, b []byte) []byte {
		if name == "train-images-idx3-ubyte.gz" {
			return gzipBomb(t, 300000)
		}
		return b
	})
	// Values that are finite only in float64, and statistics of the wrong sign.
	huge := edited("huge.safetensors", func(v map[string]safetensors.TensorView, _ map[string]string) {
		v["dense/kernel"] = filled(t, v["dense/kernel"].Shape(), 1e300)
	})
	bn, err := nn.Sequential("bn", nn.Input(28, 28, 1), nn.Conv2D(2, 3), nn.BatchNorm(), nn.Flatten(), nn.Dense(10, nn.Activation(nn.Softmax)))
	saveModel(t, at("bn.safetensors"), bn, err)
	bnGood, _ := os.ReadFile(at("bn.safetensors"))
	writeFile(t, at("negvar.safetensors"), checkpointEdit(t, bnGood, func(v map[string]safetensors.TensorView, _ map[string]string) {
		v["batch_normalization/moving_variance"] = filled(t, v["batch_normalization/moving_variance"].Shape(), -1)
	}))
	// A 1 KB checkpoint whose padding makes an 8192x8192 map: within the per-example
	// limit, 128.5 GiB at eval's batch of 256 (two 64 GiB maps are alive at once).
	pad, err := nn.Sequential("pad", nn.Input(28, 28, 1), nn.Conv2D(1, 1, nn.ExplicitPadding(4082, 4082, 4082, 4082)),
		nn.GlobalAvgPool2D(), nn.Dense(10, nn.Activation(nn.Softmax)))
	saveModel(t, at("pad8192.safetensors"), pad, err)
	// Resumed runs with crafted positions.
	writeFile(t, at("epochrun", "model.safetensors"), checkpointEdit(t, good, func(_ map[string]safetensors.TensorView, m map[string]string) {
		m["epoch"] = "2000000000"
	}))
	writeFile(t, at("batchrun", "model.safetensors"), checkpointEdit(t, good, func(_ map[string]safetensors.TensorView, m map[string]string) {
		m["extra.batch"] = "-5"
	}))
	writeFile(t, at("steprun", "model.safetensors"), checkpointEdit(t, good, func(_ map[string]safetensors.TensorView, m map[string]string) {
		m["step"] = "99999999"
	}))

	// ONNX files that are not files, and sparse ones (no disk used) too large for
	// protobuf or for the memory budget, kept out of fx so that hashing it stays cheap.
	mkfifo(at("fifo.onnx"))
	symlink("/dev/zero", at("zero.onnx"))
	if err := os.Mkdir(at("dir.onnx"), 0o755); err != nil {
		t.Fatal(err)
	}
	big := t.TempDir()
	sparse := func(name string, size int64) string {
		p := filepath.Join(big, name)
		writeFile(t, p, nil)
		if err := os.Truncate(p, size); err != nil {
			t.Fatal(err)
		}
		return p
	}
	over2G, over1G := sparse("over2g.onnx", onnx.MaxFileBytes+1), sparse("half.onnx", 512<<20)

	before := hashTree(t, fx)
	cases := []hostileCase{
		{"not a regular file", []string{"import", at("fifo.onnx"), "-o", out("m.safetensors")}, 1, "fifo.onnx: is a named pipe"},
		{"not a regular file", []string{"import", at("zero.onnx"), "-o", out("m.safetensors")}, 1, "zero.onnx: is a device"},
		{"not a regular file", []string{"import", at("dir.onnx"), "-o", out("m.safetensors")}, 1, "dir.onnx: is a directory"},
		{"file too large", []string{"import", over2G, "-o", out("m.safetensors")}, 1, "over2g.onnx: file of 2147483648 bytes is larger than the limit of 2147483647 bytes"},
		{"memory budget", []string{"import", over1G, "-o", out("m.safetensors")}, 1, "half.onnx (512.0 MiB, read and converted) needs 1.5 GiB of memory, more than the limit of 1.0 GiB"},
		{"not a regular file", []string{"eval", "--checkpoint", "/dev/zero"}, 1, `"/dev/zero": is a device`},
		{"not a regular file", []string{"eval", "--checkpoint", at("zero.safetensors")}, 1, `zero.safetensors": is a device`},
		{"not a regular file", []string{"predict", "--checkpoint", at("run", "model.safetensors"), at("fifo.png")}, 1, "fifo.png: is a named pipe"},
		{"not a regular file", []string{"predict", "--checkpoint", at("run", "model.safetensors"), "/dev/zero"}, 1, "/dev/zero: is a device"},
		{"not a regular file", []string{"train", "--dataset", at("zeroimg"), "--out", out("a")}, 1, "z.png: is a device"},
		{"not a regular file", []string{"train", "--dataset", at("fifoimg"), "--out", out("b")}, 1, "x.png: is a named pipe"},
		{"not a regular file", []string{"finetune", "--from", "/dev/zero", "--out", out("c")}, 1, `"/dev/zero": is a device`},
		{"not a regular file", []string{"viz", "features", "--model", "fashion-cnn", "--layer", "conv2d", "--image", at("fifo.png"), "-o", out("d.png")}, 1, "fifo.png"},
		{"image too large", []string{"predict", "--checkpoint", at("run", "model.safetensors"), at("thin4m.png")}, 1, "1x4194304 pixels is too large to resize to 28x28"},
		{"image too large", []string{"predict", "--checkpoint", at("run", "model.safetensors"), at("thin67m.png")}, 1, "1x67108864 pixels is too large to resize"},
		{"image too large", []string{"train", "--dataset", at("thinimg"), "--out", out("e")}, 1, "too large to resize"},
		{"image too large", []string{"finetune", "--from", "fashion-cnn", "--dataset", at("thinimg"), "--out", out("f")}, 1, "too large to resize"},
		{"decompression bomb", []string{"train", "--data-dir", at("bomb"), "--memory-limit", "128MiB", "--out", out("g")}, 1, "more than the limit of 128.0 MiB"},
		{"memory budget", []string{"eval", "--checkpoint", at("pad8192.safetensors"), "--dataset", "sample"}, 1, `model "pad" at batch 256 (inference) needs 128.5 GiB of memory, more than the limit of 1.0 GiB ($CONVGRAPH_MEMORY_LIMIT); layer "conv2d" (Conv2D) needs the most`},
		{"memory budget", []string{"bench", "--batch", "1000000000"}, 1, `model "fashion-cnn" at batch 1000000000 (training) needs`},
		{"memory budget", []string{"bench", "--infer-batch", "1000000000"}, 1, "at batch 1000000000 (inference) needs"},
		{"memory budget", []string{"dot", "--model", "resnet-small", "--view", "ops", "--batch", "1000000000", "-o", out("k.dot")}, 1, `model "resnet-small" at batch 1000000000 (training) needs`},
		{"memory budget", []string{"finetune", "--from", at("pad8192.safetensors"), "--dataset", "sample", "--batch", "64", "--epochs", "1", "--out", out("l")}, 1, `(training) needs`},
		{"values in the working dtype", []string{"eval", "--checkpoint", huge}, 1, "holds 1e+300, which is +Inf in float32"},
		{"values in the working dtype", []string{"predict", "--checkpoint", at("negvar.safetensors"), at("good.png")}, 1, "a variance cannot be negative"},
		{"resumed run state", []string{"train", "--resume", "--out", at("epochrun"), "--epochs", "3"}, 1, "epoch 2000000000 is more than the limit"},
		{"resumed run state", []string{"train", "--resume", "--out", at("batchrun"), "--epochs", "3"}, 1, `bad batch "-5"`},
		{"resumed run state", []string{"train", "--resume", "--out", at("steprun"), "--epochs", "3"}, 1, "step 99999999 does not fit epoch 1"},
		{"resumed run state", []string{"train", "--epochs", "2000000000", "--out", out("h")}, 2, "--epochs 2000000000 is more than the limit"},
		{"flags checked before training", []string{"finetune", "--from", at("bn.safetensors"), "--dataset", "sample-mnist", "--two-phase", "--out", out("i")}, 2, "--two-phase needs to know the backbone's last stage"},
		{"flags checked before training", []string{"finetune", "--from", "fashion-cnn", "--fine-lr", "NaN", "--out", out("j")}, 2, "--fine-lr must not be negative"},
		{"flags checked before training", []string{"finetune", "--resume"}, 2, "finetune --resume needs --out DIR"},
		{"flags checked before training", []string{"finetune", "--resume", "--out", at("run"), "--epochs", "3"}, 2, "drop --epochs"},
		{"flags checked before training", []string{"finetune", "--resume", "--out", at("run")}, 2, "was not written by convgraph finetune"},
		{"classes", []string{"eval", "--checkpoint", at("run", "model.safetensors"), "--dataset", "sample-mnist"}, 1, "was trained on the classes T-shirt/top"},
		{"memory limit flags", []string{"eval", "--memory-limit", "lots", "--model", "fashion-cnn", "--pretrained"}, 2, `--memory-limit: "lots" is not a size`},
	}
	for _, c := range cases {
		code, stdout, stderr, took := runHostile(t, bin, fx, c.args...)
		if code != c.code {
			t.Errorf("%s: %v: exit %d, want %d; stderr:\n%s", c.class, c.args, code, c.code, stderr)
			continue
		}
		if err := checkErrorOutput(stderr, c.want); err != nil {
			t.Errorf("%s: %v: %v; stderr:\n%s", c.class, c.args, err, stderr)
		}
		if stdout != "" {
			t.Errorf("%s: %v: stdout %q", c.class, c.args, stdout)
		}
		if testing.Verbose() {
			t.Logf("%s, %.1fs: %s", c.class, took.Seconds(), strings.ReplaceAll(strings.TrimSpace(stderr[strings.LastIndex(stderr, "convgraph: "):]), fx, "FX"))
		}
	}
	t.Logf("%d hostile invocations", len(cases))
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
