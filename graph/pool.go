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

// Pool2DConfig configures [MaxPool2D] and [AvgPool2D]. Zero strides mean the pool size
// (non-overlapping windows), as in Keras.
type Pool2DConfig struct {
	KH, KW           int
	StrideH, StrideW int
	Pad              Pad
}

func poolParams(xs tensor.Shape, cfg Pool2DConfig) (kernels.Pool2DParams, error) {
	var p kernels.Pool2DParams
	if xs.Dims() != 4 {
		return p, errors.Errorf("input has shape %v; want 4 dimensions (N, C, H, W)", xs)
	}
	p = kernels.Pool2DParams{N: xs[0], C: xs[1], H: xs[2], W: xs[3], KH: cfg.KH, KW: cfg.KW,
		StrideH: cfg.StrideH, StrideW: cfg.StrideW,
		PadTop: cfg.Pad.Top, PadBottom: cfg.Pad.Bottom, PadLeft: cfg.Pad.Left, PadRight: cfg.Pad.Right}
	if p.StrideH == 0 {
		p.StrideH = p.KH
	}
	if p.StrideW == 0 {
		p.StrideW = p.KW
	}
	switch {
	case p.KH <= 0 || p.KW <= 0:
		return p, errors.Errorf("pool size %dx%d must be positive", p.KH, p.KW)
	case p.StrideH <= 0 || p.StrideW <= 0:
		return p, errors.Errorf("stride %dx%d must be positive", p.StrideH, p.StrideW)
	case p.PadTop < 0 || p.PadBottom < 0 || p.PadLeft < 0 || p.PadRight < 0:
		return p, errors.Errorf("padding %+v must not be negative", cfg.Pad)
	case p.PadTop >= p.KH || p.PadBottom >= p.KH || p.PadLeft >= p.KW || p.PadRight >= p.KW:
		return p, errors.Errorf("padding %+v must be smaller than the pool size %dx%d", cfg.Pad, p.KH, p.KW)
	}
	if ph, pw := p.H+p.PadTop+p.PadBottom, p.W+p.PadLeft+p.PadRight; p.KH > ph || p.KW > pw {
		return p, errors.Errorf("pool size %dx%d larger than padded input %dx%d", p.KH, p.KW, ph, pw)
	}
	return p, nil
}

// poolString names an op's parameters, and its winners' identity if it has them.
func poolString(p kernels.Pool2DParams, w *poolWinners) string {
	id := ""
	if w != nil {
		id = fmt.Sprintf(" id:%d", w.id)
	}
	return fmt.Sprintf("{x:%dx%dx%dx%d k:%dx%d s:%dx%d pad:%d,%d,%d,%d%s}", p.N, p.C, p.H, p.W,
		p.KH, p.KW, p.StrideH, p.StrideW, p.PadTop, p.PadBottom, p.PadLeft, p.PadRight, id)
}

// MaxPool2D takes the maximum of each window of x [N,C,H,W]. Padded cells never win.
func MaxPool2D(x *G.Node, cfg Pool2DConfig) (*G.Node, error) {
	p, err := poolParams(x.Shape(), cfg)
	if err != nil {
		return nil, errors.Wrap(err, "graph: max_pool2d")
	}
	op := &poolOp{p: p, max: true}
	if !p.Is2x2() {
		op.win = &poolWinners{id: newID()}
	}
	return apply(op, x)
}

// poolWinners is where a max pool's forward run sent each output's gradient (see
// [kernels.MaxPool2DIndices]), shared with its gradient op so that the backward pass is
// a scatter instead of a second search of every window. Only windows other than the
// plain 2x2/2 have it: that one's backward kernel recomputes the winners faster than
// the general forward kernel records them.
//
// The gradient op takes the forward output y as an input, so a machine that runs it has
// run the forward op before it in the same step; it uses the indices only if they were
// recorded from the very x and y tensors it is given, and recomputes them otherwise (a
// forward op run since on another input, or no forward run at all).
type poolWinners struct {
	id uint64
	// record is set by SymDiff: graphs with no gradient (inference) skip the indices.
	record bool
	idx    []int32
	// x and y are the tensors of the forward run that wrote idx; nil when idx is stale.
	x, y *tensor.Dense
}

