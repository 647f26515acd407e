package zoo_test

import (
	"context"
	"fmt"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

// Transfer learning, step one: the course CNN's Fashion-MNIST weights with a new head for
// 4 classes. The head's parameters keep their fresh initialization and are reported.
func ExamplePretrained() {
	m, rep, err := zoo.Pretrained("fashion-cnn", zoo.Classes(4))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("loaded", len(rep.Loaded), "parameters")
	for _, s := range rep.Skipped {
		fmt.Println("skipped", s.Param+":", s.Reason)
	}
	// Freeze everything below the dense layer: only it and the head will train.
	if err := m.FreezeUpTo("conv2d_1"); err != nil {
		fmt.Println(err)
		return
	}
	_, trainable, frozen := m.ParamCounts()
	fmt.Println("trainable", trainable, "frozen", frozen)
	// Output:
	// loaded 6 parameters
	// skipped dense_1/kernel: shape [100 10] in the checkpoint, [100 4] in the model
	// skipped dense_1/bias: shape [10] in the checkpoint, [4] in the model
	// trainable 314104 frozen 18816
}

// Transfer learning end to end, as Keras's guide does it: Fashion-MNIST weights, a new head
// for the digits, the convolutions frozen while the head trains, then the last stage
// unfrozen and trained on at a tenth of the learning rate.
func Example_fineTune() {
	split, err := data.Sample(data.MNIST) // the bundled 2,000/500-digit sample
	if err != nil {
		fmt.Println(err)
		return
	}
	m, _, err := zoo.Pretrained("fashion-cnn")
	if err != nil {
		fmt.Println(err)
		return
	}
	if m, err = m.ReplaceHead(10, 1); err != nil { // a fresh classifier: digits are not clothes
		fmt.Println(err)
		return
	}
	info, _ := zoo.Lookup("fashion-cnn")
	if err := m.FreezeUpTo("conv2d_1"); err != nil {
		fmt.Println(err)
		return
	}
	ctx, digits := context.Background(), split.Train.Take(1000, 1)
	phase1 := train.Config{Epochs: 4, LR: 1e-3, Seed: 1, Optimizer: &train.Adam{}}
	if _, err := train.Fit(ctx, m, digits, phase1); err != nil {
		fmt.Println(err)
		return
	}
	if err := m.Unfreeze(info.LastStage...); err != nil { // conv2d_1 and dense
		fmt.Println(err)
		return
	}
	phase2 := train.Config{Epochs: 6, InitialEpoch: 4, LR: 1e-4, Seed: 1, Optimizer: &train.Adam{}}
	if _, err := train.Fit(ctx, m, digits, phase2); err != nil {
		fmt.Println(err)
		return
	}
	ev, err := train.Evaluate(m, split.Test, 256)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, trainable, frozen := m.ParamCounts()
	fmt.Println("trainable", trainable, "frozen", frozen)
	fmt.Println("test accuracy above 0.75:", ev.Accuracy > 0.75)
	// Output:
	// trainable 333206 frozen 320
	// test accuracy above 0.75: true
}
