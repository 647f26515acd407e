package train

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nlpodyssey/safetensors"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/internal/limits"
	"github.com/convgraph/convgraph/nn"
)

// Checkpoint format: a safetensors file (the format PyTorch and Hugging Face read) holding
// every parameter under its path name ("conv2d/kernel"), the optimizer's state under
// "optimizer/<param>/<slot>" as F64, and in the header metadata the model spec, the run's
// position and its history, so a checkpoint alone rebuilds its model and resumes its run.
const (
	checkpointFormat = "convgraph/1"
	optimizerPrefix  = "optimizer/"
)

// MaxEpochs bounds the epochs a run may have done or ask for: resuming replays the
// shuffles of every epoch done (about 0.3 ms each for Fashion-MNIST), so a checkpoint
// claiming billions of epochs would take days to resume.
const MaxEpochs = 100_000

// maxCheckpointBytes is the largest checkpoint [Save] can write: nn's limit of 2^28
// parameter values as float64, two optimizer slots each, and a 100 MB header.
const maxCheckpointBytes = 3*8<<28 + 100<<20

// readCheckpointFile reads a checkpoint file: a regular file (links followed; devices,
// pipes and directories refused unread) of at most maxCheckpointBytes, whose bytes and
// float64 copy of its weights fit the memory budget.
func readCheckpointFile(path string) ([]byte, error) {
	f, size, err := limits.Open(path, maxCheckpointBytes)
	if err != nil {
		return nil, limits.Named("train: checkpoint", err)
	}
	f.Close()
	if err := limits.CheckMemory(fmt.Sprintf("train: checkpoint %q (%s, read and converted)", path, limits.FormatBytes(size)), 3*size, ""); err != nil {
		return nil, err
	}
	b, err := limits.ReadFile(path, maxCheckpointBytes)
	return b, limits.Named("train: checkpoint", err)
}

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

