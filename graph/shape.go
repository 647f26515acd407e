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

// Flatten reshapes x [N, ...] to [N, prod(...)], keeping the batch axis. On NCHW images
// the features come in channel, row, column order (as in PyTorch's flatten).
func Flatten(x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if s.Dims() < 2 {
		return nil, errors.Errorf("graph: flatten: input has shape %v; want a batch axis and at least one more", s)
	}
	if s.Dims() == 2 {
		return x, nil
	}
	return apply(&reshapeOp{from: s.Clone(), to: tensor.Shape{s[0], s.TotalSize() / s[0]}}, x)
}

// Reshape copies x into shape to, which must keep the batch axis and the number of
// values: the values keep their order (C, H, W for NCHW images, as [Flatten] and
// PyTorch's view order them).
func Reshape(x *G.Node, to tensor.Shape) (*G.Node, error) {
	s := x.Shape()
	if s.Dims() < 2 || to.Dims() < 2 || to[0] != s[0] || to.TotalSize() != s.TotalSize() {
		return nil, errors.Errorf("graph: reshape: cannot reshape %v to %v; want the same batch and number of values", s, to)
	}
	for _, d := range to {
		if d <= 0 {
			return nil, errors.Errorf("graph: reshape: target shape %v must be positive", to)
		}
	}
	return apply(&reshapeOp{from: s.Clone(), to: to.Clone()}, x)
}

// reshapeOp copies its input into a new shape. Gorgonia's Reshape returns a view of its
// input, and a later op that overwrites its own input then corrupts a bound parameter or
// input tensor, so convgraph never shares memory between nodes.
type reshapeOp struct {
	baseOp
	from, to tensor.Shape
}

func (op *reshapeOp) Arity() int            { return 1 }
func (op *reshapeOp) Type() hm.Type         { return fnT(tensorT(op.from.Dims()), tensorT(op.to.Dims())) }
func (op *reshapeOp) String() string        { return fmt.Sprintf("Reshape{%v->%v}", op.from, op.to) }
func (op *reshapeOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *reshapeOp) Hashcode() uint32      { return opHash(op) }
func (op *reshapeOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.to.Clone(), nil
}

func (op *reshapeOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	x, err := denseArg(op, vs, 0)
	if err != nil {
		return nil, err
	}
	if err := checkShape(op, "input", x, op.from...); err != nil {
		return nil, err
	}
	y := op.output(x.Dtype(), op.to...)
	if x.Dtype() == tensor.Float32 {
		kernels.Copy(f32(y), f32(x))
	} else {
		kernels.Copy(f64(y), f64(x))
	}
	return y, nil
}

func (op *reshapeOp) DiffWRT(int) []bool { return []bool{true} }

func (op *reshapeOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(&reshapeOp{from: op.to, to: op.from}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// Add returns a + b for two nodes of the same shape (a residual join).
func Add(a, b *G.Node) (*G.Node, error) {
	if !a.Shape().Eq(b.Shape()) {
		return nil, errors.Errorf("graph: add: shapes %v and %v differ", a.Shape(), b.Shape())
	}
	return apply(&addOp{shape: a.Shape().Clone()}, a, b)
}

// addOp is a + b. Gorgonia's Add may write its result over an input; this one never does.
type addOp struct {
	baseOp
	shape tensor.Shape
}

func (op *addOp) Arity() int { return 2 }
func (op *addOp) Type() hm.Type {
	t := tensorT(op.shape.Dims())
	return fnT(t, t, t)
}
func (op *addOp) String() string        { return fmt.Sprintf("Add{%v}", op.shape) }
func (op *addOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *addOp) Hashcode() uint32      { return opHash(op) }
func (op *addOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}

func (op *addOp) Do(vs ...G.Value) (retVal G.Value, err error) {
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
		kernels.Add(f32(a), f32(b), f32(y))
	} else {
		kernels.Add(f64(a), f64(b), f64(y))
	}
	return y, nil
}

func (op *addOp) DiffWRT(int) []bool { return []bool{true, true} }

// SymDiff passes the gradient to both inputs unchanged.
func (op *addOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return G.Nodes{grad, grad}, nil
}
