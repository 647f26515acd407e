package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pkg/errors"
	"github.com/spf13/cobra"

	"github.com/convgraph/convgraph/checkpoint"
	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

type trainFlags struct {
	model     string
	data      dataFlags
	epochs    int
	batch     int
	lr        float64
	optimizer string
	seed      uint64
	out       string
	jsonOut   bool
	valSplit  float64
	patience  int
	augment   bool
	schedule  string
	resume    bool
	overwrite bool
	distrib   bool
	freshOut  bool // no --out: the run gets the first free runs/MODEL, runs/MODEL-2, ...
}

func newTrain() *cobra.Command {
	var f trainFlags
	c := &cobra.Command{
		Use:   "train [flags]",
		Short: "Train a model (by default the course's CNN on Fashion-MNIST) and report its test accuracy",
		Long: `Train a model and report its test accuracy.

With no flags it trains the course's CNN (fashion-cnn) on Fashion-MNIST for 10 epochs with
Adam (learning rate 0.001, batch 32), validating on 10% of the training images, and writes
runs/fashion-cnn/model.safetensors, history.json, history.csv and curves.png (the next run
without --out goes to runs/fashion-cnn-2, and so on). When the full
Fashion-MNIST set is not installed it says so and trains on the bundled sample.

Ctrl-C saves a checkpoint and the history; --resume continues the run.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error { return runTrain(c, f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.model, "model", "fashion-cnn", "zoo model: "+strings.Join(zoo.Names(), ", "))
	fl.StringVar(&f.data.dataset, "dataset", data.FashionMNIST, "fashion-mnist, mnist, sample, or an image folder DIR/<class>/*.png")
	fl.StringVar(&f.data.dataDir, "data-dir", "", "directory holding the data set's IDX files (default: search, see docs/data.md)")
	fl.IntVar(&f.epochs, "epochs", 10, "epochs to train")
	fl.IntVar(&f.batch, "batch", 32, "mini-batch size")
	fl.Float64Var(&f.lr, "lr", 1e-3, "learning rate")
	fl.StringVar(&f.optimizer, "optimizer", "adam", "adam, sgd (momentum 0.9) or rmsprop")
	fl.Uint64Var(&f.seed, "seed", 1, "seed for initialization, shuffling, dropout and the validation split")
	fl.StringVar(&f.out, "out", "", "output directory (default: a new runs/MODEL, runs/MODEL-2, ...; with --resume or --overwrite runs/MODEL)")
	fl.BoolVar(&f.jsonOut, "json", false, "print one JSON object with test_accuracy instead of text")
	fl.Float64Var(&f.valSplit, "validation-split", 0.1, "fraction of the training images held out for validation (0 for none)")
	fl.IntVar(&f.patience, "patience", 0, "stop after this many epochs without a better val_loss and keep the best weights (0: off)")
	fl.BoolVar(&f.augment, "augment", false, "random horizontal flips and shifts of up to 2 pixels")
	fl.StringVar(&f.schedule, "schedule", "constant", "learning-rate schedule: constant, or cosine (decays to 0 over all the epochs' steps)")
	fl.BoolVar(&f.resume, "resume", false, "continue the run saved in --out")
	fl.BoolVar(&f.overwrite, "overwrite", false, "replace an existing run in --out")
	addDistributedFlag(fl, &f.distrib)
	return c
}

func (f *trainFlags) check() error {
	switch {
	case f.epochs <= 0:
		return usagef("--epochs %d must be positive", f.epochs)
	case f.epochs > train.MaxEpochs:
		return usagef("--epochs %d is more than the limit of %d", f.epochs, train.MaxEpochs)
	case f.batch <= 0:
		return usagef("--batch %d must be positive", f.batch)
	case !(f.lr > 0):
		return usagef("--lr %v must be positive", f.lr)
	case f.valSplit < 0 || f.valSplit >= 1:
		return usagef("--validation-split %v must be in [0, 1)", f.valSplit)
	case f.schedule != "constant" && f.schedule != "cosine":
		return usagef("--schedule %q is not constant or cosine", f.schedule)
	case f.patience < 0:
		return usagef("--patience %d must not be negative", f.patience)
	}
	if _, err := train.NewOptimizer(f.optimizer); err != nil {
		return usagef("--optimizer %q is not adam, sgd or rmsprop", f.optimizer)
	}
	if f.out == "" {
		f.freshOut = !f.resume && !f.overwrite
		f.out = filepath.Join("runs", f.model)
	}
	return nil
}

// maxRunDirs bounds the search for a free run directory.
const maxRunDirs = 10000

// freshRunDir returns the first of base, base-2, base-3, ... that holds no run and, when
// lock is set (the rank that writes the run), that no other run has locked, locked for
// this run: two runs started at once get different directories, as in Ultralytics' runs/
// or PyTorch Lightning's version_N. Directories are numbered like those trainers' and
// never reused once they hold a checkpoint.
func freshRunDir(base string, lock bool) (dir string, unlock func(), err error) {
	for n := 1; n <= maxRunDirs; n++ {
		dir = base
		if n > 1 {
			dir = fmt.Sprintf("%s-%d", base, n)
		}
		ckpt := filepath.Join(dir, "model.safetensors")
		if _, err := os.Stat(ckpt); err == nil {
			continue
		}
		if err := checkOut(dir); err != nil {
			return "", nil, err
		}
		if !lock {
			return dir, nil, nil
		}
		unlock, err := lockRunDir(dir)
		var busy runDirBusy
		if errors.As(err, &busy) {
			continue
		}
		if err != nil {
			return "", nil, err
		}
		if _, err := os.Stat(ckpt); err == nil { // written before the lock was taken
			unlock()
			continue
		}
		return dir, unlock, nil
	}
	return "", nil, errors.Errorf("%s through %s-%d all hold runs; pass --out DIR", base, base, maxRunDirs)
}

// checkOut makes sure the output directory can be written before any training starts.
func checkOut(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return errors.Errorf("--out %s: cannot create the directory: %v", dir, unwrapPath(err))
	}
	probe, err := os.CreateTemp(dir, ".convgraph-write-test-*")
	if err != nil {
		return errors.Errorf("--out %s is not writable: %v", dir, unwrapPath(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

type trainResult struct {
	Model        string  `json:"model"`
	Dataset      string  `json:"dataset"`
	Sample       bool    `json:"sample"`
	Epochs       int     `json:"epochs"`
	TestAccuracy float64 `json:"test_accuracy"`
	TestLoss     float64 `json:"test_loss"`
	TrainImages  int     `json:"train_images"`
	TestImages   int     `json:"test_images"`
	Seconds      float64 `json:"seconds"`
	Checkpoint   string  `json:"checkpoint"`
	History      string  `json:"history"`
}

func runTrain(c *cobra.Command, f trainFlags) (err error) {
	stdout, stderr := c.OutOrStdout(), c.ErrOrStderr()
	if err := f.check(); err != nil {
		return err
	}
	dist, err := joinDistributed(f.distrib)
	if err != nil {
		return err
	}
	defer func() { err = dist.finish(err) }()
	stdout, stderr = dist.output(stdout, stderr)
	var resumed map[string]string
	ckpt := filepath.Join(f.out, "model.safetensors")
	histPath := filepath.Join(f.out, "history.json")
	var m *nn.Model
	var opt train.Optimizer
	cfg := train.Config{Epochs: f.epochs, BatchSize: f.batch, LR: f.lr, Seed: f.seed}
	var loadedStat os.FileInfo // the checkpoint --resume read, to see it unchanged under the lock
	if f.resume {
		loadedStat, _ = os.Stat(ckpt)
		saved, err := train.Load(ckpt)
		if err != nil {
			return errors.Wrap(err, "--resume")
		}
		if was := saved.Extra["zoo_model"]; was != "" {
			if c.Flags().Changed("model") && was != f.model {
				return usagef("--resume: the run in %s trains %s, not --model %s; drop --model to continue it", f.out, was, f.model)
			}
			f.model = was // recorded again in the checkpoint: not the flag's default
		}
		m = saved.Model
		if opt, err = train.NewOptimizer(saved.Optimizer); err != nil {
			return errors.Wrapf(err, "--resume %s", ckpt)
		}
		if st, ok := opt.(train.Stateful); ok {
			if err := st.SetState(saved.OptimizerState); err != nil {
				return errors.Wrapf(err, "--resume %s", ckpt)
			}
		}
		cfg.InitialEpoch, cfg.InitialStep, cfg.History, cfg.Seed = saved.Epoch, saved.Step, saved.History, saved.Seed
		resumed = saved.Extra
		f.seed = saved.Seed // the validation split and an image folder's split too
		if v, ok := saved.Extra["dataset"]; ok && !c.Flags().Changed("dataset") {
			f.data.dataset = v
		}
		for _, k := range []string{"batch", "validation-split"} {
			if v, ok := saved.Extra[k]; ok && !c.Flags().Changed(k) {
				if k == "batch" {
					n, err := strconv.Atoi(v)
					if err != nil || n <= 0 {
						return errors.Errorf("--resume: checkpoint %s: bad batch %q (want a positive whole number)", ckpt, v)
					}
					f.batch, cfg.BatchSize = n, n
				} else {
					x, err := strconv.ParseFloat(v, 64)
					if err != nil || !(x >= 0 && x < 1) {
						return errors.Errorf("--resume: checkpoint %s: bad validation-split %q (want a number in [0, 1))", ckpt, v)
					}
					f.valSplit = x
				}
			}
		}
		if cfg.InitialEpoch >= f.epochs {
			return usagef("--resume: the run in %s already did %d epochs; pass a larger --epochs", f.out, cfg.InitialEpoch)
		}
	} else {
		var err error
		if m, err = zoo.New(f.model); err != nil {
			return usageError{err}
		}
		if err := m.Initialize(f.seed); err != nil {
			return err
		}
		opt, _ = train.NewOptimizer(f.optimizer)
	}
	cfg.Optimizer = opt
	// The data set is checked before the run directory, so that a mistyped flag is named
	// rather than an existing run.
	split, err := f.data.load(m, f.seed, stderr)
	if err != nil {
		return err
	}
	if f.freshOut {
		dir, unlock, err := freshRunDir(f.out, dist.leader())
		if err != nil {
			return err
		}
		if unlock != nil {
			defer unlock()
		}
		f.out = dir
		ckpt, histPath = filepath.Join(dir, "model.safetensors"), filepath.Join(dir, "history.json")
	} else {
		if !f.resume && !f.overwrite {
			if _, err := os.Stat(ckpt); err == nil {
				return usagef("--out %s already holds a run (%s); pass --resume to continue it, --overwrite to replace it, or another --out", f.out, ckpt)
			}
		}
		if err := checkOut(f.out); err != nil {
			return err
		}
		if dist.leader() { // rank 0 writes the run
			unlock, err := lockRunDir(f.out)
			if err != nil {
				return err
			}
			defer unlock()
			// Under the lock, the run directory is as it was when it was checked above.
			st, statErr := os.Stat(ckpt)
			switch {
			case !f.resume && statErr == nil && !f.overwrite:
				return usagef("--out %s already holds a run (%s), written since this run started; pass --resume to continue it, --overwrite to replace it, or another --out", f.out, ckpt)
			case f.resume && (statErr != nil || loadedStat == nil || !st.ModTime().Equal(loadedStat.ModTime()) || st.Size() != loadedStat.Size()):
				return errors.Errorf("--resume: %s changed while this run started (another run wrote it); run the command again", ckpt)
			}
		}
	}
	trainSet := split.Train
	if f.valSplit > 0 {
		tr, val, err := trainSet.ValidationSplit(f.valSplit, f.seed)
		if err != nil {
			return errors.Wrap(err, "--validation-split")
		}
		trainSet, cfg.Validation = tr, val
	}
	if resumed != nil {
		if cfg.InitialStep, err = resumeStep(resumed, cfg.InitialEpoch, cfg.InitialStep, trainSet.Len(), cfg.BatchSize, dist.ranks()); err != nil {
			return err
		}
		// The step count must fall inside the epoch after the last one done.
		global := cfg.BatchSize * dist.ranks()
		perEpoch := (trainSet.Len() + global - 1) / global
		if lo, hi := cfg.InitialEpoch*perEpoch, (cfg.InitialEpoch+1)*perEpoch; cfg.InitialStep != 0 && (cfg.InitialStep < lo || cfg.InitialStep > hi) {
			return errors.Errorf("--resume: checkpoint %s: step %d does not fit epoch %d at %d batches per epoch (want %d to %d)",
				ckpt, cfg.InitialStep, cfg.InitialEpoch, perEpoch, lo, hi)
		}
	}
	cfg.Comm = dist.Comm()
	if f.augment {
		cfg.Augment = []data.BatchOption{data.RandomFlip(), data.RandomShift(2)}
	}
	if f.schedule == "cosine" {
		global := cfg.BatchSize * dist.ranks()
		steps := f.epochs * ((trainSet.Len() + global - 1) / global)
		cfg.Schedule = train.Cosine{Base: f.lr, Steps: steps}
	}
	if !f.jsonOut {
		cfg.Progress = stderr
		fmt.Fprintf(stderr, "training %s on %s (%d images, %d for validation), %d epochs, batch %d, %s lr %g\n",
			m.Name(), trainSet.Name, trainSet.Len(), lenOf(cfg.Validation), f.epochs, cfg.BatchSize, opt.Name(), f.lr)
		if dist != nil {
			fmt.Fprintf(stderr, "data-parallel on %d ranks: batch %d per rank, %d per step\n", dist.ranks(), cfg.BatchSize, cfg.BatchSize*dist.ranks())
		}
	}
	extra := map[string]string{"dataset": f.data.dataset, "zoo_model": f.model, "batch": strconv.Itoa(cfg.BatchSize),
		"validation-split": strconv.FormatFloat(f.valSplit, 'g', -1, 64), "classes": classesJSON(split.Train.Classes),
		"ranks": strconv.Itoa(dist.ranks())}
	var best *train.EarlyStopping
	if f.patience > 0 {
		best = &train.EarlyStopping{Monitor: "val_loss", Patience: f.patience, RestoreBestWeights: true}
		if cfg.Validation == nil {
			best.Monitor = "loss"
		}
		cfg.Callbacks = append(cfg.Callbacks, best)
	}
	if cfg.History == nil {
		cfg.History = &train.History{Model: m.Name()}
	}
	h := cfg.History
	epochsDone, stepsDone := cfg.InitialEpoch, cfg.InitialStep
	save := func() error {
		if !dist.leader() {
			return nil // rank 0 writes the run
		}
		if err := train.Save(ckpt, m, opt, train.Checkpoint{Epoch: epochsDone, Step: stepsDone, Seed: cfg.Seed, History: h, Extra: extra}); err != nil {
			return err
		}
		return writeHistory(f.out, h)
	}
	// Save after every epoch, so a crash loses at most one epoch and a diverging run
	// leaves its last good checkpoint.
	cfg.OnStep = func(epoch, step int) { stepsDone = step }
	cfg.Callbacks = append(cfg.Callbacks, callbackFunc(func(m *nn.Model, l train.EpochLogs) (bool, error) {
		epochsDone = l.Epoch
		return false, save()
	}))

	ctx, signalled, stop := interruptible()
	defer stop()
	start := time.Now()
	_, fitErr := train.Fit(ctx, m, trainSet, cfg)
	switch {
	case errors.Is(fitErr, train.ErrInterrupted):
		if err := save(); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "\ninterrupted after %d steps; %s; continue with: %sconvgraph train --out %s --resume --epochs %d%s\n",
			stepsDone, savedFiles(ckpt, "history.json", "history.csv", "curves.png"), dist.launcher(), f.out, f.epochs, dist.flag())
		return interruptedError(signalled())
	case fitErr != nil:
		// Keep the last good checkpoint (if any) untouched; report where training failed.
		return fitErr
	}
	if best != nil {
		best.Restore(m) // keep the best epoch's weights even when the epochs ran out first
	}
	if err := save(); err != nil {
		return err
	}
	ev, err := train.EvaluateDistributed(dist.Comm(), m, split.Test, 256)
	if err != nil {
		return err
	}
	if dist.leader() {
		if err := plotHistory(f.out, h, stderr); err != nil {
			return err
		}
	}
	res := trainResult{Model: m.Name(), Dataset: split.Train.Name, Sample: split.IsSample(), Epochs: len(h.Epochs),
		TestAccuracy: ev.Accuracy, TestLoss: ev.Loss, TrainImages: trainSet.Len(), TestImages: ev.Images,
		Seconds: time.Since(start).Seconds(), Checkpoint: ckpt, History: histPath}
	if f.jsonOut {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintln(stderr, savedFiles(ckpt, "history.json", "history.csv", "curves.png"))
	if res.Sample {
		fmt.Fprintln(stderr, "NOTE: this accuracy is on the bundled sample's 500 test images, not the full test set.")
	}
	fmt.Fprintf(stdout, "test accuracy: %.4f\n", ev.Accuracy)
	return nil
}

func lenOf(d *data.Dataset) int {
	if d == nil {
		return 0
	}
	return d.Len()
}

// savedFiles says what a run wrote: "saved DIR/model.safetensors (with history.json, ...
// beside it)", so a user sees every file and where it is.
func savedFiles(ckpt string, beside ...string) string {
	if len(beside) == 0 {
		return "saved " + ckpt
	}
	return fmt.Sprintf("saved %s (with %s beside it)", ckpt, strings.Join(beside, ", "))
}

func writeHistory(dir string, h *train.History) error {
	var js, cs strings.Builder
	if err := h.WriteJSON(&js); err != nil {
		return err
	}
	if err := h.WriteCSV(&cs); err != nil {
		return err
	}
	if err := checkpoint.WriteFileAtomic(filepath.Join(dir, "history.json"), []byte(js.String())); err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(filepath.Join(dir, "history.csv"), []byte(cs.String()))
}

type callbackFunc func(m *nn.Model, l train.EpochLogs) (bool, error)

func (f callbackFunc) EpochEnd(m *nn.Model, l train.EpochLogs) (bool, error) { return f(m, l) }
