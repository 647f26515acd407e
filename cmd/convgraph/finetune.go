package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pkg/errors"
	"github.com/spf13/cobra"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

type finetuneFlags struct {
	from       string
	freeze     string
	data       dataFlags
	trainLimit int
	classes    int
	epochs     int
	batch      int
	lr         float64
	seed       uint64
	out        string
	jsonOut    bool
	twoPhase   bool
	fineEpochs int
	fineLR     float64
	overwrite  bool
	keepHead   bool
	scratch    bool
	distrib    bool
}

func newFinetune() *cobra.Command {
	var f finetuneFlags
	c := &cobra.Command{
		Use:   "finetune --from NAME|CHECKPOINT --freeze SPEC --dataset mnist|DIR [flags]",
		Short: "Fine-tune a pretrained model on new data with frozen layers (transfer learning)",
		Long: `Fine-tune a zoo model's pretrained weights (or a checkpoint) on another data set.

--freeze SPEC says what stays fixed:
  backbone         everything but the classifier (the last layer with parameters)
  none             nothing: train every layer
  upto:LAYER       every layer up to and including LAYER
  A,B,prefix/      the named layers, and every layer under a prefix ending in /

The classifier is replaced by a fresh one for --classes classes (default: the data set's
class count); --keep-head keeps the pretrained one when the count matches. --two-phase then
unfreezes the backbone's last stage and trains --fine-epochs more at --fine-lr (default
--lr/10), as in Keras's transfer-learning guide.

--scratch trains the same architecture from a fresh initialization (--seed) with nothing
frozen: the baseline a transfer result is compared against (Keras's weights=None).`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error { return runFinetune(c, f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.from, "from", "", "zoo model with pretrained weights ("+strings.Join(zoo.PretrainedNames(), ", ")+") or a checkpoint file")
	fl.StringVar(&f.freeze, "freeze", "backbone", "what to freeze: backbone, none, upto:LAYER, or layer names/prefixes separated by commas")
	fl.StringVar(&f.data.dataset, "dataset", data.MNIST, "mnist, fashion-mnist, sample-mnist, sample, or an image folder DIR/<class>/*.png")
	fl.StringVar(&f.data.dataDir, "data-dir", "", "directory holding the data set's IDX files")
	fl.IntVar(&f.trainLimit, "train-limit", 0, "train on the first N images of a class-balanced seeded shuffle (0: all)")
	fl.IntVar(&f.classes, "classes", 0, "classes of the new head (default: the data set's)")
	fl.IntVar(&f.epochs, "epochs", 5, "epochs (of the first phase with --two-phase)")
	fl.IntVar(&f.batch, "batch", 32, "mini-batch size")
	fl.Float64Var(&f.lr, "lr", 1e-3, "learning rate (Adam)")
	fl.Uint64Var(&f.seed, "seed", 1, "seed for the new head, shuffling, dropout and --train-limit")
	fl.StringVar(&f.out, "out", "", "output directory (default runs/finetune-MODEL)")
	fl.BoolVar(&f.jsonOut, "json", false, "print one JSON object with test_accuracy")
	fl.BoolVar(&f.twoPhase, "two-phase", false, "after --epochs, unfreeze the backbone's last stage and train --fine-epochs more")
	fl.IntVar(&f.fineEpochs, "fine-epochs", 0, "epochs of the second phase (default: --epochs)")
	fl.Float64Var(&f.fineLR, "fine-lr", 0, "learning rate of the second phase (default: --lr/10)")
	fl.BoolVar(&f.overwrite, "overwrite", false, "replace an existing run in --out")
	fl.BoolVar(&f.keepHead, "keep-head", false, "keep the pretrained classifier when the class count matches (default: a fresh one)")
	fl.BoolVar(&f.scratch, "scratch", false, "ignore the pretrained weights: train the same architecture from a fresh initialization (implies --freeze none)")
	addDistributedFlag(fl, &f.distrib)
	return c
}

// source loads what --from names: a zoo model's pretrained weights or a checkpoint.
func (f *finetuneFlags) source() (m *nn.Model, zooName string, err error) {
	if _, ok := zoo.Lookup(f.from); ok {
		if f.scratch {
			m, err = zoo.New(f.from)
		} else {
			m, _, err = zoo.Pretrained(f.from)
		}
		return m, f.from, err
	}
	if _, statErr := os.Stat(f.from); statErr != nil {
		return nil, "", usagef("--from %q is neither a zoo model with pretrained weights (%s) nor a checkpoint file",
			f.from, strings.Join(zoo.PretrainedNames(), ", "))
	}
	c, err := train.Load(f.from)
	if err != nil {
		return nil, "", err
	}
	return c.Model, c.Extra["zoo_model"], nil
}

// applyFreeze freezes what spec names.
func applyFreeze(m *nn.Model, spec string) error {
	spec = strings.TrimSpace(spec)
	switch {
	case spec == "none":
		return nil
	case spec == "backbone":
		head := m.HeadLayer()
		var names []string
		for _, l := range m.Layers() {
			if l.Name != head && len(l.Params) > 0 {
				names = append(names, l.Name)
			}
		}
		if len(names) == 0 {
			return usagef("--freeze backbone: model %q has no layers besides its head %q", m.Name(), head)
		}
		return m.Freeze(names...)
	case strings.HasPrefix(spec, "upto:"):
		if err := m.FreezeUpTo(strings.TrimPrefix(spec, "upto:")); err != nil {
			return usageError{errors.Wrap(err, "--freeze")}
		}
		return nil
	}
	var names []string
	for _, n := range strings.Split(spec, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return usagef("--freeze %q names no layer", spec)
	}
	if err := m.Freeze(names...); err != nil {
		return usageError{errors.Wrap(err, "--freeze")}
	}
	return nil
}

func runFinetune(c *cobra.Command, f finetuneFlags) (err error) {
	stdout, stderr := c.OutOrStdout(), c.ErrOrStderr()
	if f.scratch {
		switch {
		case c.Flags().Changed("freeze") && f.freeze != "none":
			return usagef("--scratch trains every layer: --freeze %q has nothing pretrained to keep", f.freeze)
		case f.twoPhase:
			return usagef("--scratch and --two-phase do not go together: a model trained from scratch has no frozen backbone to thaw")
		case f.keepHead:
			return usagef("--scratch and --keep-head do not go together: there is no pretrained head to keep")
		}
		f.freeze = "none"
	}
	switch {
	case f.from == "":
		return usagef("finetune needs --from NAME|CHECKPOINT")
	case f.epochs <= 0:
		return usagef("--epochs %d must be positive", f.epochs)
	case f.batch <= 0:
		return usagef("--batch %d must be positive", f.batch)
	case !(f.lr > 0):
		return usagef("--lr %v must be positive", f.lr)
	case f.trainLimit < 0:
		return usagef("--train-limit %d must not be negative", f.trainLimit)
	case f.classes < 0 || f.classes == 1:
		return usagef("--classes %d must be at least 2", f.classes)
	case f.fineEpochs < 0 || f.fineLR < 0:
		return usagef("--fine-epochs and --fine-lr must not be negative")
	}
	dist, err := joinDistributed(f.distrib)
	if err != nil {
		return err
	}
	defer func() { err = dist.finish(err) }()
	stdout, stderr = dist.output(stdout, stderr)
	m, zooName, err := f.source()
	if err != nil {
		return err
	}
	name := zooName
	if name == "" {
		name = m.Name()
	}
	if f.out == "" {
		f.out = filepath.Join("runs", "finetune-"+name)
	}
	ckpt := filepath.Join(f.out, "model.safetensors")
	if _, err := os.Stat(ckpt); err == nil && !f.overwrite {
		return usagef("--out %s already holds a run (%s); pass --overwrite to replace it, or another --out", f.out, ckpt)
	}
	split, err := f.data.load(m, f.seed, stderr)
	if err != nil {
		return err
	}
	classes := f.classes
	if classes == 0 {
		classes = split.Train.NumClasses()
	}
	if classes < split.Train.NumClasses() {
		return usagef("--classes %d does not fit %s, which has %d classes", classes, split.Train.Name, split.Train.NumClasses())
	}
	if out := m.OutputShape(); !f.keepHead || len(out) != 1 || out[0] != classes {
		// A new task gets a new classifier, as in Keras's guide (include_top=False plus a
		// fresh Dense): the old one's weights mean other classes.
		if m, err = m.ReplaceHead(classes, f.seed); err != nil {
			return err
		}
	}
	if f.scratch {
		if err := m.Initialize(f.seed); err != nil {
			return err
		}
	}
	if err := applyFreeze(m, f.freeze); err != nil {
		return err
	}
	if err := checkOut(f.out); err != nil {
		return err
	}
	trainSet := split.Train
	if f.trainLimit > 0 {
		if f.trainLimit > trainSet.Len() {
			return usagef("--train-limit %d is more than the %d training images", f.trainLimit, trainSet.Len())
		}
		trainSet = trainSet.Take(f.trainLimit, f.seed)
	}
	_, trainable, frozen := m.ParamCounts()
	if !f.jsonOut {
		if f.scratch {
			fmt.Fprintf(stderr, "training %s from scratch (seed %d) on %s (%d images), %d classes: %s trainable parameters\n",
				name, f.seed, trainSet.Name, trainSet.Len(), classes, commas(trainable))
		} else {
			fmt.Fprintf(stderr, "fine-tuning %s on %s (%d images) with a new %d-class head %q: %s trainable, %s frozen parameters\n",
				name, trainSet.Name, trainSet.Len(), classes, m.HeadLayer(), commas(trainable), commas(frozen))
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), dist.stopSignals()...)
	defer stop()
	start := time.Now()
	cfg := train.Config{Epochs: f.epochs, BatchSize: f.batch, LR: f.lr, Seed: f.seed, Optimizer: &train.Adam{},
		History: &train.History{Model: m.Name()}, Comm: dist.Comm()}
	if !f.jsonOut {
		cfg.Progress = stderr
	}
	h, err := train.Fit(ctx, m, trainSet, cfg)
	if err != nil {
		return err
	}
	phase1 := medianEpochSeconds(h.Epochs)
	var phase2 float64
	if f.twoPhase {
		info, ok := zoo.Lookup(zooName)
		if !ok || len(info.LastStage) == 0 {
			return usagef("--two-phase needs to know the backbone's last stage: --from a zoo model (or a checkpoint trained from one)")
		}
		if err := m.Unfreeze(info.LastStage...); err != nil {
			return err
		}
		cfg2 := cfg
		// Epoch numbering and the step count go on where phase 1 stopped.
		cfg2.Epochs, cfg2.InitialEpoch = f.epochs+f.fineEpochs, f.epochs
		if f.fineEpochs == 0 {
			cfg2.Epochs = 2 * f.epochs
		}
		cfg2.LR = f.fineLR
		if cfg2.LR == 0 {
			cfg2.LR = f.lr / 10
		}
		cfg2.Schedule = nil
		cfg2.Optimizer = &train.Adam{} // a fresh optimizer, as Keras's guide recompiles
		_, trainable, _ = m.ParamCounts()
		if !f.jsonOut {
			fmt.Fprintf(stderr, "phase 2: unfroze %s (%s trainable parameters), learning rate %g\n",
				strings.Join(info.LastStage, ", "), commas(trainable), cfg2.LR)
		}
		if h, err = train.Fit(ctx, m, trainSet, cfg2); err != nil {
			return err
		}
		phase2 = medianEpochSeconds(h.Epochs[f.epochs:])
	}
	extra := map[string]string{"dataset": f.data.dataset, "zoo_model": zooName, "freeze": f.freeze,
		"train-limit": strconv.Itoa(f.trainLimit), "scratch": strconv.FormatBool(f.scratch),
		"classes": classesJSON(split.Train.Classes)}
	if dist.leader() { // rank 0 writes the run
		if err := train.Save(ckpt, m, cfg.Optimizer, train.Checkpoint{Epoch: len(h.Epochs), Seed: f.seed, History: h, Extra: extra}); err != nil {
			return err
		}
		if err := writeHistory(f.out, h); err != nil {
			return err
		}
	}
	ev, err := train.EvaluateDistributed(dist.Comm(), m, split.Test, 256)
	if err != nil {
		return err
	}
	res := map[string]any{"model": name, "dataset": split.Test.Name, "sample": split.IsSample(),
		"freeze": f.freeze, "two_phase": f.twoPhase, "scratch": f.scratch,
		"train_images": trainSet.Len(), "epochs": len(h.Epochs),
		"trainable_params": trainable, "frozen_params": frozen,
		"seconds_per_epoch_phase1": phase1, "seconds_per_epoch_phase2": phase2,
		"test_accuracy": ev.Accuracy, "test_loss": ev.Loss, "test_images": ev.Images,
		"seconds": time.Since(start).Seconds(), "checkpoint": ckpt}
	if f.jsonOut {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stderr, "saved %s\n", ckpt)
	fmt.Fprintf(stdout, "test accuracy: %.4f\n", ev.Accuracy)
	return nil
}

// medianEpochSeconds is the median wall time of the epochs: a first epoch that warms
// caches or a moment of load on a shared machine does not decide it.
func medianEpochSeconds(epochs []train.EpochLogs) float64 {
	if len(epochs) == 0 {
		return 0
	}
	s := make([]float64, len(epochs))
	for i, e := range epochs {
		s[i] = e.Seconds
	}
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}
