package graph

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/internal/kernels"
)

// The ops that join branches besides Add: Concat, Multiply, Subtract, Maximum and Scale
// (Average is a sum scaled by 1/n). They are ours for the reason Add is: Gorgonia's
// HadamardProd and Sub may write over an input, and its Concat's gradient is a slice
// that returns a view of the output gradient, which a later in-place op can corrupt.

// Concat joins nodes along axis 1: the channels of [N, C, H, W] images or the features of
// [N, F] vectors. Every other axis must agree.
func Concat(xs ...*G.Node) (*G.Node, error) {
	if len(xs) < 2 {
		return nil, errors.Errorf("graph: concat: needs two or more inputs, got %d", len(xs))
	}
	op := &concatOp{}
	for i, x := range xs {
		s := x.Shape()
		if s.Dims() < 2 {
			return nil, errors.Errorf("graph: concat: input %d has shape %v; want a batch axis and at least one more", i, s)
		}
		if s.Dims() != xs[0].Shape().Dims() || s[0] != xs[0].Shape()[0] || !s[2:].Eq(xs[0].Shape()[2:]) {
			return nil, errors.Errorf("graph: concat: input %d has shape %v, input 0 has %v: only axis 1 may differ", i, s, xs[0].Shape())
		}
		op.shapes = append(op.shapes, s.Clone())
	}
	return apply(op, xs...)
}

// concatOp joins its inputs along axis 1.
type concatOp struct {
	baseOp
	shapes []tensor.Shape
}

func (op *concatOp) outShape() tensor.Shape {
	s := op.shapes[0].Clone()
	for _, o := range op.shapes[1:] {
		s[1] += o[1]
	}
	return s
}

// rows is the number of values of input i per example.
func (op *concatOp) rows(i int) int { return op.shapes[i].TotalSize() / op.shapes[i][0] }

func (op *concatOp) Arity() int { return len(op.shapes) }
func (op *concatOp) Type() hm.Type {
	ts := make([]hm.Type, len(op.shapes)+1)
	for i := range ts {
		ts[i] = tensorT(op.shapes[0].Dims())
	}
	return fnT(ts...)
}
func (op *concatOp) String() string        { return fmt.Sprintf("Concat{axis=1, %v}", op.shapes) }
func (op *concatOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *concatOp) Hashcode() uint32      { return opHash(op) }
func (op *concatOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.outShape(), nil
}

func (op *concatOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	xs := make([]*tensor.Dense, len(op.shapes))
	sizes := make([]int, len(op.shapes))
	for i := range op.shapes {
		if xs[i], err = denseArg(op, vs, i); err != nil {
			return nil, err
		}
		if err := checkShape(op, fmt.Sprintf("input %d", i), xs[i], op.shapes[i]...); err != nil {
			return nil, err
		}
		sizes[i] = op.rows(i)
	}
	if err := sameDtype(op, xs...); err != nil {
		return nil, err
	}
	n := op.shapes[0][0]
	y := op.output(xs[0].Dtype(), op.outShape()...)
	if y.Dtype() == tensor.Float32 {
		ins := make([][]float32, len(xs))
		for i, x := range xs {
			ins[i] = f32(x)
		}
		kernels.ConcatRows(n, ins, sizes, f32(y))
	} else {
		ins := make([][]float64, len(xs))
		for i, x := range xs {
			ins[i] = f64(x)
		}
		kernels.ConcatRows(n, ins, sizes, f64(y))
	}
	return y, nil
}

func (op *concatOp) DiffWRT(n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = true
	}
	return out
}

// SymDiff hands each input its slice of the output gradient.
func (op *concatOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	total := op.outShape()
	grads := make(G.Nodes, len(op.shapes))
	lo := 0
	for i := range op.shapes {
		var err error
		if grads[i], err = apply(&sliceOp{from: total, lo: lo, to: op.shapes[i]}, grad); err != nil {
			return nil, err
		}
		lo += op.rows(i)
	}
	return grads, nil
}

// sliceOp copies the values [lo, lo+size) of each example of an [N, ...] tensor into a
// tensor of shape to: the part of a concatenation's gradient that belongs to one input.
type sliceOp struct {
	baseOp
	from tensor.Shape
	lo   int
	to   tensor.Shape
}

