package nn

import (
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Call places a whole model as one layer of the model being built, on the given inputs
// (one per sub's input, of its shapes), as calling a Keras model on a tensor does, and
// returns its output (see [Builder.CallOutputs] for a model with several). sub's layers
// are placed under the block sub.Name() (so "resnet-small/stage1/block1/conv1"), keep
// their frozen state, and share sub's parameter tensors, values included: training the
// new model trains sub too, as in Keras. The new model freezes and unfreezes sub as one
// unit by its name ([Model.Freeze]("resnet-small")), summarises it as one row
// ([Model.Summary] unless [ExpandNested]) and draws it as a cluster ([Model.DOT]). Calling
// the same model twice needs two blocks: b.Block("left").Call(sub, x).
func (b *Builder) Call(sub *Model, inputs ...Tensor) Tensor {
	outs := b.CallOutputs(sub, inputs...)
	if len(outs) == 0 {
		return Tensor{}
	}
	if len(outs) > 1 {
		b.fail(sub, errors.Errorf("has %d outputs: use CallOutputs", len(outs)))
		return Tensor{}
	}
	return outs[0]
}

// CallOutputs is [Builder.Call] for a model with several outputs: it returns them in
// sub's output order.
func (b *Builder) CallOutputs(sub *Model, inputs ...Tensor) []Tensor {
	st := b.st
	if st.err != nil {
		return nil
	}
	if sub == nil {
		st.err = errors.New("nn: Call: nil model")
		return nil
	}
	if sub.dtype != tensor.Float32 {
		b.fail(sub, errors.Errorf("has dtype %v: call it while it is float32, then SetDType the new model", sub.dtype))
		return nil
	}
	if len(inputs) != len(sub.inputs) {
		b.fail(sub, errors.Errorf("takes %d inputs, got %d", len(sub.inputs), len(inputs)))
		return nil
	}
	placed := map[*node]Tensor{}
	for i, in := range sub.inputs {
		t := inputs[i]
		if t.n == nil || !st.has(t.n) {
			b.fail(sub, errors.Errorf("input %d is not the output of a layer of this model", i))
			return nil
		}
		if !t.n.out.equal(in.out) {
			b.fail(sub, errors.Errorf("input %d has shape %v; the model takes %v", i, t.n.out, in.out))
			return nil
		}
		placed[in] = t
	}
	blk := b.Block(sub.name)
	for _, n := range sub.nodes {
		if n.layer.kind == "InputLayer" {
			continue
		}
		dir, local := "", n.name
		if j := strings.LastIndex(n.name, "/"); j >= 0 {
			dir, local = n.name[:j], n.name[j+1:]
		}
		cfg := n.layer.cfg
		cfg.Name = local
		ins := make([]Tensor, len(n.inputs))
		for i, in := range n.inputs {
			ins[i] = placed[in]
		}
		t := blk.Block(dir).Apply(&Layer{kind: n.layer.kind, cfg: cfg}, ins...)
		if st.err != nil {
			return nil
		}
		for i, p := range t.n.params {
			p.Value, p.Trainable = n.params[i].Value, n.params[i].Trainable
		}
		placed[n] = t
	}
	st.nested = append(st.nested, strings.TrimSuffix(blk.prefix, "/"))
	outs := make([]Tensor, len(sub.outputs))
	for i, o := range sub.outputs {
		outs[i] = placed[o]
	}
	return outs
}

// fail records an error about calling sub.
func (b *Builder) fail(sub *Model, err error) {
	b.st.err = errors.Wrap(&LayerError{Layer: b.prefix + sub.name, Kind: "Model", Err: err}, "nn")
}

// Nested lists the models placed in this one by [Builder.Call], by the block they sit
// under ("resnet-small").
func (m *Model) Nested() []string { return append([]string(nil), m.nested...) }

// nestedOf returns the nested model a layer belongs to ("" for none): the outermost.
func (m *Model) nestedOf(n *node) string {
	for _, p := range m.nested {
		if strings.HasPrefix(n.name, p+"/") {
			return p
		}
	}
	return ""
}
