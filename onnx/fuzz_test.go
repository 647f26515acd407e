package onnx_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/onnx"
)

// FuzzImport feeds arbitrary bytes to Import: it must return a model or an error, never
// panic, and a model it returns must compile.
func FuzzImport(f *testing.F) {
	// Small seeds only: the fuzzer mutates every byte of a seed, and large ones (the
	// ResNet's megabyte of weights) teach it nothing more about the reader.
	for _, name := range []string{"tiny.onnx", "modern.onnx", "prelu.onnx", "instance_norm.onnx"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	m, err := nn.Sequential("tiny", nn.Input(6, 5, 2),
		nn.Conv2D(3, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)), nn.BatchNorm(), nn.MaxPool2D(2),
		nn.Flatten(), nn.Dropout(0.2), nn.Dense(4, nn.Activation(nn.Softmax)))
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := onnx.Export(m, &buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:buf.Len()/2])
	f.Add(exportBytes(f, modernLayers(f))) // every newer layer's operators
	f.Add([]byte{})
	f.Add([]byte("not a model"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, _, err := onnx.Import(bytes.NewReader(b))
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "onnx: ") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q is not one line starting with onnx:", msg)
			}
			return
		}
		if m.InputShape().Size() <= 1<<16 {
			if _, err := m.Compile(1, nn.Eval); err != nil {
				t.Fatalf("an imported model does not compile: %v", err)
			}
		}
	})
}
