package train

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/convgraph/convgraph/checkpoint"
	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/preprocess"
)

// MaxEpochs bounds the epochs a run may have done or ask for: resuming replays the
// shuffles of every epoch done (about 0.3 ms each for Fashion-MNIST), so a checkpoint
// claiming billions of epochs would take days to resume.
const MaxEpochs = 100_000

// Checkpoint is what a checkpoint file holds besides the weights themselves.
type Checkpoint struct {
	// Model is the rebuilt model with the saved weights (from [Load]).
	Model *nn.Model
	// Optimizer names the optimizer ("adam"); OptimizerState is its saved state.
	Optimizer      string
	OptimizerState map[string][]float64
	// Epoch and Step are the epochs and optimizer steps completed.
	Epoch, Step int
	// Seed is the run's data seed.
	Seed uint64
	// History is the run's history so far.
	History *History
	// Extra holds free-form metadata (the CLI records its flags there).
	Extra map[string]string
}

// Save writes m's weights, the optimizer's state and the run state c (c.Model is
// ignored) to path atomically with [checkpoint.Write]: a crash leaves either the old file
// or the new one, never half of one.
func Save(path string, m *nn.Model, opt Optimizer, c Checkpoint) error {
	meta := map[string]string{
		"epoch": strconv.Itoa(c.Epoch),
		"step":  strconv.Itoa(c.Step),
		"seed":  strconv.FormatUint(c.Seed, 10),
	}
	for k, v := range c.Extra {
		meta["extra."+k] = v
	}
	if c.History != nil {
		hb, err := json.Marshal(c.History)
		if err != nil {
			return errors.Wrapf(err, "train: checkpoint %q: history", path)
		}
		meta["history"] = string(hb)
	}
	var state map[string][]float64
	if opt != nil {
		meta["optimizer"] = opt.Name()
		if st, ok := opt.(Stateful); ok {
			state = st.State()
		}
	}
	return checkpoint.Write(path, m, meta, state)
}

// Load reads a checkpoint written by [Save] and rebuilds its model with the saved
// weights, frozen layers and run state. Errors name the file and what is wrong.
//
// The file is read and checked by [checkpoint.Read] (a regular file within the memory
// budget, finite weights, optimizer state that fits the parameters); the run's position
// must also be consistent (epoch at most [MaxEpochs] and equal to the history's length).
func Load(path string) (*Checkpoint, error) {
	f, err := checkpoint.Read(path)
	if err != nil {
		return nil, err
	}
	return fromFile(path, f)
}

// LoadBytes is [Load] for a checkpoint held in memory (an embedded file); name is what
// errors call it.
func LoadBytes(name string, b []byte) (*Checkpoint, error) {
	f, err := checkpoint.ReadBytes(name, b)
	if err != nil {
		return nil, err
	}
	return fromFile(name, f)
}

// fromFile reads the run state train.Save put in a checkpoint's metadata.
func fromFile(path string, f *checkpoint.File) (*Checkpoint, error) {
	meta := f.Meta
	c := &Checkpoint{Model: f.Model, Optimizer: meta["optimizer"], OptimizerState: f.State, Extra: map[string]string{}}
	var err error
	for k, dst := range map[string]*int{"epoch": &c.Epoch, "step": &c.Step} {
		if *dst, err = strconv.Atoi(meta[k]); err != nil || *dst < 0 {
			return nil, errors.Errorf("train: checkpoint %q: bad %s %q", path, k, meta[k])
		}
	}
	if c.Seed, err = strconv.ParseUint(meta["seed"], 10, 64); err != nil {
		return nil, errors.Errorf("train: checkpoint %q: bad seed %q", path, meta["seed"])
	}
	if c.Epoch > MaxEpochs {
		return nil, errors.Errorf("train: checkpoint %q: epoch %d is more than the limit of %d", path, c.Epoch, MaxEpochs)
	}
	if hs := meta["history"]; hs != "" {
		if c.History, err = ReadHistory(strings.NewReader(hs)); err != nil {
			return nil, errors.Wrapf(err, "train: checkpoint %q", path)
		}
		if n := len(c.History.Epochs); n != c.Epoch {
			return nil, errors.Errorf("train: checkpoint %q: epoch %d, but its history holds %d epochs", path, c.Epoch, n)
		}
	}
	for k, v := range meta {
		if name, ok := strings.CutPrefix(k, "extra."); ok {
			c.Extra[name] = v
		}
	}
	if m := c.Model; !m.HasPreprocessing() {
		// Written before models stored their preprocessing: the data set it was trained
		// on says which background it expects; the registered sets' images are trimmed
		// objects that fill the frame.
		if spec, ok := data.Lookup(c.Extra["dataset"]); ok && spec.Background != "" {
			if err := m.SetPreprocessing(preprocess.Config{Background: preprocess.Background(spec.Background), Trim: true}); err != nil {
				return nil, errors.Wrapf(err, "train: checkpoint %q", path)
			}
		}
	}
	return c, nil
}

// WriteFileAtomic writes data to path through a temporary file and a rename.
//
// Deprecated: use [checkpoint.WriteFileAtomic], which this calls.
func WriteFileAtomic(path string, data []byte) error {
	return checkpoint.WriteFileAtomic(path, data)
}

// LoadReport says what a partial load did.
//
// Deprecated: use [checkpoint.Report]; this is the same type.
type LoadReport = checkpoint.Report

// Skipped is a parameter a partial load left alone.
//
// Deprecated: use [checkpoint.Skipped]; this is the same type.
type Skipped = checkpoint.Skipped

// LoadWeights copies a checkpoint's weights into m, which must have the same parameters.
//
// Deprecated: use [checkpoint.LoadWeights], which this calls.
func LoadWeights(path string, m *nn.Model) error { return checkpoint.LoadWeights(path, m) }

// LoadWeightsPartial copies the checkpoint parameters whose name and shape match m's.
//
// Deprecated: use [checkpoint.LoadWeightsPartial], which this calls.
func LoadWeightsPartial(path string, m *nn.Model) (*LoadReport, error) {
	return checkpoint.LoadWeightsPartial(path, m)
}

// LoadWeightsPartialBytes is [LoadWeightsPartial] for a checkpoint held in memory.
//
// Deprecated: use [checkpoint.LoadWeightsPartialBytes], which this calls.
func LoadWeightsPartialBytes(name string, b []byte, m *nn.Model) (*LoadReport, error) {
	return checkpoint.LoadWeightsPartialBytes(name, b, m)
}
