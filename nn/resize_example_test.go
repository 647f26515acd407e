package nn_test

import (
	"fmt"

	"github.com/convgraph/convgraph/nn"
)

// Resizing takes images of one size to another by any ratio: here 28x28 to 40x40, as a
// model pretrained on larger images needs.
func ExampleResizing() {
	m, err := nn.Sequential("resize",
		nn.Input(28, 28, 1),
		nn.Resizing(40, 40),
		nn.Conv2D(8, 3))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Layers()[0].OutputShape)
	// Output:
	// (None, 40, 40, 1)
}
