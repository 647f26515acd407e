package nn_test

import (
	"errors"
	"fmt"

	pkgerrors "github.com/pkg/errors"

	"github.com/convgraph/convgraph/nn"
)

// A configuration error names the layer; errors.As finds it through any wrapping.
func ExampleLayerError() {
	_, err := nn.Sequential("tiny",
		nn.Input(2, 2, 1),
		nn.Conv2D(8, 3, nn.Name("stem")))
	err = pkgerrors.Wrap(err, "building the model") // context added by the caller

	var le *nn.LayerError
	if errors.As(err, &le) {
		fmt.Println("layer:", le.Layer)
		fmt.Println("kind:", le.Kind)
		fmt.Println("problem:", le.Err)
	}
	fmt.Println(err)
	// Output:
	// layer: stem
	// kind: Conv2D
	// problem: kernel 3x3 larger than padded input 2x2
	// building the model: nn: layer "stem" (Conv2D): kernel 3x3 larger than padded input 2x2
}
