package train

import (
	"context"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
)

// Tensors is an in-memory data set for a model with any number of inputs and outputs, as
// Keras's fit(x, y) takes it. X holds one float32 tensor per model input
// ([nn.Model.Inputs] order), each [n, example shape...] in Keras's order; Y holds one
// [nn.Target] per output ([nn.Model.Outputs] order): Labels, n class indices, for a
// cross-entropy output, or Values, a float32 [n, output shape...] tensor, for a regression
// output, and the zero Target for an output without a loss.
type Tensors struct {
	X []tensor.Tensor
	Y []nn.Target
}

// Len is the number of examples.
func (d *Tensors) Len() int {
	if d == nil || len(d.X) == 0 || d.X[0] == nil || d.X[0].Shape().Dims() == 0 {
		return 0
	}
	return d.X[0].Shape()[0]
}

// check reports data that does not fit m, naming the input or output.
func (d *Tensors) check(m *nn.Model, what string, targets bool) error {
	ins, outs := m.Inputs(), m.Outputs()
	if d == nil || len(d.X) != len(ins) {
		n := 0
		if d != nil {
			n = len(d.X)
		}
		return errors.Errorf("train: %s: %d input tensors for model %q's %d inputs", what, n, m.Name(), len(ins))
	}
	n := d.Len()
	if n == 0 {
		return errors.Errorf("train: %s is empty", what)
	}
	for i, x := range d.X {
		want := append(tensor.Shape{n}, ins[i].Shape...)
		if x == nil || !x.Shape().Eq(want) {
			var got tensor.Shape
			if x != nil {
				got = x.Shape()
			}
			return errors.Errorf("train: %s: input %q has shape %v; want %v", what, ins[i].Name, got, want)
		}
		if _, ok := x.Data().([]float32); !ok {
			return errors.Errorf("train: %s: input %q is %v; want float32", what, ins[i].Name, x.Dtype())
		}
	}
	if !targets {
		return nil
	}
	if len(d.Y) != len(outs) {
		return errors.Errorf("train: %s: %d targets for model %q's %d outputs", what, len(d.Y), m.Name(), len(outs))
	}
	losses := m.Losses()
	trained := false
	for i, t := range d.Y {
		l := losses[i].Loss
		switch {
		case l.Kind == "":
			if t.Labels != nil || t.Values != nil {
				return errors.Errorf("train: %s: output %q has no loss (nn.Model.SetLoss), but a target was given", what, outs[i].Name)
			}
		case l.TakesLabels():
			trained = true
			if len(t.Labels) != n {
				return errors.Errorf("train: %s: output %q: %d labels for %d examples", what, outs[i].Name, len(t.Labels), n)
			}
			for j, c := range t.Labels {
				if c < 0 || c >= outs[i].Shape[0] {
					return errors.Errorf("train: %s: output %q: label %d of example %d is outside [0, %d)", what, outs[i].Name, c, j, outs[i].Shape[0])
				}
			}
		default:
			trained = true
			want := append(tensor.Shape{n}, outs[i].Shape...)
			if t.Values == nil || !t.Values.Shape().Eq(want) {
				var got tensor.Shape
				if t.Values != nil {
					got = t.Values.Shape()
				}
				return errors.Errorf("train: %s: output %q: targets have shape %v; want %v", what, outs[i].Name, got, want)
			}
			if _, ok := t.Values.Data().([]float32); !ok {
				return errors.Errorf("train: %s: output %q: targets are %v; want float32", what, outs[i].Name, t.Values.Dtype())
			}
		}
	}
	if !trained {
		return errors.Errorf("train: model %q has no loss on any output (nn.Model.SetLoss)", m.Name())
	}
	return nil
}

// tensorBatcher gathers examples of a Tensors into batch tensors it reuses.
type tensorBatcher struct {
	d       *Tensors
	xs      []tensor.Tensor
	ys      []nn.Target
	xbuf    [][]float32
	ybuf    [][]float32
	labels  [][]int
	targets bool
}

func newTensorBatcher(d *Tensors, batch int, targets bool) *tensorBatcher {
	b := &tensorBatcher{d: d, targets: targets}
	for _, x := range d.X {
		b.xbuf = append(b.xbuf, make([]float32, batch*x.Shape().TotalSize()/d.Len()))
	}
	if targets {
		for _, t := range d.Y {
			var yb []float32
			var lb []int
			if t.Values != nil {
				yb = make([]float32, batch*t.Values.Shape().TotalSize()/d.Len())
			}
			if t.Labels != nil {
				lb = make([]int, batch)
			}
			b.ybuf, b.labels = append(b.ybuf, yb), append(b.labels, lb)
		}
	}
	return b
}

