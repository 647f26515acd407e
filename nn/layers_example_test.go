package nn_test

import (
	"fmt"

	"github.com/convgraph/convgraph/nn"
)

// Padding, cropping, reshaping, global max pooling and the activations of newer
// networks, as Keras layers.
func ExampleZeroPadding2D() {
	m, err := nn.Sequential("shapes",
		nn.Input(28, 28, 1),
		nn.ZeroPadding2D(2),                      // Keras: ZeroPadding2D(2)
		nn.Conv2D(8, 5, nn.Activation(nn.ReLU6)), // 32x32 -> 28x28
		nn.Cropping2D(0, nn.Crop(2, 2, 2, 2)),    // Keras: Cropping2D(((2, 2), (2, 2)))
		nn.Activate(nn.Softmax, nn.Axis(-1)),     // over the channels of every pixel
		nn.GlobalMaxPool2D(),
		nn.Reshape(nn.Shape{2, 2, 2}),
		nn.Activate(nn.Swish),
		nn.Flatten(),
		nn.Dense(10, nn.Activation(nn.Softmax)))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range m.Layers() {
		fmt.Printf("%-22s %-18s %v\n", l.Name, l.Kind, l.OutputShape)
	}
	// Output:
	// zero_padding2d         ZeroPadding2D      (None, 32, 32, 1)
	// conv2d                 Conv2D             (None, 28, 28, 8)
	// cropping2d             Cropping2D         (None, 24, 24, 8)
	// activation             Activation         (None, 24, 24, 8)
	// global_max_pooling2d   GlobalMaxPooling2D (None, 8)
	// reshape                Reshape            (None, 2, 2, 2)
	// activation_1           Activation         (None, 2, 2, 2)
	// flatten                Flatten            (None, 8)
	// dense                  Dense              (None, 10)
}

// A bad layer configuration is an error that names the layer.
func ExampleReshape() {
	_, err := nn.Sequential("bad",
		nn.Input(4, 4, 3),
		nn.Reshape(nn.Shape{5, -1, 2}, nn.Name("to_grid")))
	fmt.Println(err)
	// Output:
	// nn: layer "to_grid" (Reshape): target shape [5 -1 2] does not divide the input's 48 values
}

// A MobileNet block: a depthwise 3x3 convolution, then a 1x1 convolution that mixes the
// channels; SeparableConv2D is the two in one layer.
func ExampleDepthwiseConv2D() {
	m, err := nn.Sequential("mobile",
		nn.Input(28, 28, 8),
		nn.DepthwiseConv2D(3, nn.Padding(nn.Same), nn.Strides(2), nn.Activation(nn.ReLU6)),
		nn.Conv2D(16, 1, nn.Activation(nn.ReLU6)),
		nn.SeparableConv2D(32, 3, nn.Padding(nn.Same), nn.DepthMultiplier(2)),
		nn.GlobalAvgPool2D(),
		nn.Dense(10, nn.Activation(nn.Softmax)))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range m.Params() {
		fmt.Println(p.Name, p.Shape())
	}
	total, _, _ := m.ParamCounts()
	fmt.Println("total", total)
	// Output:
	// depthwise_conv2d/depthwise_kernel [8 1 3 3]
	// depthwise_conv2d/bias [8]
	// conv2d/kernel [16 8 1 1]
	// conv2d/bias [16]
	// separable_conv2d/depthwise_kernel [32 1 3 3]
	// separable_conv2d/pointwise_kernel [32 32 1 1]
	// separable_conv2d/bias [32]
	// dense/kernel [32 10]
	// dense/bias [10]
	// total 1898
}
