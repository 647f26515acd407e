package train_test

import (
	"context"
	"fmt"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
)

// A model with two outputs, a class and a value, trained on in-memory tensors (Keras's
// fit(x, y) with loss_weights).
func ExampleFitTensors() {
	b := nn.NewBuilder("two-heads")
	x := b.Input(4)
	h := b.Apply(nn.Dense(8, nn.Activation(nn.ReLU)), x)
	class := b.Apply(nn.Dense(2, nn.Activation(nn.Softmax), nn.Name("class")), h)
	value := b.Apply(nn.Dense(1, nn.Name("value")), h)
	m, err := b.Model(class, value)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = m.SetLoss("class", nn.SparseCategoricalCrossentropy(), 1)
	_ = m.SetLoss("value", nn.MeanSquaredError(), 0.5)

	const n = 8
	xs := make([]float32, n*4)
	labels := make([]int, n)
	values := make([]float32, n)
	for i := range labels {
		xs[4*i+i%4] = 1
		labels[i] = i % 2
		values[i] = float32(i % 4)
	}
	d := &train.Tensors{
		X: []tensor.Tensor{tensor.New(tensor.WithShape(n, 4), tensor.WithBacking(xs))},
		Y: []nn.Target{{Labels: labels}, {Values: tensor.New(tensor.WithShape(n, 1), tensor.WithBacking(values))}},
	}
	hist, err := train.FitTensors(context.Background(), m, d, train.Config{Epochs: 3, BatchSize: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	last, _ := hist.Last()
	fmt.Println(len(hist.Epochs), "epochs; per-output logs:", len(last.Metrics))
	outs, err := train.PredictTensors(m, d.X, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(outs[0].Shape(), outs[1].Shape())
	// Output:
	// 3 epochs; per-output logs: 3
	// (8, 2) (8, 1)
}
