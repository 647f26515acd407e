package graph

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/internal/kernels"
)

// SoftmaxCrossEntropy returns the mean over the batch of -log softmax(logits)[label] for
// logits [N,K] and labels [N] holding class indices (as floats of the logits' dtype). It is
// computed as logsumexp - logit, so it stays finite for logits of 1e4 and more; its gradient
// is (softmax - onehot)/N. Labels outside [0, K) are an error when the graph runs.
func SoftmaxCrossEntropy(logits, labels *G.Node) (*G.Node, error) {
	return SoftmaxCrossEntropyWith(logits, labels, LossConfig{})
}

// SoftmaxCrossEntropyWith is [SoftmaxCrossEntropy] with label smoothing and per-example
// weights (cfg): the target of example n is (1-s)·onehot(label) + s/K, its loss
// -Σ_k t_k log softmax(logits)_k, and the result Σ_n w_n·loss_n / N.
func SoftmaxCrossEntropyWith(logits, labels *G.Node, cfg LossConfig) (*G.Node, error) {
	ls, ys := logits.Shape(), labels.Shape()
	if ls.Dims() != 2 {
		return nil, errors.Errorf("graph: softmax_cross_entropy: logits have shape %v; want [N, classes]", ls)
	}
	if ys.Dims() != 1 || ys[0] != ls[0] {
		return nil, errors.Errorf("graph: softmax_cross_entropy: labels have shape %v; want [%d]", ys, ls[0])
	}
	return xent(&xentOp{rows: ls[0], cols: ls[1]}, logits, labels, cfg)
}

// CategoricalCrossEntropy returns the mean over the batch of -Σ_k t_k log
// softmax(logits)_k for logits [N,K] and targets [N,K] (one-hot rows, or any
// distributions), computed from the logits so that it stays finite; its gradient is
// softmax·Σt - t per row, over N. cfg adds label smoothing (t becomes (1-s)·t + s/K) and
// per-example weights.
func CategoricalCrossEntropy(logits, targets *G.Node, cfg LossConfig) (*G.Node, error) {
	ls, ts := logits.Shape(), targets.Shape()
	if ls.Dims() != 2 {
		return nil, errors.Errorf("graph: categorical_cross_entropy: logits have shape %v; want [N, classes]", ls)
	}
	if !ts.Eq(ls) {
		return nil, errors.Errorf("graph: categorical_cross_entropy: targets have shape %v; want %v", ts, ls)
	}
	return xent(&xentOp{rows: ls[0], cols: ls[1], dense: true}, logits, targets, cfg)
}

func xent(op *xentOp, logits, targets *G.Node, cfg LossConfig) (*G.Node, error) {
	if err := cfg.check("label smoothing", op.rows); err != nil {
		return nil, errors.Wrapf(err, "graph: %v", op)
	}
	op.smoothing = cfg.LabelSmoothing
	if cfg.Weights == nil {
		return apply(op, logits, targets)
	}
	op.weighted = true
	return apply(op, logits, targets, cfg.Weights)
}

// xentOp is the mean softmax cross-entropy against class indices, or against target
// rows (dense); with back set, its logits gradient from (logits, targets[, weights],
// dloss).
type xentOp struct {
	baseOp
	rows, cols int
	smoothing  float64
	dense      bool
	weighted   bool
	back       bool
}

func (op *xentOp) Arity() int {
	n := 2
	if op.weighted {
		n++
	}
	if op.back {
		n++
	}
	return n
}

func (op *xentOp) Type() hm.Type {
	ts := []hm.Type{tensorT(2), tensorT(1)}
	if op.dense {
		ts[1] = tensorT(2)
	}
	if op.weighted {
		ts = append(ts, tensorT(1))
	}
	if op.back {
		return fnT(append(ts, scalarT, tensorT(2))...)
	}
	return fnT(append(ts, scalarT)...)
}

func (op *xentOp) String() string {
	name := "SoftmaxCrossEntropy"
	if op.dense {
		name = "CategoricalCrossEntropy"
	}
	if op.back {
		name += "Backward"
	}
	extra := ""
	if op.smoothing != 0 {
		extra += fmt.Sprintf(", smoothing %g", op.smoothing)
	}
	if op.weighted {
		extra += ", weighted"
	}
	return fmt.Sprintf("%s{%dx%d%s}", name, op.rows, op.cols, extra)
}
func (op *xentOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *xentOp) Hashcode() uint32      { return opHash(op) }
func (op *xentOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if op.back {
		return tensor.Shape{op.rows, op.cols}, nil
	}
	return tensor.ScalarShape(), nil
}