func (op *sliceOp) Arity() int    { return 1 }
func (op *sliceOp) Type() hm.Type { return fnT(tensorT(op.from.Dims()), tensorT(op.to.Dims())) }
func (op *sliceOp) String() string {
	return fmt.Sprintf("Slice{%v, from %d, %v}", op.from, op.lo, op.to)
}
func (op *sliceOp) WriteHash(h hash.Hash) {
	writeHash(h, op)
}
func (op *sliceOp) Hashcode() uint32 { return opHash(op) }
func (op *sliceOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.to.Clone(), nil
}

func (op *sliceOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	x, err := denseArg(op, vs, 0)
	if err != nil {
		return nil, err
	}
	if err := checkShape(op, "input", x, op.from...); err != nil {
		return nil, err
	}
	n := op.from[0]
	total, size := op.from.TotalSize()/n, op.to.TotalSize()/n
	y := op.output(x.Dtype(), op.to...)
	if y.Dtype() == tensor.Float32 {
		kernels.SliceRows(n, total, op.lo, size, f32(x), f32(y))
	} else {
		kernels.SliceRows(n, total, op.lo, size, f64(x), f64(y))
	}
	return y, nil
}

// binaryKind says what a binaryOp computes.
type binaryKind int

const (
	binMul binaryKind = iota
	binSub
	binMax
)

func (k binaryKind) String() string { return [...]string{"Multiply", "Subtract", "Maximum"}[k] }

// Multiply returns a * b, element by element, for two nodes of the same shape.
func Multiply(a, b *G.Node) (*G.Node, error) { return binary(binMul, a, b) }

// Subtract returns a - b for two nodes of the same shape.
func Subtract(a, b *G.Node) (*G.Node, error) { return binary(binSub, a, b) }

// Maximum returns max(a, b), element by element, for two nodes of the same shape. Where
// a and b tie, each gets half the gradient (as torch.maximum's do).
func Maximum(a, b *G.Node) (*G.Node, error) { return binary(binMax, a, b) }

func binary(k binaryKind, a, b *G.Node) (*G.Node, error) {
	if !a.Shape().Eq(b.Shape()) {
		return nil, errors.Errorf("graph: %v: shapes %v and %v differ", k, a.Shape(), b.Shape())
	}
	return apply(&binaryOp{kind: k, shape: a.Shape().Clone()}, a, b)
}

// binaryOp is an element-wise a*b, a-b or max(a, b) that never writes over an input.
type binaryOp struct {
	baseOp
	kind  binaryKind
	shape tensor.Shape
	back  bool // part of a backward pass: named apart so diagrams and benchmarks tell them apart
}

func (op *binaryOp) Arity() int { return 2 }
func (op *binaryOp) Type() hm.Type {
	t := tensorT(op.shape.Dims())
	return fnT(t, t, t)
}
func (op *binaryOp) String() string {
	if op.back {
		return fmt.Sprintf("%vBackward{%v}", op.kind, op.shape)
	}
	return fmt.Sprintf("%v{%v}", op.kind, op.shape)
}
func (op *binaryOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *binaryOp) Hashcode() uint32      { return opHash(op) }
func (op *binaryOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}

func (op *binaryOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	a, b, err := denseArgs2(op, vs)
	if err != nil {
		return nil, err
	}
	if err := firstErr(sameDtype(op, a, b), checkShape(op, "a", a, op.shape...), checkShape(op, "b", b, op.shape...)); err != nil {
		return nil, err
	}
	y := op.output(a.Dtype(), op.shape...)
	if a.Dtype() == tensor.Float32 {
		binaryDo(op.kind, f32(a), f32(b), f32(y))
	} else {
		binaryDo(op.kind, f64(a), f64(b), f64(y))
	}
	return y, nil
}

func binaryDo[T kernels.Float](k binaryKind, a, b, y []T) {
	switch k {
	case binMul:
		kernels.Mul(a, b, y)
	case binSub:
		kernels.Sub(a, b, y)
	case binMax:
		kernels.Maximum(a, b, y)
	}
}

func (op *binaryOp) DiffWRT(int) []bool { return []bool{true, true} }

