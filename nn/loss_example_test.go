package nn_test

import (
	"errors"
	"fmt"

	"github.com/convgraph/convgraph/nn"
)

// Each output takes a loss and a weight; a loss's options are checked by SetLoss, whose
// error names the output.
func ExampleModel_SetLoss() {
	b := nn.NewBuilder("two-heads")
	x := b.Input(8)
	class := b.Apply(nn.Dense(3, nn.Activation(nn.Softmax), nn.Name("class")), x)
	value := b.Apply(nn.Dense(1, nn.Name("value")), x)
	m, _ := b.Model(class, value)
	_ = m.SetLoss("class", nn.CategoricalCrossentropy(nn.LabelSmoothing(0.1)), 1)
	_ = m.SetLoss("value", nn.Huber(nn.Delta(0.5)), 0.5)
	for _, l := range m.Losses() {
		fmt.Println(l.Output, l.Loss, l.Weight)
	}
	err := m.SetLoss("value", nn.MeanAbsoluteError(nn.LabelSmoothing(0.1)), 1)
	var le *nn.LossError
	fmt.Println(errors.As(err, &le), le.Output, le.Err)
	// Output:
	// class categorical_crossentropy(label_smoothing=0.1) 1
	// value huber(delta=0.5) 0.5
	// true value option LabelSmoothing does not apply to mean_absolute_error
}
