package checkpoint

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/nlpodyssey/safetensors"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/internal/limits"
	"github.com/convgraph/convgraph/nn"
)

// The file format: every parameter under its path name, extra state under
// "optimizer/<param>/<slot>" as F64, and in the header metadata the format, the model
// spec and the model's seed (it draws dropout masks, so a resumed run needs it).
const (
	format      = "convgraph/1"
	statePrefix = "optimizer/"
)

// MaxBytes is the largest file [Write] can produce and [Read] accepts: nn's limit of 2^28
// parameter values as float64, two optimizer slots each, and a 100 MB header.
const MaxBytes = 3*8<<28 + 100<<20

// File is a checkpoint read back by [Read].
type File struct {
	// Model is the model rebuilt from the spec, with the saved weights and seed.
	Model *nn.Model
	// Meta is the header metadata written by [Write] (the format, spec and model seed
	// are not repeated here).
	Meta map[string]string
	// State holds the extra tensors by name ("<param>/<slot>"), each checked against
	// the parameter it belongs to.
	State map[string][]float64
}

// readBounded reads a checkpoint file: a regular file (links followed; devices, pipes and
// directories refused unread) of at most MaxBytes, whose bytes and float64 copy of its
// weights fit the memory budget.
func readBounded(path string) ([]byte, error) {
	f, size, err := limits.Open(path, MaxBytes)
	if err != nil {
		return nil, limits.Named("checkpoint", err)
	}
	f.Close()
	if err := limits.CheckMemory(fmt.Sprintf("checkpoint %q (%s, read and converted)", path, limits.FormatBytes(size)), 3*size, ""); err != nil {
		return nil, err
	}
	b, err := limits.ReadFile(path, MaxBytes)
	return b, limits.Named("checkpoint", err)
}

// Write saves m's weights and spec, the metadata meta and the float64 tensors state
// (named "<param>/<slot>") to path atomically. Keys "format", "spec" and "model_seed" of
// meta are Write's own and are overwritten.
func Write(path string, m *nn.Model, meta map[string]string, state map[string][]float64) error {
	spec, err := m.MarshalSpec()
	if err != nil {
		return errors.Wrapf(err, "checkpoint %q", path)
	}
	md := make(map[string]string, len(meta)+3)
	for k, v := range meta {
		md[k] = v
	}
	md["format"] = format
	md["spec"] = string(spec)
	md["model_seed"] = strconv.FormatUint(m.Seed(), 10)
	views := map[string]safetensors.TensorView{}
	for _, p := range m.Params() {
		v, err := denseView(p.Value)
		if err != nil {
			return errors.Wrapf(err, "checkpoint %q: parameter %q", path, p.Name)
		}
		views[p.Name] = v
	}
	for k, vals := range state {
		v, err := f64View(vals, []uint64{uint64(len(vals))})
		if err != nil {
			return errors.Wrapf(err, "checkpoint %q: state %q", path, k)
		}
		views[statePrefix+k] = v
	}
	err = writeAtomic(path, func(w *bufio.Writer) error {
		return safetensors.SerializeToWriter(views, md, w)
	})
	return errors.Wrapf(err, "cannot write checkpoint %q", path)
}

// Read reads a file written by [Write] and rebuilds its model with the saved weights,
// frozen layers and seed.
//
// The file must be a regular file (see internal/limits) of at most [MaxBytes] that fits
// the memory budget. Every weight must be finite once converted to the model's dtype
// (1e300 is +Inf in float32), BatchNorm's moving variances must not be negative, and
// the state must hold one entry per slot of a model parameter, of its size, with finite
// values; errors name the file and the field.
func Read(path string) (*File, error) {
	b, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	return ReadBytes(path, b)
}

// ReadBytes is [Read] for a file held in memory (an embedded file); name is what errors
// call it.
func ReadBytes(name string, b []byte) (*File, error) {
	st, meta, err := parse(name, b)
	if err != nil {
		return nil, err
	}
	if meta["format"] != format {
		return nil, errors.Errorf("checkpoint %q: not a convgraph checkpoint (format %q)", name, meta["format"])
	}
	m, err := nn.UnmarshalSpec([]byte(meta["spec"]))
	if err != nil {
		return nil, errors.Wrapf(err, "checkpoint %q", name)
	}
	if s, ok := meta["model_seed"]; ok {
		// Restore the seed that draws dropout masks; the weights are overwritten below.
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, errors.Errorf("checkpoint %q: bad model_seed %q", name, s)
		}
		if seed != m.Seed() {
			if err := m.Initialize(seed); err != nil {
				return nil, errors.Wrapf(err, "checkpoint %q", name)
			}
		}
	}
	if _, err := loadWeights(name, st, m, false); err != nil {
		return nil, err
	}
	f := &File{Model: m, Meta: map[string]string{}, State: map[string][]float64{}}
	for k, v := range meta {
		if k != "format" && k != "spec" && k != "model_seed" {
			f.Meta[k] = v
		}
	}
	for _, tname := range st.Names() {
		key, ok := strings.CutPrefix(tname, statePrefix)
		if !ok {
			continue
		}
		tv, _ := st.Tensor(tname)
		vals, err := floats(tv)
		if err != nil {
			return nil, errors.Wrapf(err, "checkpoint %q: %q", name, tname)
		}
		if err := checkState(m, key, vals); err != nil {
			return nil, errors.Wrapf(err, "checkpoint %q: optimizer state %q", name, tname)
		}
		f.State[key] = vals
	}
	return f, nil
}

