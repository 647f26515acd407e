package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/zoo"
)

// TestModelFlagsEverywhere runs the built binary: every command that reads a model takes
// --model NAME [--pretrained] and --checkpoint FILE, with the same refusals.
func TestModelFlagsEverywhere(t *testing.T) {
	bin := sharedBinary(t)
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "mlp.safetensors")
	m, err := zoo.New("mlp")
	saveModel(t, ckpt, m, err)
	img := filepath.Join(dir, "x.png")
	writeFile(t, img, pngBytes(t, 28, 28))

	for _, c := range []struct {
		args []string
		want string // on stdout
	}{
		{[]string{"summary", "--checkpoint", ckpt}, "Total params: "},
		{[]string{"summary", "--model", "fashion-cnn", "--pretrained"}, "Total params: 333,526"},
		{[]string{"predict", "--model", "fashion-cnn", "--pretrained", img}, img + ": "},
		{[]string{"predict", "--checkpoint", ckpt, img}, img + ": "},
	} {
		code, stdout, stderr := runBin(t, bin, dir, nil, c.args...)
		if code != 0 || !strings.Contains(stdout, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %q", c.args, code, stdout, stderr, c.want)
		}
	}
	// predict with the zoo's weights names Fashion-MNIST's classes.
	_, stdout, _ := runBin(t, bin, dir, nil, "predict", "--model", "fashion-cnn", "--pretrained", img)
	spec, _ := data.Lookup(data.FashionMNIST)
	named := false
	for _, cl := range spec.Classes {
		named = named || strings.Contains(stdout, ": "+cl+" ")
	}
	if !named {
		t.Errorf("predict --model fashion-cnn --pretrained: %q names no Fashion-MNIST class", stdout)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"predict", "--model", "fashion-cnn", img}, "predict --model fashion-cnn needs --pretrained"},
		{[]string{"predict", "--model", "mlp", "--checkpoint", ckpt, img}, "predict takes --model NAME or --checkpoint FILE, not both"},
		{[]string{"summary", "--checkpoint", ckpt, "--pretrained"}, "--pretrained goes with --model"},
		{[]string{"summary", "--checkpoint", filepath.Join(dir, "nope")}, "nope"},
		{[]string{"eval", "--model", "mlp", "--checkpoint", ckpt}, "eval takes --model NAME or --checkpoint FILE, not both"},
	} {
		code, _, stderr := runBin(t, bin, dir, nil, c.args...)
		if code == 0 {
			t.Errorf("%v: exit 0", c.args)
		}
		if err := checkErrorOutput(stderr, c.want); err != nil {
			t.Errorf("%v: %v", c.args, err)
		}
	}
}
