package graph

import (
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/internal/kernels"
)

// Conv2DTransposeConfig configures [Conv2DTranspose]. Strides, dilation and Pad describe
// the convolution it transposes: the one that maps an OutH x OutW image back to the
// input's size. Zero strides and dilations mean 1; zero OutH or OutW mean the largest
// output that convolution accepts, (H-1)*stride + dilated kernel - padding.
type Conv2DTransposeConfig struct {
	StrideH, StrideW     int
	DilationH, DilationW int
	Pad                  Pad
	OutH, OutW           int
}

// Conv2DTranspose is the transposed convolution (also called a fractionally strided
// convolution or, loosely, a deconvolution) of x [N,C,H,W] with w [C,F,KH,KW] (PyTorch's
// ConvTranspose2d layout), giving [N,F,OutH,OutW]: the gradient of a convolution with
// respect to its input, so each input cell spreads its value, weighted by the kernel, over
// a window of the output. It adds no bias.
func Conv2DTranspose(x, w *G.Node, cfg Conv2DTransposeConfig) (*G.Node, error) {
	xs, ws := x.Shape(), w.Shape()
	if xs.Dims() != 4 || ws.Dims() != 4 {
		return nil, errors.Errorf("graph: conv2d_transpose: input %v and kernel %v must have 4 dimensions", xs, ws)
	}
	sh, sw, dh, dw := orOne(cfg.StrideH), orOne(cfg.StrideW), orOne(cfg.DilationH), orOne(cfg.DilationW)
	oh, ow := cfg.OutH, cfg.OutW
	if oh == 0 {
		oh = (xs[2]-1)*sh + dh*(ws[2]-1) + 1 - cfg.Pad.Top - cfg.Pad.Bottom
	}
	if ow == 0 {
		ow = (xs[3]-1)*sw + dw*(ws[3]-1) + 1 - cfg.Pad.Left - cfg.Pad.Right
	}
	if oh <= 0 || ow <= 0 {
		return nil, errors.Errorf("graph: conv2d_transpose: output %dx%d is empty", oh, ow)
	}
	// The convolution this op transposes: from the output [N,F,OutH,OutW] to x, kernel w.
	p, err := convParams(tensor.Shape{xs[0], ws[1], oh, ow}, tensor.Shape{ws[0], ws[1], ws[2], ws[3]},
		Conv2DConfig{StrideH: sh, StrideW: sw, DilationH: dh, DilationW: dw, Pad: cfg.Pad})
	if err != nil {
		return nil, errors.Wrap(err, "graph: conv2d_transpose")
	}
	if ws[0] != xs[1] {
		return nil, errors.Errorf("graph: conv2d_transpose: kernel %v has %d input channels, the input %d", ws, ws[0], xs[1])
	}
	if p.OutH() != xs[2] || p.OutW() != xs[3] {
		return nil, errors.Errorf("graph: conv2d_transpose: an output of %dx%d does not convolve back to the input's %dx%d",
			oh, ow, xs[2], xs[3])
	}
	return apply(&convTOp{p: p}, x, w)
}

// convTOp is y = conv_transpose(x, w); p is the convolution from y's shape to x's. part
// selects the backward ops: 1 for dx = conv(dy, w), 2 for dw from (dy, x).
type convTOp struct {
	baseOp
	p    kernels.Conv2DParams
	part int
}

func (op *convTOp) Arity() int    { return 2 }
func (op *convTOp) Type() hm.Type { return fnT(tensorT(4), tensorT(4), tensorT(4)) }
func (op *convTOp) String() string {
	name := [...]string{"Conv2DTranspose", "Conv2DTransposeBackwardInput", "Conv2DTransposeBackwardKernel"}[op.part]
	return name + convString(op.p)
}
func (op *convTOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *convTOp) Hashcode() uint32      { return opHash(op) }

// shapes are the op's input x, kernel w and output y.
func (op *convTOp) shapes() (x, w, y tensor.Shape) {
	p := op.p
	return tensor.Shape{p.N, p.F, p.OutH(), p.OutW()}, tensor.Shape{p.F, p.C, p.KH, p.KW}, tensor.Shape{p.N, p.C, p.H, p.W}
}

func (op *convTOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	x, w, y := op.shapes()
	return [...]tensor.Shape{y, x, w}[op.part], nil
}

func (op *convTOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	a, b, err := denseArgs2(op, vs)
	if err != nil {
		return nil, err
	}
	xs, ws, ys := op.shapes()
	in := [...][2]tensor.Shape{{xs, ws}, {ys, ws}, {ys, xs}}[op.part]
	what := [...][2]string{{"input", "kernel"}, {"output gradient", "kernel"}, {"output gradient", "input"}}[op.part]
	if err := firstErr(sameDtype(op, a, b), checkShape(op, what[0], a, in[0]...), checkShape(op, what[1], b, in[1]...)); err != nil {
		return nil, err
	}
	out := op.output(a.Dtype(), [...]tensor.Shape{ys, xs, ws}[op.part]...)
	f32s := a.Dtype() == tensor.Float32
	switch {
	case op.part == 0 && f32s:
		kernels.Conv2DBackwardInput(op.p, f32(b), f32(a), f32(out))
	case op.part == 0:
		kernels.Conv2DBackwardInput(op.p, f64(b), f64(a), f64(out))
	case op.part == 1 && f32s:
		kernels.Conv2D(op.p, f32(a), f32(b), f32(out))
	case op.part == 1:
		kernels.Conv2D(op.p, f64(a), f64(b), f64(out))
	case f32s:
		kernels.Conv2DBackwardKernel(op.p, f32(a), f32(b), f32(out))
	default:
		kernels.Conv2DBackwardKernel(op.p, f64(a), f64(b), f64(out))
	}
	return out, nil
}

func (op *convTOp) DiffWRT(int) []bool { return []bool{true, true} }

func (op *convTOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if op.part != 0 {
		return nil, errors.Errorf("graph: %v: no second derivative", op)
	}
	dx, err := apply(&convTOp{p: op.p, part: 1}, grad, in[1])
	if err != nil {
		return nil, err
	}
	dw, err := apply(&convTOp{p: op.p, part: 2}, grad, in[0])
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw}, nil
}
