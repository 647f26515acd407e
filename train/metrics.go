package train

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
)

// Metric scores a model's predictions over an epoch, as a Keras metric does: training
// calls Reset before each epoch (and before each validation pass), Update after every
// batch, and Result at the end, which goes into the progress line and the history
// ([EpochLogs.Metrics], history.csv's columns; validation's results prefixed "val_").
// Each accuracy of a classifier output is reported without asking; [TopKAccuracy] and
// [PrecisionRecallF1] are built in, and any type with these methods is a metric. A metric
// watches the model's first output with a loss unless [OnOutput] names another. A Metric
// is used by one training run at a time.
type Metric interface {
	// Update adds one batch: out holds the output for the batch, float32 [batch,
	// ...] in Keras's order (probabilities for a softmax output), and t its targets, as
	// given to training (labels, or values of out's shape).
	Update(out *tensor.Dense, t nn.Target) error
	// Result returns the metric's values by name: {"top3_accuracy": 0.93}.
	Result() map[string]float64
	// Reset forgets every batch.
	Reset()
}

// MetricError is a problem with one metric: an output it names that the model does not
// have, targets it cannot read, or an error from its Update.
type MetricError struct {
	// Metric is the metric's name: its String method's, or its Go type.
	Metric string
	// Output is the model output it watches.
	Output string
	Err    error
}

// Error reads `metric top3_accuracy on output "class": ...`.
func (e *MetricError) Error() string {
	return fmt.Sprintf("metric %s on output %q: %v", e.Metric, e.Output, e.Err)
}

// Unwrap returns the problem.
func (e *MetricError) Unwrap() error { return e.Err }

func metricName(m Metric) string {
	if s, ok := m.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", m)
}

// onOutput is a metric bound to a named output.
type onOutput struct {
	output string
	Metric
}

// OnOutput makes metric watch the named output of a model with several, its results
// named "<output>_<name>" as Keras names them.
func OnOutput(output string, metric Metric) Metric { return &onOutput{output, metric} }

func (o *onOutput) String() string { return metricName(o.Metric) }

// boundMetric is a metric resolved to an output's position.
type boundMetric struct {
	m      Metric
	index  int
	name   string // the output's name
	prefix string // "" or "<output>_"
	shape  nn.Shape
	buf    []float32
}

// bindMetrics resolves each metric's output: the named one, or the first with a loss.
func bindMetrics(m *nn.Model, metrics []Metric) ([]*boundMetric, error) {
	outs, losses := m.Outputs(), m.Losses()
	first := 0
	for i, l := range losses {
		if l.Loss.Kind != "" {
			first = i
			break
		}
	}
	var bound []*boundMetric
	for _, mt := range metrics {
		if mt == nil {
			return nil, errors.New("train: a metric is nil")
		}
		b := &boundMetric{m: mt, index: first}
		if o, ok := mt.(*onOutput); ok {
			b.m, b.index = o.Metric, -1
			for i, p := range outs {
				if p.Name == o.output {
					b.index = i
				}
			}
			if b.index < 0 {
				return nil, &MetricError{Metric: metricName(o.Metric), Output: o.output, Err: errors.Errorf("model %q has no such output", m.Name())}
			}
			b.prefix = o.output + "_"
		}
		b.name, b.shape = outs[b.index].Name, outs[b.index].Shape
		bound = append(bound, b)
	}
	return bound, nil
}

func resetMetrics(ms []*boundMetric) {
	for _, b := range ms {
		b.m.Reset()
	}
}

// updateMetrics feeds one batch's output i (the graph's, NCHW for images) to the metrics.
func updateMetrics(ms []*boundMetric, gr *nn.Graph, ys []nn.Target) error {
	for _, b := range ms {
		out := gr.OutputAt(b.index)
		n := out.Shape()[0]
		size := n * b.shape.Size()
		if cap(b.buf) < size {
			b.buf = make([]float32, size)
		}
		copyOutput(b.buf[:size], out, b.shape)
		keras := tensor.New(tensor.WithShape(append(tensor.Shape{n}, b.shape...)...), tensor.WithBacking(b.buf[:size]))
		if err := b.m.Update(keras, ys[b.index]); err != nil {
			return &MetricError{Metric: metricName(b.m), Output: b.name, Err: err}
		}
	}
	return nil
}

