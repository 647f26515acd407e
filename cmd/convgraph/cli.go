package main

// The helpers the commands share: picking a model by flag, writing a command's output,
// and carrying an exit status.

import (
	"os"
	"strings"

	"github.com/pkg/errors"
	"github.com/spf13/cobra"

	"github.com/convgraph/convgraph/checkpoint"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

// modelFlags pick a model: a zoo model by name (with its shipped weights if asked) or a
// checkpoint.
type modelFlags struct {
	model, checkpoint string
	pretrained        bool
}

func (f *modelFlags) add(c *cobra.Command, withPretrained bool) {
	c.Flags().StringVar(&f.model, "model", "", "zoo model name ("+strings.Join(zoo.Names(), ", ")+")")
	c.Flags().StringVar(&f.checkpoint, "checkpoint", "", "checkpoint written by train or finetune (model.safetensors)")
	if withPretrained {
		c.Flags().BoolVar(&f.pretrained, "pretrained", false, "with --model: use the zoo model's shipped weights")
	}
}

// load builds the model: exactly one of --model and --checkpoint must be given.
func (f *modelFlags) load(cmd string) (*nn.Model, error) {
	saved, err := f.loadSaved(cmd)
	if err != nil {
		return nil, err
	}
	return saved.Model, nil
}

// loadSaved is load for the commands that also need what a checkpoint records (its data
// set, its class names): a zoo model comes as a checkpoint of its own, with the
// Fashion-MNIST data set when its shipped weights were asked for.
func (f *modelFlags) loadSaved(cmd string) (*train.Checkpoint, error) {
	switch {
	case f.model != "" && f.checkpoint != "":
		return nil, usagef("%s takes --model NAME or --checkpoint FILE, not both", cmd)
	case f.model == "" && f.checkpoint == "":
		return nil, usagef("%s needs --model NAME (one of %s) or --checkpoint FILE", cmd, strings.Join(zoo.Names(), ", "))
	case f.checkpoint != "" && f.pretrained:
		return nil, usagef("--pretrained goes with --model, not --checkpoint")
	case f.checkpoint != "":
		return train.Load(f.checkpoint)
	case f.pretrained:
		return loadPretrained(f.model)
	}
	m, err := zoo.New(f.model)
	if err != nil {
		return nil, usageError{err}
	}
	return &train.Checkpoint{Model: m, Seed: 1, Extra: map[string]string{"zoo_model": f.model}}, nil
}

// needPretrained refuses --model without --pretrained in the commands for which freshly
// initialized weights mean nothing; why says so.
func (f *modelFlags) needPretrained(cmd, why string) error {
	if f.model != "" && f.checkpoint == "" && !f.pretrained {
		return usagef("%s --model %s needs --pretrained (%s)", cmd, f.model, why)
	}
	return nil
}

// writeOutput writes data to path atomically (a temporary file in the same directory,
// renamed into place), or to stdout when path is "" or "-".
func writeOutput(c *cobra.Command, path string, data []byte) error {
	if path == "" || path == "-" {
		_, err := c.OutOrStdout().Write(data)
		return err
	}
	if err := checkpoint.WriteFileAtomic(path, data); err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return errors.Errorf("cannot write %q: %v", path, pe.Err)
		}
		return err
	}
	return nil
}

// exitError carries a specific exit status (130 after Ctrl-C).
type exitError struct {
	err  error
	code int
}

func (e exitError) Error() string { return e.err.Error() }