// SymDiff: d(a*b) = (dy*b, dy*a); d(a-b) = (dy, -dy); d max(a, b) routes dy to the
// larger input (half to each on a tie).
func (op *binaryOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	var da, db *G.Node
	var err error
	switch op.kind {
	case binMul:
		if da, err = apply(&binaryOp{kind: binMul, shape: op.shape, back: true}, grad, in[1]); err != nil {
			return nil, err
		}
		db, err = apply(&binaryOp{kind: binMul, shape: op.shape, back: true}, grad, in[0])
	case binSub:
		da = grad
		db, err = apply(&scaleOp{c: -1, shape: op.shape, back: true}, grad)
	case binMax:
		if da, err = apply(&maxGradOp{first: true, shape: op.shape}, in[0], in[1], grad); err != nil {
			return nil, err
		}
		db, err = apply(&maxGradOp{first: false, shape: op.shape}, in[0], in[1], grad)
	}
	if err != nil {
		return nil, err
	}
	return G.Nodes{da, db}, nil
}

// maxGradOp is the gradient of max(a, b) for a (first) or b, from a, b and dy.
// Its String says MaximumBackward.
type maxGradOp struct {
	baseOp
	first bool
	shape tensor.Shape
}

func (op *maxGradOp) Arity() int { return 3 }
func (op *maxGradOp) Type() hm.Type {
	t := tensorT(op.shape.Dims())
	return fnT(t, t, t, t)
}
func (op *maxGradOp) String() string {
	return fmt.Sprintf("MaximumBackward{first=%v, %v}", op.first, op.shape)
}
func (op *maxGradOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *maxGradOp) Hashcode() uint32      { return opHash(op) }
func (op *maxGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}

func (op *maxGradOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	var ts [3]*tensor.Dense
	for i := range ts {
		if ts[i], err = denseArg(op, vs, i); err != nil {
			return nil, err
		}
		if err := checkShape(op, fmt.Sprintf("input %d", i), ts[i], op.shape...); err != nil {
			return nil, err
		}
	}
	if err := sameDtype(op, ts[:]...); err != nil {
		return nil, err
	}
	y := op.output(ts[0].Dtype(), op.shape...)
	if y.Dtype() == tensor.Float32 {
		kernels.MaximumGrad(op.first, f32(ts[0]), f32(ts[1]), f32(ts[2]), f32(y))
	} else {
		kernels.MaximumGrad(op.first, f64(ts[0]), f64(ts[1]), f64(ts[2]), f64(y))
	}
	return y, nil
}

// Scale returns c*x.
func Scale(x *G.Node, c float64) (*G.Node, error) {
	return apply(&scaleOp{c: c, shape: x.Shape().Clone()}, x)
}

// scaleOp multiplies by a constant.
type scaleOp struct {
	baseOp
	c     float64
	shape tensor.Shape
	back  bool // as binaryOp's
}

func (op *scaleOp) Arity() int { return 1 }
func (op *scaleOp) Type() hm.Type {
	t := tensorT(op.shape.Dims())
	return fnT(t, t)
}

// String prints c exactly (%v of a float64 is its shortest exact form), so two scales
// never hash alike.
func (op *scaleOp) String() string {
	if op.back {
		return fmt.Sprintf("ScaleBackward{%v, %v}", op.c, op.shape)
	}
	return fmt.Sprintf("Scale{%v, %v}", op.c, op.shape)
}
func (op *scaleOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *scaleOp) Hashcode() uint32      { return opHash(op) }
func (op *scaleOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}

func (op *scaleOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	x, err := denseArg(op, vs, 0)
	if err != nil {
		return nil, err
	}
	if err := checkShape(op, "input", x, op.shape...); err != nil {
		return nil, err
	}
	y := op.output(x.Dtype(), op.shape...)
	if x.Dtype() == tensor.Float32 {
		kernels.Scale(float32(op.c), f32(x), f32(y))
	} else {
		kernels.Scale(op.c, f64(x), f64(y))
	}
	return y, nil
}

func (op *scaleOp) DiffWRT(int) []bool { return []bool{true} }

func (op *scaleOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(&scaleOp{c: op.c, shape: op.shape, back: true}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// Average returns the mean of two or more nodes of the same shape: their sum scaled by
// 1/n.
func Average(xs ...*G.Node) (*G.Node, error) {
	if len(xs) < 2 {
		return nil, errors.Errorf("graph: average: needs two or more inputs, got %d", len(xs))
	}
	y := xs[0]
	for _, x := range xs[1:] {
		var err error
		if y, err = Add(y, x); err != nil {
			return nil, err
		}
	}
	return Scale(y, 1/float64(len(xs)))
}
