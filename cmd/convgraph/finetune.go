package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pkg/errors"
	"github.com/spf13/cobra"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/internal/console"
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
	resume     bool
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
class count); --keep-head keeps the pretrained one when the count matches. In a second
phase (the default with --freeze backbone on a zoo model; --two-phase=false skips it) the
backbone's last stage is unfrozen and trained --fine-epochs more at --fine-lr (default
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
	fl.BoolVar(&f.twoPhase, "two-phase", false, "after --epochs, unfreeze the backbone's last stage and train --fine-epochs more (default: on with --freeze backbone from a zoo model)")
	fl.IntVar(&f.fineEpochs, "fine-epochs", 0, "epochs of the second phase (default: --epochs)")
	fl.Float64Var(&f.fineLR, "fine-lr", 0, "learning rate of the second phase (default: --lr/10)")
	fl.BoolVar(&f.overwrite, "overwrite", false, "replace an existing run in --out")
	fl.BoolVar(&f.keepHead, "keep-head", false, "keep the pretrained classifier when the class count matches (default: a fresh one)")
	fl.BoolVar(&f.scratch, "scratch", false, "ignore the pretrained weights: train the same architecture from a fresh initialization (implies --freeze none)")
	fl.BoolVar(&f.resume, "resume", false, "continue the run saved in --out (after Ctrl-C, SIGTERM or a crash) with its recorded settings")
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
	if f.resume {
		if f.out == "" {
			return usagef("finetune --resume needs --out DIR, the run to continue")
		}
		for _, name := range []string{"from", "freeze", "dataset", "train-limit", "classes", "epochs", "batch", "lr", "seed",
			"two-phase", "fine-epochs", "fine-lr", "overwrite", "keep-head", "scratch"} {
			if c.Flags().Changed(name) {
				return usagef("finetune --resume continues the run in %s with its own settings: drop --%s", f.out, name)
			}
		}
		return resumeFinetune(c, f)
	}
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
	if f.from == "" {
		return usagef("finetune needs --from NAME|CHECKPOINT")
	}
	if err := f.check(); err != nil {
		return err
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
	if !c.Flags().Changed("two-phase") {
		// Keras's recipe by default: train the new head on the frozen backbone, then thaw
		// its last stage. A frozen backbone alone underfits data unlike its own (fashion-cnn
		// on digits: 0.57 head only, 0.78 in two phases), and there is nothing to thaw when
		// nothing is frozen or the backbone's stages are unknown.
		info, ok := zoo.Lookup(zooName)
		f.twoPhase = f.freeze == "backbone" && ok && len(info.LastStage) > 0
	}
	if err := f.checkTwoPhase(zooName); err != nil {
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
		return usagef("--out %s already holds a run (%s); pass --resume to continue it, --overwrite to replace it, or another --out", f.out, ckpt)
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
	trainSet, err := f.trainSet(split)
	if err != nil {
		return err
	}
	if err := checkOut(f.out); err != nil {
		return err
	}
	run := &finetuneRun{f: f, dist: dist, m: m, zooName: zooName, name: name, ckpt: ckpt, split: split, trainSet: trainSet,
		history: &train.History{Model: m.Name()}, stdout: stdout, stderr: stderr}
	if dist.leader() {
		unlock, err := lockRunDir(f.out)
		if err != nil {
			return err
		}
		defer unlock()
		if _, err := os.Stat(ckpt); err == nil && !f.overwrite {
			return usagef("--out %s already holds a run (%s), written since this run started; pass --resume to continue it, --overwrite to replace it, or another --out", f.out, ckpt)
		}
	}
	_, trainable, frozen := m.ParamCounts()
	if !f.jsonOut {
		if f.scratch {
			fmt.Fprintf(stderr, "training %s from scratch (seed %d) on %s (%d images), %d classes: %s trainable parameters\n",
				name, f.seed, trainSet.Name, trainSet.Len(), classes, console.Commas(trainable))
		} else {
			fmt.Fprintf(stderr, "fine-tuning %s on %s (%d images) with a new %d-class head %q: %s trainable, %s frozen parameters\n",
				name, trainSet.Name, trainSet.Len(), classes, m.HeadLayer(), console.Commas(trainable), console.Commas(frozen))
		}
	}
	return run.fit(0, 0, nil, 1)
}

// check validates the flags that set the training, before anything is loaded or trained.
func (f *finetuneFlags) check() error {
	switch {
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
	case f.fineEpochs < 0 || f.fineLR < 0 || f.fineLR != f.fineLR:
		return usagef("--fine-epochs and --fine-lr must not be negative")
	case f.epochs > train.MaxEpochs || f.fineEpochs > train.MaxEpochs-f.epochs:
		return usagef("--epochs %d and --fine-epochs %d make more than the limit of %d epochs", f.epochs, f.fineEpochs, train.MaxEpochs)
	}
	if f.fineEpochs == 0 {
		f.fineEpochs = f.epochs
	}
	if f.fineLR == 0 {
		f.fineLR = f.lr / 10
	}
	return nil
}

// checkTwoPhase makes sure phase 2 can run before phase 1 starts: it needs the zoo
// model's last stage.
func (f *finetuneFlags) checkTwoPhase(zooName string) error {
	if !f.twoPhase {
		return nil
	}
	if info, ok := zoo.Lookup(zooName); !ok || len(info.LastStage) == 0 {
		return usagef("--two-phase needs to know the backbone's last stage: --from a zoo model (or a checkpoint trained from one)")
	}
	return nil
}

// trainSet applies --train-limit.
func (f *finetuneFlags) trainSet(split *data.Split) (*data.Dataset, error) {
	if f.trainLimit == 0 {
		return split.Train, nil
	}
	if f.trainLimit > split.Train.Len() {
		return nil, usagef("--train-limit %d is more than the %d training images", f.trainLimit, split.Train.Len())
	}
	return split.Train.Take(f.trainLimit, f.seed), nil
}

// finetuneRun is a fine-tuning run in progress: what it saves after every epoch, on
// Ctrl-C or SIGTERM, and at its end.
type finetuneRun struct {
	f              finetuneFlags
	dist           *distributed
	m              *nn.Model
	zooName, name  string
	ckpt           string
	split          *data.Split
	trainSet       *data.Dataset
	history        *train.History
	stdout, stderr io.Writer

	phase      int // 1, or 2 once the last stage is unfrozen
	opt        train.Optimizer
	epochsDone int
	stepsDone  int
}

// extra is what a checkpoint records of the run, so that --resume can continue it.
func (r *finetuneRun) extra() map[string]string {
	f := r.f
	return map[string]string{"dataset": f.data.dataset, "zoo_model": r.zooName, "freeze": f.freeze,
		"train-limit": strconv.Itoa(f.trainLimit), "scratch": strconv.FormatBool(f.scratch),
		"classes": classesJSON(r.split.Train.Classes), "command": "finetune", "name": r.name,
		"epochs": strconv.Itoa(f.epochs), "fine-epochs": strconv.Itoa(f.fineEpochs), "two-phase": strconv.FormatBool(f.twoPhase),
		"lr": strconv.FormatFloat(f.lr, 'g', -1, 64), "fine-lr": strconv.FormatFloat(f.fineLR, 'g', -1, 64),
		"batch": strconv.Itoa(f.batch), "phase": strconv.Itoa(r.phase), "ranks": strconv.Itoa(r.dist.ranks())}
}

func (r *finetuneRun) save() error {
	if !r.dist.leader() {
		return nil
	}
	if err := train.Save(r.ckpt, r.m, r.opt, train.Checkpoint{Epoch: r.epochsDone, Step: r.stepsDone, Seed: r.f.seed,
		History: r.history, Extra: r.extra()}); err != nil {
		return err
	}
	return writeHistory(r.f.out, r.history)
}

// fit trains from epoch (and optimizer step) on: the rest of phase 1 if epoch is inside
// it, then phase 2 with --two-phase. state, if not nil, is the saved optimizer state of
// phase statePhase. The run is saved after every epoch (so after phase 1 too), and on
// Ctrl-C or SIGTERM before exiting 130 or 143.
func (r *finetuneRun) fit(epoch, step int, state map[string][]float64, statePhase int) error {
	f := r.f
	r.epochsDone, r.stepsDone = epoch, step
	ctx, signalled, stop := interruptible()
	defer stop()
	start := time.Now()
	cfg := train.Config{BatchSize: f.batch, Seed: f.seed, History: r.history, Comm: r.dist.Comm()}
	if !f.jsonOut {
		cfg.Progress = r.stderr
	}
	cfg.OnStep = func(_, s int) { r.stepsDone = s }
	cfg.Callbacks = []train.Callback{callbackFunc(func(_ *nn.Model, l train.EpochLogs) (bool, error) {
		r.epochsDone = l.Epoch
		return false, r.save()
	})}
	interrupted := func(err error) error {
		if !errors.Is(err, train.ErrInterrupted) {
			return err // keep the last epoch's checkpoint as it is
		}
		if err := r.save(); err != nil {
			return err
		}
		fmt.Fprintf(r.stderr, "\ninterrupted after %d steps; %s; continue with: %sconvgraph finetune --out %s --resume%s\n",
			r.stepsDone, savedFiles(r.ckpt, "history.json", "history.csv"), r.dist.launcher(), f.out, r.dist.flag())
		return interruptedError(signalled())
	}
	newOpt := func(phase int) (train.Optimizer, error) {
		opt := &train.Adam{} // a fresh one per phase, as Keras's guide recompiles
		if state != nil && statePhase == phase {
			if err := opt.SetState(state); err != nil {
				return nil, errors.Wrapf(err, "--resume %s", r.ckpt)
			}
		}
		return opt, nil
	}
	// The recipe itself is the library's (train.FineTune, zoo.LastStage); the run around
	// it saves, resumes and reports.
	var err error
	ft := train.FineTuneConfig{Config: cfg}
	ft.Config.Epochs, ft.Config.InitialEpoch, ft.Config.InitialStep, ft.Config.LR = f.epochs, epoch, step, f.lr
	if epoch < f.epochs {
		r.phase = 1
		if r.opt, err = newOpt(1); err != nil {
			return err
		}
		ft.Config.Optimizer = r.opt
	}
	phase1 := -1.0
	if f.twoPhase {
		if ft.Unfreeze, err = zoo.LastStage(r.m, r.zooName); err != nil { // checked before phase 1
			return err
		}
		ft.FineEpochs, ft.FineLR = f.fineEpochs, f.fineLR
		ft.BeforeFine = func(c *train.Config) error {
			phase1 = medianEpochSeconds(r.history.Epochs[:min(f.epochs, len(r.history.Epochs))])
			var err error
			if r.opt, err = newOpt(2); err != nil {
				return err
			}
			r.phase, c.Optimizer = 2, r.opt
			if epoch >= f.epochs {
				c.InitialStep = step // resumed inside phase 2
			}
			_, trainable, _ := r.m.ParamCounts()
			if !f.jsonOut {
				fmt.Fprintf(r.stderr, "phase 2: unfroze %s (%s trainable parameters), learning rate %g\n",
					strings.Join(ft.Unfreeze, ", "), console.Commas(trainable), c.LR)
			}
			return nil
		}
	}
	if _, err := train.FineTune(ctx, r.m, r.trainSet, ft); err != nil {
		return interrupted(err)
	}
	var phase2 float64
	if phase1 < 0 {
		phase1 = medianEpochSeconds(r.history.Epochs[:min(f.epochs, len(r.history.Epochs))])
	}
	if f.twoPhase {
		phase2 = medianEpochSeconds(r.history.Epochs[min(f.epochs, len(r.history.Epochs)):])
	}
	if err := r.save(); err != nil {
		return err
	}
	ev, err := train.EvaluateDistributed(r.dist.Comm(), r.m, r.split.Test, 256)
	if err != nil {
		return err
	}
	_, trainable, frozen := r.m.ParamCounts()
	h := r.history
	res := map[string]any{"model": r.name, "dataset": r.split.Test.Name, "sample": r.split.IsSample(),
		"freeze": f.freeze, "two_phase": f.twoPhase, "scratch": f.scratch,
		"train_images": r.trainSet.Len(), "epochs": len(h.Epochs),
		"trainable_params": trainable, "frozen_params": frozen,
		"seconds_per_epoch_phase1": phase1, "seconds_per_epoch_phase2": phase2,
		"test_accuracy": ev.Accuracy, "test_loss": ev.Loss, "test_images": ev.Images,
		"seconds": time.Since(start).Seconds(), "checkpoint": r.ckpt}
	hint := underfitHint(h, trainable, frozen)
	if hint != "" {
		res["hint"] = hint
	}
	if f.jsonOut {
		return json.NewEncoder(r.stdout).Encode(res)
	}

	fmt.Fprintln(r.stderr, savedFiles(r.ckpt, "history.json", "history.csv"))
	if hint != "" {
		fmt.Fprintln(r.stderr, "NOTE: "+hint)
	}
	if r.split.IsSample() {
		fmt.Fprintln(r.stderr, "NOTE: this accuracy is on the bundled sample's 500 test images, not the full test set.")
	}
	fmt.Fprintf(r.stdout, "test accuracy: %.4f\n", ev.Accuracy)
	return nil
}

// resumeFinetune continues the fine-tuning run saved in --out: the model as saved (its
// new head, its frozen layers), the phase, epoch and step it reached, the optimizer's
// state, and the settings it recorded.
func resumeFinetune(c *cobra.Command, f finetuneFlags) (err error) {
	stdout, stderr := c.OutOrStdout(), c.ErrOrStderr()
	dist, err := joinDistributed(f.distrib)
	if err != nil {
		return err
	}
	defer func() { err = dist.finish(err) }()
	stdout, stderr = dist.output(stdout, stderr)
	ckpt := filepath.Join(f.out, "model.safetensors")
	if dist.leader() {
		unlock, err := lockRunDir(f.out)
		if err != nil {
			return err
		}
		defer unlock()
	}
	saved, err := train.Load(ckpt)
	if err != nil {
		return errors.Wrap(err, "--resume")
	}
	x := saved.Extra
	if x["command"] != "finetune" {
		return usagef("--resume: %s was not written by convgraph finetune; continue it with convgraph train --resume", ckpt)
	}
	bad := func(k string) error {
		return errors.Errorf("--resume: checkpoint %s: bad %s %q", ckpt, k, x[k])
	}
	ints := map[string]*int{"epochs": &f.epochs, "fine-epochs": &f.fineEpochs, "batch": &f.batch, "train-limit": &f.trainLimit}
	for k, dst := range ints {
		if *dst, err = strconv.Atoi(x[k]); err != nil {
			return bad(k)
		}
	}
	for k, dst := range map[string]*float64{"lr": &f.lr, "fine-lr": &f.fineLR} {
		if *dst, err = strconv.ParseFloat(x[k], 64); err != nil {
			return bad(k)
		}
	}
	for k, dst := range map[string]*bool{"two-phase": &f.twoPhase, "scratch": &f.scratch} {
		if *dst, err = strconv.ParseBool(x[k]); err != nil {
			return bad(k)
		}
	}
	phase, err := strconv.Atoi(x["phase"])
	if err != nil || (phase != 1 && phase != 2) {
		return bad("phase")
	}
	f.freeze, f.seed, f.from = x["freeze"], saved.Seed, x["zoo_model"]
	if !c.Flags().Changed("dataset") {
		f.data.dataset = x["dataset"]
	}
	if err := f.check(); err != nil {
		return errors.Errorf("--resume: checkpoint %s: %v", ckpt, err)
	}
	if err := f.checkTwoPhase(x["zoo_model"]); err != nil {
		return errors.Errorf("--resume: checkpoint %s: %v", ckpt, err)
	}
	total := f.epochs
	if f.twoPhase {
		total += f.fineEpochs
	}
	if saved.Epoch >= total {
		return usagef("--resume: the run in %s already did its %d epochs", f.out, saved.Epoch)
	}
	split, err := f.data.load(saved.Model, f.seed, stderr)
	if err != nil {
		return err
	}
	trainSet, err := f.trainSet(split)
	if err != nil {
		return err
	}
	if saved.History == nil {
		saved.History = &train.History{Model: saved.Model.Name()}
	}
	// A run saved on another number of ranks took steps of another global batch: the
	// step is counted again in this run's global batch (train's --resume does the same).
	step, err := resumeStep(x, saved.Epoch, saved.Step, trainSet.Len(), f.batch, dist.ranks())
	if err != nil {
		return err
	}
	run := &finetuneRun{f: f, dist: dist, m: saved.Model, zooName: x["zoo_model"], name: x["name"], ckpt: ckpt, split: split,
		trainSet: trainSet, history: saved.History, stdout: stdout, stderr: stderr}
	if !f.jsonOut {
		fmt.Fprintf(stderr, "fine-tuning %s on %s (%d images): resuming after epoch %d of %d\n", run.name, trainSet.Name, trainSet.Len(), saved.Epoch, total)
	}
	return run.fit(saved.Epoch, step, saved.OptimizerState, phase)
}

// underfitHint says, when most of the model stayed frozen and it ended below 90% training
// accuracy, that the frozen features may not suit the data and what to try: a frozen
// backbone that cannot fit the training images will not do better on the test set.
func underfitHint(h *train.History, trainable, frozen int) string {
	if len(h.Epochs) == 0 || frozen <= trainable {
		return ""
	}
	last := h.Epochs[len(h.Epochs)-1]
	if last.Accuracy >= 0.9 {
		return ""
	}
	return fmt.Sprintf("the last epoch reached %.4f training accuracy with %s of %s parameters frozen: the frozen features may not suit this data; try --freeze none (and --scratch for a baseline)",
		last.Accuracy, console.Commas(frozen), console.Commas(trainable+frozen))
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
