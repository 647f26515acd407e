package nn_test

import (
	"fmt"

	"github.com/convgraph/convgraph/nn"
)

// The course's CNN for Fashion-MNIST, declared as in Keras.
func ExampleSequential() {
	m, err := nn.Sequential("fashion-cnn",
		nn.Input(28, 28, 1),
		nn.Conv2D(32, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)),
		nn.MaxPool2D(2),
		nn.Conv2D(64, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)),
		nn.MaxPool2D(2),
		nn.Flatten(),
		nn.Dense(100, nn.Activation(nn.ReLU)),
		nn.Dropout(0.4),
		nn.Dense(10, nn.Activation(nn.Softmax)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(m.Summary())
	// Output:
	// Model: "fashion-cnn"
	// _______________________________________________________________________
	//  Layer (type)                    Output Shape        Param #  Trainable
	// =======================================================================
	//  conv2d (Conv2D)                 (None, 28, 28, 32)      320  Y
	//
	//  max_pooling2d (MaxPooling2D)    (None, 14, 14, 32)        0  -
	//
	//  conv2d_1 (Conv2D)               (None, 14, 14, 64)   18,496  Y
	//
	//  max_pooling2d_1 (MaxPooling2D)  (None, 7, 7, 64)          0  -
	//
	//  flatten (Flatten)               (None, 3136)              0  -
	//
	//  dense (Dense)                   (None, 100)         313,700  Y
	//
	//  dropout (Dropout)               (None, 100)               0  -
	//
	//  dense_1 (Dense)                 (None, 10)            1,010  Y
	// =======================================================================
	// Total params: 333,526
	// Trainable params: 333,526
	// Non-trainable params: 0
	// _______________________________________________________________________
}
