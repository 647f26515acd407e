package nn

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// FreezeUpTo freezes every layer from the input up to and including the named one (in the
// model's topological order), the usual "freeze the backbone below here".
func (m *Model) FreezeUpTo(layer string) error {
	names, err := m.upTo(layer)
	if err != nil {
		return err
	}
	return m.Freeze(names...)
}

// UnfreezeFrom makes the named layer and every later one trainable again.
func (m *Model) UnfreezeFrom(layer string) error {
	before, err := m.upTo(layer)
	if err != nil {
		return err
	}
	var after []string
	for _, n := range m.nodes[len(before):] {
		after = append(after, n.name)
	}
	return m.Unfreeze(after...)
}

// upTo lists the layers from the first one to the named one.
func (m *Model) upTo(layer string) ([]string, error) {
	var names []string
	for _, n := range m.nodes[1:] {
		names = append(names, n.name)
		if n.name == layer {
			return names, nil
		}
	}
	return nil, errors.Errorf("nn: model %q has no layer %q", m.name, layer)
}

// HeadLayer is the name of the last layer with parameters: the classifier a transfer
// learning run replaces or keeps trainable.
func (m *Model) HeadLayer() string {
	for i := len(m.nodes) - 1; i > 0; i-- {
		if len(m.nodes[i].params) > 0 {
			return m.nodes[i].name
		}
	}
	return ""
}

// ReplaceHead returns a copy of the model whose output Dense layer has classes units,
// with every other parameter's values copied (and its frozen state kept) and the new
// head freshly initialized with seed. It fails if the output layer is not Dense.
func (m *Model) ReplaceHead(classes int, seed uint64) (*Model, error) {
	if classes < 1 {
		return nil, errors.Errorf("nn: model %q: a head for %d classes", m.name, classes)
	}
	spec := m.Spec()
	last := &spec.Layers[len(spec.Layers)-1]
	if last.Kind != "Dense" {
		return nil, errors.Errorf("nn: model %q: the output layer %q is %s, not Dense: no head to replace", m.name, last.Name, last.Kind)
	}
	last.Config.Units = classes
	out, err := FromSpec(spec)
	if err != nil {
		return nil, err
	}
	out.dtype = m.dtype
	if err := out.Initialize(seed); err != nil {
		return nil, err
	}
	for _, p := range out.params {
		src := m.byName[p.Name]
		if p.Layer == last.Name || src == nil || !src.Value.Shape().Eq(p.Value.Shape()) {
			continue // the new head starts fresh, even for as many classes as the old one
		}
		copyInto(p.Value, src.Value)
	}
	return out, nil
}

// copyInto copies src's values into dst (same size), converting the element type.
func copyInto(dst, src *tensor.Dense) {
	switch d := dst.Data().(type) {
	case []float32:
		switch s := src.Data().(type) {
		case []float32:
			copy(d, s)
		case []float64:
			for i, v := range s {
				d[i] = float32(v)
			}
		}
	case []float64:
		switch s := src.Data().(type) {
		case []float64:
			copy(d, s)
		case []float32:
			for i, v := range s {
				d[i] = float64(v)
			}
		}
	}
}
