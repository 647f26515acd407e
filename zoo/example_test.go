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

// Transfer learning end to end, as Keras's guide does it and `convgraph finetune
// --two-phase` runs it: Fashion-MNIST weights, a new head for the digits, the backbone
// frozen while the head trains, then the last stage unfrozen and trained on at a tenth of
// the learning rate with a fresh optimizer. docs/transfer-learning.md shows this code.
func Example_fineTune() {
	split, err := data.Sample(data.MNIST) // the bundled 2,000/500-digit sample
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, digits := context.Background(), split.Train.Take(1000, 1)

	m, _, err := zoo.Pretrained("fashion-cnn")
	if err != nil {
		fmt.Println(err)
		return
	}
	if m, err = m.ReplaceHead(10, 1); err != nil { // a fresh classifier: digits are not clothes
		fmt.Println(err)
		return
	}
	if err := zoo.FreezeBackbone(m, "fashion-cnn"); err != nil { // every layer but the head
		fmt.Println(err)
		return
	}
	stage, err := zoo.LastStage(m, "fashion-cnn") // conv2d_1 and dense
	if err != nil {
		fmt.Println(err)
		return
	}
	h, err := train.FineTune(ctx, m, digits, train.FineTuneConfig{
		Config:     train.Config{Epochs: 4, LR: 1e-2, Seed: 1}, // phase 1: the head alone
		Unfreeze:   stage,                                      // phase 2: the last stage too,
		FineEpochs: 2,                                          // at LR/10 with a fresh Adam
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ev, err := train.Evaluate(m, split.Test, 256)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, trainable, frozen := m.ParamCounts()
	fmt.Println(len(h.Epochs), "epochs; trainable", trainable, "frozen", frozen)
	fmt.Println("test accuracy above 0.75:", ev.Accuracy > 0.75)
	// Output:
	// 6 epochs; trainable 333206 frozen 320
	// test accuracy above 0.75: true
}