// metricResults adds every metric's results to into, each name after prefix ("val_")
// and the metric's output prefix.
func metricResults(ms []*boundMetric, prefix string, into map[string]float64) {
	for _, b := range ms {
		for k, v := range b.m.Result() {
			into[prefix+b.prefix+k] = v
		}
	}
}

// classesOf reads each example's true class from a target: its label, the largest value
// of a one-hot row, or a single value read as 0 or 1 (threshold 0.5).
func classesOf(t nn.Target, n int, shape nn.Shape) ([]int, error) {
	if t.Labels != nil {
		if len(t.Labels) != n {
			return nil, errors.Errorf("%d labels for a batch of %d", len(t.Labels), n)
		}
		return t.Labels, nil
	}
	if t.Values == nil || len(shape) != 1 {
		return nil, errors.Errorf("needs class labels or one-hot target rows, not %v", shape)
	}
	v, ok := t.Values.Data().([]float32)
	if !ok || len(v) != n*shape[0] {
		return nil, errors.Errorf("targets are not float32 [%d, %d]", n, shape[0])
	}
	return rowClasses(v, n, shape[0]), nil
}

// rowClasses is each row's class: argmax, or for one column, whether it is ≥ 0.5.
func rowClasses(v []float32, n, k int) []int {
	out := make([]int, n)
	for r := range out {
		row := v[r*k : (r+1)*k]
		if k == 1 {
			if row[0] >= 0.5 {
				out[r] = 1
			}
			continue
		}
		out[r] = argmax32(row)
	}
	return out
}

// TopKAccuracy is the fraction of examples whose true class is among the k classes the
// output scores highest (Keras's top_k_categorical_accuracy and its sparse form), named
// "top<k>_accuracy". It reads labels or one-hot target rows. It panics if k < 1.
func TopKAccuracy(k int) Metric {
	if k < 1 {
		panic(fmt.Sprintf("train: TopKAccuracy(%d): k must be at least 1", k))
	}
	return &topK{k: k}
}

type topK struct {
	k           int
	hits, total float64
}

func (m *topK) String() string { return fmt.Sprintf("top%d_accuracy", m.k) }
func (m *topK) Reset()         { m.hits, m.total = 0, 0 }

func (m *topK) Update(out *tensor.Dense, t nn.Target) error {
	s := out.Shape()
	if s.Dims() != 2 {
		return errors.Errorf("needs a (classes) output, not %v", s[1:])
	}
	n, k := s[0], s[1]
	if k < 2 {
		return errors.Errorf("needs scores of 2 or more classes, not %v", s[1:])
	}
	classes, err := classesOf(t, n, nn.Shape{k})
	if err != nil {
		return err
	}
	p := out.Data().([]float32)
	for r, c := range classes {
		if c < 0 || c >= k {
			return errors.Errorf("class %d of example %d is outside [0, %d)", c, r, k)
		}
		row := p[r*k : (r+1)*k]
		// The true class is in the top k if fewer than k classes score higher (ties
		// count for the true class, as Keras's in_top_k does).
		higher := 0
		for _, v := range row {
			if v > row[c] {
				higher++
			}
		}
		if higher < m.k {
			m.hits++
		}
	}
	m.total += float64(n)
	return nil
}

func (m *topK) Result() map[string]float64 {
	return map[string]float64{m.String(): m.hits / m.total}
}

// PrecisionRecallF1 reports, for each class k of a classifier output, its precision
// ("precision_k": of the examples predicted k, the fraction that are k), recall
// ("recall_k": of the examples of class k, the fraction predicted k) and F1
// ("f1_k", their harmonic mean), and their unweighted means over the classes
// ("precision", "recall", "f1": macro averages, as scikit-learn's average="macro"). A
// value with nothing to divide (no example predicted k, say) is 0, as Keras and
// scikit-learn report it. The predicted class is the output's largest score (or, for a
// single sigmoid output, whether it is ≥ 0.5); the true class is the label or the
// target row's largest value.
func PrecisionRecallF1() Metric { return &prf{} }

type prf struct {
	// confusion[true][predicted]
	confusion [][]float64
}

