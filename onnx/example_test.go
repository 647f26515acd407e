package onnx_test

import (
	"bytes"
	"fmt"
	"os"

	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/onnx"
)

// Export a model, then read the file back: the same layers, bit-identical outputs.
func ExampleExport() {
	m, err := nn.Sequential("tiny-cnn",
		nn.Input(28, 28, 1),
		nn.Conv2D(8, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU), nn.Name("conv")),
		nn.MaxPool2D(2, nn.Name("pool")),
		nn.Flatten(nn.Name("flatten")),
		nn.Dense(10, nn.Activation(nn.Softmax), nn.Name("head")))
	if err != nil {
		fmt.Println(err)
		return
	}
	var buf bytes.Buffer // or an *os.File
	if err := onnx.Export(m, &buf, onnx.ClassNames([]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"})); err != nil {
		fmt.Println(err)
		return
	}
	back, info, err := onnx.Import(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(back.Name(), info.InputLayout, back.InputShape(), back.OutputShape(), len(info.Classes))
	for _, l := range back.Layers() {
		fmt.Println(l.Name, l.Kind, l.OutputShape)
	}
	// Output:
	// tiny-cnn NHWC (None, 28, 28, 1) (None, 10) 10
	// conv Conv2D (None, 28, 28, 8)
	// pool MaxPooling2D (None, 14, 14, 8)
	// flatten Flatten (None, 1568)
	// head Dense (None, 10)
}

// Import a network exported by PyTorch (torch.onnx.export): a convolution, batch norm,
// ReLU, x.view(x.size(0), -1) and a linear layer.
func ExampleImport() {
	f, err := os.Open("testdata/tiny.onnx")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	m, info, err := onnx.Import(f, onnx.ModelName("tiny"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(info.InputLayout, "->", m.InputShape())
	for _, l := range m.Layers() {
		fmt.Println(l.Name, l.Kind, l.Params)
	}
	// Output:
	// NCHW -> (None, 7, 5, 2)
	// conv Conv2D [conv/kernel conv/bias]
	// bn BatchNormalization [bn/gamma bn/beta bn/moving_mean bn/moving_variance]
	// relu Activation []
	// reshape Flatten []
	// fc Dense [fc/kernel fc/bias]
}
