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
	batch := &bnBatch{mean: make([]float64, c), variance: make([]float64, c),
		sdy: make([]float64, c), sdyx: make([]float64, c)}
	return apply(&bnOp{shape: x.Shape().Clone(), eps: st.Epsilon, st: st, batch: batch, id: newID()}, x, gamma, beta)
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
	batch *bnBatch // training form only
	id    uint64
}

// bnBatch is what a training-form bnOp's run leaves for its gradient ops, so that a step
// computes the batch moments once and the per-channel gradient sums once, instead of
// once per op (the moments were computed three times a step, the sums twice).
//
// The gradient ops take the forward op's output as an input they do not read: that edge
// makes every program that runs a gradient op run the forward op before it, in the same
// run, so mean and variance are always the moments of the x the gradient op sees. The
// sums are tagged with the run they belong to, so the first gradient op of a run
// computes them and the others reuse them.
type bnBatch struct {
	mean, variance []float64 // the last run's batch moments
	run            uint64    // counts the forward op's runs; 0 before the first
	sdy, sdyx      []float64 // sum(dy) and sum(dy*xhat) per channel
	sumsRun        uint64    // the run sdy and sdyx belong to; 0 for none
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

// moments returns the statistics to normalise with: the batch's, computed into
// op.batch (training), or the inputs' (inference, vs[meanAt] and vs[meanAt+1]).
func (op *bnOp) moments(x *tensor.Dense, vs []G.Value, meanAt int) (mean, variance []float64, err error) {
	n, c, inner := biasLayout(op.shape)
	if op.train() {
		mean, variance = op.batch.mean, op.batch.variance
		if x.Dtype() == tensor.Float32 {
			kernels.Moments(n, c, inner, f32(x), mean, variance)
		} else {
			kernels.Moments(n, c, inner, f64(x), mean, variance)
		}
		return mean, variance, nil
	}
	mean, variance = make([]float64, c), make([]float64, c)
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
		op.batch.run++
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
	if op.train() {
		// out is an input the gradient ops do not read: see bnBatch.
		args := G.Nodes{in[0], in[1], grad, out}
		var grads G.Nodes
		for _, wrt := range []bnWRT{bnX, bnGamma, bnBeta} {
			d, err := apply(&bnBackOp{fwd: op, wrt: wrt}, args...)
			if err != nil {
				return nil, err
			}
			grads = append(grads, d)
		}
		return grads, nil
	}
	args := G.Nodes{in[0], in[1], grad, in[3], in[4]}
	dx, err := apply(&bnBackOp{fwd: op, wrt: bnX}, args...)
	if err != nil {
		return nil, err
	}
	dgamma, err := apply(&bnBackOp{fwd: op, wrt: bnGamma}, args...)
	if err != nil {
		return nil, err
	}
	dbeta, err := apply(&biasOp{shape: op.shape, grad: true}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dgamma, dbeta, nil, nil}, nil
}

// bnWRT names the input a bnBackOp differentiates with respect to.
type bnWRT int

const (
	bnX bnWRT = iota
	bnGamma
	bnBeta // training form only; the inference form's dbeta is a biasOp gradient
)

func (w bnWRT) String() string { return [...]string{"x", "gamma", "beta"}[w] }

// bnBackOp is the gradient of a bnOp for x, gamma or beta, from inputs x, gamma, dy and,
// in training form, the forward output y (not read; see bnBatch), in inference form mean
// and variance.
type bnBackOp struct {
	baseOp
	fwd *bnOp
	wrt bnWRT
}

func (op *bnBackOp) Arity() int {
	if op.fwd.train() {
		return 4
	}
	return 5
}

func (op *bnBackOp) Type() hm.Type {
	t := tensorT(op.fwd.shape.Dims())
	out := t
	if op.wrt != bnX {
		out = tensorT(1)
	}
	if op.fwd.train() {
		return fnT(t, tensorT(1), t, t, out)
	}
	return fnT(t, tensorT(1), t, tensorT(1), tensorT(1), out)
}

func (op *bnBackOp) String() string {
	return fmt.Sprintf("%sBackward{wrt:%v}", op.fwd, op.wrt)
}
func (op *bnBackOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *bnBackOp) Hashcode() uint32      { return opHash(op) }
func (op *bnBackOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if op.wrt != bnX {
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
	if op.fwd.train() {
		return op.doTrain(x, gamma, dy)
	}
	mean, variance, err := op.fwd.moments(x, vs, 3)
	if err != nil {
		return nil, err
	}
	eps := op.fwd.eps
	if op.wrt == bnGamma {
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
		kernels.NormalizeBackward(n, c, inner, f32(x), mean, variance, eps, f32(gamma), f32(dy), f32(dx), false)
	} else {
		kernels.NormalizeBackward(n, c, inner, f64(x), mean, variance, eps, f64(gamma), f64(dy), f64(dx), false)
	}
	return dx, nil
}

// doTrain is the training form's gradient, from the batch moments and gradient sums in
// op.fwd.batch.
func (op *bnBackOp) doTrain(x, gamma, dy *tensor.Dense) (*tensor.Dense, error) {
	b, shape, eps := op.fwd.batch, op.fwd.shape, op.fwd.eps
	n, c, inner := biasLayout(shape)
	if b.run == 0 {
		return nil, errors.Errorf("graph: %v: the forward op has not run", op)
	}
	f32s := x.Dtype() == tensor.Float32
	if b.sumsRun != b.run {
		if f32s {
			kernels.NormalizeSums(n, c, inner, f32(x), b.mean, b.variance, eps, f32(dy), b.sdy, b.sdyx)
		} else {
			kernels.NormalizeSums(n, c, inner, f64(x), b.mean, b.variance, eps, f64(dy), b.sdy, b.sdyx)
		}
		b.sumsRun = b.run
	}
	switch op.wrt {
	case bnGamma, bnBeta:
		sums := b.sdyx
		if op.wrt == bnBeta {
			sums = b.sdy
		}
		d := op.output(x.Dtype(), c)
		if f32s {
			for ch, s := range sums {
				f32(d)[ch] = float32(s)
			}
		} else {
			copy(f64(d), sums)
		}
		return d, nil
	}
	dx := op.output(x.Dtype(), shape...)
	if f32s {
		kernels.NormalizeInputGrad(n, c, inner, f32(x), b.mean, b.variance, eps, f32(gamma), f32(dy), b.sdy, b.sdyx, f32(dx))
	} else {
		kernels.NormalizeInputGrad(n, c, inner, f64(x), b.mean, b.variance, eps, f64(gamma), f64(dy), b.sdy, b.sdyx, f64(dx))
	}
	return dx, nil
}
