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

// Upsample2D enlarges each image of x [N,C,H,W] by integer factors sh and sw, giving
// [N,C,H*sh,W*sw]: by repeating each cell (nearest) or, with bilinear, by interpolating
// between the four nearest cells with half-pixel centres (PyTorch's align_corners=False,
// Keras's UpSampling2D(interpolation="bilinear")).
func Upsample2D(x *G.Node, sh, sw int, bilinear bool) (*G.Node, error) {
	s := x.Shape()
	if s.Dims() != 4 {
		return nil, errors.Errorf("graph: upsample2d: input has shape %v; want 4 dimensions (N, C, H, W)", s)
	}
	if sh < 1 || sw < 1 {
		return nil, errors.Errorf("graph: upsample2d: factors %dx%d must be positive", sh, sw)
	}
	p := kernels.UpsampleParams{N: s[0], C: s[1], H: s[2], W: s[3], SH: sh, SW: sw, Bilinear: bilinear}
	return apply(&upsampleOp{p: p}, x)
}

// upsampleOp is 2-D upsampling; back selects its gradient.
type upsampleOp struct {
	baseOp
	p    kernels.UpsampleParams
	back bool
}

func (op *upsampleOp) Arity() int    { return 1 }
func (op *upsampleOp) Type() hm.Type { return fnT(tensorT(4), tensorT(4)) }
func (op *upsampleOp) String() string {
	name, mode := "Upsample2D", "nearest"
	if op.back {
		name += "Backward"
	}
	if op.p.Bilinear {
		mode = "bilinear"
	}
	p := op.p
	return fmt.Sprintf("%s{x:%dx%dx%dx%d s:%dx%d %s}", name, p.N, p.C, p.H, p.W, p.SH, p.SW, mode)
}
func (op *upsampleOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *upsampleOp) Hashcode() uint32      { return opHash(op) }

func (op *upsampleOp) shapes() (small, big tensor.Shape) {
	p := op.p
	return tensor.Shape{p.N, p.C, p.H, p.W}, tensor.Shape{p.N, p.C, p.H * p.SH, p.W * p.SW}
}

func (op *upsampleOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	small, big := op.shapes()
	if op.back {
		return small, nil
	}
	return big, nil
}

func (op *upsampleOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	x, err := denseArg(op, vs, 0)
	if err != nil {
		return nil, err
	}
	small, big := op.shapes()
	in, out := small, big
	if op.back {
		in, out = big, small
	}
	if err := checkShape(op, "input", x, in...); err != nil {
		return nil, err
	}
	y := op.output(x.Dtype(), out...)
	switch {
	case op.back && x.Dtype() == tensor.Float32:
		kernels.Upsample2DBackward(op.p, f32(x), f32(y))
	case op.back:
		kernels.Upsample2DBackward(op.p, f64(x), f64(y))
	case x.Dtype() == tensor.Float32:
		kernels.Upsample2D(op.p, f32(x), f32(y))
	default:
		kernels.Upsample2D(op.p, f64(x), f64(y))
	}
	return y, nil
}

func (op *upsampleOp) DiffWRT(int) []bool { return []bool{true} }

func (op *upsampleOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if op.back {
		return nil, errors.Errorf("graph: %v: no second derivative", op)
	}
	dx, err := apply(&upsampleOp{p: op.p, back: true}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}
