// Command backbone fine-tunes the zoo's pretrained resnet-small on a folder of images (one
// sub-folder per class, PNG or JPEG): the network without its classifier becomes one layer
// of a new model, frozen while a new head trains, then its last stage is unfrozen and
// trained on at a tenth of the learning rate. The model is saved, reloaded and evaluated.
//
//	go run ./examples/backbone -dir my-images/ -epochs 5
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "backbone:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fl := flag.NewFlagSet("backbone", flag.ContinueOnError)
	dir := fl.String("dir", "", "image folder: one sub-folder of images per class")
	epochs := fl.Int("epochs", 5, "epochs of each phase")
	save := fl.String("o", filepath.Join(os.TempDir(), "backbone.safetensors"), "checkpoint to write")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("-dir is required")
	}
	ds, err := data.ImageFolder(*dir, 28, 28, 1) // resized and converted to gray
	if err != nil {
		return err
	}
	trainSet, valSet, err := ds.ValidationSplit(0.2, 1)
	if err != nil {
		return err
	}

	base, _, err := zoo.Pretrained("resnet-small", zoo.IncludeHead(false))
	if err != nil {
		return err
	}
	b := nn.NewBuilder("my-classifier")
	x := b.Input(28, 28, 1)
	y := b.Call(base, x)
	y = b.Apply(nn.Dropout(0.2), y)
	y = b.Apply(nn.Dense(ds.NumClasses(), nn.Activation(nn.Softmax), nn.Name("classifier")), y)
	m, err := b.Model(y)
	if err != nil {
		return err
	}
	if err := zoo.FreezeBackbone(m, "resnet-small"); err != nil {
		return err
	}
	stage, err := zoo.LastStage(m, "resnet-small")
	if err != nil {
		return err
	}
	fmt.Fprint(out, m.Summary())
	_, err = train.FineTune(context.Background(), m, trainSet, train.FineTuneConfig{
		Config:   train.Config{Epochs: *epochs, LR: 3e-3, Seed: 1, Validation: valSet, Progress: out},
		Unfreeze: stage,
		BeforeFine: func(*train.Config) error {
			fmt.Fprintf(out, "phase 2: unfreezing %v\n", stage)
			return nil
		},
	})
	if err != nil {
		return err
	}
	if err := train.Save(*save, m, nil, train.Checkpoint{}); err != nil {
		return err
	}
	c, err := train.Load(*save)
	if err != nil {
		return err
	}
	ev, err := train.Evaluate(c.Model, valSet, 64)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "reloaded %s: validation accuracy %.3f\n", *save, ev.Accuracy)
	return nil
}
