package main

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/graph/dotrender"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

// checkOneLine fails unless stderr is one "convgraph: " line naming want, plus the
// usage hint for exit status 2.
func checkOneLine(t *testing.T, args []string, code, wantCode int, stderr, want string) {
	t.Helper()
	if code != wantCode || !strings.Contains(stderr, want) {
		t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", args, code, stderr, wantCode, want)
	}
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "convgraph: ") || len(lines) > 2 || len(lines) == 2 && lines[1] != "Run 'convgraph --help' for usage." {
		t.Errorf("%q: stderr is not one error line: %q", args, stderr)
	}
}

// TestDotZoo exports every zoo model in both views, as DOT (byte-identical across runs
// and accepted by dot -Tsvg without a message when Graphviz is installed) and as SVG and
// PNG drawn by the built-in renderer.
func TestDotZoo(t *testing.T) {
	dir := t.TempDir()
	bin := dotrender.SystemDot()
	for _, name := range zoo.Names() {
		views := [][]string{
			{"--view", "layers"},
			{"--view", "layers", "--collapse", "--rankdir", "LR", "--show-trainable", "--show-dtype"},
			{"--view", "ops"},
			{"--view", "ops", "--mode", "eval", "--batch", "4"},
		}
		if name != "resnet-small" { // its backward pass is large: covered by the others
			views = append(views, []string{"--view", "ops", "--grads"})
		}
		for i, view := range views {
			args := append([]string{"dot", "--model", name}, view...)
			code, out1, errs := runCLI(args...)
			if code != 0 {
				t.Fatalf("%q: exit %d: %s", args, code, errs)
			}
			_, out2, _ := runCLI(args...)
			if out1 != out2 || !strings.HasPrefix(out1, "digraph G {") {
				t.Errorf("%q: DOT on stdout differs between runs or is not DOT", args)
			}
			if bin != "" {
				cmd := exec.Command(bin, "-Tsvg", "-o", os.DevNull)
				cmd.Stdin = strings.NewReader(out1)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				if err := cmd.Run(); err != nil || stderr.Len() > 0 {
					t.Errorf("%q: dot -Tsvg: %v %s", args, err, stderr.String())
				}
			}
			if i > 2 {
				continue // render the main two views only, to keep the test quick
			}
			for _, ext := range []string{".svg", ".png", ".dot"} {
				path := filepath.Join(dir, name+"-"+view[1]+ext)
				a := append(append([]string(nil), args...), "--renderer", "go", "-o", path)
				if code, _, errs := runCLI(a...); code != 0 {
					t.Fatalf("%q: exit %d: %s", a, code, errs)
				}
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				switch ext {
				case ".svg":
					if !bytes.Contains(b, []byte("<svg")) || !bytes.Contains(b, []byte("</svg>")) {
						t.Errorf("%s is not an SVG", path)
					}
				case ".png":
					cfg, err := png.DecodeConfig(bytes.NewReader(b))
					if err != nil || cfg.Width < 100 || cfg.Height < 100 {
						t.Errorf("%s: %v, %dx%d", path, err, cfg.Width, cfg.Height)
					}
				case ".dot":
					if string(b) != out1 {
						t.Errorf("%s differs from the DOT on stdout", path)
					}
				}
			}
		}
	}
}

func TestDotCheckpoint(t *testing.T) {
	dir := t.TempDir()
	m, err := zoo.New("resnet-small")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Freeze("stem/", "stage1/"); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(dir, "model.safetensors")
	if err := train.Save(ckpt, m, nil, train.Checkpoint{}); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI("dot", "--checkpoint", ckpt, "--collapse", "--show-trainable")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{`label="stage1\n`, `\nfrozen"`, `label="stage3\n`, `\ntrainable"`} {
		if !strings.Contains(out, want) {
			t.Errorf("DOT of the checkpoint lacks %s:\n%s", want, out)
		}
	}
	want, _ := m.DOT(nn.DOTConfig{Collapse: true, ShowTrainable: true})
	if out != string(want) {
		t.Errorf("the checkpoint draws differently from its model")
	}
}

func TestDotBadUsage(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"dot"}, 2, "dot needs --model NAME"},
		{[]string{"dot", "--model", "mlp", "--checkpoint", "x"}, 2, "not both"},
		{[]string{"dot", "--model", "nope"}, 2, `unknown model "nope"`},
		{[]string{"dot", "--model", "mlp", "-o", "x.jpg"}, 2, `unknown output format ".jpg" of "x.jpg"`},
		{[]string{"dot", "--model", "mlp", "-o", "noext"}, 2, `"noext" has no extension`},
		{[]string{"dot", "--model", "mlp", "--view", "graph"}, 2, `--view "graph" is not layers or ops`},
		{[]string{"dot", "--model", "mlp", "--rankdir", "BT"}, 2, `--rankdir "BT" is not TB or LR`},
		{[]string{"dot", "--model", "mlp", "--grads"}, 2, "--grads goes with --view ops"},
		{[]string{"dot", "--model", "mlp", "--view", "ops", "--collapse"}, 2, "--collapse goes with --view layers"},
		{[]string{"dot", "--model", "mlp", "--view", "ops", "--batch", "0"}, 2, "--batch 0 must be positive"},
		{[]string{"dot", "--model", "mlp", "--view", "ops", "--grads", "--mode", "eval"}, 2, "--grads needs --mode train"},
		{[]string{"dot", "--model", "mlp", "--renderer", "cairo"}, 2, `--renderer "cairo" is not auto, dot or go`},
		{[]string{"dot", "--model", "mlp", "-o", filepath.Join(dir, "missing", "x.svg"), "--renderer", "go"}, 1, `cannot write "` + filepath.Join(dir, "missing", "x.svg") + `": no such file or directory`},
		{[]string{"dot", "--checkpoint", filepath.Join(dir, "none.safetensors")}, 1, "none.safetensors"},
	} {
		code, _, errs := runCLI(c.args...)
		checkOneLine(t, c.args, code, c.code, errs, c.want)
	}
	// A failed write leaves nothing behind.
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left in %s: %v", dir, entries)
	}
}
