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

// ZeroPad2D adds p.Top rows of zeros above each image of x [N,C,H,W], p.Bottom below,
// p.Left columns to the left and p.Right to the right.
func ZeroPad2D(x *G.Node, p Pad) (*G.Node, error) {
	s := x.Shape()
	if s.Dims() != 4 {
		return nil, errors.Errorf("graph: zero_pad2d: input has shape %v; want 4 dimensions (N, C, H, W)", s)
	}
	if p.Top < 0 || p.Bottom < 0 || p.Left < 0 || p.Right < 0 {
		return nil, errors.Errorf("graph: zero_pad2d: padding %+v must not be negative", p)
	}
	kp := kernels.Pad2DParams{N: s[0], C: s[1], H: s[2] + p.Top + p.Bottom, W: s[3] + p.Left + p.Right,
		Top: p.Top, Bottom: p.Bottom, Left: p.Left, Right: p.Right}
	return apply(&padOp{p: kp}, x)
}

// Crop2D removes p.Top rows from the top of each image of x [N,C,H,W], p.Bottom from the
// bottom, p.Left columns from the left and p.Right from the right; at least one row and
// one column must remain.
func Crop2D(x *G.Node, p Pad) (*G.Node, error) {
	s := x.Shape()
	if s.Dims() != 4 {
		return nil, errors.Errorf("graph: crop2d: input has shape %v; want 4 dimensions (N, C, H, W)", s)
	}
	if p.Top < 0 || p.Bottom < 0 || p.Left < 0 || p.Right < 0 {
		return nil, errors.Errorf("graph: crop2d: cropping %+v must not be negative", p)
	}
	if p.Top+p.Bottom >= s[2] || p.Left+p.Right >= s[3] {
		return nil, errors.Errorf("graph: crop2d: cropping %d,%d,%d,%d leaves nothing of a %dx%d image",
			p.Top, p.Bottom, p.Left, p.Right, s[2], s[3])
	}
	kp := kernels.Pad2DParams{N: s[0], C: s[1], H: s[2], W: s[3], Top: p.Top, Bottom: p.Bottom, Left: p.Left, Right: p.Right}
	return apply(&padOp{p: kp, crop: true}, x)
}

// padOp zero-pads (or, with crop, crops) the images of an NCHW tensor; each is the
// other's gradient.
type padOp struct {
	baseOp
	p    kernels.Pad2DParams
	crop bool
}

func (op *padOp) Arity() int    { return 1 }
func (op *padOp) Type() hm.Type { return fnT(tensorT(4), tensorT(4)) }
func (op *padOp) String() string {
	name := "ZeroPad2D"
	if op.crop {
		name = "Crop2D"
	}
	p := op.p
	x := op.inShape()
	return fmt.Sprintf("%s{x:%dx%dx%dx%d pad:%d,%d,%d,%d}", name, x[0], x[1], x[2], x[3], p.Top, p.Bottom, p.Left, p.Right)
}
func (op *padOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *padOp) Hashcode() uint32      { return opHash(op) }

func (op *padOp) inShape() tensor.Shape {
	if op.crop {
		return tensor.Shape{op.p.N, op.p.C, op.p.H, op.p.W}
	}
	return tensor.Shape{op.p.N, op.p.C, op.p.InnerH(), op.p.InnerW()}
}

func (op *padOp) outShape() tensor.Shape {
	if op.crop {
		return tensor.Shape{op.p.N, op.p.C, op.p.InnerH(), op.p.InnerW()}
	}
	return tensor.Shape{op.p.N, op.p.C, op.p.H, op.p.W}
}

func (op *padOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.outShape(), nil }

func (op *padOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	x, err := denseArg(op, vs, 0)
	if err != nil {
		return nil, err
	}
	if err := checkShape(op, "input", x, op.inShape()...); err != nil {
		return nil, err
	}
	y := op.output(x.Dtype(), op.outShape()...)
	switch {
	case op.crop && x.Dtype() == tensor.Float32:
		kernels.Crop2D(op.p, f32(x), f32(y))
	case op.crop:
		kernels.Crop2D(op.p, f64(x), f64(y))
	case x.Dtype() == tensor.Float32:
		kernels.Pad2D(op.p, f32(x), f32(y))
	default:
		kernels.Pad2D(op.p, f64(x), f64(y))
	}
	return y, nil
}

func (op *padOp) DiffWRT(int) []bool { return []bool{true} }

func (op *padOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(&padOp{p: op.p, crop: !op.crop}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}
