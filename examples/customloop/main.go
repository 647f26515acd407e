// Command customloop trains the course's CNN on the bundled Fashion-MNIST sample with a
// training loop written by hand on the compiled graph: batches from data, the forward and
// backward pass with Graph.Run, the gradients handed to an optimizer, a learning rate
// decayed by hand, and an evaluation at the end.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "customloop:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fl := flag.NewFlagSet("customloop", flag.ContinueOnError)
	epochs := fl.Int("epochs", 2, "epochs")
	if err := fl.Parse(args); err != nil {
		return err
	}
	split, err := data.Sample(data.FashionMNIST)
	if err != nil {
		return err
	}
	m, err := zoo.New("fashion-cnn")
	if err != nil {
		return err
	}
	const batch = 32
	opt := &train.Adam{}
	it := split.Train.Batches(batch, data.Shuffle(), data.Seed(1), data.DropLast())
	step := 0
	for epoch := 0; epoch < *epochs; epoch++ {
		lr := 1e-3 / float64(1+epoch) // decay by hand
		var lossSum float64
		n := 0
		for it.Next() {
			b := it.Batch()
			gr, err := m.Compile(b.Size, nn.Train) // cached after the first batch
			if err != nil {
				return err
			}
			x := tensor.New(tensor.WithShape(b.Size, 28, 28, 1), tensor.WithBacking(b.X))
			gr.SetStep(uint64(step)) // dropout masks follow the step (a resumed loop repeats them)
			if err := gr.Run(x, b.Labels[:b.Size]); err != nil {
				return err
			}
			params := gr.GradParams()
			grads := make([]*tensor.Dense, len(params))
			for i, p := range params {
				grads[i] = gr.Grad(p.Name)
			}
			if err := opt.Step(params, grads, lr); err != nil {
				return err
			}
			lossSum += gr.Loss()
			n++
			step++
		}
		it.Reset()
		fmt.Fprintf(out, "epoch %d: mean loss %.4f over %d steps (lr %g)\n", epoch+1, lossSum/float64(n), n, lr)
	}
	ev, err := train.Evaluate(m, split.Test, 250)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "test accuracy %.4f\n", ev.Accuracy)
	return nil
}