// gather fills the batch with the examples idx.
func (b *tensorBatcher) gather(idx []int) ([]tensor.Tensor, []nn.Target) {
	k := len(idx)
	b.xs = b.xs[:0]
	for i, x := range b.d.X {
		size := x.Shape().TotalSize() / b.d.Len()
		src := x.Data().([]float32)
		dst := b.xbuf[i][:k*size]
		for j, e := range idx {
			copy(dst[j*size:(j+1)*size], src[e*size:(e+1)*size])
		}
		b.xs = append(b.xs, tensor.New(tensor.WithShape(append(tensor.Shape{k}, x.Shape()[1:]...)...), tensor.WithBacking(dst)))
	}
	if !b.targets {
		return b.xs, nil
	}
	b.ys = b.ys[:0]
	for i, t := range b.d.Y {
		var out nn.Target
		if t.Labels != nil {
			out.Labels = b.labels[i][:k]
			for j, e := range idx {
				out.Labels[j] = t.Labels[e]
			}
		}
		if t.Values != nil {
			size := t.Values.Shape().TotalSize() / b.d.Len()
			src := t.Values.Data().([]float32)
			dst := b.ybuf[i][:k*size]
			for j, e := range idx {
				copy(dst[j*size:(j+1)*size], src[e*size:(e+1)*size])
			}
			out.Values = tensor.New(tensor.WithShape(append(tensor.Shape{k}, t.Values.Shape()[1:]...)...), tensor.WithBacking(dst))
		}
		b.ys = append(b.ys, out)
	}
	return b.xs, b.ys
}

// outputStats sums each output's loss and hits over batches.
type outputStats struct {
	m             *nn.Model
	loss, seen    float64
	outLoss, hits []float64
	kinds         []accuracyKind
	buf           []float32
}

// accuracyKind is how an output's accuracy is counted, from its loss.
type accuracyKind int

const (
	noAccuracy     accuracyKind = iota
	sparseAccuracy              // argmax = label
	oneHotAccuracy              // argmax = argmax of the target row
	binaryAccuracy              // each value on the target's side of 0.5 (of 0 for logits)
	logitAccuracy
)

func accuracyOf(l nn.Loss, out nn.Shape) accuracyKind {
	switch {
	case l.Kind == "sparse_categorical_crossentropy":
		return sparseAccuracy
	case l.Kind == "categorical_crossentropy" && len(out) == 1:
		return oneHotAccuracy
	case l.Kind == "binary_crossentropy" && l.FromLogits:
		return logitAccuracy
	case l.Kind == "binary_crossentropy":
		return binaryAccuracy
	}
	return noAccuracy
}

func newOutputStats(m *nn.Model) *outputStats {
	s := &outputStats{m: m}
	outs := m.Outputs()
	for i, l := range m.Losses() {
		s.kinds = append(s.kinds, accuracyOf(l.Loss, outs[i].Shape))
	}
	s.outLoss = make([]float64, len(s.kinds))
	s.hits = make([]float64, len(s.kinds))
	return s
}

func (s *outputStats) add(gr *nn.Graph, ys []nn.Target, n int) {
	w := float64(n)
	s.loss += gr.Loss() * w
	s.seen += w
	outs := s.m.Outputs()
	for i := range s.outLoss {
		s.outLoss[i] += gr.LossAt(i) * w
		s.hits[i] += s.count(s.kinds[i], gr.OutputAt(i), outs[i].Shape, ys[i])
	}
}

// count returns an output's hits in a batch: correct examples, or for binary outputs
// each example's fraction of values on the right side.
func (s *outputStats) count(kind accuracyKind, out *tensor.Dense, shape nn.Shape, t nn.Target) float64 {
	switch kind {
	case sparseAccuracy:
		return float64(countCorrect(out, t.Labels))
	case oneHotAccuracy:
		target := t.Values.Data().([]float32)
		k := shape[0]
		var hits float64
		for r := 0; r < out.Shape()[0]; r++ {
			if argmax(out, r, k) == argmax32(target[r*k:(r+1)*k]) {
				hits++
			}
		}
		return hits
	case binaryAccuracy, logitAccuracy:
		threshold := 0.5
		if kind == logitAccuracy {
			threshold = 0
		}
		target := t.Values.Data().([]float32)
		if cap(s.buf) < len(target) {
			s.buf = make([]float32, len(target))
		}
		pred := s.buf[:len(target)]
		copyOutput(pred, out, shape)
		var right float64
		for i, p := range pred {
			if (float64(p) >= threshold) == (target[i] >= 0.5) {
				right++
			}
		}
		return right / float64(shape.Size())
	}
	return 0
}

func argmax32(row []float32) int {
	best := 0
	for i, v := range row {
		if v > row[best] {
			best = i
		}
	}
	return best
}

// accuracy is the first classifier output's accuracy (NaN if there is none).
func (s *outputStats) accuracy() float64 {
	for i, c := range s.kinds {
		if c != noAccuracy {
			return s.hits[i] / s.seen
		}
	}
	return math.NaN()
}

// metrics names each output's loss and accuracy as Keras does, for models with several
// outputs (with one, loss and accuracy say it all).
func (s *outputStats) metrics(prefix string, into map[string]float64) {
	losses := s.m.Losses()
	if len(losses) < 2 {
		return
	}
	for i, l := range losses {
		if l.Loss.Kind == "" {
			continue
		}
		into[prefix+l.Output+"_loss"] = s.outLoss[i] / s.seen
		if s.kinds[i] != noAccuracy {
			into[prefix+l.Output+"_accuracy"] = s.hits[i] / s.seen
		}
	}
}

