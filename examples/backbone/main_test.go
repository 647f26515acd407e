package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/data"
)

// The program fine-tunes on an image folder written from the bundled MNIST sample.
func TestBackboneOnImageFolder(t *testing.T) {
	s, err := data.Sample(data.MNIST)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "digits")
	if err := s.Train.Take(200, 1).WriteImageFolder(dir, "png"); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	ckpt := filepath.Join(t.TempDir(), "m.safetensors")
	if err := run([]string{"-dir", dir, "-epochs", "1", "-o", ckpt}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"resnet-small (Model)", "phase 2: unfreezing [resnet-small/stage3/]", "validation accuracy"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
