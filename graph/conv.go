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

// Pad is explicit padding, in cells, on each side of an image.
type Pad struct{ Top, Bottom, Left, Right int }

// SamePad returns TensorFlow's "same" padding for one spatial axis: the output has
// ceil(in/stride) cells, and when the total padding is odd the extra cell goes after
// (bottom or right), as in Keras.
func SamePad(in, kernel, stride, dilation int) (before, after int) {
	out := (in + stride - 1) / stride
	total := (out-1)*stride + (kernel-1)*dilation + 1 - in
	if total < 0 {
		total = 0
	}
	return total / 2, total - total/2
}

// Conv2DConfig configures [Conv2D]. Zero strides and dilations mean 1.
type Conv2DConfig struct {
	StrideH, StrideW     int
	DilationH, DilationW int
	Pad                  Pad
}

func orOne(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

// convParams checks x [N,C,H,W] and w [F,C,KH,KW] against cfg and returns kernel parameters.
func convParams(xs, ws tensor.Shape, cfg Conv2DConfig) (kernels.Conv2DParams, error) {
	var p kernels.Conv2DParams
	if xs.Dims() != 4 {
		return p, errors.Errorf("input has shape %v; want 4 dimensions (N, C, H, W)", xs)
	}
	if ws.Dims() != 4 {
		return p, errors.Errorf("kernel has shape %v; want 4 dimensions (F, C, KH, KW)", ws)
	}
	p = kernels.Conv2DParams{
		N: xs[0], C: xs[1], H: xs[2], W: xs[3],
		F: ws[0], KH: ws[2], KW: ws[3],
		StrideH: orOne(cfg.StrideH), StrideW: orOne(cfg.StrideW),
		DilationH: orOne(cfg.DilationH), DilationW: orOne(cfg.DilationW),
		PadTop: cfg.Pad.Top, PadBottom: cfg.Pad.Bottom, PadLeft: cfg.Pad.Left, PadRight: cfg.Pad.Right,
	}
	switch {
	case ws[1] != xs[1]:
		return p, errors.Errorf("kernel has %d input channels, input has %d", ws[1], xs[1])
	case p.F <= 0 || p.KH <= 0 || p.KW <= 0:
		return p, errors.Errorf("kernel shape %v has a zero dimension", ws)
	case p.StrideH < 0 || p.StrideW < 0:
		return p, errors.Errorf("stride %dx%d must be positive", p.StrideH, p.StrideW)
	case p.DilationH < 0 || p.DilationW < 0:
		return p, errors.Errorf("dilation %dx%d must be positive", p.DilationH, p.DilationW)
	case p.PadTop < 0 || p.PadBottom < 0 || p.PadLeft < 0 || p.PadRight < 0:
		return p, errors.Errorf("padding %+v must not be negative", cfg.Pad)
	}
	effH, effW := p.DilationH*(p.KH-1)+1, p.DilationW*(p.KW-1)+1
	padH, padW := p.H+p.PadTop+p.PadBottom, p.W+p.PadLeft+p.PadRight
	if effH > padH || effW > padW {
		return p, errors.Errorf("kernel %dx%d larger than padded input %dx%d", effH, effW, padH, padW)
	}
	return p, nil
}

// Conv2D convolves x [N,C,H,W] with kernel w [F,C,KH,KW] (cross-correlation, as every deep
// learning framework computes it) and returns [N,F,OH,OW]. It adds no bias: see [BiasAdd].
func Conv2D(x, w *G.Node, cfg Conv2DConfig) (*G.Node, error) {
	p, err := convParams(x.Shape(), w.Shape(), cfg)
	if err != nil {
		return nil, errors.Wrap(err, "graph: conv2d")
	}
	return apply(&conv2dOp{p: p}, x, w)
}

// conv2dOp is y = conv(x, w).
type conv2dOp struct {
	baseOp
	p kernels.Conv2DParams
}

func (op *conv2dOp) Arity() int            { return 2 }
func (op *conv2dOp) Type() hm.Type         { return fnT(tensorT(4), tensorT(4), tensorT(4)) }
func (op *conv2dOp) String() string        { return fmt.Sprintf("Conv2D%s", convString(op.p)) }
func (op *conv2dOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *conv2dOp) Hashcode() uint32      { return opHash(op) }
func (op *conv2dOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.p.N, op.p.F, op.p.OutH(), op.p.OutW()}, nil
}

