package graph

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/internal/kernels"
)

// LossConfig holds the settings a loss may take beyond its two inputs. The zero value is
// the plain mean loss.
type LossConfig struct {
	// Weights, if set, is a [N] vector of per-example weights (Keras's sample_weight):
	// the loss is Σ_n w_n·loss_n / N, as Keras reduces it (a sum over the batch size, not
	// over the weights). It gets no gradient.
	Weights *G.Node
	// LabelSmoothing, in [0, 1), mixes the cross-entropies' targets with the uniform
	// distribution: t becomes (1-s)·t + s/K (K classes; 2 for the binary one).
	LabelSmoothing float64
	// Delta is the Huber loss's threshold, where it turns from squared to linear (0 means
	// Keras's default, 1).
	Delta float64
}

func (c LossConfig) check(what string, rows int) error {
	if !(c.LabelSmoothing >= 0 && c.LabelSmoothing < 1) {
		return errors.Errorf("label smoothing %v must be in [0, 1)", c.LabelSmoothing)
	}
	if !(c.Delta >= 0) || math.IsInf(c.Delta, 0) {
		return errors.Errorf("Huber delta %v must be positive", c.Delta)
	}
	if c.Weights != nil {
		if s := c.Weights.Shape(); s.Dims() != 1 || s[0] != rows {
			return errors.Errorf("weights have shape %v; want [%d]", s, rows)
		}
	}
	return nil
}

// The elementwise losses.
const (
	lossMSE        = "MeanSquaredError"
	lossMAE        = "MeanAbsoluteError"
	lossHuber      = "Huber"
	lossBCE        = "BinaryCrossEntropy"
	lossBCELogits  = "BinaryCrossEntropyFromLogits"
	bceEpsilon     = 1e-7 // Keras's clip of probabilities, so log stays finite
	defaultHuberDt = 1.0
)

// MeanSquaredErrorWith is [MeanSquaredError] with per-example weights (cfg.Weights).
func MeanSquaredErrorWith(pred, target *G.Node, cfg LossConfig) (*G.Node, error) {
	return pointwise(lossMSE, pred, target, cfg)
}

// MeanAbsoluteError returns mean(|pred - target|) over all elements (Keras's
// mean_absolute_error, PyTorch's l1_loss); pred and target have the same shape [N, ...].
// Its gradient at pred = target is 0, as PyTorch's is.
func MeanAbsoluteError(pred, target *G.Node, cfg LossConfig) (*G.Node, error) {
	return pointwise(lossMAE, pred, target, cfg)
}

// Huber returns the mean over all elements of ½d² where |d| ≤ δ and δ(|d| - ½δ)
// elsewhere, d = pred - target, δ = cfg.Delta (default 1): Keras's Huber and PyTorch's
// huber_loss.
func Huber(pred, target *G.Node, cfg LossConfig) (*G.Node, error) {
	return pointwise(lossHuber, pred, target, cfg)
}

// BinaryCrossEntropy returns the mean over all elements of -(t log p + (1-t) log(1-p))
// for probabilities p (a sigmoid's output) and targets t in [0, 1], p clipped to [1e-7,
// 1 - 1e-7] as Keras does (the gradient is 0 where the clip binds). Prefer
// [BinaryCrossEntropyFromLogits] where the logits are at hand: it stays exact for
// confident predictions.
func BinaryCrossEntropy(probs, target *G.Node, cfg LossConfig) (*G.Node, error) {
	return pointwise(lossBCE, probs, target, cfg)
}

// BinaryCrossEntropyFromLogits is [BinaryCrossEntropy] of sigmoid(logits), computed as
// max(x, 0) - x·t + log(1 + exp(-|x|)), finite for any logit; its gradient is
// (sigmoid(x) - t)/n.
func BinaryCrossEntropyFromLogits(logits, target *G.Node, cfg LossConfig) (*G.Node, error) {
	return pointwise(lossBCELogits, logits, target, cfg)
}

func pointwise(kind string, pred, target *G.Node, cfg LossConfig) (*G.Node, error) {
	ps, ts := pred.Shape(), target.Shape()
	if !ps.Eq(ts) || ps.Dims() == 0 {
		return nil, errors.Errorf("graph: %s: prediction %v and target %v must have the same non-scalar shape", kind, ps, ts)
	}
	if err := cfg.check(kind, ps[0]); err != nil {
		return nil, errors.Wrapf(err, "graph: %s", kind)
	}
	op := &pointLossOp{kind: kind, shape: ps.Clone(), delta: cfg.Delta}
	if kind == lossHuber && op.delta == 0 {
		op.delta = defaultHuberDt
	}
	if kind == lossBCE || kind == lossBCELogits {
		op.smoothing = cfg.LabelSmoothing
	} else if cfg.LabelSmoothing != 0 {
		return nil, errors.Errorf("graph: %s takes no label smoothing", kind)
	}
	if cfg.Weights == nil {
		return apply(op, pred, target)
	}
	op.weighted = true
	return apply(op, pred, target, cfg.Weights)
}

// pointLossOp is an elementwise loss averaged over every element, each example's
// elements weighted by its weight; with back set, its gradient from (pred, target[,
// weights], dloss).
type pointLossOp struct {
	baseOp
	kind             string
	shape            tensor.Shape
	delta, smoothing float64
	weighted, back   bool
}

func (op *pointLossOp) Arity() int {
	n := 2
	if op.weighted {
		n++
	}
	if op.back {
		n++
	}
	return n
}

