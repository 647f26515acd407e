// Command customloop trains the course's CNN on the bundled Fashion-MNIST sample with a
// training loop written by hand: batches from data, one train.Step per batch (the step Fit
// takes: forward and backward pass, loss check, optimizer update), a learning rate decayed
// by hand, and an evaluation at the end. nn's ExampleGraph_Run_trainingLoop takes the same
// step on the compiled graph itself.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/data"
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
			x := tensor.New(tensor.WithShape(b.Size, 28, 28, 1), tensor.WithBacking(b.X))
			// The step Fit takes: forward, backward, loss check, optimizer update. The step
			// number draws dropout's masks, so a resumed loop repeats them.
			gr, err := train.Step(m, x, b.Labels[:b.Size], opt, lr, step)
			if err != nil {
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