// readLabels converts a float label vector to class indices.
func readLabels(op fmt.Stringer, d *tensor.Dense, cols int) ([]int, error) {
	out := make([]int, d.Size())
	for i := range out {
		var v float64
		if d.Dtype() == tensor.Float32 {
			v = float64(f32(d)[i])
		} else {
			v = f64(d)[i]
		}
		if v != math.Trunc(v) || v < 0 || v >= float64(cols) {
			return nil, errors.Errorf("graph: %v: label %v of example %d is not a class index in [0, %d)", op, v, i, cols)
		}
		out[i] = int(v)
	}
	return out, nil
}

func (op *xentOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	x, err := denseArg(op, vs, 0)
	if err != nil {
		return nil, err
	}
	tg, err := denseArg(op, vs, 1)
	if err != nil {
		return nil, err
	}
	if op.dense {
		err = firstErr(checkShape(op, "logits", x, op.rows, op.cols), checkShape(op, "targets", tg, op.rows, op.cols), sameDtype(op, x, tg))
	} else {
		err = firstErr(checkShape(op, "logits", x, op.rows, op.cols), checkShape(op, "labels", tg, op.rows))
	}
	if err != nil {
		return nil, err
	}
	var labels []int
	if !op.dense {
		if labels, err = readLabels(op, tg, op.cols); err != nil {
			return nil, err
		}
	}
	next := 2
	var w []float64
	if op.weighted {
		wd, err := denseArg(op, vs, next)
		if err != nil {
			return nil, err
		}
		if err := checkShape(op, "weights", wd, op.rows); err != nil {
			return nil, err
		}
		w = float64s(wd)
		next++
	}
	// The course's loss (class indices, no smoothing, unit weights) runs on the kernel.
	plain := !op.dense && op.smoothing == 0 && allOnes(w)
	if op.back {
		scale, err := scalarArg(op, vs, next)
		if err != nil {
			return nil, err
		}
		dx := op.output(x.Dtype(), op.rows, op.cols)
		switch {
		case plain && x.Dtype() == tensor.Float32:
			kernels.SoftmaxCrossEntropyBackward(op.rows, op.cols, f32(x), labels, scale, f32(dx))
		case plain:
			kernels.SoftmaxCrossEntropyBackward(op.rows, op.cols, f64(x), labels, scale, f64(dx))
		case x.Dtype() == tensor.Float32:
			xentGeneral(op, f32(x), denseData[float32](tg, op.dense), labels, w, scale, f32(dx))
		default:
			xentGeneral(op, f64(x), denseData[float64](tg, op.dense), labels, w, scale, f64(dx))
		}
		return dx, nil
	}
	var loss float64
	switch {
	case plain && x.Dtype() == tensor.Float32:
		loss, _ = kernels.SoftmaxCrossEntropy(op.rows, op.cols, f32(x), labels)
	case plain:
		loss, _ = kernels.SoftmaxCrossEntropy(op.rows, op.cols, f64(x), labels)
	case x.Dtype() == tensor.Float32:
		loss = xentGeneral(op, f32(x), denseData[float32](tg, op.dense), labels, w, 0, nil)
	default:
		loss = xentGeneral(op, f64(x), denseData[float64](tg, op.dense), labels, w, 0, nil)
	}
	return scalarValue(x.Dtype(), loss), nil
}

// denseData returns a dense target's values (nil for class indices).
func denseData[T kernels.Float](d *tensor.Dense, dense bool) []T {
	if !dense {
		return nil
	}
	return d.Data().([]T)
}

