package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"github.com/spf13/cobra"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/preprocess"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

func newEval() *cobra.Command {
	var (
		mf      modelFlags
		df      dataFlags
		batch   int
		jsonOut bool
	)
	c := &cobra.Command{
		Use:   "eval --checkpoint FILE | --model NAME --pretrained [flags]",
		Short: "Evaluate a checkpoint or a zoo model's shipped weights on a test set: accuracy, loss, per-class accuracy",
		Args:  noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := mf.needPretrained("eval", "an untrained model's accuracy means nothing"); err != nil {
				return err
			}
			if batch <= 0 {
				return usagef("--batch %d must be positive", batch)
			}
			saved, err := mf.loadSaved("eval")
			if err != nil {
				return err
			}
			if !c.Flags().Changed("dataset") {
				if v, ok := saved.Extra["dataset"]; ok {
					df.dataset = v
				}
			}
			split, err := df.load(saved.Model, saved.Seed, c.ErrOrStderr())
			if err != nil {
				return err
			}
			if err := sameClasses(mf.checkpoint, saved.Extra, split.Test); err != nil {
				return err
			}
			ev, err := train.Evaluate(saved.Model, split.Test, batch)
			if err != nil {
				return err
			}
			classes := split.Test.Classes
			if jsonOut {
				per := map[string]float64{}
				for i, a := range ev.PerClass {
					if a == a {
						per[className(classes, i)] = a
					}
				}
				return json.NewEncoder(c.OutOrStdout()).Encode(map[string]any{
					"model": saved.Model.Name(), "dataset": split.Test.Name, "sample": split.IsSample(),
					"test_accuracy": ev.Accuracy, "test_loss": ev.Loss, "test_images": ev.Images,
					"per_class_accuracy": per, "confusion": ev.Confusion,
				})
			}
			out := c.OutOrStdout()
			fmt.Fprintf(out, "test accuracy: %.4f\n", ev.Accuracy)
			fmt.Fprintf(out, "test loss: %.4f (%d images of %s)\n", ev.Loss, ev.Images, split.Test.Name)
			fmt.Fprintln(out, "per-class accuracy:")
			for i, a := range ev.PerClass {
				if a == a {
					fmt.Fprintf(out, "  %-12s %.4f\n", className(classes, i), a)
				}
			}
			return nil
		},
	}
	mf.add(c, true)
	c.Flags().StringVar(&df.dataset, "dataset", data.FashionMNIST, "fashion-mnist, mnist, sample, or an image folder (default: the checkpoint's)")
	c.Flags().StringVar(&df.dataDir, "data-dir", "", "directory holding the data set's IDX files")
	c.Flags().IntVar(&batch, "batch", 256, "evaluation batch size")
	c.Flags().BoolVar(&jsonOut, "json", false, "print one JSON object with test_accuracy")
	return c
}

func className(classes []string, i int) string {
	if i < len(classes) {
		return classes[i]
	}
	return strconv.Itoa(i)
}

func newPredict() *cobra.Command {
	var (
		mf     modelFlags
		top    int
		invert string
	)
	c := &cobra.Command{
		Use:   "predict --checkpoint FILE | --model NAME --pretrained IMAGE...",
		Short: "Classify PNG or JPEG images with a checkpoint or a zoo model's shipped weights and print the top classes",
		Long: `Classify PNG or JPEG images with the preprocessing the model stores: each image is
resized to the model's input with its aspect ratio kept (padded with its own background
colour), converted to the model's channels and scaled (1/255 by default). An image whose
border shows the opposite background of the training images (a dark object on white for a
Fashion-MNIST model, whose images are light objects on black) is inverted, and a line on
stderr says so; --invert no keeps it as it is, --invert yes inverts every image.`,
		RunE: func(c *cobra.Command, args []string) error {
			if err := mf.needPretrained("predict", "an untrained model's predictions mean nothing"); err != nil {
				return err
			}
			if len(args) == 0 {
				return usagef("predict needs at least one IMAGE")
			}
			if top <= 0 {
				return usagef("--top %d must be positive", top)
			}
			mode, err := preprocess.ParseInvert(invert)
			if err != nil {
				return usagef("--invert %q: want auto, yes or no", invert)
			}
			saved, err := mf.loadSaved("predict")
			if err != nil {
				return err
			}
			if len(saved.Model.InputShape()) != 3 {
				return errors.Errorf("model %q takes vectors, not images", saved.Model.Name())
			}
			classes := savedClasses(saved.Extra)
			out, reports, err := saved.Model.PredictFiles(args, preprocess.WithInvert(mode))
			if err != nil {
				return err
			}
			trained := saved.Model.Preprocessing().Background
			for _, r := range reports {
				if note := r.Notice(trained); note != "" {
					hint := ""
					if r.Mismatch && r.Inverted && mode == preprocess.InvertAuto {
						hint = " (--invert no keeps it)"
					} else if r.Mismatch && !r.Inverted {
						hint = " (--invert yes inverts it)"
					}
					fmt.Fprintf(c.ErrOrStderr(), "predict: %s%s\n", note, hint)
				}
			}
			w := c.OutOrStdout()
			for i, p := range train.Predictions(out) {
				var parts []string
				for _, k := range p.Top[:min(top, len(p.Top))] {
					parts = append(parts, fmt.Sprintf("%s %.4f", className(classes, k), p.Probs[k]))
				}
				fmt.Fprintf(w, "%s: %s\n", args[i], strings.Join(parts, ", "))
			}
			return nil
		},
	}
	mf.add(c, true)
	c.Flags().IntVar(&top, "top", 3, "how many classes to print per image")
	c.Flags().StringVar(&invert, "invert", "auto", "invert images: auto (when an image's background is the opposite of the training images'), yes or no")
	return c
}

// sameClasses checks that the data set has the classes the checkpoint was trained on,
// in the same order: a model's output k means class k of its training set, so another
// set's class k would be scored against the wrong output.
func sameClasses(ckpt string, extra map[string]string, d *data.Dataset) error {
	var trained []string
	if json.Unmarshal([]byte(extra["classes"]), &trained) != nil || len(trained) == 0 {
		return nil // a checkpoint that does not record them (older ones, zoo weights)
	}
	if !slices.Equal(trained, d.Classes) {
		return errors.Errorf("checkpoint %s was trained on the classes %s, but %s has %s",
			ckpt, strings.Join(trained, ","), d.Name, strings.Join(d.Classes, ","))
	}
	return nil
}

// loadPretrained wraps a zoo model with its shipped weights as a checkpoint.
func loadPretrained(name string) (*train.Checkpoint, error) {
	if _, ok := zoo.Lookup(name); !ok {
		_, err := zoo.New(name)
		return nil, usageError{err}
	}
	m, _, err := zoo.Pretrained(name)
	if err != nil {
		return nil, err
	}
	return &train.Checkpoint{Model: m, Seed: 1, Extra: map[string]string{"dataset": data.FashionMNIST, "zoo_model": name}}, nil
}

// classesJSON is the class names a checkpoint records, so that predict can name the classes
// of an image folder as well as those of a registered data set.
func classesJSON(classes []string) string {
	b, _ := json.Marshal(classes)
	return string(b)
}

// savedClasses returns the class names a checkpoint recorded, else those of the registered
// data set it was trained on, else nil (predict then prints class indices).
func savedClasses(extra map[string]string) []string {
	var classes []string
	if json.Unmarshal([]byte(extra["classes"]), &classes) == nil && len(classes) > 0 {
		return classes
	}
	if spec, ok := data.Lookup(extra["dataset"]); ok {
		return spec.Classes
	}
	return nil
}
