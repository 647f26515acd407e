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

// BatchNormStats are the running statistics a training-mode batch normalisation updates:
// one mean and one variance per channel, in tensors the caller owns (a model's parameter
// store), so that an inference graph bound to the same tensors sees every update.
type BatchNormStats struct {
	Mean, Variance *tensor.Dense
	// Momentum weighs the old statistics in each update (Keras's convention, default
	// 0.99): running = Momentum*running + (1-Momentum)*batch. The running variance is
	// updated with the unbiased batch variance, as PyTorch and TensorFlow's fused kernel do.
	Momentum float64
	// Epsilon is added to the variance before the square root (Keras's default 1e-3).
	Epsilon float64
}

// BatchNormTrain normalises x ([N,C,H,W] per channel, or [N,C] per feature) with the
// batch's own mean and biased variance, scales by gamma [C] and shifts by beta [C], and
// updates st's running statistics each time the graph runs. Gradients flow to x through
// the batch statistics, and to gamma and beta. Gorgonia 0.9.18's BatchNorm resets its
// statistics with every new machine and mis-shapes scale and bias.
func BatchNormTrain(x, gamma, beta *G.Node, st *BatchNormStats) (*G.Node, error) {
	c, err := bnCheck(x, gamma, beta)
	if err != nil {
		return nil, err
	}
	if st == nil || st.Mean == nil || st.Variance == nil || st.Mean.Size() != c || st.Variance.Size() != c {
		return nil, errors.Errorf("graph: batch_normalization: running statistics must hold %d channels", c)
	}
	if st.Momentum < 0 || st.Momentum >= 1 || st.Epsilon <= 0 {
		return nil, errors.Errorf("graph: batch_normalization: momentum %v must be in [0,1) and epsilon %v positive", st.Momentum, st.Epsilon)
	}
	return apply(&bnOp{shape: x.Shape().Clone(), eps: st.Epsilon, st: st, id: newID()}, x, gamma, beta)
}

// BatchNormInfer normalises x with fixed statistics mean [C] and variance [C] (inference,
// or a frozen layer): y = (x-mean)/sqrt(variance+eps)*gamma + beta. Gradients flow to x,
// gamma and beta; mean and variance are constants.
func BatchNormInfer(x, gamma, beta, mean, variance *G.Node, eps float64) (*G.Node, error) {
	c, err := bnCheck(x, gamma, beta)
	if err != nil {
		return nil, err
	}
	if !mean.Shape().Eq(tensor.Shape{c}) || !variance.Shape().Eq(tensor.Shape{c}) {
		return nil, errors.Errorf("graph: batch_normalization: mean %v and variance %v must have shape [%d]", mean.Shape(), variance.Shape(), c)
	}
	if eps <= 0 {
		return nil, errors.Errorf("graph: batch_normalization: epsilon %v must be positive", eps)
	}
	return apply(&bnOp{shape: x.Shape().Clone(), eps: eps}, x, gamma, beta, mean, variance)
}

func bnCheck(x, gamma, beta *G.Node) (int, error) {
	xs := x.Shape()
	if xs.Dims() != 2 && xs.Dims() != 4 {
		return 0, errors.Errorf("graph: batch_normalization: input has shape %v; want [N,C] or [N,C,H,W]", xs)
	}
	c := xs[1]
	if !gamma.Shape().Eq(tensor.Shape{c}) || !beta.Shape().Eq(tensor.Shape{c}) {
		return 0, errors.Errorf("graph: batch_normalization: gamma %v and beta %v must have shape [%d]", gamma.Shape(), beta.Shape(), c)
	}
	return c, nil
}

// bnOp is batch normalisation. With st set it is the training form (inputs x, gamma,
// beta; batch statistics; updates st), otherwise the inference form (inputs x, gamma,
// beta, mean, variance).
type bnOp struct {
	baseOp
	shape tensor.Shape
	eps   float64
	st    *BatchNormStats
	id    uint64
}

func (op *bnOp) train() bool { return op.st != nil }

func (op *bnOp) Arity() int {
	if op.train() {
		return 3
	}
	return 5
}

func (op *bnOp) Type() hm.Type {
	t := tensorT(op.shape.Dims())
	if op.train() {
		return fnT(t, tensorT(1), tensorT(1), t)
	}
	return fnT(t, tensorT(1), tensorT(1), tensorT(1), tensorT(1), t)
}

func (op *bnOp) String() string {
	if op.train() {
		return fmt.Sprintf("BatchNormTrain{%v eps:%g momentum:%g id:%d}", op.shape, op.eps, op.st.Momentum, op.id)
	}
	return fmt.Sprintf("BatchNormInfer{%v eps:%g}", op.shape, op.eps)
}
func (op *bnOp) WriteHash(h hash.Hash)                          { writeHash(h, op) }
func (op *bnOp) Hashcode() uint32                               { return opHash(op) }
func (op *bnOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }

// moments returns the statistics to normalise with: the batch's (training) or the inputs'
// (inference, vs[3] and vs[4]).
func (op *bnOp) moments(x *tensor.Dense, vs []G.Value, meanAt int) (mean, variance []float64, err error) {
	n, c, inner := biasLayout(op.shape)
	mean, variance = make([]float64, c), make([]float64, c)
	if op.train() {
		if x.Dtype() == tensor.Float32 {
			kernels.Moments(n, c, inner, f32(x), mean, variance)
		} else {
			kernels.Moments(n, c, inner, f64(x), mean, variance)
		}
		return mean, variance, nil
	}
	for i, dst := range [][]float64{mean, variance} {
		d, err := denseArg(op, vs, meanAt+i)
		if err != nil {
			return nil, nil, err
		}
		if err := checkShape(op, "statistics", d, c); err != nil {
			return nil, nil, err
		}
		for j := range dst {
			if d.Dtype() == tensor.Float32 {
				dst[j] = float64(f32(d)[j])
			} else {
				dst[j] = f64(d)[j]
			}
		}
	}
	return mean, variance, nil
}

