package graph

import (
	"fmt"
	"hash"
	"strings"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/internal/kernels"
)

// ReLU returns max(x, 0) element-wise.
func ReLU(x *G.Node) (*G.Node, error) { return activate(x, kernels.ReLU, 0) }

// LeakyReLU returns x where x > 0 and alpha*x elsewhere (Keras's default alpha is 0.3).
func LeakyReLU(x *G.Node, alpha float64) (*G.Node, error) {
	return activate(x, kernels.LeakyReLU, alpha)
}

// Sigmoid returns 1/(1+exp(-x)) element-wise, without overflow for large |x|.
func Sigmoid(x *G.Node) (*G.Node, error) { return activate(x, kernels.Sigmoid, 0) }

// Tanh returns tanh(x) element-wise.
func Tanh(x *G.Node) (*G.Node, error) { return activate(x, kernels.Tanh, 0) }

func activate(x *G.Node, act kernels.Activation, alpha float64) (*G.Node, error) {
	if x.Shape().Dims() == 0 {
		return nil, errors.Errorf("graph: %v: input is a scalar; want a tensor", act)
	}
	return apply(&actOp{act: act, alpha: alpha, dims: x.Shape().Dims()}, x)
}

// actOp applies an activation element-wise.
type actOp struct {
	baseOp
	act   kernels.Activation
	alpha float64
	dims  int
}

func (op *actOp) Arity() int            { return 1 }
func (op *actOp) Type() hm.Type         { return fnT(tensorT(op.dims), tensorT(op.dims)) }
func (op *actOp) String() string        { return fmt.Sprintf("%v{alpha:%g}", op.act, op.alpha) }
func (op *actOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *actOp) Hashcode() uint32      { return opHash(op) }
func (op *actOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapesOf(op, 1, ds)
	if err != nil {
		return nil, err
	}
	return ss[0].Clone(), nil
}

func (op *actOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	x, err := denseArg(op, vs, 0)
	if err != nil {
		return nil, err
	}
	y := op.output(x.Dtype(), x.Shape()...)
	if x.Dtype() == tensor.Float32 {
		xs, ys := f32(x), f32(y)
		kernels.Split(len(xs), 1, func(lo, hi int) { kernels.Activate(op.act, float32(op.alpha), xs[lo:hi], ys[lo:hi]) })
	} else {
		xs, ys := f64(x), f64(y)
		kernels.Split(len(xs), 1, func(lo, hi int) { kernels.Activate(op.act, op.alpha, xs[lo:hi], ys[lo:hi]) })
	}
	return y, nil
}

func (op *actOp) DiffWRT(int) []bool { return []bool{true} }