// Save writes m's weights and the run state c (c.Model is ignored) to path atomically: it
// writes a temporary file in the same directory, syncs it and renames it over path, so a
// crash leaves either the old file or the new one, never half of one.
func Save(path string, m *nn.Model, opt Optimizer, c Checkpoint) error {
	spec, err := m.MarshalSpec()
	if err != nil {
		return errors.Wrapf(err, "train: checkpoint %q", path)
	}
	meta := map[string]string{
		"format": checkpointFormat,
		"spec":   string(spec),
		"epoch":  strconv.Itoa(c.Epoch),
		"step":   strconv.Itoa(c.Step),
		"seed":   strconv.FormatUint(c.Seed, 10),
		// The model's own seed draws its dropout masks: a resumed run needs it.
		"model_seed": strconv.FormatUint(m.Seed(), 10),
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
	views := map[string]safetensors.TensorView{}
	for _, p := range m.Params() {
		v, err := denseView(p.Value)
		if err != nil {
			return errors.Wrapf(err, "train: checkpoint %q: parameter %q", path, p.Name)
		}
		views[p.Name] = v
	}
	if opt != nil {
		meta["optimizer"] = opt.Name()
		if st, ok := opt.(Stateful); ok {
			for k, vals := range st.State() {
				v, err := f64View(vals)
				if err != nil {
					return errors.Wrapf(err, "train: checkpoint %q: optimizer state %q", path, k)
				}
				views[optimizerPrefix+k] = v
			}
		}
	}
	err = writeAtomic(path, func(w *bufio.Writer) error {
		return safetensors.SerializeToWriter(views, meta, w)
	})
	return errors.Wrapf(err, "train: cannot write checkpoint %q", path)
}

// writeStep, when set (by tests only), is called after each step of writeAtomic with the
// step's name and the temporary file; the fault tests stop the process there with SIGKILL.
var writeStep func(step, tmp string)

// staleTempAge is how long a temporary file of writeAtomic must have gone unmodified
// before a later successful write of the same file removes it as abandoned (left by a
// process killed mid-write). A write in progress touches its file at every buffer flush,
// so a live one is this old only if its process has stalled; the tests set it to 0.
var staleTempAge = 10 * time.Minute

// removeStaleTemps deletes the abandoned temporary files of writes to dir/base, named as
// writeAtomic names them (best effort: a file it cannot remove stays, as before).
func removeStaleTemps(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + base + ".tmp"
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) >= staleTempAge {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// writeAtomic writes a file through a temporary file in the same directory, synced and
// renamed over path, readable by all (0644). Its errors carry no prefix: callers name what
// they were writing.
func writeAtomic(path string, write func(*bufio.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	step := func(name string) {
		if writeStep != nil {
			writeStep(name, tmp)
		}
	}
	step("created")
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	if err = write(w); err != nil {
		return err
	}
	step("written") // all but the last buffer's worth is in the file
	if err = w.Flush(); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	step("synced")
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	step("renamed")
	removeStaleTemps(dir, filepath.Base(path))
	if d, err := os.Open(dir); err == nil {
		d.Sync() // make the rename durable; failure here loses nothing already written
		d.Close()
	}
	return nil
}

// WriteFileAtomic writes data to path through a temporary file and a rename.
func WriteFileAtomic(path string, data []byte) error {
	err := writeAtomic(path, func(w *bufio.Writer) error {
		_, err := w.Write(data)
		return err
	})
	return errors.Wrapf(err, "train: cannot write %q", path)
}

func shape64(s []int) []uint64 {
	out := make([]uint64, len(s))
	for i, d := range s {
		out[i] = uint64(d)
	}
	return out
}

func denseView(d *tensor.Dense) (safetensors.TensorView, error) {
	switch s := d.Data().(type) {
	case []float32:
		b := make([]byte, 4*len(s))
		for i, v := range s {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return safetensors.NewTensorView(safetensors.F32, shape64(d.Shape()), b)
	case []float64:
		return f64ViewShape(s, shape64(d.Shape()))
	}
	return safetensors.TensorView{}, errors.Errorf("dtype %v", d.Dtype())
}

func f64View(s []float64) (safetensors.TensorView, error) {
	return f64ViewShape(s, []uint64{uint64(len(s))})
}

func f64ViewShape(s []float64, shape []uint64) (safetensors.TensorView, error) {
	b := make([]byte, 8*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return safetensors.NewTensorView(safetensors.F64, shape, b)
}

// readFile reads and parses a checkpoint file.
func readFile(path string) (safetensors.SafeTensors, map[string]string, error) {
	b, err := readCheckpointFile(path)
	if err != nil {
		return safetensors.SafeTensors{}, nil, err
	}
	return parse(path, b)
}

// parse reads a checkpoint's safetensors container; name is what errors call it.
func parse(name string, b []byte) (st safetensors.SafeTensors, meta map[string]string, err error) {
	defer func() {
		// The safetensors reader trusts the header's offsets in places; a crafted file
		// must be an error, not a crash.
		if r := recover(); r != nil {
			err = errors.Errorf("train: checkpoint %q is corrupt (%v)", name, r)
		}
	}()
	st, err = safetensors.Deserialize(b)
	if err != nil {
		return safetensors.SafeTensors{}, nil, errors.Wrapf(err, "train: checkpoint %q is not a safetensors file", name)
	}
	_, md, err := safetensors.ReadMetadata(b)
	if err != nil {
		return safetensors.SafeTensors{}, nil, errors.Wrapf(err, "train: checkpoint %q", name)
	}
	return st, md.Metadata(), nil
}

// Load reads a checkpoint written by [Save] and rebuilds its model with the saved
// weights, frozen layers and run state. Errors name the file and what is wrong.
//
// The file must be a regular file (see [limits.Open]) that fits the memory budget.
// Every weight must be finite once converted to the model's dtype (1e300 is +Inf in
// float32), BatchNorm's moving variances must not be negative, the run's position must
// be consistent (epoch at most [MaxEpochs] and equal to the history's length) and the
// optimizer state must hold one entry per slot of a model parameter, of its size, with
// finite values; errors name the file and the field.
func Load(path string) (*Checkpoint, error) {
	b, err := readCheckpointFile(path)
	if err != nil {
		return nil, err
	}
	return LoadBytes(path, b)
}

// LoadBytes is [Load] for a checkpoint held in memory (an embedded file); name is what
// errors call it.
func LoadBytes(path string, b []byte) (*Checkpoint, error) {
	st, meta, err := parse(path, b)
	if err != nil {
		return nil, err
	}
	if meta["format"] != checkpointFormat {
		return nil, errors.Errorf("train: checkpoint %q: not a convgraph checkpoint (format %q)", path, meta["format"])
	}
	m, err := nn.UnmarshalSpec([]byte(meta["spec"]))
	if err != nil {
		return nil, errors.Wrapf(err, "train: checkpoint %q", path)
	}
	if s, ok := meta["model_seed"]; ok {
		// Restore the seed that draws dropout masks; the weights are overwritten below.
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, errors.Errorf("train: checkpoint %q: bad model_seed %q", path, s)
		}
		if seed != m.Seed() {
			if err := m.Initialize(seed); err != nil {
				return nil, errors.Wrapf(err, "train: checkpoint %q", path)
			}
		}
	}
	if _, err := loadWeights(path, st, m, false); err != nil {
		return nil, err
	}
	c := &Checkpoint{Model: m, Optimizer: meta["optimizer"], OptimizerState: map[string][]float64{}, Extra: map[string]string{}}
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
	for _, name := range st.Names() {
		key, ok := strings.CutPrefix(name, optimizerPrefix)
		if !ok {
			continue
		}
		tv, _ := st.Tensor(name)
		vals, err := floats(tv)
		if err != nil {
			return nil, errors.Wrapf(err, "train: checkpoint %q: %q", path, name)
		}
		if err := checkOptimizerState(m, key, vals); err != nil {
			return nil, errors.Wrapf(err, "train: checkpoint %q: optimizer state %q", path, name)
		}
		c.OptimizerState[key] = vals
	}
	return c, nil
}

// checkOptimizerState checks one saved optimizer slot, key "<param>/<slot>": the
// parameter exists, a "step" slot is one whole non-negative count, any other slot has
// one finite value per parameter value.
func checkOptimizerState(m *nn.Model, key string, vals []float64) error {
	i := strings.LastIndexByte(key, '/')
	if i <= 0 {
		return errors.New("is not named <parameter>/<slot>")
	}
	p := m.Param(key[:i])
	if p == nil {
		return errors.Errorf("belongs to no parameter of model %q", m.Name())
	}
	if key[i+1:] == "step" {
		if len(vals) != 1 || vals[0] != math.Trunc(vals[0]) || vals[0] < 0 || vals[0] > 1<<53 {
			return errors.Errorf("holds %v: want one whole step count", vals[:min(len(vals), 3)])
		}
		return nil
	}
	if len(vals) != p.Size() {
		return errors.Errorf("holds %d values; parameter %q has %d", len(vals), p.Name, p.Size())
	}
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errors.Errorf("holds %v", v)
		}
	}
	return nil
}

// LoadWeights copies a checkpoint's weights into m, which must have the same parameters:
// a missing parameter or a shape that differs is an error naming the parameter and both
// shapes, and m is left unchanged.
func LoadWeights(path string, m *nn.Model) error {
	st, _, err := readFile(path)
	if err != nil {
		return err
	}
	_, err = loadWeights(path, st, m, false)
	return err
}

// LoadReport says what a partial load did.
type LoadReport struct {
	// Loaded lists the parameters copied from the checkpoint.
	Loaded []string
	// Skipped lists m's parameters left as they were, with the reason.
	Skipped []Skipped
	// Unused lists checkpoint parameters m has no place for.
	Unused []string
}

// Skipped is a parameter a partial load left alone.
type Skipped struct{ Param, Reason string }

// LoadWeightsPartial copies every checkpoint parameter whose name and shape match one of
// m's (transfer learning: a new head for other classes keeps its fresh weights) and
// reports what it loaded and skipped. It fails only on a bad file.
func LoadWeightsPartial(path string, m *nn.Model) (*LoadReport, error) {
	st, _, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return loadWeights(path, st, m, true)
}

// LoadWeightsPartialBytes is [LoadWeightsPartial] for a checkpoint held in memory.
func LoadWeightsPartialBytes(name string, b []byte, m *nn.Model) (*LoadReport, error) {
	st, _, err := parse(name, b)
	if err != nil {
		return nil, err
	}
	return loadWeights(name, st, m, true)
}

func loadWeights(path string, st safetensors.SafeTensors, m *nn.Model, partial bool) (*LoadReport, error) {
	type pending struct {
		p    *nn.Param
		vals []float64
	}
	var todo []pending
	rep := &LoadReport{}
	known := map[string]bool{}
	for _, p := range m.Params() {
		known[p.Name] = true
		tv, ok := st.Tensor(p.Name)
		if !ok {
			if partial {
				rep.Skipped = append(rep.Skipped, Skipped{p.Name, "not in the checkpoint"})
				continue
			}
			return nil, errors.Errorf("train: checkpoint %q has no parameter %q of model %q", path, p.Name, m.Name())
		}
		got := make([]int, len(tv.Shape()))
		for i, d := range tv.Shape() {
			got[i] = int(d)
		}
		if !tensor.Shape(got).Eq(tensor.Shape(p.Shape())) {
			if partial {
				rep.Skipped = append(rep.Skipped, Skipped{p.Name, fmt.Sprintf("shape %v in the checkpoint, %v in the model", got, p.Shape())})
				continue
			}
			return nil, errors.Errorf("train: checkpoint %q: parameter %q has shape %v; model %q needs %v",
				path, p.Name, got, m.Name(), p.Shape())
		}
		vals, err := floats(tv)
		if err != nil {
			return nil, errors.Wrapf(err, "train: checkpoint %q: parameter %q", path, p.Name)
		}
		if len(vals) != p.Size() {
			return nil, errors.Errorf("train: checkpoint %q: parameter %q holds %d values for shape %v", path, p.Name, len(vals), got)
		}
		// Checked in the model's dtype: 1e300 is finite in float64 and +Inf in float32.
		_, f32 := p.Value.Data().([]float32)
		variance := p.Name == "moving_variance" || strings.HasSuffix(p.Name, "/moving_variance")
		for _, v := range vals {
			w := v
			if f32 {
				w = float64(float32(v))
			}
			if math.IsNaN(w) || math.IsInf(w, 0) {
				if w != v {
					return nil, errors.Errorf("train: checkpoint %q: parameter %q holds %v, which is %v in float32", path, p.Name, v, w)
				}
				return nil, errors.Errorf("train: checkpoint %q: parameter %q holds %v", path, p.Name, v)
			}
			if variance && w < 0 {
				return nil, errors.Errorf("train: checkpoint %q: parameter %q holds %v: a variance cannot be negative", path, p.Name, v)
			}
		}
		todo = append(todo, pending{p, vals})
		rep.Loaded = append(rep.Loaded, p.Name)
	}
	for _, name := range st.Names() {
		if !known[name] && !strings.HasPrefix(name, optimizerPrefix) {
			rep.Unused = append(rep.Unused, name)
		}
	}
	sort.Strings(rep.Unused)
	if len(rep.Unused) > 0 && !partial {
		return nil, errors.Errorf("train: checkpoint %q has parameters model %q lacks: %s", path, m.Name(), strings.Join(rep.Unused, ", "))
	}
	for _, t := range todo {
		switch d := t.p.Value.Data().(type) {
		case []float32:
			for i, v := range t.vals {
				d[i] = float32(v)
			}
		case []float64:
			copy(d, t.vals)
		}
	}
	return rep, nil
}

func floats(tv safetensors.TensorView) ([]float64, error) {
	b := tv.Data()
	switch tv.DType() {
	case safetensors.F32:
		out := make([]float64, len(b)/4)
		for i := range out {
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
		}
		return out, nil
	case safetensors.F64:
		out := make([]float64, len(b)/8)
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
		return out, nil
	}
	return nil, errors.Errorf("dtype %v is not F32 or F64", tv.DType())
}
