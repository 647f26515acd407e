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

// DepthwiseConv2D convolves each channel of x [N,C,H,W] with its own filters: w
// [C*M,1,KH,KW] holds M filters per input channel (the depth multiplier), and output
// channel c*M+j is channel c convolved with filter c*M+j (PyTorch's conv2d with
// groups=C; Keras's DepthwiseConv2D). It returns [N,C*M,OH,OW] and adds no bias.
func DepthwiseConv2D(x, w *G.Node, cfg Conv2DConfig) (*G.Node, error) {
	xs, ws := x.Shape(), w.Shape()
	if ws.Dims() == 4 && ws[1] != 1 {
		return nil, errors.Errorf("graph: depthwise_conv2d: kernel has shape %v; want [C*M, 1, KH, KW]", ws)
	}
	if xs.Dims() == 4 && ws.Dims() == 4 && (ws[0] == 0 || ws[0]%xs[1] != 0) {
		return nil, errors.Errorf("graph: depthwise_conv2d: kernel has %d filters, not a multiple of the input's %d channels", ws[0], xs[1])
	}
	var wsC tensor.Shape
	if ws.Dims() == 4 && xs.Dims() == 4 {
		wsC = tensor.Shape{ws[0], xs[1], ws[2], ws[3]}
	} else {
		wsC = ws
	}
	p, err := convParams(xs, wsC, cfg)
	if err != nil {
		return nil, errors.Wrap(err, "graph: depthwise_conv2d")
	}
	return apply(&dwConvOp{p: p}, x, w)
}

// dwConvOp is y = depthwise_conv(x, w); part selects its backward ops: 1 for dx from
// (w, dy), 2 for dw from (x, dy).
type dwConvOp struct {
	baseOp
	p    kernels.Conv2DParams
	part int
}

func (op *dwConvOp) Arity() int    { return 2 }
func (op *dwConvOp) Type() hm.Type { return fnT(tensorT(4), tensorT(4), tensorT(4)) }
func (op *dwConvOp) String() string {
	name := [...]string{"DepthwiseConv2D", "DepthwiseConv2DBackwardInput", "DepthwiseConv2DBackwardKernel"}[op.part]
	p := op.p
	return fmt.Sprintf("%s{x:%dx%dx%dx%d k:%dx1x%dx%d s:%dx%d pad:%d,%d,%d,%d d:%dx%d}", name,
		p.N, p.C, p.H, p.W, p.F, p.KH, p.KW, p.StrideH, p.StrideW,
		p.PadTop, p.PadBottom, p.PadLeft, p.PadRight, p.DilationH, p.DilationW)
}
func (op *dwConvOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *dwConvOp) Hashcode() uint32      { return opHash(op) }

func (op *dwConvOp) shapes() (x, w, y tensor.Shape) {
	p := op.p
	return tensor.Shape{p.N, p.C, p.H, p.W}, tensor.Shape{p.F, 1, p.KH, p.KW}, tensor.Shape{p.N, p.F, p.OutH(), p.OutW()}
}

func (op *dwConvOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	x, w, y := op.shapes()
	return [...]tensor.Shape{y, x, w}[op.part], nil
}

func (op *dwConvOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	a, b, err := denseArgs2(op, vs)
	if err != nil {
		return nil, err
	}
	xs, ws, ys := op.shapes()
	in := [...][2]tensor.Shape{{xs, ws}, {ws, ys}, {xs, ys}}[op.part]
	what := [...][2]string{{"input", "kernel"}, {"kernel", "output gradient"}, {"input", "output gradient"}}[op.part]
	if err := firstErr(sameDtype(op, a, b), checkShape(op, what[0], a, in[0]...), checkShape(op, what[1], b, in[1]...)); err != nil {
		return nil, err
	}
	out := op.output(a.Dtype(), [...]tensor.Shape{ys, xs, ws}[op.part]...)
	f32s := a.Dtype() == tensor.Float32
	switch {
	case op.part == 0 && f32s:
		kernels.DepthwiseConv2D(op.p, f32(a), f32(b), f32(out))
	case op.part == 0:
		kernels.DepthwiseConv2D(op.p, f64(a), f64(b), f64(out))
	case op.part == 1 && f32s:
		kernels.DepthwiseConv2DBackwardInput(op.p, f32(a), f32(b), f32(out))
	case op.part == 1:
		kernels.DepthwiseConv2DBackwardInput(op.p, f64(a), f64(b), f64(out))
	case f32s:
		kernels.DepthwiseConv2DBackwardKernel(op.p, f32(a), f32(b), f32(out))
	default:
		kernels.DepthwiseConv2DBackwardKernel(op.p, f64(a), f64(b), f64(out))
	}
	return out, nil
}

func (op *dwConvOp) DiffWRT(int) []bool { return []bool{true, true} }

func (op *dwConvOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if op.part != 0 {
		return nil, errors.Errorf("graph: %v: no second derivative", op)
	}
	dx, err := apply(&dwConvOp{p: op.p, part: 1}, in[1], grad)
	if err != nil {
		return nil, err
	}
	dw, err := apply(&dwConvOp{p: op.p, part: 2}, in[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw}, nil
}
