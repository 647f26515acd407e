package nn_test

import (
	"fmt"

	"github.com/convgraph/convgraph/nn"
)

// A ResNeXt-style bottleneck: the 3x3 convolution runs in 8 groups of 4 channels, each
// group's 4 filters seeing only its own channels, with 8 times fewer weights than an
// ungrouped one.
func ExampleGroups() {
	m, err := nn.Sequential("resnext-block",
		nn.Input(14, 14, 64),
		nn.Conv2D(32, 1, nn.Name("reduce"), nn.Activation(nn.ReLU)),
		nn.Conv2D(32, 3, nn.Groups(8), nn.Padding(nn.Same), nn.Name("grouped"), nn.Activation(nn.ReLU)),
		nn.Conv2D(64, 1, nn.Name("expand")))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Param("grouped/kernel").Shape())
	_, err = nn.Sequential("bad", nn.Input(14, 14, 64), nn.Conv2D(30, 3, nn.Groups(8)))
	fmt.Println(err)
	// Output:
	// [32 4 3 3]
	// nn: layer "conv2d" (Conv2D): 8 groups do not divide the input's 64 channels and 30 filters
}