func (op *pointLossOp) Type() hm.Type {
	t := tensorT(op.shape.Dims())
	ts := []hm.Type{t, t}
	if op.weighted {
		ts = append(ts, tensorT(1))
	}
	if op.back {
		return fnT(append(ts, scalarT, t)...)
	}
	return fnT(append(ts, scalarT)...)
}

func (op *pointLossOp) String() string {
	name := op.kind
	if op.back {
		name += "Backward"
	}
	extra := ""
	if op.kind == lossHuber {
		extra += fmt.Sprintf(", delta %g", op.delta)
	}
	if op.smoothing != 0 {
		extra += fmt.Sprintf(", smoothing %g", op.smoothing)
	}
	if op.weighted {
		extra += ", weighted"
	}
	return fmt.Sprintf("%s{%v%s}", name, op.shape, extra)
}
func (op *pointLossOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *pointLossOp) Hashcode() uint32      { return opHash(op) }
func (op *pointLossOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if op.back {
		return op.shape.Clone(), nil
	}
	return tensor.ScalarShape(), nil
}

func (op *pointLossOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	p, t, err := denseArgs2(op, vs)
	if err != nil {
		return nil, err
	}
	if err := firstErr(sameDtype(op, p, t), checkShape(op, "prediction", p, op.shape...),
		checkShape(op, "target", t, op.shape...)); err != nil {
		return nil, err
	}
	next := 2
	var w []float64
	if op.weighted {
		wd, err := denseArg(op, vs, next)
		if err != nil {
			return nil, err
		}
		if err := checkShape(op, "weights", wd, op.shape[0]); err != nil {
			return nil, err
		}
		w = float64s(wd)
		next++
	}
	if op.back {
		scale, err := scalarArg(op, vs, next)
		if err != nil {
			return nil, err
		}
		dx := op.output(p.Dtype(), op.shape...)
		if p.Dtype() == tensor.Float32 {
			pointLoss(op, f32(p), f32(t), w, scale, f32(dx))
		} else {
			pointLoss(op, f64(p), f64(t), w, scale, f64(dx))
		}
		return dx, nil
	}
	var loss float64
	if p.Dtype() == tensor.Float32 {
		loss = pointLoss(op, f32(p), f32(t), w, 0, nil)
	} else {
		loss = pointLoss(op, f64(p), f64(t), w, 0, nil)
	}
	return scalarValue(p.Dtype(), loss), nil
}

// pointLoss returns the mean loss or, with dx set, writes its gradient times scale.
func pointLoss[T kernels.Float](op *pointLossOp, p, t []T, w []float64, scale float64, dx []T) float64 {
	n := len(p)
	per := n / op.shape[0]
	var total float64
	for r := 0; r < op.shape[0]; r++ {
		wr := 1.0
		if w != nil {
			wr = w[r]
		}
		var sum float64
		g := scale * wr / float64(n)
		for i := r * per; i < (r+1)*per; i++ {
			x, y := float64(p[i]), float64(t[i])
			l, d := pointFn(op, x, y)
			if dx != nil {
				dx[i] = T(g * d)
			} else {
				sum += l
			}
		}
		total += wr * sum
	}
	return total / float64(n)
}

// pointFn returns one element's loss and its derivative in the prediction.
func pointFn(op *pointLossOp, x, y float64) (loss, grad float64) {
	switch op.kind {
	case lossMSE:
		d := x - y
		return d * d, 2 * d
	case lossMAE:
		d := x - y
		return math.Abs(d), sign(d)
	case lossHuber:
		d := x - y
		if a := math.Abs(d); a > op.delta {
			return op.delta * (a - op.delta/2), op.delta * sign(d)
		}
		return d * d / 2, d
	case lossBCELogits:
		y = y*(1-op.smoothing) + op.smoothing/2
		l := math.Max(x, 0) - x*y + math.Log1p(math.Exp(-math.Abs(x)))
		var s float64
		if x >= 0 {
			s = 1 / (1 + math.Exp(-x))
		} else {
			e := math.Exp(x)
			s = e / (1 + e)
		}
		return l, s - y
	case lossBCE:
		y = y*(1-op.smoothing) + op.smoothing/2
		c := math.Min(math.Max(x, bceEpsilon), 1-bceEpsilon)
		l := -(y*math.Log(c) + (1-y)*math.Log(1-c))
		if x < bceEpsilon || x > 1-bceEpsilon {
			return l, 0
		}
		return l, (c - y) / (c * (1 - c))
	}
	panic("graph: unknown loss " + op.kind)
}

func sign(d float64) float64 {
	switch {
	case d > 0:
		return 1
	case d < 0:
		return -1
	}
	return 0
}

func (op *pointLossOp) DiffWRT(int) []bool {
	if op.weighted {
		return []bool{true, false, false}
	}
	return []bool{true, false}
}

func (op *pointLossOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	back := *op
	back.baseOp, back.back = baseOp{}, true
	dx, err := apply(&back, append(append(G.Nodes{}, in...), grad)...)
	if err != nil {
		return nil, err
	}
	if op.weighted {
		return G.Nodes{dx, nil, nil}, nil
	}
	return G.Nodes{dx, nil}, nil
}

// float64s reads a float32 or float64 tensor's values as float64.
func float64s(d *tensor.Dense) []float64 {
	if d.Dtype() == tensor.Float64 {
		return f64(d)
	}
	src := f32(d)
	out := make([]float64, len(src))
	for i, v := range src {
		out[i] = float64(v)
	}
	return out
}

// allOnes reports whether every weight is 1 (true for no weights).
func allOnes(w []float64) bool {
	for _, v := range w {
		if v != 1 {
			return false
		}
	}
	return true
}
