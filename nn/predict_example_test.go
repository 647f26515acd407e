package nn_test

import (
	"fmt"
	"sync"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
)

// A Predictor answers from many goroutines at once, each getting a result it owns.
func ExamplePredictor() {
	m, err := nn.Sequential("tiny",
		nn.Input(4, 4, 1),
		nn.Conv2D(2, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)),
		nn.Flatten(),
		nn.Dense(3, nn.Activation(nn.Softmax)))
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := nn.NewPredictor(m) // a snapshot: m may go on training
	if err != nil {
		fmt.Println(err)
		return
	}
	results := make([]*tensor.Dense, 4)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := tensor.New(tensor.WithShape(1, 4, 4, 1), tensor.WithBacking(make([]float32, 16)))
			out, err := p.Predict(x)
			if err != nil {
				fmt.Println(err)
				return
			}
			results[i] = out
		}()
	}
	wg.Wait()
	fmt.Println(results[0].Shape(), results[0].Float32s()[0] == results[3].Float32s()[0])
	// Output: (1, 3) true
}
