package nn_test

import (
	"fmt"

	"github.com/convgraph/convgraph/nn"
)

// Two branches over one image, joined along the channels (Keras's
// layers.Concatenate()([a, b])) and gated by an element-wise product.
func ExampleConcatenate() {
	b := nn.NewBuilder("two-branch")
	x := b.Input(28, 28, 1)
	wide := b.Apply(nn.Conv2D(8, 5, nn.Padding(nn.Same), nn.Activation(nn.ReLU)), x)
	narrow := b.Apply(nn.Conv2D(8, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)), x)
	joined := b.Apply(nn.Concatenate(), wide, narrow)
	gate := b.Apply(nn.Conv2D(16, 1, nn.Activation(nn.Sigmoid)), joined)
	gated := b.Apply(nn.Multiply(), joined, gate)
	y := b.Apply(nn.GlobalAvgPool2D(), gated)
	y = b.Apply(nn.Dense(10, nn.Activation(nn.Softmax)), y)
	m, err := b.Model(y)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range m.Layers() {
		if l.Kind == "Concatenate" || l.Kind == "Multiply" {
			fmt.Println(l.Name, l.Inputs, l.OutputShape)
		}
	}
	// Output:
	// concatenate [conv2d conv2d_1] (None, 28, 28, 16)
	// multiply [concatenate conv2d_2] (None, 28, 28, 16)
}
