package nn

import (
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
)

// Loss is how one output of a model is scored against its targets in training, as a
// Keras loss is: make one with [SparseCategoricalCrossentropy],
// [CategoricalCrossentropy], [BinaryCrossentropy], [MeanSquaredError],
// [MeanAbsoluteError], [Huber] or [CustomLoss], with [LossOption]s. The zero Loss means
// "none": the output is not trained. A Loss is a plain value: it is saved in the model's
// spec (a checkpoint's header) and compared with ==.
type Loss struct {
	// Kind is the loss's name as Keras spells it in a saved config.
	Kind string `json:"kind"`
	// LabelSmoothing mixes a cross-entropy's targets with the uniform distribution.
	LabelSmoothing float64 `json:"label_smoothing,omitempty"`
	// FromLogits says the output holds logits, not probabilities (binary cross-entropy).
	FromLogits bool `json:"from_logits,omitempty"`
	// Delta is Huber's threshold.
	Delta float64 `json:"delta,omitempty"`
	// Name is a custom loss's registered name ([RegisterLoss]).
	Name string `json:"name,omitempty"`

	bad string // an option that does not apply to this loss, reported by SetLoss
}

// The loss kinds.
const (
	lossSparseCCE = "sparse_categorical_crossentropy"
	lossCCE       = "categorical_crossentropy"
	lossBCE       = "binary_crossentropy"
	lossMSE       = "mean_squared_error"
	lossMAE       = "mean_absolute_error"
	lossHuber     = "huber"
	lossCustom    = "custom"
)

// LossOption is an optional setting of a loss.
type LossOption struct {
	name  string
	apply func(l *Loss) bool // false: the option does not apply to l's kind
}

// LabelSmoothing(s), s in [0, 1), trains a cross-entropy against (1-s)·target + s/K
// instead of the one-hot target (K classes; 2 for the binary one), as Keras's
// label_smoothing does. For [SparseCategoricalCrossentropy], [CategoricalCrossentropy]
// and [BinaryCrossentropy].
func LabelSmoothing(s float64) LossOption {
	return LossOption{"LabelSmoothing", func(l *Loss) bool {
		l.LabelSmoothing = s
		return l.Kind == lossSparseCCE || l.Kind == lossCCE || l.Kind == lossBCE
	}}
}

// FromLogits says a [BinaryCrossentropy] output holds logits (no sigmoid), as Keras's
// from_logits=True does.
func FromLogits() LossOption {
	return LossOption{"FromLogits", func(l *Loss) bool {
		l.FromLogits = true
		return l.Kind == lossBCE
	}}
}

// Delta sets [Huber]'s threshold δ (default 1): squared error below it, linear above.
func Delta(d float64) LossOption {
	return LossOption{"Delta", func(l *Loss) bool {
		l.Delta = d
		return l.Kind == lossHuber
	}}
}

func newLoss(kind string, opts []LossOption) Loss {
	l := Loss{Kind: kind}
	if kind == lossHuber {
		l.Delta = 1
	}
	for _, o := range opts {
		if !o.apply(&l) && l.bad == "" {
			l.bad = o.name
		}
	}
	return l
}

// SparseCategoricalCrossentropy scores a [batch, classes] output against class indices
// ([Target.Labels]): the mean of -log p[label], computed from the logits before the
// output's softmax so that it stays finite (or from the output itself, read as logits, if
// the output has no softmax). It is the loss of a model with one output unless
// [Model.SetLoss] says otherwise. It takes [LabelSmoothing] (as PyTorch's cross_entropy
// does).
func SparseCategoricalCrossentropy(opts ...LossOption) Loss { return newLoss(lossSparseCCE, opts) }

// CategoricalCrossentropy scores a [batch, classes] output against target rows
// ([Target.Values]: one-hot, or any distributions): the mean of -Σ t·log p, computed from
// the logits before the output's softmax (or from the output read as logits, if it has
// no softmax). It takes [LabelSmoothing].
func CategoricalCrossentropy(opts ...LossOption) Loss { return newLoss(lossCCE, opts) }

// BinaryCrossentropy scores an output of any shape against targets in [0, 1] of the same
// shape ([Target.Values]): the mean of -(t log p + (1-t) log(1-p)). On an output with a
// sigmoid activation it is computed from the logits before the sigmoid, exactly and
// finite however confident the prediction (as Keras does); on another output, p is the
// output clipped to [1e-7, 1-1e-7], or sigmoid(output) with [FromLogits]. It takes
// [LabelSmoothing] and [FromLogits].
func BinaryCrossentropy(opts ...LossOption) Loss { return newLoss(lossBCE, opts) }

