package train_test

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
)

// A metric scores batches of an output against their targets; training calls it for you
// when it is in Config.Metrics.
func ExampleTopKAccuracy() {
	scores := tensor.New(tensor.WithShape(3, 3), tensor.WithBacking([]float32{
		0.1, 0.6, 0.3, // class 2 is second
		0.5, 0.2, 0.3, // class 1 is third
		0.2, 0.3, 0.5, // class 2 is first
	}))
	m := train.TopKAccuracy(2)
	_ = m.Update(scores, nn.Target{Labels: []int{2, 1, 2}})
	fmt.Printf("%.4f\n", m.Result()["top2_accuracy"])
	// Output: 0.6667
}

func ExamplePrecisionRecallF1() {
	scores := tensor.New(tensor.WithShape(4, 2), tensor.WithBacking([]float32{
		0.9, 0.1, // predicted 0, is 0
		0.8, 0.2, // predicted 0, is 1
		0.3, 0.7, // predicted 1, is 1
		0.4, 0.6, // predicted 1, is 1
	}))
	m := train.PrecisionRecallF1()
	_ = m.Update(scores, nn.Target{Labels: []int{0, 1, 1, 1}})
	r := m.Result()
	fmt.Printf("class 1: precision %.2f, recall %.2f, f1 %.2f\n", r["precision_1"], r["recall_1"], r["f1_1"])
	// Output: class 1: precision 1.00, recall 0.67, f1 0.80
}