// FitTensors trains m on in-memory tensors, as Keras's fit(x, y) does, with any number
// of inputs and outputs: each output's loss and weight come from [nn.Model.SetLoss], and
// the total loss is their weighted sum. Examples are shuffled each epoch with cfg.Seed
// and the last partial batch is used. cfg.ValidationData (or ValidationStream), if set,
// is evaluated after every epoch. The history's Loss is the total loss and Accuracy the
// first classifier output's; with several outputs, [EpochLogs.Metrics] holds each one's
// loss and accuracy, and cfg.Metrics's results. cfg.ClassWeight weights each example's
// loss by its class. cfg.Validation, Augment, Comm and the resume fields apply to [Fit]
// only and are an error here.
func FitTensors(ctx context.Context, m *nn.Model, d *Tensors, cfg Config) (*History, error) {
	cfg.defaults()
	h := cfg.History
	if h == nil {
		h = &History{Model: m.Name()}
	}
	if err := checkLoopConfig(&cfg, "FitTensors"); err != nil {
		return h, err
	}
	if err := d.check(m, "training data", true); err != nil {
		return h, err
	}
	return fitLoop(ctx, m, newTensorSource(d, min(cfg.BatchSize, d.Len()), cfg.Seed, true), cfg, h)
}

// EvaluateTensors runs m in inference mode over in-memory tensors in batches of
// batchSize (default 32 when 0) and returns Keras's evaluate(return_dict=True): "loss"
// (the weighted total), "accuracy" (the first classifier output's, if any) and, for a
// model with several outputs, each output's "<name>_loss" and "<name>_accuracy", and
// the results of metrics.
func EvaluateTensors(m *nn.Model, d *Tensors, batchSize int, metrics ...Metric) (map[string]float64, error) {
	if batchSize == 0 {
		batchSize = 32
	}
	if batchSize < 0 {
		return nil, errors.Errorf("train: batch size %d must be positive", batchSize)
	}
	if err := d.check(m, "evaluation data", true); err != nil {
		return nil, err
	}
	bound, err := bindMetrics(m, metrics)
	if err != nil {
		return nil, err
	}
	s, err := evaluateSource(m, newTensorSource(d, min(batchSize, d.Len()), 0, false), bound)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{"loss": s.loss / s.seen}
	if a := s.accuracy(); !math.IsNaN(a) {
		out["accuracy"] = a
	}
	s.metrics("", out)
	metricResults(bound, "", out)
	return out, nil
}

// PredictTensors runs m in inference mode on in-memory inputs (one float32 tensor per
// model input, [n, example shape...] in Keras's order) in batches of batchSize (default
// 32 when 0), and returns one float32 tensor per output, [n, output shape...] in Keras's
// order: probabilities for a softmax output, values for a regression output.
func PredictTensors(m *nn.Model, x []tensor.Tensor, batchSize int) ([]*tensor.Dense, error) {
	if batchSize == 0 {
		batchSize = 32
	}
	if batchSize < 0 {
		return nil, errors.Errorf("train: batch size %d must be positive", batchSize)
	}
	d := &Tensors{X: x}
	if err := d.check(m, "prediction inputs", false); err != nil {
		return nil, err
	}
	n := d.Len()
	bs := min(batchSize, n)
	batcher := newTensorBatcher(d, bs, false)
	var outs []*tensor.Dense
	var data [][]float32
	for _, o := range m.Outputs() {
		v := make([]float32, n*o.Shape.Size())
		data = append(data, v)
		outs = append(outs, tensor.New(tensor.WithShape(append(tensor.Shape{n}, o.Shape...)...), tensor.WithBacking(v)))
	}
	idx := make([]int, 0, bs)
	for lo := 0; lo < n; lo += bs {
		idx = idx[:0]
		for i := lo; i < min(lo+bs, n); i++ {
			idx = append(idx, i)
		}
		xs, _ := batcher.gather(idx)
		gr, err := m.Compile(len(idx), nn.Eval)
		if err != nil {
			return nil, err
		}
		if err := gr.RunMulti(xs, nil); err != nil {
			return nil, err
		}
		for i, o := range m.Outputs() {
			copyOutput(data[i][lo*o.Shape.Size():], gr.OutputAt(i), o.Shape)
		}
	}
	return outs, nil
}

// copyOutput copies a graph's output (NCHW for images) into dst in Keras's order (NHWC).
func copyOutput(dst []float32, out *tensor.Dense, shape nn.Shape) {
	var src []float32
	switch d := out.Data().(type) {
	case []float32:
		src = d
	case []float64:
		src = make([]float32, len(d))
		for i, v := range d {
			src[i] = float32(v)
		}
	}
	if len(shape) != 3 {
		copy(dst, src)
		return
	}
	h, w, c := shape[0], shape[1], shape[2]
	n := len(src) / (h * w * c)
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			for p := 0; p < h*w; p++ {
				dst[(i*h*w+p)*c+ch] = src[(i*c+ch)*h*w+p]
			}
		}
	}
}
