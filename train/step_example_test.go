package train_test

import (
	"fmt"
	"log"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
)

// A hand-written loop takes the step Fit takes: here 200 steps of Adam on one fixed batch
// of four points (XOR), which the model learns to classify.
func ExampleStep() {
	m, err := nn.Sequential("xor", nn.Input(2), nn.Dense(8, nn.Activation(nn.Tanh)), nn.Dense(2, nn.Activation(nn.Softmax)))
	if err != nil {
		log.Fatal(err)
	}
	if err := m.Initialize(1); err != nil {
		log.Fatal(err)
	}
	x := tensor.New(tensor.WithShape(4, 2), tensor.WithBacking([]float32{0, 0, 0, 1, 1, 0, 1, 1}))
	labels := []int{0, 1, 1, 0}
	opt := &train.Adam{}
	var first, last float64
	for step := range 200 {
		gr, err := train.Step(m, x, labels, opt, 0.05, step)
		if err != nil {
			log.Fatal(err)
		}
		if step == 0 {
			first = gr.Loss()
		}
		last = gr.Loss()
	}
	fmt.Printf("loss fell: %v, below 0.1: %v\n", last < first, last < 0.1)
	// Output:
	// loss fell: true, below 0.1: true
}
