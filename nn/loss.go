package nn

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
)

// Loss is how one output of a model is scored against its targets in training, as a
// Keras loss is. Make one with [SparseCategoricalCrossentropy] or [MeanSquaredError].
// The zero Loss means "none": the output is not trained.
type Loss struct {
	// Kind is the loss's name as Keras spells it in a saved config.
	Kind string `json:"kind"`
}

// The loss kinds.
const (
	lossSparseCCE = "sparse_categorical_crossentropy"
	lossMSE       = "mean_squared_error"
)

// SparseCategoricalCrossentropy scores a [batch, classes] output against class indices
// ([Target.Labels]): the mean of -log p[label], computed from the logits before the
// output's softmax so that it stays finite (or from the output itself, read as logits, if
// the output has no softmax). It is the loss of a model with one output unless
// [Model.SetLoss] says otherwise.
func SparseCategoricalCrossentropy() Loss { return Loss{Kind: lossSparseCCE} }

// MeanSquaredError scores an output of any shape against values of the same shape
// ([Target.Values]): the mean over every value of (output - target)².
func MeanSquaredError() Loss { return Loss{Kind: lossMSE} }

// labels reports whether the loss takes class indices rather than values.
func (l Loss) labels() bool { return l.Kind == lossSparseCCE }

func (l Loss) check(out Shape) error {
	switch l.Kind {
	case lossSparseCCE:
		if len(out) != 1 {
			return errors.Errorf("loss %s needs a (classes) output, not %v", l.Kind, out)
		}
	case lossMSE:
	default:
		return errors.Errorf("unknown loss %q", l.Kind)
	}
	return nil
}

// OutputLoss is the loss of one output and its weight in the model's total loss.
type OutputLoss struct {
	Output string  `json:"output"`
	Loss   Loss    `json:"loss"`
	Weight float64 `json:"weight"`
}

// SetLoss sets the loss of the named output and its weight in the total loss that
// training minimises (Keras's loss and loss_weights): the total is the weighted sum of
// the outputs' losses. A zero Loss takes the output out of training. A model with one
// output trains it with [SparseCategoricalCrossentropy] and weight 1 until told
// otherwise; outputs of a model with several have no loss until they are given one.
func (m *Model) SetLoss(output string, l Loss, weight float64) error {
	var n *node
	for _, o := range m.outputs {
		if o.name == output {
			n = o
		}
	}
	if n == nil {
		names := make([]string, len(m.outputs))
		for i, o := range m.outputs {
			names[i] = o.name
		}
		return errors.Errorf("nn: model %q has no output %q (outputs: %v)", m.name, output, names)
	}
	if l.Kind != "" {
		if err := l.check(n.out); err != nil {
			return errors.Wrapf(n.errorf(err), "nn: model %q", m.name)
		}
		if !(weight >= 0) || weight > 1e6 {
			return errors.Errorf("nn: model %q: output %q: loss weight %v must be in [0, 1e6]", m.name, output, weight)
		}
	}
	if m.losses == nil {
		m.losses = map[*node]OutputLoss{}
	}
	m.losses[n] = OutputLoss{Output: output, Loss: l, Weight: weight}
	m.dropGraphs()
	return nil
}

// Losses lists every output's loss, in output order (a zero Loss for an output that is
// not trained).
func (m *Model) Losses() []OutputLoss {
	out := make([]OutputLoss, len(m.outputs))
	for i, n := range m.outputs {
		out[i] = m.lossOf(n)
	}
	return out
}

func (m *Model) lossOf(n *node) OutputLoss {
	if l, ok := m.losses[n]; ok {
		return l
	}
	if len(m.outputs) == 1 && len(n.out) == 1 {
		return OutputLoss{Output: n.name, Loss: SparseCategoricalCrossentropy(), Weight: 1}
	}
	return OutputLoss{Output: n.name}
}

// Target is what one output is scored against in a batch: class indices for
// [SparseCategoricalCrossentropy], or values of the output's shape (in Keras's order,
// [batch, height, width, channels] for images) for [MeanSquaredError].
type Target struct {
	Labels []int
	Values tensor.Tensor
}

// head is one output with a loss inside a compiled graph.
type head struct {
	index    int // the output's position
	n        *node
	loss     OutputLoss
	pred     *G.Node // the output, or the logits before its softmax for cross-entropy
	target   *G.Node
	tgtVal   *tensor.Dense
	value    *G.Node // the output's mean loss
	labelled bool
}

// buildLoss adds the head's target and loss nodes.
func (h *head) build(gr *Graph, dt tensor.Dtype, out, logits *G.Node) error {
	var err error
	switch h.loss.Loss.Kind {
	case lossSparseCCE:
		h.pred = out
		if logits != nil {
			h.pred = logits
		}
		h.tgtVal = tensor.New(tensor.Of(dt), tensor.WithShape(gr.batch))
		name := "labels/" + h.n.name
		if len(gr.model.outputs) == 1 {
			name = "labels"
		}
		h.target = G.NewVector(gr.g, dt, G.WithShape(gr.batch), G.WithName(name), G.WithValue(h.tgtVal))
		h.value, err = graph.SoftmaxCrossEntropy(h.pred, h.target)
	case lossMSE:
		h.pred = out
		s := out.Shape()
		h.tgtVal = tensor.New(tensor.Of(dt), tensor.WithShape(s...))
		h.target = G.NewTensor(gr.g, dt, s.Dims(), G.WithShape(s...), G.WithName("targets/"+h.n.name), G.WithValue(h.tgtVal))
		h.value, err = graph.MeanSquaredError(out, h.target)
	}
	return err
}

// feed copies a batch's target into the head's target tensor.
func (h *head) feed(gr *Graph, t Target) error {
	if h.loss.Loss.labels() {
		if t.Values != nil {
			return errors.Errorf("output %q takes class labels (Target.Labels), not values", h.n.name)
		}
		if len(t.Labels) != gr.batch {
			return errors.Errorf("output %q: %d labels for a batch of %d", h.n.name, len(t.Labels), gr.batch)
		}
		classes := h.n.out[0]
		for i, l := range t.Labels {
			if l < 0 || l >= classes {
				return errors.Errorf("output %q: label %d of example %d is outside [0, %d)", h.n.name, l, i, classes)
			}
		}
		setLabels(h.tgtVal, t.Labels)
		return nil
	}
	if t.Labels != nil {
		return errors.Errorf("output %q takes values (Target.Values), not labels", h.n.name)
	}
	want := append(tensor.Shape{gr.batch}, h.n.out...)
	if t.Values == nil || !t.Values.Shape().Eq(want) {
		var got tensor.Shape
		if t.Values != nil {
			got = t.Values.Shape()
		}
		return errors.Errorf("output %q: target has shape %v; want %v", h.n.name, got, want)
	}
	return toInternal(t.Values, h.tgtVal)
}
