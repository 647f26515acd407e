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

// GroupedConv2D convolves x [N,C,H,W] in groups: the channels and the filters of w
// [F,C/groups,KH,KW] are cut into groups equal runs, and output channels
// g*F/groups .. (g+1)*F/groups-1 see only input channels g*C/groups .. (g+1)*C/groups-1
// (PyTorch's conv2d with groups; Keras's Conv2D(groups=...); ResNeXt's and ShuffleNet's
// convolutions). It returns [N,F,OH,OW] and adds no bias. groups 1 is [Conv2D]; groups C
// with one channel per group is [DepthwiseConv2D], which is faster for it.
func GroupedConv2D(x, w *G.Node, groups int, cfg Conv2DConfig) (*G.Node, error) {
	xs, ws := x.Shape(), w.Shape()
	if groups < 1 {
		return nil, errors.Errorf("graph: grouped_conv2d: %d groups must be positive", groups)
	}
	if xs.Dims() == 4 && ws.Dims() == 4 {
		if xs[1]%groups != 0 || ws[0]%groups != 0 {
			return nil, errors.Errorf("graph: grouped_conv2d: %d groups do not divide the input's %d channels and the kernel's %d filters", groups, xs[1], ws[0])
		}
		if ws[1]*groups != xs[1] {
			return nil, errors.Errorf("graph: grouped_conv2d: kernel has %d input channels per group; %d groups of the input's %d channels have %d", ws[1], groups, xs[1], xs[1]/groups)
		}
		ws = tensor.Shape{ws[0], xs[1], ws[2], ws[3]}
	}
	p, err := convParams(xs, ws, cfg)
	if err != nil {
		return nil, errors.Wrap(err, "graph: grouped_conv2d")
	}
	return apply(&groupedConvOp{p: p, groups: groups}, x, w)
}

// groupedConvOp is y = grouped_conv(x, w); part selects its backward ops: 1 for dx from
// (w, dy), 2 for dw from (x, dy).
type groupedConvOp struct {
	baseOp
	p      kernels.Conv2DParams
	groups int
	part   int
}

func (op *groupedConvOp) Arity() int    { return 2 }
func (op *groupedConvOp) Type() hm.Type { return fnT(tensorT(4), tensorT(4), tensorT(4)) }
func (op *groupedConvOp) String() string {
	name := [...]string{"GroupedConv2D", "GroupedConv2DBackwardInput", "GroupedConv2DBackwardKernel"}[op.part]
	p := op.p
	return fmt.Sprintf("%s{x:%dx%dx%dx%d k:%dx%dx%dx%d g:%d s:%dx%d pad:%d,%d,%d,%d d:%dx%d}", name,
		p.N, p.C, p.H, p.W, p.F, p.C/op.groups, p.KH, p.KW, op.groups, p.StrideH, p.StrideW,
		p.PadTop, p.PadBottom, p.PadLeft, p.PadRight, p.DilationH, p.DilationW)
}
func (op *groupedConvOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *groupedConvOp) Hashcode() uint32      { return opHash(op) }

func (op *groupedConvOp) shapes() (x, w, y tensor.Shape) {
	p := op.p
	return tensor.Shape{p.N, p.C, p.H, p.W}, tensor.Shape{p.F, p.C / op.groups, p.KH, p.KW}, tensor.Shape{p.N, p.F, p.OutH(), p.OutW()}
}

func (op *groupedConvOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	x, w, y := op.shapes()
	return [...]tensor.Shape{y, x, w}[op.part], nil
}

func (op *groupedConvOp) Do(vs ...G.Value) (retVal G.Value, err error) {
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
	f32s, g := a.Dtype() == tensor.Float32, op.groups
	switch {
	case op.part == 0 && f32s:
		kernels.GroupedConv2D(op.p, g, f32(a), f32(b), f32(out))
	case op.part == 0:
		kernels.GroupedConv2D(op.p, g, f64(a), f64(b), f64(out))
	case op.part == 1 && f32s:
		kernels.GroupedConv2DBackwardInput(op.p, g, f32(a), f32(b), f32(out))
	case op.part == 1:
		kernels.GroupedConv2DBackwardInput(op.p, g, f64(a), f64(b), f64(out))
	case f32s:
		kernels.GroupedConv2DBackwardKernel(op.p, g, f32(a), f32(b), f32(out))
	default:
		kernels.GroupedConv2DBackwardKernel(op.p, g, f64(a), f64(b), f64(out))
	}
	return out, nil
}

func (op *groupedConvOp) DiffWRT(int) []bool { return []bool{true, true} }

func (op *groupedConvOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if op.part != 0 {
		return nil, errors.Errorf("graph: %v: no second derivative", op)
	}
	dx, err := apply(&groupedConvOp{p: op.p, groups: op.groups, part: 1}, in[1], grad)
	if err != nil {
		return nil, err
	}
	dw, err := apply(&groupedConvOp{p: op.p, groups: op.groups, part: 2}, in[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw}, nil
}