// MeanSquaredError scores an output of any shape against values of the same shape
// ([Target.Values]): the mean over every value of (output - target)².
func MeanSquaredError(opts ...LossOption) Loss { return newLoss(lossMSE, opts) }

// MeanAbsoluteError scores an output of any shape against values of the same shape
// ([Target.Values]): the mean over every value of |output - target|.
func MeanAbsoluteError(opts ...LossOption) Loss { return newLoss(lossMAE, opts) }

// Huber scores an output of any shape against values of the same shape: the mean of ½d²
// where |d| ≤ δ and δ(|d| - ½δ) elsewhere, d = output - target (Keras's Huber, PyTorch's
// huber_loss). It takes [Delta] (default 1).
func Huber(opts ...LossOption) Loss { return newLoss(lossHuber, opts) }

// labels reports whether the loss takes class indices rather than values.
func (l Loss) labels() bool { return l.Kind == lossSparseCCE }

// TakesLabels reports whether the loss scores class indices ([Target.Labels]) rather
// than values ([Target.Values]).
func (l Loss) TakesLabels() bool { return l.labels() }

// Classifies reports whether the loss scores class predictions (the cross-entropies), so
// that accuracy means something for its output.
func (l Loss) Classifies() bool {
	return l.Kind == lossSparseCCE || l.Kind == lossCCE || l.Kind == lossBCE
}

// String is the loss as a user names it: "huber(delta=0.5)", "custom(log_cosh)".
func (l Loss) String() string {
	var args []string
	if l.LabelSmoothing != 0 {
		args = append(args, fmt.Sprintf("label_smoothing=%g", l.LabelSmoothing))
	}
	if l.FromLogits {
		args = append(args, "from_logits=true")
	}
	if l.Kind == lossHuber {
		args = append(args, fmt.Sprintf("delta=%g", l.Delta))
	}
	if l.Kind == lossCustom {
		args = append(args, l.Name)
	}
	if len(args) == 0 {
		return l.Kind
	}
	return l.Kind + "(" + strings.Join(args, ", ") + ")"
}

func (l Loss) check(out Shape) error {
	if l.bad != "" {
		return errors.Errorf("option %s does not apply to %s", l.bad, l.Kind)
	}
	switch l.Kind {
	case lossSparseCCE, lossCCE:
		if len(out) != 1 {
			return errors.Errorf("needs a (classes) output, not %v", out)
		}
	case lossBCE, lossMSE, lossMAE, lossHuber:
	case lossCustom:
		if _, ok := lookupLoss(l.Name); !ok {
			return errors.Errorf("custom loss %q is not registered (nn.RegisterLoss)", l.Name)
		}
	default:
		return errors.Errorf("unknown loss %q", l.Kind)
	}
	if !(l.LabelSmoothing >= 0 && l.LabelSmoothing < 1) {
		return errors.Errorf("label smoothing %v must be in [0, 1)", l.LabelSmoothing)
	}
	if l.Kind == lossHuber && !(l.Delta > 0 && l.Delta <= 1e6) {
		return errors.Errorf("delta %v must be in (0, 1e6]", l.Delta)
	}
	return nil
}

// LossError is a problem with the loss of one output: its settings, its targets, or a
// custom loss's expression. Errors from [Model.SetLoss], [Model.Compile] and the runs of a
// graph that concern a loss carry one; find it with errors.As.
type LossError struct {
	// Output is the output's layer name.
	Output string
	// Loss is the loss as [Loss.String] writes it.
	Loss string
	// Err is the problem.
	Err error
}

// Error reads `output "value", loss huber(delta=-1): delta -1 must be in (0, 1e6]`.
func (e *LossError) Error() string {
	return fmt.Sprintf("output %q, loss %s: %v", e.Output, e.Loss, e.Err)
}

// Unwrap returns the problem.
func (e *LossError) Unwrap() error { return e.Err }

// LossFunc is a loss written as a Gorgonia expression: given the prediction and the
// target nodes of a batch, it returns a scalar node that training minimises (its mean
// over the batch, as Keras's losses are). pred is the output as the graph holds it:
// [batch, ...] with images in NCHW order (channels before height and width); target is a
// node of the same shape and order, holding [Target.Values]. The expression may use any
// differentiable Gorgonia operation (G.Sub, G.Square, G.Abs, G.Exp, G.Log, G.Mean,
// G.Sum, G.Mul with constants, ...) and convgraph's graph package; only pred gets a
// gradient. It must not use the nodes' values (the graph is built once and run many
// times) and must give every node it names a name of its own.
type LossFunc func(pred, target *G.Node) (*G.Node, error)

var (
	lossMu       sync.RWMutex
	customLosses = map[string]LossFunc{}
)

