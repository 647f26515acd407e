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

// MatMul returns a [M,K] x b [K,N] = [M,N]. Its gradients are MatMuls with transposed
// operands, computed by the same GEMM without materialising a transpose.
func MatMul(a, b *G.Node) (*G.Node, error) {
	as, bs := a.Shape(), b.Shape()
	if as.Dims() != 2 || bs.Dims() != 2 {
		return nil, errors.Errorf("graph: matmul: operands have shapes %v and %v; want two matrices", as, bs)
	}
	if as[1] != bs[0] {
		return nil, errors.Errorf("graph: matmul: inner dimensions differ: %v x %v", as, bs)
	}
	return apply(&matMulOp{}, a, b)
}

// matMulOp is op(a) x op(b), op transposing when the flag is set.
type matMulOp struct {
	baseOp
	transA, transB bool
}

func (op *matMulOp) Arity() int            { return 2 }
func (op *matMulOp) Type() hm.Type         { return fnT(tensorT(2), tensorT(2), tensorT(2)) }
func (op *matMulOp) String() string        { return fmt.Sprintf("MatMul{tA:%v tB:%v}", op.transA, op.transB) }
func (op *matMulOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *matMulOp) Hashcode() uint32      { return opHash(op) }

// dims returns m, k, n of op(a) [m,k] x op(b) [k,n].
func (op *matMulOp) dims(as, bs tensor.Shape) (m, k, n int, err error) {
	m, k = as[0], as[1]
	if op.transA {
		m, k = k, m
	}
	kb, n := bs[0], bs[1]
	if op.transB {
		kb, n = n, kb
	}
	if k != kb {
		return 0, 0, 0, errors.Errorf("graph: %v: inner dimensions differ: %v and %v", op, as, bs)
	}
	return m, k, n, nil
}

func (op *matMulOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapesOf(op, 2, ds)
	if err != nil {
		return nil, err
	}
	m, _, n, err := op.dims(ss[0], ss[1])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{m, n}, nil
}

func (op *matMulOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	a, b, err := denseArgs2(op, vs)
	if err != nil {
		return nil, err
	}
	if err := sameDtype(op, a, b); err != nil {
		return nil, err
	}
	m, k, n, err := op.dims(a.Shape(), b.Shape())
	if err != nil {
		return nil, err
	}
	c := op.output(a.Dtype(), m, n)
	lda, ldb := a.Shape()[1], b.Shape()[1]
	if a.Dtype() == tensor.Float32 {
		kernels.Gemm(op.transA, op.transB, m, n, k, 1, f32(a), lda, f32(b), ldb, 0, f32(c), n)
	} else {
		kernels.Gemm(op.transA, op.transB, m, n, k, 1, f64(a), lda, f64(b), ldb, 0, f64(c), n)
	}
	return c, nil
}

func (op *matMulOp) DiffWRT(int) []bool { return []bool{true, true} }

// SymDiff covers the plain product only, which is all MatMul builds: for C = A B,
// dA = dC B^T and dB = A^T dC.
func (op *matMulOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if op.transA || op.transB {
		return nil, errors.Errorf("graph: %v: no gradient for transposed operands", op)
	}
	da, err := apply(&matMulOp{transB: true}, grad, in[1])
	if err != nil {
		return nil, err
	}
	db, err := apply(&matMulOp{transA: true}, in[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{da, db}, nil
}

// BiasAdd adds b [C] along axis 1 of x: to every channel of an [N,C,H,W] image batch or to
// every column of an [N,C] matrix.
func BiasAdd(x, b *G.Node) (*G.Node, error) {
	xs, bs := x.Shape(), b.Shape()
	if xs.Dims() < 2 || bs.Dims() != 1 || bs[0] != xs[1] {
		return nil, errors.Errorf("graph: bias_add: bias of shape %v does not fit input %v (want [%d])", bs, xs, axis1(xs))
	}
	return apply(&biasOp{shape: xs.Clone()}, x, b)
}

func axis1(s tensor.Shape) int {
	if s.Dims() < 2 {
		return 0
	}
	return s[1]
}

// biasLayout views shape as [n, c, inner].
func biasLayout(s tensor.Shape) (n, c, inner int) {
	inner = 1
	for _, d := range s[2:] {
		inner *= d
	}
	return s[0], s[1], inner
}

// biasOp is y = x + b along axis 1, or with grad set, db = sum of dy over all other axes.
type biasOp struct {
	baseOp
	shape tensor.Shape
	grad  bool
}

func (op *biasOp) Arity() int {
	if op.grad {
		return 1
	}
	return 2
}

func (op *biasOp) Type() hm.Type {
	d := op.shape.Dims()
	if op.grad {
		return fnT(tensorT(d), tensorT(1))
	}
	return fnT(tensorT(d), tensorT(1), tensorT(d))
}

func (op *biasOp) String() string {
	if op.grad {
		return fmt.Sprintf("BiasGrad{%v}", op.shape)
	}
	return fmt.Sprintf("BiasAdd{%v}", op.shape)
}
func (op *biasOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *biasOp) Hashcode() uint32      { return opHash(op) }
func (op *biasOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if op.grad {
		return tensor.Shape{op.shape[1]}, nil
	}
	return op.shape.Clone(), nil
}

func (op *biasOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	x, err := denseArg(op, vs, 0)
	if err != nil {
		return nil, err
	}
	if err := checkShape(op, "input", x, op.shape...); err != nil {
		return nil, err
	}
	n, c, inner := biasLayout(op.shape)
	if op.grad {
		db := op.output(x.Dtype(), c)
		if x.Dtype() == tensor.Float32 {
			kernels.BiasGrad(n, c, inner, f32(x), f32(db))
		} else {
			kernels.BiasGrad(n, c, inner, f64(x), f64(db))
		}
		return db, nil
	}
	b, err := denseArg(op, vs, 1)
	if err != nil {
		return nil, err
	}
	if err := firstErr(sameDtype(op, x, b), checkShape(op, "bias", b, c)); err != nil {
		return nil, err
	}
	y := op.output(x.Dtype(), op.shape...)
	if x.Dtype() == tensor.Float32 {
		biasAdd(n, c, inner, f32(x), f32(b), f32(y))
	} else {
		biasAdd(n, c, inner, f64(x), f64(b), f64(y))
	}
	return y, nil
}

func (op *biasOp) DiffWRT(int) []bool { return []bool{true, true} }

func (op *biasOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	db, err := apply(&biasOp{shape: op.shape, grad: true}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{grad, db}, nil
}

// biasAdd runs kernels.BiasAdd over the batch on every core.
func biasAdd[T kernels.Float](n, c, inner int, x, b, y []T) {
	ci := c * inner
	kernels.Split(n, ci, func(lo, hi int) { kernels.BiasAdd(hi-lo, c, inner, x[lo*ci:hi*ci], b, y[lo*ci:hi*ci]) })
}
