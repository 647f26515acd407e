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

// PReLU is max(x, 0) + alpha*min(x, 0) with a learned slope (PyTorch's prelu, Keras's
// PReLU with shared_axes over height and width): x is [N,C,H,W] or [N,F], and alpha
// holds one slope per channel (or feature), [C], or one for all, [1].
func PReLU(x, alpha *G.Node) (*G.Node, error) {
	xs, as := x.Shape(), alpha.Shape()
	if xs.Dims() != 2 && xs.Dims() != 4 {
		return nil, errors.Errorf("graph: prelu: input has shape %v; want [N, C, H, W] or [N, F]", xs)
	}
	if as.Dims() != 1 || as[0] != xs[1] && as[0] != 1 {
		return nil, errors.Errorf("graph: prelu: alpha has shape %v; want [%d] (one per channel) or [1]", as, xs[1])
	}
	return apply(&preluOp{shape: xs.Clone(), alphas: as[0]}, x, alpha)
}

// preluOp is y = prelu(x, alpha); part selects its backward ops: 1 for dx from (x, alpha,
// dy), 2 for dalpha from (x, dy).
type preluOp struct {
	baseOp
	shape  tensor.Shape
	alphas int
	part   int
}

func (op *preluOp) Arity() int { return [...]int{2, 3, 2}[op.part] }
func (op *preluOp) Type() hm.Type {
	x, a := tensorT(op.shape.Dims()), tensorT(1)
	switch op.part {
	case 1:
		return fnT(x, a, x, x)
	case 2:
		return fnT(x, x, a)
	}
	return fnT(x, a, x)
}
func (op *preluOp) String() string {
	return fmt.Sprintf("%s{%v alpha:%d}", [...]string{"PReLU", "PReLUBackwardInput", "PReLUBackwardAlpha"}[op.part], op.shape, op.alphas)
}
func (op *preluOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *preluOp) Hashcode() uint32      { return opHash(op) }
func (op *preluOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if op.part == 2 {
		return tensor.Shape{op.alphas}, nil
	}
	return op.shape.Clone(), nil
}

// layout views the input as [n, c, inner].
func (op *preluOp) layout() (n, c, inner int) { return biasLayout(op.shape) }

func (op *preluOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	if len(vs) != op.Arity() {
		return nil, errors.Errorf("graph: %v: %d arguments, want %d", op, len(vs), op.Arity())
	}
	args := make([]*tensor.Dense, len(vs))
	for i := range vs {
		if args[i], err = denseArg(op, vs, i); err != nil {
			return nil, err
		}
	}
	checks := []error{sameDtype(op, args[0], args[1]), checkShape(op, "input", args[0], op.shape...)}
	switch op.part {
	case 0:
		checks = append(checks, checkShape(op, "alpha", args[1], op.alphas))
	case 1:
		checks = append(checks, checkShape(op, "alpha", args[1], op.alphas), sameDtype(op, args[0], args[2]),
			checkShape(op, "output gradient", args[2], op.shape...))
	case 2:
		checks = append(checks, checkShape(op, "output gradient", args[1], op.shape...))
	}
	if err := firstErr(checks...); err != nil {
		return nil, err
	}
	n, c, inner := op.layout()
	f32s := args[0].Dtype() == tensor.Float32
	if op.part == 2 {
		out := op.output(args[0].Dtype(), op.alphas)
		if f32s {
			kernels.PReLUBackwardAlpha(n, c, inner, f32(args[0]), f32(args[1]), f32(out))
		} else {
			kernels.PReLUBackwardAlpha(n, c, inner, f64(args[0]), f64(args[1]), f64(out))
		}
		return out, nil
	}
	out := op.output(args[0].Dtype(), op.shape...)
	switch {
	case op.part == 0 && f32s:
		kernels.PReLU(n, c, inner, f32(args[0]), f32(args[1]), f32(out))
	case op.part == 0:
		kernels.PReLU(n, c, inner, f64(args[0]), f64(args[1]), f64(out))
	case f32s:
		kernels.PReLUBackwardInput(n, c, inner, f32(args[0]), f32(args[1]), f32(args[2]), f32(out))
	default:
		kernels.PReLUBackwardInput(n, c, inner, f64(args[0]), f64(args[1]), f64(args[2]), f64(out))
	}
	return out, nil
}

func (op *preluOp) DiffWRT(int) []bool { return []bool{true, true} }

func (op *preluOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if op.part != 0 {
		return nil, errors.Errorf("graph: %v: no second derivative", op)
	}
	dx, err := apply(&preluOp{shape: op.shape, alphas: op.alphas, part: 1}, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	da, err := apply(&preluOp{shape: op.shape, alphas: op.alphas, part: 2}, in[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, da}, nil
}
