package train

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
)

// Step runs one training step of m, the step [Fit] takes for every batch: the forward and
// backward pass of m's training graph for the images x (Keras's layout, [n, height,
// width, channels] or [n, features]) and their labels, a check that the loss is finite,
// and opt's update of every trainable parameter with learning rate lr. step numbers the
// step from 0: dropout masks are drawn for it, so a loop resumed at step k draws the masks
// an uninterrupted one would.
//
// It returns the training graph, whose Loss and Output hold this batch's values until the
// next step of m. A NaN or infinite loss is an error and leaves the parameters unchanged.
// Like Fit, Step writes m's parameters: nothing else may use m meanwhile.
func Step(m *nn.Model, x tensor.Tensor, labels []int, opt Optimizer, lr float64, step int) (*nn.Graph, error) {
	gr, err := m.Compile(len(labels), nn.Train)
	if err != nil {
		return nil, err
	}
	gr.SetStep(uint64(step))
	if err := gr.Run(x, labels); err != nil {
		return nil, err
	}
	return gr, update(gr, opt, lr)
}

// update checks the loss of a graph that has run and applies opt to the gradients.
func update(gr *nn.Graph, opt Optimizer, lr float64) error {
	if loss := gr.Loss(); math.IsNaN(loss) || math.IsInf(loss, 0) {
		return errors.Errorf("loss is %v: training diverged (lower the learning rate)", loss)
	}
	params := gr.GradParams()
	grads := make([]*tensor.Dense, len(params))
	for i, p := range params {
		grads[i] = gr.Grad(p.Name)
	}
	return opt.Step(params, grads, lr)
}
