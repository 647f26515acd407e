// Command twoheads trains a model with two inputs and two outputs: an image and three
// metadata values in, a class (which metadata value is the largest) and a value (the
// first minus the second) out, each with its own loss and weight, on in-memory tensors.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "twoheads:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fl := flag.NewFlagSet("twoheads", flag.ContinueOnError)
	epochs := fl.Int("epochs", 10, "epochs")
	n := fl.Int("n", 512, "training examples")
	if err := fl.Parse(args); err != nil {
		return err
	}
	b := nn.NewBuilder("image-and-meta")
	img := b.Input(16, 16, 1)
	meta := b.Input(3)
	x := b.Apply(nn.Conv2D(8, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)), img)
	x = b.Apply(nn.MaxPool2D(2), x)
	x = b.Apply(nn.GlobalAvgPool2D(), x)
	v := b.Apply(nn.Dense(16, nn.Activation(nn.ReLU)), meta)
	x = b.Apply(nn.Concatenate(), x, v)
	class := b.Apply(nn.Dense(3, nn.Activation(nn.Softmax), nn.Name("class")), x)
	value := b.Apply(nn.Dense(1, nn.Name("value")), x)
	m, err := b.Model(class, value)
	if err != nil {
		return err
	}
	if err := m.SetLoss("class", nn.SparseCategoricalCrossentropy(), 1); err != nil {
		return err
	}
	if err := m.SetLoss("value", nn.MeanSquaredError(), 0.5); err != nil {
		return err
	}
	fmt.Fprint(out, m.Summary())
	d, val := synthetic(*n, 1), synthetic(*n/4, 2)
	_, err = train.FitTensors(context.Background(), m, d, train.Config{Epochs: *epochs, BatchSize: 32, LR: 3e-3,
		ValidationData: val, Progress: out})
	if err != nil {
		return err
	}
	scores, err := train.EvaluateTensors(m, val, 64)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "validation: class accuracy %.3f, value loss %.4f\n", scores["class_accuracy"], scores["value_loss"])
	return nil
}

// synthetic makes n examples whose targets depend on the metadata.
func synthetic(n int, seed uint64) *train.Tensors {
	rng := rand.New(rand.NewPCG(seed, 7))
	img, meta := make([]float32, n*256), make([]float32, n*3)
	labels, values := make([]int, n), make([]float32, n)
	for i := range img {
		img[i] = rng.Float32()
	}
	for i := 0; i < n; i++ {
		for j := 0; j < 3; j++ {
			meta[3*i+j] = rng.Float32()
			if meta[3*i+j] > meta[3*i+labels[i]] {
				labels[i] = j
			}
		}
		values[i] = meta[3*i] - meta[3*i+1]
	}
	return &train.Tensors{
		X: []tensor.Tensor{tensor.New(tensor.WithShape(n, 16, 16, 1), tensor.WithBacking(img)),
			tensor.New(tensor.WithShape(n, 3), tensor.WithBacking(meta))},
		Y: []nn.Target{{Labels: labels}, {Values: tensor.New(tensor.WithShape(n, 1), tensor.WithBacking(values))}},
	}
}
