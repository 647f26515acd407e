package nn_test

import (
	"fmt"
	"math/rand/v2"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
)

// A training loop written by hand on the compiled graph: run a batch, read the loss and
// the gradients, update the parameters in place (plain SGD here; train's optimizers do
// the same through Optimizer.Step). Dropout draws a new mask at every run; call
// SetStep(step) before each run to tie masks to the step (so a resumed run repeats them),
// or PinStep(true) to keep one mask.
func ExampleGraph_Run_trainingLoop() {
	m, err := nn.Sequential("loop",
		nn.Input(8),
		nn.Dense(16, nn.Activation(nn.ReLU)),
		nn.Dropout(0.2),
		nn.Dense(2, nn.Activation(nn.Softmax)))
	if err != nil {
		fmt.Println(err)
		return
	}
	gr, err := m.Compile(32, nn.Train)
	if err != nil {
		fmt.Println(err)
		return
	}
	rng := rand.New(rand.NewPCG(1, 2))
	xs := make([]float32, 32*8)
	labels := make([]int, 32)
	for i := range labels {
		for j := 0; j < 8; j++ {
			xs[i*8+j] = rng.Float32()
		}
		if xs[i*8] > xs[i*8+1] { // the class: is the first value the larger?
			labels[i] = 1
		}
	}
	x := tensor.New(tensor.WithShape(32, 8), tensor.WithBacking(xs))
	var first float64
	for step := 0; step < 300; step++ {
		gr.SetStep(uint64(step))
		if err := gr.Run(x, labels); err != nil {
			fmt.Println(err)
			return
		}
		if step == 0 {
			first = gr.Loss()
		}
		for _, p := range gr.GradParams() {
			w, g := p.Value.Data().([]float32), gr.Grad(p.Name).Data().([]float32)
			for i := range w {
				w[i] -= 0.5 * g[i]
			}
		}
	}
	fmt.Println("loss fell by more than half:", gr.Loss() < first/2)
	// Output:
	// loss fell by more than half: true
}