// xentGeneral computes the cross-entropy with smoothing, dense targets or weights: the
// mean loss, or, with dx set, the gradient scaled by scale.
func xentGeneral[T kernels.Float](op *xentOp, x, tg []T, labels []int, w []float64, scale float64, dx []T) float64 {
	k := op.cols
	s := op.smoothing
	t := make([]float64, k)
	var total float64
	for r := 0; r < op.rows; r++ {
		row := x[r*k : (r+1)*k]
		var tsum float64
		for c := range t {
			if op.dense {
				t[c] = (1-s)*float64(tg[r*k+c]) + s/float64(k)
			} else {
				t[c] = s / float64(k)
				if c == labels[r] {
					t[c] += 1 - s
				}
			}
			tsum += t[c]
		}
		wr := 1.0
		if w != nil {
			wr = w[r]
		}
		m := float64(row[0])
		for _, v := range row {
			m = max(m, float64(v))
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - m)
		}
		lse := m + math.Log(sum)
		if dx != nil {
			g := scale * wr / float64(op.rows)
			for c, v := range row {
				dx[r*k+c] = T(g * (math.Exp(float64(v)-lse)*tsum - t[c]))
			}
			continue
		}
		var l float64
		for c, v := range row {
			if t[c] != 0 {
				l += t[c] * (lse - float64(v))
			}
		}
		total += wr * l
	}
	return total / float64(op.rows)
}

func (op *xentOp) DiffWRT(int) []bool {
	if op.weighted {
		return []bool{true, false, false}
	}
	return []bool{true, false}
}

func (op *xentOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	back := *op
	back.baseOp, back.back = baseOp{}, true
	args := append(append(G.Nodes{}, in...), grad)
	dx, err := apply(&back, args...)
	if err != nil {
		return nil, err
	}
	if op.weighted {
		return G.Nodes{dx, nil, nil}, nil
	}
	return G.Nodes{dx, nil}, nil
}

// MeanSquaredError returns mean((pred - target)^2) over all elements; pred and target have
// the same shape. Only pred gets a gradient.
func MeanSquaredError(pred, target *G.Node) (*G.Node, error) {
	ps, ts := pred.Shape(), target.Shape()
	if !ps.Eq(ts) || ps.Dims() == 0 {
		return nil, errors.Errorf("graph: mean_squared_error: prediction %v and target %v must have the same non-scalar shape", ps, ts)
	}
	return apply(&mseOp{shape: ps.Clone()}, pred, target)
}

// mseOp is the mean squared error; with back set, its gradient 2(pred-target)/n * dloss
// from (pred, target, dloss).
type mseOp struct {
	baseOp
	shape tensor.Shape
	back  bool
}

func (op *mseOp) Arity() int {
	if op.back {
		return 3
	}
	return 2
}

func (op *mseOp) Type() hm.Type {
	t := tensorT(op.shape.Dims())
	if op.back {
		return fnT(t, t, scalarT, t)
	}
	return fnT(t, t, scalarT)
}

func (op *mseOp) String() string {
	if op.back {
		return fmt.Sprintf("MeanSquaredErrorBackward{%v}", op.shape)
	}
	return fmt.Sprintf("MeanSquaredError{%v}", op.shape)
}
func (op *mseOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *mseOp) Hashcode() uint32      { return opHash(op) }
func (op *mseOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if op.back {
		return op.shape.Clone(), nil
	}
	return tensor.ScalarShape(), nil
}

func (op *mseOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	p, err := denseArg(op, vs, 0)
	if err != nil {
		return nil, err
	}
	t, err := denseArg(op, vs, 1)
	if err != nil {
		return nil, err
	}
	if err := firstErr(sameDtype(op, p, t), checkShape(op, "prediction", p, op.shape...),
		checkShape(op, "target", t, op.shape...)); err != nil {
		return nil, err
	}
	if op.back {
		scale, err := scalarArg(op, vs, 2)
		if err != nil {
			return nil, err
		}
		dx := op.output(p.Dtype(), op.shape...)
		if p.Dtype() == tensor.Float32 {
			mseGrad(f32(p), f32(t), scale, f32(dx))
		} else {
			mseGrad(f64(p), f64(t), scale, f64(dx))
		}
		return dx, nil
	}
	var loss float64
	if p.Dtype() == tensor.Float32 {
		loss = mse(f32(p), f32(t))
	} else {
		loss = mse(f64(p), f64(t))
	}
	return scalarValue(p.Dtype(), loss), nil
}

func mse[T kernels.Float](p, t []T) float64 {
	var s float64
	for i, v := range p {
		d := float64(v) - float64(t[i])
		s += d * d
	}
	return s / float64(len(p))
}

func mseGrad[T kernels.Float](p, t []T, scale float64, dx []T) {
	k := 2 * scale / float64(len(p))
	for i, v := range p {
		dx[i] = T(k * (float64(v) - float64(t[i])))
	}
}

func (op *mseOp) DiffWRT(int) []bool { return []bool{true, false} }

func (op *mseOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(&mseOp{shape: op.shape, back: true}, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, nil}, nil
}