// fresh reports whether idx holds the winners of input x for output y.
func (w *poolWinners) fresh(x, y *tensor.Dense) bool {
	return w.x != nil && w.x == x && w.y == y
}

// AvgPool2D averages each window of x [N,C,H,W] over the cells inside the input: padded
// cells are not counted (Keras's rule; PyTorch's count_include_pad=False).
func AvgPool2D(x *G.Node, cfg Pool2DConfig) (*G.Node, error) {
	p, err := poolParams(x.Shape(), cfg)
	if err != nil {
		return nil, errors.Wrap(err, "graph: average_pool2d")
	}
	return apply(&poolOp{p: p}, x)
}

// poolOp is max or average pooling; win, when not nil, keeps a max pool's winners for
// its gradient.
type poolOp struct {
	baseOp
	p   kernels.Pool2DParams
	max bool
	win *poolWinners
}

func (op *poolOp) name() string {
	if op.max {
		return "MaxPool2D"
	}
	return "AvgPool2D"
}

func (op *poolOp) Arity() int            { return 1 }
func (op *poolOp) Type() hm.Type         { return fnT(tensorT(4), tensorT(4)) }
func (op *poolOp) String() string        { return op.name() + poolString(op.p, op.win) }
func (op *poolOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *poolOp) Hashcode() uint32      { return opHash(op) }
func (op *poolOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.p.N, op.p.C, op.p.OutH(), op.p.OutW()}, nil
}

func (op *poolOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	x, err := denseArg(op, vs, 0)
	if err != nil {
		return nil, err
	}
	p := op.p
	if err := checkShape(op, "input", x, p.N, p.C, p.H, p.W); err != nil {
		return nil, err
	}
	y := op.output(x.Dtype(), p.N, p.C, p.OutH(), p.OutW())
	if w := op.win; w != nil && w.record {
		w.x, w.y = nil, nil // stale until the kernel has written them
		if n := p.N * p.C * p.OutH() * p.OutW(); len(w.idx) != n {
			w.idx = make([]int32, n)
		}
		if x.Dtype() == tensor.Float32 {
			kernels.MaxPool2DIndices(p, f32(x), f32(y), w.idx)
		} else {
			kernels.MaxPool2DIndices(p, f64(x), f64(y), w.idx)
		}
		w.x, w.y = x, y
		return y, nil
	}
	switch {
	case op.max && x.Dtype() == tensor.Float32:
		kernels.MaxPool2D(p, f32(x), f32(y))
	case op.max:
		kernels.MaxPool2D(p, f64(x), f64(y))
	case x.Dtype() == tensor.Float32:
		kernels.AvgPool2D(p, f32(x), f32(y))
	default:
		kernels.AvgPool2D(p, f64(x), f64(y))
	}
	return y, nil
}

func (op *poolOp) DiffWRT(int) []bool { return []bool{true} }

func (op *poolOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	back := &poolBackOp{p: op.p, max: op.max, win: op.win}
	var dx *G.Node
	var err error
	switch {
	case op.win != nil:
		op.win.record = true
		dx, err = apply(back, in[0], out, grad)
	case op.max:
		dx, err = apply(back, in[0], grad)
	default:
		dx, err = apply(back, grad)
	}
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// poolBackOp routes the output gradient back to the window cells: to the first maximum
// (inputs x, dy; or x, y, dy with the forward op's winners) or evenly over the window
// (input dy).
type poolBackOp struct {
	baseOp
	p   kernels.Pool2DParams
	max bool
	win *poolWinners
}

func (op *poolBackOp) Arity() int {
	switch {
	case op.win != nil:
		return 3
	case op.max:
		return 2
	}
	return 1
}

func (op *poolBackOp) Type() hm.Type {
	ts := make([]hm.Type, op.Arity()+1)
	for i := range ts {
		ts[i] = tensorT(4)
	}
	return fnT(ts...)
}

func (op *poolBackOp) String() string {
	if op.max {
		return "MaxPool2DBackward" + poolString(op.p, op.win)
	}
	return "AvgPool2DBackward" + poolString(op.p, nil)
}
func (op *poolBackOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *poolBackOp) Hashcode() uint32      { return opHash(op) }
func (op *poolBackOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.p.N, op.p.C, op.p.H, op.p.W}, nil
}