// SymDiff gives ReLU's (and ReLU6's) gradient op the output in place of the input: y > 0
// exactly where x > 0 (NaN and -0 included), so the input need not be kept for the
// backward pass and its buffer can be reused as soon as the ReLU has run.
func (op *actOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	x := in[0]
	if op.act == kernels.ReLU || op.act == kernels.ReLU6 {
		x = out // for ReLU6 too: 0 < y < 6 exactly where 0 < x < 6
	}
	dx, err := apply(&actBackOp{act: op.act, alpha: op.alpha, dims: op.dims}, x, out, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// actBackOp is dx = dy * act'(x), with inputs x, y = act(x) and dy.
type actBackOp struct {
	baseOp
	act   kernels.Activation
	alpha float64
	dims  int
}

func (op *actBackOp) Arity() int { return 3 }
func (op *actBackOp) Type() hm.Type {
	t := tensorT(op.dims)
	return fnT(t, t, t, t)
}
func (op *actBackOp) String() string        { return fmt.Sprintf("%vBackward{alpha:%g}", op.act, op.alpha) }
func (op *actBackOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *actBackOp) Hashcode() uint32      { return opHash(op) }
func (op *actBackOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapesOf(op, 3, ds)
	if err != nil {
		return nil, err
	}
	return ss[0].Clone(), nil
}

func (op *actBackOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	var ts [3]*tensor.Dense
	for i := range ts {
		var err error
		if ts[i], err = denseArg(op, vs, i); err != nil {
			return nil, err
		}
	}
	x, y, dy := ts[0], ts[1], ts[2]
	if err := sameDtype(op, x, y, dy); err != nil {
		return nil, err
	}
	if !x.Shape().Eq(dy.Shape()) || !y.Shape().Eq(dy.Shape()) {
		return nil, errors.Errorf("graph: %v: shapes %v, %v, %v differ", op, x.Shape(), y.Shape(), dy.Shape())
	}
	dx := op.output(x.Dtype(), x.Shape()...)
	if x.Dtype() == tensor.Float32 {
		activateBackward(op.act, float32(op.alpha), f32(x), f32(y), f32(dy), f32(dx))
	} else {
		activateBackward(op.act, op.alpha, f64(x), f64(y), f64(dy), f64(dx))
	}
	return dx, nil
}

// activateBackward runs the backward kernel on every core, ReLU's branch-free one (3x
// faster than the general kernel's) for ReLU.
func activateBackward[T kernels.Float](act kernels.Activation, alpha T, x, y, dy, dx []T) {
	kernels.Split(len(dx), 1, func(lo, hi int) {
		if act == kernels.ReLU {
			kernels.ReLUBackward(x[lo:hi], dy[lo:hi], dx[lo:hi])
		} else {
			kernels.ActivateBackward(act, alpha, x[lo:hi], y[lo:hi], dy[lo:hi], dx[lo:hi])
		}
	})
}

// Softmax returns the softmax of each row of x [N,K], subtracting the row's own maximum so
// logits of any size stay finite (Gorgonia 0.9.18 subtracts the whole tensor's maximum).
func Softmax(x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if s.Dims() != 2 {
		return nil, errors.Errorf("graph: softmax: input has shape %v; want [N, classes]", s)
	}
	return apply(&softmaxOp{rows: s[0], cols: s[1]}, x)
}

// softmaxOp is a row-wise softmax; with back set it is the backward dx from (y, dy).
type softmaxOp struct {
	baseOp
	rows, cols int
	back       bool
}

func (op *softmaxOp) Arity() int {
	if op.back {
		return 2
	}
	return 1
}

func (op *softmaxOp) Type() hm.Type {
	if op.back {
		return fnT(tensorT(2), tensorT(2), tensorT(2))
	}
	return fnT(tensorT(2), tensorT(2))
}

func (op *softmaxOp) String() string {
	if op.back {
		return fmt.Sprintf("SoftmaxBackward{%dx%d}", op.rows, op.cols)
	}
	return fmt.Sprintf("Softmax{%dx%d}", op.rows, op.cols)
}
func (op *softmaxOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *softmaxOp) Hashcode() uint32      { return opHash(op) }
func (op *softmaxOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.rows, op.cols}, nil
}

func (op *softmaxOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	x, err := denseArg(op, vs, 0)
	if err != nil {
		return nil, err
	}
	if err := checkShape(op, "input", x, op.rows, op.cols); err != nil {
		return nil, err
	}
	out := op.output(x.Dtype(), op.rows, op.cols)
	if !op.back {
		if x.Dtype() == tensor.Float32 {
			kernels.Softmax(op.rows, op.cols, f32(x), f32(out))
		} else {
			kernels.Softmax(op.rows, op.cols, f64(x), f64(out))
		}
		return out, nil
	}
	dy, err := denseArg(op, vs, 1)
	if err != nil {
		return nil, err
	}
	if err := firstErr(sameDtype(op, x, dy), checkShape(op, "output gradient", dy, op.rows, op.cols)); err != nil {
		return nil, err
	}
	if x.Dtype() == tensor.Float32 {
		kernels.SoftmaxBackward(op.rows, op.cols, f32(x), f32(dy), f32(out))
	} else {
		kernels.SoftmaxBackward(op.rows, op.cols, f64(x), f64(dy), f64(out))
	}
	return out, nil
}

func (op *softmaxOp) DiffWRT(int) []bool { return []bool{true} }

func (op *softmaxOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(&softmaxOp{rows: op.rows, cols: op.cols, back: true}, out, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// ReLU6 returns min(max(x, 0), 6) element-wise (MobileNet's activation).
func ReLU6(x *G.Node) (*G.Node, error) { return activate(x, kernels.ReLU6, 0) }

// ELU returns x where x > 0 and alpha*(exp(x)-1) elsewhere (Keras's default alpha is 1).
func ELU(x *G.Node, alpha float64) (*G.Node, error) { return activate(x, kernels.ELU, alpha) }

// GELU returns x*Φ(x), Φ the standard normal CDF (the exact form, not the tanh
// approximation; the default of Keras and PyTorch).
func GELU(x *G.Node) (*G.Node, error) { return activate(x, kernels.GELU, 0) }

// Swish returns x*sigmoid(x) element-wise (PyTorch's SiLU).
func Swish(x *G.Node) (*G.Node, error) { return activate(x, kernels.Swish, 0) }

// SoftmaxAxis returns the softmax of x along axis (negative counts from the end), each
// line along it shifted by its own maximum. On a [N, classes] tensor with axis 1 or -1 it
// is [Softmax]; on NCHW images, axis 1 normalises over the channels at every pixel.
func SoftmaxAxis(x *G.Node, axis int) (*G.Node, error) {
	s := x.Shape()
	d := s.Dims()
	if axis < 0 {
		axis += d
	}
	if d < 2 || axis < 1 || axis >= d {
		return nil, errors.Errorf("graph: softmax: axis %d of shape %v; want an axis other than the batch's", axis, s)
	}
	if d == 2 {
		return Softmax(x)
	}
	outer, inner := 1, 1
	for _, v := range s[:axis] {
		outer *= v
	}
	for _, v := range s[axis+1:] {
		inner *= v
	}
	return apply(&softmaxAxisOp{shape: s.Clone(), axis: axis, outer: outer, k: s[axis], inner: inner}, x)
}

// softmaxAxisOp is a softmax over one axis of a tensor of three or more dimensions; with
// back set it is the backward dx from (y, dy).
type softmaxAxisOp struct {
	baseOp
	shape           tensor.Shape
	axis            int
	outer, k, inner int
	back            bool
}

func (op *softmaxAxisOp) Arity() int {
	if op.back {
		return 2
	}
	return 1
}

func (op *softmaxAxisOp) Type() hm.Type {
	t := tensorT(op.shape.Dims())
	if op.back {
		return fnT(t, t, t)
	}
	return fnT(t, t)
}

func (op *softmaxAxisOp) String() string {
	name := "Softmax"
	if op.back {
		name = "SoftmaxBackward"
	}
	dims := make([]string, len(op.shape))
	for i, d := range op.shape {
		dims[i] = fmt.Sprint(d)
	}
	return fmt.Sprintf("%s{%s axis:%d}", name, strings.Join(dims, "x"), op.axis)
}
func (op *softmaxAxisOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *softmaxAxisOp) Hashcode() uint32      { return opHash(op) }
func (op *softmaxAxisOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}

func (op *softmaxAxisOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	x, err := denseArg(op, vs, 0)
	if err != nil {
		return nil, err
	}
	if err := checkShape(op, "input", x, op.shape...); err != nil {
		return nil, err
	}
	out := op.output(x.Dtype(), op.shape...)
	if !op.back {
		if x.Dtype() == tensor.Float32 {
			kernels.SoftmaxAxis(op.outer, op.k, op.inner, f32(x), f32(out))
		} else {
			kernels.SoftmaxAxis(op.outer, op.k, op.inner, f64(x), f64(out))
		}
		return out, nil
	}
	dy, err := denseArg(op, vs, 1)
	if err != nil {
		return nil, err
	}
	if err := firstErr(sameDtype(op, x, dy), checkShape(op, "output gradient", dy, op.shape...)); err != nil {
		return nil, err
	}
	if x.Dtype() == tensor.Float32 {
		kernels.SoftmaxAxisBackward(op.outer, op.k, op.inner, f32(x), f32(dy), f32(out))
	} else {
		kernels.SoftmaxAxisBackward(op.outer, op.k, op.inner, f64(x), f64(dy), f64(out))
	}
	return out, nil
}

func (op *softmaxAxisOp) DiffWRT(int) []bool { return []bool{true} }

func (op *softmaxAxisOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	back := *op
	back.baseOp, back.back = baseOp{}, true
	dx, err := apply(&back, out, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}
