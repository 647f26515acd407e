package nn

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Param is one named parameter tensor of a model.
type Param struct {
	// Name is the parameter's path: "block2/conv1/kernel".
	Name string
	// Layer is the name of the layer that owns it.
	Layer string
	// Value holds the numbers, in the graph's layout (convolution kernels OIHW). Compiled
	// graphs bind this very tensor: change it in place, never replace it.
	Value *tensor.Dense
	// Trainable says whether training updates it; frozen parameters get no gradient.
	Trainable bool
	// Stat marks batch normalisation's moving statistics: updated by the forward pass in
	// training, never by gradients, never trainable.
	Stat bool
	decl paramDecl
}

// Shape is the parameter's shape in the graph's layout.
func (p *Param) Shape() []int { return append([]int(nil), p.Value.Shape()...) }

// Size is the number of values.
func (p *Param) Size() int { return p.Value.Size() }

// Params lists the model's parameters in layer order.
func (m *Model) Params() []*Param { return append([]*Param(nil), m.params...) }

// Param returns the parameter called name, or nil.
func (m *Model) Param(name string) *Param { return m.byName[name] }

// Initialize draws every parameter afresh with its layer's initializer. Each parameter's
// values depend only on seed and its name, so adding a layer does not change the others.
func (m *Model) Initialize(seed uint64) error { return m.initialize(seed, false) }

// Seed is the seed of the last [Model.Initialize] (1 for a new model). Dropout masks
// derive from it too, so a checkpoint records it for a resumed run to draw the same masks.
func (m *Model) Seed() uint64 { return m.seed }

// initialize draws parameters; with onlyNew, only those that have no value yet.
func (m *Model) initialize(seed uint64, onlyNew bool) error {
	m.seed = seed
	for _, p := range m.params {
		if onlyNew && p.Value != nil {
			continue
		}
		d := p.decl
		vals := make([]float64, d.shape.TotalSize())
		h := fnv.New64a()
		h.Write([]byte(p.Name))
		rng := rand.New(rand.NewPCG(seed, h.Sum64()))
		switch d.init {
		case Zeros:
		case Ones:
			for i := range vals {
				vals[i] = 1
			}
		case GlorotUniform:
			limit := math.Sqrt(6 / float64(d.fanIn+d.fanOut))
			for i := range vals {
				vals[i] = (2*rng.Float64() - 1) * limit
			}
		case HeNormal:
			// Keras draws from a normal truncated at two standard deviations and rescales
			// so the truncated distribution keeps the intended spread.
			std := math.Sqrt(2/float64(d.fanIn)) / 0.87962566103423978
			for i := range vals {
				v := rng.NormFloat64()
				for math.Abs(v) > 2 {
					v = rng.NormFloat64()
				}
				vals[i] = v * std
			}
		default:
			return errors.Errorf("nn: parameter %q: unknown initializer %q", p.Name, d.init)
		}
		m.setValues(p, vals)
	}
	return nil
}

// setValues fills p (allocating it the first time, then in place) from float64 values.
func (m *Model) setValues(p *Param, vals []float64) {
	if p.Value == nil || p.Value.Dtype() != m.dtype {
		p.Value = tensor.New(tensor.Of(m.dtype), tensor.WithShape(p.decl.shape...))
	}
	switch d := p.Value.Data().(type) {
	case []float32:
		for i, v := range vals {
			d[i] = float32(v)
		}
	case []float64:
		copy(d, vals)
	}
}

// values reads p as float64s.
func values(p *Param) []float64 {
	switch d := p.Value.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return append([]float64(nil), d...)
	}
	return nil
}

// SetDType converts every parameter to dt (tensor.Float32 or tensor.Float64) and drops
// compiled graphs. Gradient checks use float64.
func (m *Model) SetDType(dt tensor.Dtype) error {
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return errors.Errorf("nn: model %q: dtype %v is not float32 or float64", m.name, dt)
	}
	if dt == m.dtype {
		return nil
	}
	m.dtype = dt
	for _, p := range m.params {
		m.setValues(p, values(p))
	}
	m.dropGraphs()
	return nil
}

// Freeze marks the named layers' parameters not trainable. A name ending in "/" is a
// prefix and freezes every layer under it ("stage1/"); so does the name of a block or of
// a nested model ([Builder.Call]) that is not itself a layer ("resnet-small"). A frozen
// BatchNorm runs in inference mode (Keras's rule). It fails, changing nothing, if a name
// matches no layer.
func (m *Model) Freeze(layers ...string) error { return m.setTrainable(false, layers) }

// Unfreeze makes the named layers' parameters trainable again (moving statistics stay
// untrainable); names as for [Model.Freeze].
func (m *Model) Unfreeze(layers ...string) error { return m.setTrainable(true, layers) }

func (m *Model) setTrainable(on bool, layers []string) error {
	var hit []*node
	for _, name := range layers {
		before := len(hit)
		for _, n := range m.nodes[1:] {
			if n.name == name {
				hit = append(hit, n)
			}
		}
		if len(hit) == before {
			// A prefix ("stage1/"), or a block or nested model named without the slash.
			prefix := strings.TrimSuffix(name, "/") + "/"
			for _, n := range m.nodes[1:] {
				if strings.HasPrefix(n.name, prefix) {
					hit = append(hit, n)
				}
			}
		}
		found := len(hit) > before
		if !found {
			return errors.Errorf("nn: model %q has no layer %q (layers: %s)", m.name, name, strings.Join(m.layerNames(), ", "))
		}
	}
	for _, n := range hit {
		n.layer.cfg.Frozen = !on
		for _, p := range n.params {
			p.Trainable = on && !p.Stat
		}
	}
	return nil
}

func (m *Model) layerNames() []string {
	var out []string
	for _, n := range m.nodes[1:] {
		out = append(out, n.name)
	}
	sort.Strings(out)
	return out
}

// frozen reports whether a layer has parameters and none of them is trainable.
func (n *node) frozen() bool {
	has := false
	for _, p := range n.params {
		if p.Stat {
			continue
		}
		if p.Trainable {
			return false
		}
		has = true
	}
	return has
}
