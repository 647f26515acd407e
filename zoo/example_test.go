package zoo_test

import (
	"fmt"

	"github.com/convgraph/convgraph/zoo"
)

// Transfer learning, step one: the course CNN's Fashion-MNIST weights with a new head for
// 4 classes. The head's parameters keep their fresh initialization and are reported.
func ExamplePretrained() {
	m, rep, err := zoo.Pretrained("fashion-cnn", zoo.Classes(4))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("loaded", len(rep.Loaded), "parameters")
	for _, s := range rep.Skipped {
		fmt.Println("skipped", s.Param+":", s.Reason)
	}
	// Freeze everything below the dense layer: only it and the head will train.
	if err := m.FreezeUpTo("conv2d_1"); err != nil {
		fmt.Println(err)
		return
	}
	_, trainable, frozen := m.ParamCounts()
	fmt.Println("trainable", trainable, "frozen", frozen)
	// Output:
	// loaded 6 parameters
	// skipped dense_1/kernel: shape [100 10] in the checkpoint, [100 4] in the model
	// skipped dense_1/bias: shape [10] in the checkpoint, [4] in the model
	// trainable 314104 frozen 18816
}
