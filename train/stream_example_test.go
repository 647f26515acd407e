package train_test

import (
	"context"
	"fmt"
	"io"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
)

// chunks is a Stream of 4 chunks of 10 examples each, made on the fly; a real one would
// read a file per chunk.
type chunks struct{ next int }

func (c *chunks) Reset() error { c.next = 0; return nil }

func (c *chunks) Next() (*train.Tensors, error) {
	if c.next == 4 {
		return nil, io.EOF
	}
	x, y := make([]float32, 10*2), make([]float32, 10)
	for i := range y {
		a, b := float32(c.next*10+i)/40, float32(i)/10
		x[2*i], x[2*i+1], y[i] = a, b, a-b
	}
	c.next++
	return &train.Tensors{
		X: []tensor.Tensor{tensor.New(tensor.WithShape(10, 2), tensor.WithBacking(x))},
		Y: []nn.Target{{Values: tensor.New(tensor.WithShape(10, 1), tensor.WithBacking(y))}},
	}, nil
}

func ExampleFitStream() {
	m, _ := nn.Sequential("difference", nn.Input(2), nn.Dense(1, nn.Name("y")))
	_ = m.SetLoss("y", nn.MeanSquaredError(), 1)
	count := &countingMetric{}
	h, err := train.FitStream(context.Background(), m, &chunks{}, train.Config{
		Epochs: 3, BatchSize: 8, ShuffleBuffer: 16, Seed: 1, Metrics: []train.Metric{count}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range h.Epochs {
		fmt.Printf("epoch %d: %v examples\n", e.Epoch, e.Metrics["examples"])
	}
	// Output:
	// epoch 1: 40 examples
	// epoch 2: 40 examples
	// epoch 3: 40 examples
}