// RegisterLoss makes a custom loss known by name, so that [CustomLoss](name) can train
// with it and a saved model that names it loads again (as Keras's custom_objects), in any
// program that registers it. It panics if name is empty or already registered, or f is
// nil: registration happens at start-up, like image.RegisterFormat.
func RegisterLoss(name string, f LossFunc) {
	lossMu.Lock()
	defer lossMu.Unlock()
	if name == "" || f == nil {
		panic("nn: RegisterLoss needs a name and a function")
	}
	if _, dup := customLosses[name]; dup {
		panic("nn: RegisterLoss: loss " + name + " registered twice")
	}
	customLosses[name] = f
}

func lookupLoss(name string) (LossFunc, bool) {
	lossMu.RLock()
	defer lossMu.RUnlock()
	f, ok := customLosses[name]
	return f, ok
}

// CustomLoss is the loss registered under name with [RegisterLoss]. It scores an output
// against values of its shape ([Target.Values]); per-example weights do not apply to it.
func CustomLoss(name string) Loss { return Loss{Kind: lossCustom, Name: name} }

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
			return errors.Wrapf(&LossError{Output: output, Loss: l.String(), Err: err}, "nn: model %q", m.name)
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

// SetExampleWeights(true) makes the graphs compiled from then on weight each example's
// loss by [Target.Weights] (Keras's sample_weight) on every output with a built-in loss;
// with false, the default, they take no weights, and a target with weights is an error.
// Changing it drops the compiled graphs. [train.Fit] and FitTensors turn it on while they
// train with class weights and restore it after.
func (m *Model) SetExampleWeights(on bool) {
	if m.exampleWeights != on {
		m.exampleWeights = on
		m.dropGraphs()
	}
}

// ExampleWeights reports whether graphs take per-example weights ([Model.SetExampleWeights]).
func (m *Model) ExampleWeights() bool { return m.exampleWeights }

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
// [batch, height, width, channels] for images) for the other losses. Weights, if set,
// weights each example's loss (Keras's sample_weight): the output's loss is then
// Σ w·loss / batch.
type Target struct {
	Labels  []int
	Values  tensor.Tensor
	Weights []float64
}

// head is one output with a loss inside a compiled graph.
type head struct {
	index    int // the output's position
	n        *node
	loss     OutputLoss
	pred     *G.Node // the output, or the logits before its softmax or sigmoid
	target   *G.Node
	tgtVal   *tensor.Dense
	weights  *G.Node // per-example weights (all ones unless a target sets them); nil unless Model.SetExampleWeights
	wVal     *tensor.Dense
	weighted bool    // wVal holds weights other than ones
	value    *G.Node // the output's mean loss
	labelled bool
}

func (h *head) errorf(err error) error {
	return &LossError{Output: h.n.name, Loss: h.loss.Loss.String(), Err: err}
}

// build adds the head's target and loss nodes. logits is the output's softmax input,
// preSigmoid its sigmoid input (either nil when the output has none).
func (h *head) build(gr *Graph, dt tensor.Dtype, out, logits, preSigmoid *G.Node) error {
	l := h.loss.Loss
	s := out.Shape()
	if l.Kind != lossCustom && gr.model.exampleWeights {
		h.wVal = tensor.New(tensor.Of(dt), tensor.WithShape(gr.batch))
		fillOnes(h.wVal)
		h.weights = G.NewVector(gr.g, dt, G.WithShape(gr.batch), G.WithName("sample_weights/"+h.n.name), G.WithValue(h.wVal))
	}
	if !l.labels() {
		h.tgtVal = tensor.New(tensor.Of(dt), tensor.WithShape(s...))
		h.target = G.NewTensor(gr.g, dt, s.Dims(), G.WithShape(s...), G.WithName("targets/"+h.n.name), G.WithValue(h.tgtVal))
	}
	cfg := graph.LossConfig{Weights: h.weights, LabelSmoothing: l.LabelSmoothing, Delta: l.Delta}
	var err error
	switch l.Kind {
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
		h.value, err = graph.SoftmaxCrossEntropyWith(h.pred, h.target, cfg)
	case lossCCE:
		h.pred = out
		if logits != nil {
			h.pred = logits
		}
		h.value, err = graph.CategoricalCrossEntropy(h.pred, h.target, cfg)
	case lossBCE:
		switch {
		case l.FromLogits && preSigmoid != nil:
			return errors.New("from_logits on an output with a sigmoid activation (the loss would apply a second sigmoid): drop FromLogits or the activation")
		case preSigmoid != nil:
			h.pred = preSigmoid
			h.value, err = graph.BinaryCrossEntropyFromLogits(h.pred, h.target, cfg)
		case l.FromLogits:
			h.pred = out
			h.value, err = graph.BinaryCrossEntropyFromLogits(h.pred, h.target, cfg)
		default:
			h.pred = out
			h.value, err = graph.BinaryCrossEntropy(h.pred, h.target, cfg)
		}
	case lossMSE:
		h.pred = out
		if h.weights == nil {
			h.value, err = graph.MeanSquaredError(out, h.target)
		} else {
			h.value, err = graph.MeanSquaredErrorWith(out, h.target, cfg)
		}
	case lossMAE:
		h.pred = out
		h.value, err = graph.MeanAbsoluteError(out, h.target, cfg)
	case lossHuber:
		h.pred = out
		h.value, err = graph.Huber(out, h.target, cfg)
	case lossCustom:
		h.pred = out
		h.value, err = h.buildCustom(out)
	default:
		err = errors.Errorf("unknown loss %q", l.Kind)
	}
	return err
}

