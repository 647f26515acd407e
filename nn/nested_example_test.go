package nn_test

import (
	"fmt"

	"github.com/convgraph/convgraph/nn"
)

// A small feature extractor used as one layer of a classifier, frozen as a unit.
func ExampleBuilder_Call() {
	features, err := nn.Sequential("features",
		nn.Input(28, 28, 1),
		nn.Conv2D(8, 3, nn.Activation(nn.ReLU)),
		nn.GlobalAvgPool2D())
	if err != nil {
		fmt.Println(err)
		return
	}
	b := nn.NewBuilder("classifier")
	x := b.Input(28, 28, 1)
	y := b.Call(features, x)
	y = b.Apply(nn.Dense(10, nn.Activation(nn.Softmax)), y)
	m, err := b.Model(y)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := m.Freeze("features"); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(m.Summary())
	// Output:
	// Model: "classifier"
	// ___________________________________________________
	//  Layer (type)      Output Shape  Param #  Trainable
	// ===================================================
	//  features (Model)  (None, 8)          80  N
	//
	//  dense (Dense)     (None, 10)         90  Y
	// ===================================================
	// Total params: 170
	// Trainable params: 90
	// Non-trainable params: 80
	// ___________________________________________________
}
