package nn

import (
	"encoding/json"
	"strings"

	"github.com/pkg/errors"

	"github.com/convgraph/convgraph/preprocess"
)

// Spec is a model's architecture as data: enough to rebuild the model (without its
// parameter values) with [FromSpec]. Checkpoints store it as JSON.
type Spec struct {
	Name   string      `json:"name"`
	Layers []LayerSpec `json:"layers"`
	Output string      `json:"output"`
	// Outputs lists every output of a model with several (Output is then the first).
	Outputs []string `json:"outputs,omitempty"`
	// Losses holds the losses set with Model.SetLoss.
	Losses []OutputLoss `json:"losses,omitempty"`
	// Nested lists the blocks that hold a whole model placed by Builder.Call.
	Nested []string `json:"nested,omitempty"`
	// Preprocessing is how raw images become the input (see [Model.Preprocessing]);
	// nil, in specs written before it existed, means the default.
	Preprocessing *preprocess.Config `json:"preprocessing,omitempty"`
}

// LayerSpec is one layer of a [Spec].
type LayerSpec struct {
	Kind   string   `json:"class_name"`
	Name   string   `json:"name"` // full path: "block1/conv1"
	Config Config   `json:"config"`
	Inputs []string `json:"inbound,omitempty"`
}

// Spec returns the model's architecture, including which layers are frozen.
func (m *Model) Spec() Spec {
	s := Spec{Name: m.name, Output: m.output.name}
	if len(m.outputs) > 1 {
		for _, o := range m.outputs {
			s.Outputs = append(s.Outputs, o.name)
		}
	}
	for _, o := range m.outputs {
		if l, ok := m.losses[o]; ok {
			s.Losses = append(s.Losses, l)
		}
	}
	s.Nested = append(s.Nested, m.nested...)
	m.mu.Lock()
	if m.pre != nil {
		pre := *m.pre
		s.Preprocessing = &pre
	}
	m.mu.Unlock()
	for _, n := range m.nodes {
		ls := LayerSpec{Kind: n.layer.kind, Name: n.name, Config: n.layer.cfg}
		ls.Config.Name = ""
		ls.Config.optionsUsed = nil
		for _, in := range n.inputs {
			ls.Inputs = append(ls.Inputs, in.name)
		}
		s.Layers = append(s.Layers, ls)
	}
	return s
}

// MarshalSpec encodes the model's [Spec] as JSON.
func (m *Model) MarshalSpec() ([]byte, error) { return json.Marshal(m.Spec()) }

// UnmarshalSpec decodes a JSON [Spec] and rebuilds its model (see [FromSpec]).
func UnmarshalSpec(b []byte) (*Model, error) {
	var s Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, errors.Wrap(err, "nn: model spec")
	}
	return FromSpec(s)
}

// FromSpec rebuilds a model from its architecture, with the same layer names, shapes and
// frozen layers, and parameters initialized with seed 1. Every inconsistency (an unknown
// layer type, an input that names no earlier layer, a bad configuration) is an error
// naming the layer.
func FromSpec(s Spec) (*Model, error) {
	if s.Name == "" || len(s.Layers) == 0 {
		return nil, errors.New("nn: model spec has no name or no layers")
	}
	b := NewBuilder(s.Name)
	out := map[string]Tensor{}
	for i, ls := range s.Layers {
		if _, ok := kinds[ls.Kind]; !ok {
			return nil, errors.Wrapf(&LayerError{Layer: ls.Name, Kind: ls.Kind, Err: errors.Errorf("unknown type %q", ls.Kind)},
				"nn: model spec %q", s.Name)
		}
		if i == 0 && ls.Kind != "InputLayer" {
			return nil, errors.Errorf("nn: model spec %q: layer %q: the input must come first", s.Name, ls.Name)
		}
		if ls.Name == "" || strings.HasPrefix(ls.Name, "/") || strings.HasSuffix(ls.Name, "/") {
			return nil, errors.Errorf("nn: model spec %q: layer %d has a bad name %q", s.Name, i, ls.Name)
		}
		if _, dup := out[ls.Name]; dup {
			return nil, errors.Errorf("nn: model spec %q: layer %q appears twice", s.Name, ls.Name)
		}
		prefix, local := "", ls.Name
		if j := strings.LastIndex(ls.Name, "/"); j >= 0 {
			prefix, local = ls.Name[:j], ls.Name[j+1:]
		}
		cfg := ls.Config
		cfg.Name = local
		l := &Layer{kind: ls.Kind, cfg: cfg}
		var ins []Tensor
		for _, name := range ls.Inputs {
			t, ok := out[name]
			if !ok {
				return nil, errors.Wrapf(&LayerError{Layer: ls.Name, Kind: ls.Kind, Err: errors.Errorf("takes %q, which is not an earlier layer", name)},
					"nn: model spec %q", s.Name)
			}
			ins = append(ins, t)
		}
		out[ls.Name] = b.Block(prefix).Apply(l, ins...)
		if b.Err() != nil {
			return nil, errors.Wrapf(b.Err(), "nn: model spec %q", s.Name)
		}
	}
	names := s.Outputs
	if len(names) == 0 {
		names = []string{s.Output}
	} else if names[0] != s.Output {
		return nil, errors.Errorf("nn: model spec %q: output %q is not the first of outputs %v", s.Name, s.Output, s.Outputs)
	}
	var outs []Tensor
	for _, name := range names {
		o, ok := out[name]
		if !ok {
			return nil, errors.Errorf("nn: model spec %q: output %q is not a layer", s.Name, name)
		}
		outs = append(outs, o)
	}
	m, err := b.Model(outs...)
	if err != nil {
		return nil, err
	}
	for _, p := range s.Nested {
		found := false
		for _, n := range m.nodes {
			found = found || strings.HasPrefix(n.name, p+"/")
		}
		if !found {
			return nil, errors.Errorf("nn: model spec %q: nested model %q has no layers", s.Name, p)
		}
		m.nested = append(m.nested, p)
	}
	for _, l := range s.Losses {
		if err := m.SetLoss(l.Output, l.Loss, l.Weight); err != nil {
			return nil, errors.Wrapf(err, "nn: model spec %q", s.Name)
		}
	}
	if s.Preprocessing != nil {
		if err := m.SetPreprocessing(*s.Preprocessing); err != nil {
			return nil, errors.Wrapf(err, "nn: model spec %q", s.Name)
		}
	}
	return m, nil
}