func (m *prf) String() string { return "precision_recall_f1" }
func (m *prf) Reset()         { m.confusion = nil }

func (m *prf) Update(out *tensor.Dense, t nn.Target) error {
	s := out.Shape()
	if s.Dims() != 2 {
		return errors.Errorf("needs a (classes) output, not %v", s[1:])
	}
	n, k := s[0], s[1]
	truth, err := classesOf(t, n, nn.Shape{k})
	if err != nil {
		return err
	}
	pred := rowClasses(out.Data().([]float32), n, k)
	classes := max(k, 2)
	if m.confusion == nil {
		m.confusion = make([][]float64, classes)
		for i := range m.confusion {
			m.confusion[i] = make([]float64, classes)
		}
	}
	for r, c := range truth {
		if c < 0 || c >= classes {
			return errors.Errorf("class %d of example %d is outside [0, %d)", c, r, classes)
		}
		m.confusion[c][pred[r]]++
	}
	return nil
}

func (m *prf) Result() map[string]float64 {
	out := map[string]float64{}
	k := len(m.confusion)
	if k == 0 {
		return out
	}
	ratio := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	var sp, sr, sf float64
	for c := 0; c < k; c++ {
		var predicted, actual float64
		for o := 0; o < k; o++ {
			predicted += m.confusion[o][c]
			actual += m.confusion[c][o]
		}
		tp := m.confusion[c][c]
		p, r := ratio(tp, predicted), ratio(tp, actual)
		f := ratio(2*p*r, p+r)
		out[fmt.Sprintf("precision_%d", c)] = p
		out[fmt.Sprintf("recall_%d", c)] = r
		out[fmt.Sprintf("f1_%d", c)] = f
		sp, sr, sf = sp+p, sr+r, sf+f
	}
	out["precision"], out["recall"], out["f1"] = sp/float64(k), sr/float64(k), sf/float64(k)
	return out
}

// classWeighter turns Config.ClassWeight into per-example weights for the model's one
// trained output.
type classWeighter struct {
	weights map[int]float64
	index   int // the output
	shape   nn.Shape
	name    string
}

// newClassWeighter checks the class weights against m: one output with a
// classification loss, classes in its range, finite weights ≥ 0.
func newClassWeighter(m *nn.Model, cw map[int]float64) (*classWeighter, error) {
	if len(cw) == 0 {
		return nil, nil
	}
	outs := m.Outputs()
	w := &classWeighter{weights: cw, index: -1}
	for i, l := range m.Losses() {
		if l.Loss.Kind == "" {
			continue
		}
		if w.index >= 0 {
			return nil, errors.Errorf("train: class weights need a model with one trained output (as Keras's class_weight); model %q trains %q and %q: weight examples with nn.Target.Weights", m.Name(), outs[w.index].Name, outs[i].Name)
		}
		if !l.Loss.Classifies() {
			return nil, errors.Errorf("train: class weights need a classification loss; output %q has %v", outs[i].Name, l.Loss)
		}
		if len(outs[i].Shape) != 1 {
			return nil, errors.Errorf("train: class weights need a (classes) output; output %q is %v", outs[i].Name, outs[i].Shape)
		}
		w.index, w.shape, w.name = i, outs[i].Shape, outs[i].Name
	}
	classes := max(w.shape[0], 2)
	for c, v := range cw {
		if c < 0 || c >= classes {
			return nil, errors.Errorf("train: class weight for class %d: output %q has classes [0, %d)", c, w.name, classes)
		}
		if !(v >= 0) || math.IsInf(v, 0) {
			return nil, errors.Errorf("train: class weight %v for class %d must be finite and not negative", v, c)
		}
	}
	return w, nil
}

// apply sets ys's weights for the trained output from its examples' classes (classes
// without a weight get 1).
func (w *classWeighter) apply(ys []nn.Target, n int) error {
	if w == nil {
		return nil
	}
	classes, err := classesOf(ys[w.index], n, w.shape)
	if err != nil {
		return errors.Wrapf(err, "train: class weights: output %q", w.name)
	}
	ws := make([]float64, n)
	for r, c := range classes {
		ws[r] = 1
		if v, ok := w.weights[c]; ok {
			ws[r] = v
		}
	}
	ys[w.index].Weights = ws
	return nil
}