func convString(p kernels.Conv2DParams) string {
	return fmt.Sprintf("{x:%dx%dx%dx%d k:%dx%dx%dx%d s:%dx%d pad:%d,%d,%d,%d d:%dx%d}",
		p.N, p.C, p.H, p.W, p.F, p.C, p.KH, p.KW, p.StrideH, p.StrideW,
		p.PadTop, p.PadBottom, p.PadLeft, p.PadRight, p.DilationH, p.DilationW)
}

func (op *conv2dOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	x, w, err := denseArgs2(op, vs)
	if err != nil {
		return nil, err
	}
	p := op.p
	if err := firstErr(sameDtype(op, x, w), checkShape(op, "input", x, p.N, p.C, p.H, p.W),
		checkShape(op, "kernel", w, p.F, p.C, p.KH, p.KW)); err != nil {
		return nil, err
	}
	y := op.output(x.Dtype(), p.N, p.F, p.OutH(), p.OutW())
	if x.Dtype() == tensor.Float32 {
		kernels.Conv2D(p, f32(x), f32(w), f32(y))
	} else {
		kernels.Conv2D(p, f64(x), f64(w), f64(y))
	}
	return y, nil
}

func (op *conv2dOp) DiffWRT(int) []bool { return []bool{true, true} }

func (op *conv2dOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(&conv2dBackInputOp{p: op.p}, in[1], grad)
	if err != nil {
		return nil, err
	}
	dw, err := apply(&conv2dBackKernelOp{p: op.p}, in[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw}, nil
}

// conv2dBackInputOp is dx = conv2d_transpose(w, dy).
type conv2dBackInputOp struct {
	baseOp
	p kernels.Conv2DParams
}

func (op *conv2dBackInputOp) Arity() int            { return 2 }
func (op *conv2dBackInputOp) Type() hm.Type         { return fnT(tensorT(4), tensorT(4), tensorT(4)) }
func (op *conv2dBackInputOp) String() string        { return "Conv2DBackwardInput" + convString(op.p) }
func (op *conv2dBackInputOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *conv2dBackInputOp) Hashcode() uint32      { return opHash(op) }
func (op *conv2dBackInputOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.p.N, op.p.C, op.p.H, op.p.W}, nil
}

func (op *conv2dBackInputOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	w, dy, err := denseArgs2(op, vs)
	if err != nil {
		return nil, err
	}
	p := op.p
	if err := firstErr(sameDtype(op, w, dy), checkShape(op, "kernel", w, p.F, p.C, p.KH, p.KW),
		checkShape(op, "output gradient", dy, p.N, p.F, p.OutH(), p.OutW())); err != nil {
		return nil, err
	}
	dx := op.output(w.Dtype(), p.N, p.C, p.H, p.W)
	if w.Dtype() == tensor.Float32 {
		kernels.Conv2DBackwardInput(p, f32(w), f32(dy), f32(dx))
	} else {
		kernels.Conv2DBackwardInput(p, f64(w), f64(dy), f64(dx))
	}
	return dx, nil
}

// conv2dBackKernelOp is dw = correlate(x, dy).
type conv2dBackKernelOp struct {
	baseOp
	p kernels.Conv2DParams
}

func (op *conv2dBackKernelOp) Arity() int            { return 2 }
func (op *conv2dBackKernelOp) Type() hm.Type         { return fnT(tensorT(4), tensorT(4), tensorT(4)) }
func (op *conv2dBackKernelOp) String() string        { return "Conv2DBackwardKernel" + convString(op.p) }
func (op *conv2dBackKernelOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *conv2dBackKernelOp) Hashcode() uint32      { return opHash(op) }
func (op *conv2dBackKernelOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.p.F, op.p.C, op.p.KH, op.p.KW}, nil
}

func (op *conv2dBackKernelOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	x, dy, err := denseArgs2(op, vs)
	if err != nil {
		return nil, err
	}
	p := op.p
	if err := firstErr(sameDtype(op, x, dy), checkShape(op, "input", x, p.N, p.C, p.H, p.W),
		checkShape(op, "output gradient", dy, p.N, p.F, p.OutH(), p.OutW())); err != nil {
		return nil, err
	}
	dw := op.output(x.Dtype(), p.F, p.C, p.KH, p.KW)
	if x.Dtype() == tensor.Float32 {
		kernels.Conv2DBackwardKernel(p, f32(x), f32(dy), f32(dw))
	} else {
		kernels.Conv2DBackwardKernel(p, f64(x), f64(dy), f64(dw))
	}
	return dw, nil
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