func (op *poolBackOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	p := op.p
	dy, err := denseArg(op, vs, op.Arity()-1)
	if err != nil {
		return nil, err
	}
	if err := checkShape(op, "output gradient", dy, p.N, p.C, p.OutH(), p.OutW()); err != nil {
		return nil, err
	}
	dx := op.output(dy.Dtype(), p.N, p.C, p.H, p.W)
	if !op.max {
		if dy.Dtype() == tensor.Float32 {
			kernels.AvgPool2DBackward(p, f32(dy), f32(dx))
		} else {
			kernels.AvgPool2DBackward(p, f64(dy), f64(dx))
		}
		return dx, nil
	}
	x, err := denseArg(op, vs, 0)
	if err != nil {
		return nil, err
	}
	if err := firstErr(sameDtype(op, x, dy), checkShape(op, "input", x, p.N, p.C, p.H, p.W)); err != nil {
		return nil, err
	}
	if w := op.win; w != nil {
		y, err := denseArg(op, vs, 1)
		if err != nil {
			return nil, err
		}
		if w.fresh(x, y) {
			if x.Dtype() == tensor.Float32 {
				kernels.MaxPool2DBackwardIndices(p, w.idx, f32(dy), f32(dx))
			} else {
				kernels.MaxPool2DBackwardIndices(p, w.idx, f64(dy), f64(dx))
			}
			return dx, nil
		}
	}
	if x.Dtype() == tensor.Float32 {
		kernels.MaxPool2DBackward(p, f32(x), f32(dy), f32(dx))
	} else {
		kernels.MaxPool2DBackward(p, f64(x), f64(dy), f64(dx))
	}
	return dx, nil
}

// GlobalAvgPool2D averages each channel of x [N,C,H,W] over its H*W cells, giving [N,C].
func GlobalAvgPool2D(x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if s.Dims() != 4 {
		return nil, errors.Errorf("graph: global_average_pool2d: input has shape %v; want 4 dimensions (N, C, H, W)", s)
	}
	return apply(&gapOp{n: s[0], c: s[1], h: s[2], w: s[3]}, x)
}

// gapOp is global average pooling; back selects its gradient.
type gapOp struct {
	baseOp
	n, c, h, w int
	back       bool
}

func (op *gapOp) Arity() int { return 1 }
func (op *gapOp) Type() hm.Type {
	if op.back {
		return fnT(tensorT(2), tensorT(4))
	}
	return fnT(tensorT(4), tensorT(2))
}
func (op *gapOp) String() string {
	name := "GlobalAvgPool2D"
	if op.back {
		name += "Backward"
	}
	return fmt.Sprintf("%s{%dx%dx%dx%d}", name, op.n, op.c, op.h, op.w)
}
func (op *gapOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *gapOp) Hashcode() uint32      { return opHash(op) }
func (op *gapOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if op.back {
		return tensor.Shape{op.n, op.c, op.h, op.w}, nil
	}
	return tensor.Shape{op.n, op.c}, nil
}

func (op *gapOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	in, err := denseArg(op, vs, 0)
	if err != nil {
		return nil, err
	}
	hw := op.h * op.w
	if op.back {
		if err := checkShape(op, "output gradient", in, op.n, op.c); err != nil {
			return nil, err
		}
		dx := op.output(in.Dtype(), op.n, op.c, op.h, op.w)
		if in.Dtype() == tensor.Float32 {
			kernels.GlobalAvgPool2DBackward(op.n, op.c, hw, f32(in), f32(dx))
		} else {
			kernels.GlobalAvgPool2DBackward(op.n, op.c, hw, f64(in), f64(dx))
		}
		return dx, nil
	}
	if err := checkShape(op, "input", in, op.n, op.c, op.h, op.w); err != nil {
		return nil, err
	}
	y := op.output(in.Dtype(), op.n, op.c)
	if in.Dtype() == tensor.Float32 {
		kernels.GlobalAvgPool2D(op.n, op.c, hw, f32(in), f32(y))
	} else {
		kernels.GlobalAvgPool2D(op.n, op.c, hw, f64(in), f64(y))
	}
	return y, nil
}