// buildCustom calls a registered LossFunc, turning its panics into errors and checking
// that it gives a scalar.
func (h *head) buildCustom(out *G.Node) (v *G.Node, err error) {
	f, ok := lookupLoss(h.loss.Loss.Name)
	if !ok {
		return nil, errors.Errorf("custom loss %q is not registered (nn.RegisterLoss)", h.loss.Loss.Name)
	}
	// The expression sees copies: Gorgonia's Sub, HadamardProd and others may write their
	// result over an input whose value nothing later reads, and the output's value is
	// read after the run (Output, metrics, Predict) and the target's is fed again.
	err = graph.Safely(func() (err error) {
		p, err := graph.Scale(out, 1)
		if err != nil {
			return err
		}
		t, err := graph.Scale(h.target, 1)
		if err != nil {
			return err
		}
		v, err = f(p, t)
		return err
	})
	switch {
	case err != nil:
		return nil, err
	case v == nil:
		return nil, errors.New("the loss function returned no node")
	case !v.IsScalar():
		return nil, errors.Errorf("the loss function returned shape %v; want a scalar (reduce it with G.Mean)", v.Shape())
	case v.Graph() != out.Graph():
		return nil, errors.New("the loss function returned a node of another graph")
	}
	return v, nil
}

func fillOnes(d *tensor.Dense) {
	switch s := d.Data().(type) {
	case []float32:
		for i := range s {
			s[i] = 1
		}
	case []float64:
		for i := range s {
			s[i] = 1
		}
	}
}

// setWeights feeds per-example weights (nil: all ones).
func (h *head) setWeights(gr *Graph, w []float64) error {
	if w == nil {
		if h.weighted {
			fillOnes(h.wVal)
			h.weighted = false
		}
		return nil
	}
	if h.loss.Loss.Kind == lossCustom {
		return errors.New("per-example weights do not apply to a custom loss")
	}
	if h.wVal == nil {
		return errors.New("per-example weights need Model.SetExampleWeights(true) before the graph is compiled")
	}
	if len(w) != gr.batch {
		return errors.Errorf("%d weights for a batch of %d", len(w), gr.batch)
	}
	for i, v := range w {
		if !(v >= 0) || math.IsInf(v, 0) {
			return errors.Errorf("weight %v of example %d must be finite and not negative", v, i)
		}
	}
	switch s := h.wVal.Data().(type) {
	case []float32:
		for i, v := range w {
			s[i] = float32(v)
		}
	case []float64:
		copy(s, w)
	}
	h.weighted = true
	return nil
}

// feed copies a batch's target into the head's target tensor.
func (h *head) feed(gr *Graph, t Target) error {
	if err := h.setWeights(gr, t.Weights); err != nil {
		return h.errorf(err)
	}
	if h.loss.Loss.labels() {
		if t.Values != nil {
			return h.errorf(errors.New("takes class labels (Target.Labels), not values"))
		}
		if len(t.Labels) != gr.batch {
			return h.errorf(errors.Errorf("%d labels for a batch of %d", len(t.Labels), gr.batch))
		}
		classes := h.n.out[0]
		for i, l := range t.Labels {
			if l < 0 || l >= classes {
				return h.errorf(errors.Errorf("label %d of example %d is outside [0, %d)", l, i, classes))
			}
		}
		setLabels(h.tgtVal, t.Labels)
		return nil
	}
	if t.Labels != nil {
		return h.errorf(errors.New("takes values (Target.Values), not labels"))
	}
	want := append(tensor.Shape{gr.batch}, h.n.out...)
	if t.Values == nil || !t.Values.Shape().Eq(want) {
		var got tensor.Shape
		if t.Values != nil {
			got = t.Values.Shape()
		}
		return h.errorf(errors.Errorf("target has shape %v; want %v", got, want))
	}
	return toInternal(t.Values, h.tgtVal)
}