func (op *bnOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	var ts [3]*tensor.Dense
	for i := range ts {
		var err error
		if ts[i], err = denseArg(op, vs, i); err != nil {
			return nil, err
		}
	}
	x, gamma, beta := ts[0], ts[1], ts[2]
	n, c, inner := biasLayout(op.shape)
	if err := firstErr(sameDtype(op, x, gamma, beta), checkShape(op, "input", x, op.shape...),
		checkShape(op, "gamma", gamma, c), checkShape(op, "beta", beta, c)); err != nil {
		return nil, err
	}
	mean, variance, err := op.moments(x, vs, 3)
	if err != nil {
		return nil, err
	}
	y := op.output(x.Dtype(), op.shape...)
	if x.Dtype() == tensor.Float32 {
		kernels.Normalize(n, c, inner, f32(x), mean, variance, op.eps, f32(gamma), f32(beta), f32(y))
	} else {
		kernels.Normalize(n, c, inner, f64(x), mean, variance, op.eps, f64(gamma), f64(beta), f64(y))
	}
	if op.train() {
		op.update(mean, variance, n*inner)
	}
	return y, nil
}

// update folds one batch's statistics into the running ones.
func (op *bnOp) update(mean, variance []float64, m int) {
	mom := op.st.Momentum
	bessel := 1.0
	if m > 1 {
		bessel = float64(m) / float64(m-1)
	}
	for ch := range mean {
		set := func(d *tensor.Dense, v float64) {
			if d.Dtype() == tensor.Float32 {
				s := f32(d)
				s[ch] = float32(mom*float64(s[ch]) + (1-mom)*v)
			} else {
				s := f64(d)
				s[ch] = mom*s[ch] + (1-mom)*v
			}
		}
		set(op.st.Mean, mean[ch])
		set(op.st.Variance, variance[ch]*bessel)
	}
}

func (op *bnOp) DiffWRT(n int) []bool {
	if op.train() {
		return []bool{true, true, true}
	}
	return []bool{true, true, true, false, false}
}

func (op *bnOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	args := G.Nodes{in[0], in[1], grad}
	if !op.train() {
		args = append(args, in[3], in[4])
	}
	dx, err := apply(&bnBackOp{fwd: op}, args...)
	if err != nil {
		return nil, err
	}
	dgamma, err := apply(&bnBackOp{fwd: op, gamma: true}, args...)
	if err != nil {
		return nil, err
	}
	dbeta, err := apply(&biasOp{shape: op.shape, grad: true}, grad)
	if err != nil {
		return nil, err
	}
	grads := G.Nodes{dx, dgamma, dbeta}
	if !op.train() {
		grads = append(grads, nil, nil)
	}
	return grads, nil
}

// bnBackOp is the gradient of a bnOp for x (or, with gamma set, for gamma), from inputs
// x, gamma, dy and, in inference form, mean and variance.
type bnBackOp struct {
	baseOp
	fwd   *bnOp
	gamma bool
}

func (op *bnBackOp) Arity() int { return op.fwd.Arity() }

func (op *bnBackOp) Type() hm.Type {
	t := tensorT(op.fwd.shape.Dims())
	out := t
	if op.gamma {
		out = tensorT(1)
	}
	if op.fwd.train() {
		return fnT(t, tensorT(1), t, out)
	}
	return fnT(t, tensorT(1), t, tensorT(1), tensorT(1), out)
}

func (op *bnBackOp) String() string {
	wrt := "x"
	if op.gamma {
		wrt = "gamma"
	}
	return fmt.Sprintf("%sBackward{wrt:%s}", op.fwd, wrt)
}
func (op *bnBackOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *bnBackOp) Hashcode() uint32      { return opHash(op) }
func (op *bnBackOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if op.gamma {
		return tensor.Shape{op.fwd.shape[1]}, nil
	}
	return op.fwd.shape.Clone(), nil
}

func (op *bnBackOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	var ts [3]*tensor.Dense
	for i := range ts {
		var err error
		if ts[i], err = denseArg(op, vs, i); err != nil {
			return nil, err
		}
	}
	x, gamma, dy := ts[0], ts[1], ts[2]
	shape := op.fwd.shape
	n, c, inner := biasLayout(shape)
	if err := firstErr(sameDtype(op, x, gamma, dy), checkShape(op, "input", x, shape...),
		checkShape(op, "gamma", gamma, c), checkShape(op, "output gradient", dy, shape...)); err != nil {
		return nil, err
	}
	mean, variance, err := op.fwd.moments(x, vs, 3)
	if err != nil {
		return nil, err
	}
	eps := op.fwd.eps
	if op.gamma {
		dg := op.output(x.Dtype(), c)
		if x.Dtype() == tensor.Float32 {
			kernels.NormalizeGradParams(n, c, inner, f32(x), mean, variance, eps, f32(dy), f32(dg), nil)
		} else {
			kernels.NormalizeGradParams(n, c, inner, f64(x), mean, variance, eps, f64(dy), f64(dg), nil)
		}
		return dg, nil
	}
	dx := op.output(x.Dtype(), shape...)
	if x.Dtype() == tensor.Float32 {
		kernels.NormalizeBackward(n, c, inner, f32(x), mean, variance, eps, f32(gamma), f32(dy), f32(dx), op.fwd.train())
	} else {
		kernels.NormalizeBackward(n, c, inner, f64(x), mean, variance, eps, f64(gamma), f64(dy), f64(dx), op.fwd.train())
	}
	return dx, nil
}
