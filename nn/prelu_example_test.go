package nn_test

import (
	"fmt"

	"github.com/convgraph/convgraph/nn"
)

// PReLU learns the slope of the negative side: one per channel, or one for all.
func ExamplePReLU() {
	m, err := nn.Sequential("prelu",
		nn.Input(28, 28, 1),
		nn.Conv2D(16, 3, nn.Name("conv")),
		nn.PReLU(nn.Name("act")),
		nn.GlobalAvgPool2D(),
		nn.Dense(10),
		nn.PReLU(nn.SharedAlpha(true), nn.Name("head_act")))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Param("act/alpha").Shape(), m.Param("head_act/alpha").Shape())
	// Output:
	// [16] [1]
}
