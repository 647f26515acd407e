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
	ls, ys := logits.Shape(), labels.Shape()
	if ls.Dims() != 2 {
		return nil, errors.Errorf("graph: softmax_cross_entropy: logits have shape %v; want [N, classes]", ls)
	}
	if ys.Dims() != 1 || ys[0] != ls[0] {
		return nil, errors.Errorf("graph: softmax_cross_entropy: labels have shape %v; want [%d]", ys, ls[0])
	}
	return apply(&xentOp{rows: ls[0], cols: ls[1]}, logits, labels)
}

// xentOp is the mean softmax cross-entropy; with back set, its logits gradient from
// (logits, labels, dloss).
type xentOp struct {
	baseOp
	rows, cols int
	back       bool
}

func (op *xentOp) Arity() int {
	if op.back {
		return 3
	}
	return 2
}

func (op *xentOp) Type() hm.Type {
	if op.back {
		return fnT(tensorT(2), tensorT(1), scalarT, tensorT(2))
	}
	return fnT(tensorT(2), tensorT(1), scalarT)
}

func (op *xentOp) String() string {
	if op.back {
		return fmt.Sprintf("SoftmaxCrossEntropyBackward{%dx%d}", op.rows, op.cols)
	}
	return fmt.Sprintf("SoftmaxCrossEntropy{%dx%d}", op.rows, op.cols)
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
	lab, err := denseArg(op, vs, 1)
	if err != nil {
		return nil, err
	}
	if err := firstErr(checkShape(op, "logits", x, op.rows, op.cols), checkShape(op, "labels", lab, op.rows)); err != nil {
		return nil, err
	}
	labels, err := readLabels(op, lab, op.cols)
	if err != nil {
		return nil, err
	}
	if op.back {
		scale, err := scalarArg(op, vs, 2)
		if err != nil {
			return nil, err
		}
		dx := op.output(x.Dtype(), op.rows, op.cols)
		if x.Dtype() == tensor.Float32 {
			kernels.SoftmaxCrossEntropyBackward(op.rows, op.cols, f32(x), labels, scale, f32(dx))
		} else {
			kernels.SoftmaxCrossEntropyBackward(op.rows, op.cols, f64(x), labels, scale, f64(dx))
		}
		return dx, nil
	}
	var loss float64
	if x.Dtype() == tensor.Float32 {
		loss, _ = kernels.SoftmaxCrossEntropy(op.rows, op.cols, f32(x), labels)
	} else {
		loss, _ = kernels.SoftmaxCrossEntropy(op.rows, op.cols, f64(x), labels)
	}
	return scalarValue(x.Dtype(), loss), nil
}

func (op *xentOp) DiffWRT(int) []bool { return []bool{true, false} }

func (op *xentOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(&xentOp{rows: op.rows, cols: op.cols, back: true}, in[0], in[1], grad)
	if err != nil {
		return nil, err
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
