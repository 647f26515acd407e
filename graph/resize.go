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

// Resize2D resizes each image of x [N,C,H,W] to oh x ow, enlarging or shrinking by any
// ratio: nearest reads cell floor(o*in/out) (PyTorch's F.interpolate nearest), bilinear
// interpolates around the half-pixel source (o+0.5)*in/out-0.5 (PyTorch's
// align_corners=False, Keras's Resizing). See [Upsample2D] for whole factors.
func Resize2D(x *G.Node, oh, ow int, bilinear bool) (*G.Node, error) {
	s := x.Shape()
	if s.Dims() != 4 {
		return nil, errors.Errorf("graph: resize2d: input has shape %v; want 4 dimensions (N, C, H, W)", s)
	}
	if oh < 1 || ow < 1 {
		return nil, errors.Errorf("graph: resize2d: output %dx%d must be positive", oh, ow)
	}
	p := kernels.ResizeParams{N: s[0], C: s[1], H: s[2], W: s[3], OH: oh, OW: ow, Bilinear: bilinear}
	return apply(&resizeOp{p: p}, x)
}

// resizeOp is 2-D resizing; back selects its gradient.
type resizeOp struct {
	baseOp
	p    kernels.ResizeParams
	back bool
}

func (op *resizeOp) Arity() int    { return 1 }
func (op *resizeOp) Type() hm.Type { return fnT(tensorT(4), tensorT(4)) }
func (op *resizeOp) String() string {
	name, mode := "Resize2D", "nearest"
	if op.back {
		name += "Backward"
	}
	if op.p.Bilinear {
		mode = "bilinear"
	}
	p := op.p
	return fmt.Sprintf("%s{x:%dx%dx%dx%d out:%dx%d %s}", name, p.N, p.C, p.H, p.W, p.OH, p.OW, mode)
}
func (op *resizeOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *resizeOp) Hashcode() uint32      { return opHash(op) }

func (op *resizeOp) shapes() (in, out tensor.Shape) {
	p := op.p
	return tensor.Shape{p.N, p.C, p.H, p.W}, tensor.Shape{p.N, p.C, p.OH, p.OW}
}

func (op *resizeOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	in, out := op.shapes()
	if op.back {
		return in, nil
	}
	return out, nil
}

func (op *resizeOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	x, err := denseArg(op, vs, 0)
	if err != nil {
		return nil, err
	}
	in, out := op.shapes()
	if op.back {
		in, out = out, in
	}
	if err := checkShape(op, "input", x, in...); err != nil {
		return nil, err
	}
	y := op.output(x.Dtype(), out...)
	switch {
	case op.back && x.Dtype() == tensor.Float32:
		kernels.Resize2DBackward(op.p, f32(x), f32(y))
	case op.back:
		kernels.Resize2DBackward(op.p, f64(x), f64(y))
	case x.Dtype() == tensor.Float32:
		kernels.Resize2D(op.p, f32(x), f32(y))
	default:
		kernels.Resize2D(op.p, f64(x), f64(y))
	}
	return y, nil
}

func (op *resizeOp) DiffWRT(int) []bool { return []bool{true} }

func (op *resizeOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if op.back {
		return nil, errors.Errorf("graph: %v: no second derivative", op)
	}
	dx, err := apply(&resizeOp{p: op.p, back: true}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}