func (op *gapOp) DiffWRT(int) []bool { return []bool{true} }

func (op *gapOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	back := *op
	back.back = true
	dx, err := apply(&back, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// GlobalMaxPool2D takes the maximum of each channel of x [N,C,H,W] over its H*W cells,
// giving [N,C]. The gradient goes to each plane's first maximum.
func GlobalMaxPool2D(x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if s.Dims() != 4 {
		return nil, errors.Errorf("graph: global_max_pool2d: input has shape %v; want 4 dimensions (N, C, H, W)", s)
	}
	return apply(&gmpOp{n: s[0], c: s[1], h: s[2], w: s[3]}, x)
}

// gmpOp is global max pooling; back selects its gradient, which takes (x, dy).
type gmpOp struct {
	baseOp
	n, c, h, w int
	back       bool
}

func (op *gmpOp) Arity() int {
	if op.back {
		return 2
	}
	return 1
}

func (op *gmpOp) Type() hm.Type {
	if op.back {
		return fnT(tensorT(4), tensorT(2), tensorT(4))
	}
	return fnT(tensorT(4), tensorT(2))
}

func (op *gmpOp) String() string {
	name := "GlobalMaxPool2D"
	if op.back {
		name += "Backward"
	}
	return fmt.Sprintf("%s{%dx%dx%dx%d}", name, op.n, op.c, op.h, op.w)
}
func (op *gmpOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *gmpOp) Hashcode() uint32      { return opHash(op) }
func (op *gmpOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if op.back {
		return tensor.Shape{op.n, op.c, op.h, op.w}, nil
	}
	return tensor.Shape{op.n, op.c}, nil
}

func (op *gmpOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	x, err := denseArg(op, vs, 0)
	if err != nil {
		return nil, err
	}
	if err := checkShape(op, "input", x, op.n, op.c, op.h, op.w); err != nil {
		return nil, err
	}
	hw := op.h * op.w
	if !op.back {
		y := op.output(x.Dtype(), op.n, op.c)
		if x.Dtype() == tensor.Float32 {
			kernels.GlobalMaxPool2D(op.n, op.c, hw, f32(x), f32(y))
		} else {
			kernels.GlobalMaxPool2D(op.n, op.c, hw, f64(x), f64(y))
		}
		return y, nil
	}
	dy, err := denseArg(op, vs, 1)
	if err != nil {
		return nil, err
	}
	if err := firstErr(sameDtype(op, x, dy), checkShape(op, "output gradient", dy, op.n, op.c)); err != nil {
		return nil, err
	}
	dx := op.output(x.Dtype(), op.n, op.c, op.h, op.w)
	if x.Dtype() == tensor.Float32 {
		kernels.GlobalMaxPool2DBackward(op.n, op.c, hw, f32(x), f32(dy), f32(dx))
	} else {
		kernels.GlobalMaxPool2DBackward(op.n, op.c, hw, f64(x), f64(dy), f64(dx))
	}
	return dx, nil
}

func (op *gmpOp) DiffWRT(int) []bool { return []bool{true} }

func (op *gmpOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(&gmpOp{n: op.n, c: op.c, h: op.h, w: op.w, back: true}, in[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// stateBytes is the memory the op keeps besides its output: the winners' indices (one
// int32 per output value) when a gradient will read them.
func (op *poolOp) stateBytes(n *G.Node) int64 {
	if op.win == nil || !op.win.record {
		return 0
	}
	return 4 * int64(op.p.N*op.p.C*op.p.OutH()*op.p.OutW())
}