// checkState checks one saved state slot, key "<param>/<slot>": the parameter exists, a
// "step" slot is one whole non-negative count, any other slot has one finite value per
// parameter value.
func checkState(m *nn.Model, key string, vals []float64) error {
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
	st, err := readTensors(path)
	if err != nil {
		return err
	}
	_, err = loadWeights(path, st, m, false)
	return err
}

// Report says what a partial load did.
type Report struct {
	// Loaded lists the parameters copied from the checkpoint.
	Loaded []string
	// Skipped lists m's parameters left as they were, with the reason.
	Skipped []Skipped
	// Unused lists checkpoint parameters m has no place for.
	Unused []string
	// Adapted lists parameters filled by a rule from a checkpoint parameter of another
	// shape (zoo.Pretrained's first convolution for another number of input channels).
	Adapted []Adapted
}

// Skipped is a parameter a partial load left alone.
type Skipped struct{ Param, Reason string }

// Adapted is a parameter filled from a checkpoint parameter of another shape, and the
// rule that did it.
type Adapted struct{ Param, Rule string }

// LoadWeightsPartial copies every checkpoint parameter whose name and shape match one of
// m's (transfer learning: a new head for other classes keeps its fresh weights) and
// reports what it loaded and skipped. It fails only on a bad file, leaving m unchanged.
func LoadWeightsPartial(path string, m *nn.Model) (*Report, error) {
	st, err := readTensors(path)
	if err != nil {
		return nil, err
	}
	return loadWeights(path, st, m, true)
}

// LoadWeightsPartialBytes is [LoadWeightsPartial] for a checkpoint held in memory (an
// embedded file); name is what errors call it.
func LoadWeightsPartialBytes(name string, b []byte, m *nn.Model) (*Report, error) {
	st, _, err := parse(name, b)
	if err != nil {
		return nil, err
	}
	return loadWeights(name, st, m, true)
}

// readTensors reads and parses a checkpoint file.
func readTensors(path string) (safetensors.SafeTensors, error) {
	b, err := readBounded(path)
	if err != nil {
		return safetensors.SafeTensors{}, err
	}
	st, _, err := parse(path, b)
	return st, err
}

// parse reads a checkpoint's safetensors container; name is what errors call it.
func parse(name string, b []byte) (st safetensors.SafeTensors, meta map[string]string, err error) {
	defer func() {
		// The safetensors reader trusts the header's offsets in places; a crafted file
		// must be an error, not a crash.
		if r := recover(); r != nil {
			err = errors.Errorf("checkpoint %q is corrupt (%v)", name, r)
		}
	}()
	st, err = safetensors.Deserialize(b)
	if err != nil {
		return safetensors.SafeTensors{}, nil, errors.Wrapf(err, "checkpoint %q is not a safetensors file", name)
	}
	_, md, err := safetensors.ReadMetadata(b)
	if err != nil {
		return safetensors.SafeTensors{}, nil, errors.Wrapf(err, "checkpoint %q", name)
	}
	return st, md.Metadata(), nil
}

func loadWeights(path string, st safetensors.SafeTensors, m *nn.Model, partial bool) (*Report, error) {
	type pending struct {
		p    *nn.Param
		vals []float64
	}
	var todo []pending
	rep := &Report{}
	known := map[string]bool{}
	for _, p := range m.Params() {
		known[p.Name] = true
		tv, ok := st.Tensor(p.Name)
		if !ok {
			if partial {
				rep.Skipped = append(rep.Skipped, Skipped{p.Name, "not in the checkpoint"})
				continue
			}
			return nil, errors.Errorf("checkpoint %q has no parameter %q of model %q", path, p.Name, m.Name())
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
			return nil, errors.Errorf("checkpoint %q: parameter %q has shape %v; model %q needs %v",
				path, p.Name, got, m.Name(), p.Shape())
		}
		vals, err := floats(tv)
		if err != nil {
			return nil, errors.Wrapf(err, "checkpoint %q: parameter %q", path, p.Name)
		}
		if len(vals) != p.Size() {
			return nil, errors.Errorf("checkpoint %q: parameter %q holds %d values for shape %v", path, p.Name, len(vals), got)
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
					return nil, errors.Errorf("checkpoint %q: parameter %q holds %v, which is %v in float32", path, p.Name, v, w)
				}
				return nil, errors.Errorf("checkpoint %q: parameter %q holds %v", path, p.Name, v)
			}
			if variance && w < 0 {
				return nil, errors.Errorf("checkpoint %q: parameter %q holds %v: a variance cannot be negative", path, p.Name, v)
			}
		}
		todo = append(todo, pending{p, vals})
		rep.Loaded = append(rep.Loaded, p.Name)
	}
	for _, name := range st.Names() {
		if !known[name] && !strings.HasPrefix(name, statePrefix) {
			rep.Unused = append(rep.Unused, name)
		}
	}
	sort.Strings(rep.Unused)
	if len(rep.Unused) > 0 && !partial {
		return nil, errors.Errorf("checkpoint %q has parameters model %q lacks: %s", path, m.Name(), strings.Join(rep.Unused, ", "))
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

func denseView(d *tensor.Dense) (safetensors.TensorView, error) {
	shape := make([]uint64, len(d.Shape()))
	for i, n := range d.Shape() {
		shape[i] = uint64(n)
	}
	switch s := d.Data().(type) {
	case []float32:
		b := make([]byte, 4*len(s))
		for i, v := range s {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return safetensors.NewTensorView(safetensors.F32, shape, b)
	case []float64:
		return f64View(s, shape)
	}
	return safetensors.TensorView{}, errors.Errorf("dtype %v", d.Dtype())
}

func f64View(s []float64, shape []uint64) (safetensors.TensorView, error) {
	b := make([]byte, 8*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return safetensors.NewTensorView(safetensors.F64, shape, b)
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
