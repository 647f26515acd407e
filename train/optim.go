package train

import (
	"math"
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/internal/kernels"
	"github.com/convgraph/convgraph/nn"
)

// Optimizer updates parameters from their gradients.
//
// An optimizer belongs to one training run: its state (momentum, Adam's moments and step
// counts) changes at every Step, so none of the optimizers here is safe for concurrent
// use, and a Step writes the parameters in place, which no other use of the model may
// overlap (see [nn.Model]).
type Optimizer interface {
	// Step applies one update with learning rate lr to each parameter, in place.
	Step(params []*nn.Param, grads []*tensor.Dense, lr float64) error
	// Name is the optimizer's name: "adam", "sgd", "rmsprop".
	Name() string
}

// Stateful is an Optimizer whose state can be saved and restored (for checkpoints and
// --resume). State returns named float64 slices; SetState replaces the state.
type Stateful interface {
	State() map[string][]float64
	SetState(map[string][]float64) error
}

// slots holds per-parameter state vectors by "param/slot" name.
type slots map[string][]float64

// get returns p's state vector for slot, zeroed if it is new or p changed size. key is
// scratch space for the "param/slot" name: a lookup by string(bytes) does not allocate,
// so a training loop's steady state does not build a string per parameter per step.
func (s slots) get(key *[]byte, p *nn.Param, slot string) []float64 {
	*key = append(append(append((*key)[:0], p.Name...), '/'), slot...)
	v, ok := s[string(*key)]
	if !ok || len(v) != p.Size() {
		v = make([]float64, p.Size())
		s[string(*key)] = v
	}
	return v
}

func (s slots) copyOut() map[string][]float64 {
	out := make(map[string][]float64, len(s))
	for k, v := range s {
		out[k] = append([]float64(nil), v...)
	}
	return out
}

func (s *slots) copyIn(st map[string][]float64) {
	*s = slots{}
	for k, v := range st {
		(*s)[k] = append([]float64(nil), v...)
	}
}

// checkGrads checks that every parameter has a float32 or float64 gradient of its own
// size and dtype, before any parameter is changed.
func checkGrads(params []*nn.Param, grads []*tensor.Dense) error {
	if len(params) != len(grads) {
		return errors.Errorf("train: %d parameters but %d gradients", len(params), len(grads))
	}
	for i, p := range params {
		g := grads[i]
		if g == nil || g.Size() != p.Size() || g.Dtype() != p.Value.Dtype() {
			return errors.Errorf("train: parameter %q: gradient does not match its shape %v", p.Name, p.Value.Shape())
		}
		if dt := p.Value.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
			return errors.Errorf("train: parameter %q: dtype %v", p.Name, dt)
		}
		if p.Value.IsScalar() {
			return errors.Errorf("train: parameter %q is a scalar; give it shape (1)", p.Name)
		}
	}
	return nil
}

// part is s[lo:hi], or nil for an optional state vector that is off (nil).
func part(s []float64, lo, hi int) []float64 {
	if s == nil {
		return nil
	}
	return s[lo:hi]
}

// The update loops below are the optimizers' per-element formulas, generic over the
// parameter's element type. Each element is widened to float64, updated in float64 with
// the same operations in the same order as always, and rounded back once, so a float32
// model trains bit for bit as before; the state stays float64.

// SGD is stochastic gradient descent with optional momentum, Nesterov momentum and
// decoupled-from-nothing L2 weight decay (added to the gradient, as torch.optim.SGD does).
// It is not safe for concurrent use (see [Optimizer]).
type SGD struct {
	Momentum    float64
	Nesterov    bool
	WeightDecay float64
	state       slots
	key         []byte
}

// Name is "sgd".
func (o *SGD) Name() string { return "sgd" }

// Step applies v = momentum*v - lr*g; w += v (or the Nesterov form).
func (o *SGD) Step(params []*nn.Param, grads []*tensor.Dense, lr float64) error {
	if err := checkGrads(params, grads); err != nil {
		return err
	}
	if o.state == nil {
		o.state = slots{}
	}
	for i, p := range params {
		var v []float64
		if o.Momentum != 0 {
			v = o.state.get(&o.key, p, "velocity")
		}
		r := sgdRule{lr: lr, momentum: o.Momentum, decay: o.WeightDecay, nesterov: o.Nesterov}
		n := p.Size()
		if p.Value.Dtype() == tensor.Float32 {
			sgdSplit(r, p.Value.Float32s()[:n], grads[i].Float32s()[:n], v)
		} else {
			sgdSplit(r, p.Value.Float64s()[:n], grads[i].Float64s()[:n], v)
		}
	}
	return nil
}

// sgdRule holds SGD's settings for one step.
type sgdRule struct {
	lr, momentum, decay float64
	nesterov            bool
}

func sgdSplit[T float32 | float64](r sgdRule, w, g []T, v []float64) {
	if c := kernels.Chunks(len(w)); c > 1 {
		n := len(w)
		kernels.Parallel(c, func(lo, hi int) {
			lo, hi = lo*n/c, hi*n/c
			sgdUpdate(r, w[lo:hi], g[lo:hi], part(v, lo, hi))
		})
		return
	}
	sgdUpdate(r, w, g, v)
}

// sgdUpdate updates w in place; v is nil without momentum.
func sgdUpdate[T float32 | float64](r sgdRule, w, g []T, v []float64) {
	g = g[:len(w)]
	lr, mu, decay := r.lr, r.momentum, r.decay
	switch {
	case v == nil:
		for i := range w {
			wi := float64(w[i])
			gi := float64(g[i]) + decay*wi // added even at decay 0, where 0*Inf is NaN
			w[i] = T(wi - lr*gi)
		}
	case r.nesterov:
		v = v[:len(w)]
		for i := range w {
			wi := float64(w[i])
			gi := float64(g[i]) + decay*wi
			v[i] = mu*v[i] - lr*gi
			w[i] = T(wi + mu*v[i] - lr*gi)
		}
	default:
		v = v[:len(w)]
		for i := range w {
			wi := float64(w[i])
			gi := float64(g[i]) + decay*wi
			v[i] = mu*v[i] - lr*gi
			w[i] = T(wi + v[i])
		}
	}
}

// State returns the velocities.
func (o *SGD) State() map[string][]float64 { return o.state.copyOut() }

// SetState restores velocities saved by State.
func (o *SGD) SetState(s map[string][]float64) error { o.state.copyIn(s); return nil }

// Adam is Adam with Keras's defaults: Beta1 0.9, Beta2 0.999, Epsilon 1e-7 (zero fields
// take these). It is not safe for concurrent use (see [Optimizer]).
type Adam struct {
	Beta1, Beta2, Epsilon float64
	state                 slots
	steps                 map[string]int
	key                   []byte
}

// Name is "adam".
func (o *Adam) Name() string { return "adam" }

func (o *Adam) defaults() (b1, b2, eps float64) {
	b1, b2, eps = o.Beta1, o.Beta2, o.Epsilon
	if b1 == 0 {
		b1 = 0.9
	}
	if b2 == 0 {
		b2 = 0.999
	}
	if eps == 0 {
		eps = 1e-7
	}
	return
}

// Step applies Keras's Adam update. The step count is kept per parameter, so a parameter
// unfrozen late starts its bias correction afresh.
func (o *Adam) Step(params []*nn.Param, grads []*tensor.Dense, lr float64) error {
	if err := checkGrads(params, grads); err != nil {
		return err
	}
	if o.state == nil {
		o.state, o.steps = slots{}, map[string]int{}
	}
	b1, b2, eps := o.defaults()
	for i, p := range params {
		m, v := o.state.get(&o.key, p, "m"), o.state.get(&o.key, p, "v")
		o.steps[p.Name]++
		t := float64(o.steps[p.Name])
		r := adamRule{b1: b1, b2: b2, eps: eps, a: lr * math.Sqrt(1-math.Pow(b2, t)) / (1 - math.Pow(b1, t))}
		n := p.Size()
		if p.Value.Dtype() == tensor.Float32 {
			adamSplit(r, p.Value.Float32s()[:n], grads[i].Float32s()[:n], m, v)
		} else {
			adamSplit(r, p.Value.Float64s()[:n], grads[i].Float64s()[:n], m, v)
		}
	}
	return nil
}

// adamRule holds Adam's coefficients for one parameter's step; a is the bias-corrected
// learning rate.
type adamRule struct{ b1, b2, eps, a float64 }

func adamSplit[T float32 | float64](r adamRule, w, g []T, m, v []float64) {
	if c := kernels.Chunks(len(w)); c > 1 {
		n := len(w)
		kernels.Parallel(c, func(lo, hi int) {
			lo, hi = lo*n/c, hi*n/c
			adamUpdate(r, w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi])
		})
		return
	}
	adamUpdate(r, w, g, m, v)
}

func adamUpdate[T float32 | float64](r adamRule, w, g []T, m, v []float64) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	b1, b2, eps, a := r.b1, r.b2, r.eps, r.a
	for i := range w {
		gi := float64(g[i])
		m[i] = b1*m[i] + (1-b1)*gi
		v[i] = b2*v[i] + (1-b2)*gi*gi
		w[i] = T(float64(w[i]) - a*m[i]/(math.Sqrt(v[i])+eps))
	}
}

// State returns the moments and the per-parameter step counts.
func (o *Adam) State() map[string][]float64 {
	out := o.state.copyOut()
	names := make([]string, 0, len(o.steps))
	for k := range o.steps {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		out[k+"/step"] = []float64{float64(o.steps[k])}
	}
	return out
}

// SetState restores what State saved.
func (o *Adam) SetState(s map[string][]float64) error {
	o.state, o.steps = slots{}, map[string]int{}
	for k, v := range s {
		if name, ok := cutSuffix(k, "/step"); ok {
			if len(v) != 1 {
				return errors.Errorf("train: adam state %q: want one value", k)
			}
			o.steps[name] = int(v[0])
			continue
		}
		o.state[k] = append([]float64(nil), v...)
	}
	return nil
}

func cutSuffix(s, suffix string) (string, bool) {
	if len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

// RMSprop keeps a moving average of squared gradients: Rho 0.9 and Epsilon 1e-7 by default
// (Keras's), optional Momentum. It is not safe for concurrent use (see [Optimizer]).
type RMSprop struct {
	Rho, Epsilon, Momentum float64
	state                  slots
	key                    []byte
}

// Name is "rmsprop".
func (o *RMSprop) Name() string { return "rmsprop" }

// Step applies Keras's RMSprop update.
func (o *RMSprop) Step(params []*nn.Param, grads []*tensor.Dense, lr float64) error {
	if err := checkGrads(params, grads); err != nil {
		return err
	}
	if o.state == nil {
		o.state = slots{}
	}
	r := rmsRule{lr: lr, rho: o.Rho, eps: o.Epsilon, momentum: o.Momentum}
	if r.rho == 0 {
		r.rho = 0.9
	}
	if r.eps == 0 {
		r.eps = 1e-7
	}
	for i, p := range params {
		ms := o.state.get(&o.key, p, "rms")
		var mom []float64
		if o.Momentum != 0 {
			mom = o.state.get(&o.key, p, "momentum")
		}
		n := p.Size()
		if p.Value.Dtype() == tensor.Float32 {
			rmsSplit(r, p.Value.Float32s()[:n], grads[i].Float32s()[:n], ms, mom)
		} else {
			rmsSplit(r, p.Value.Float64s()[:n], grads[i].Float64s()[:n], ms, mom)
		}
	}
	return nil
}

// rmsRule holds RMSprop's settings for one step.
type rmsRule struct{ lr, rho, eps, momentum float64 }

func rmsSplit[T float32 | float64](r rmsRule, w, g []T, ms, mom []float64) {
	if c := kernels.Chunks(len(w)); c > 1 {
		n := len(w)
		kernels.Parallel(c, func(lo, hi int) {
			lo, hi = lo*n/c, hi*n/c
			rmsUpdate(r, w[lo:hi], g[lo:hi], ms[lo:hi], part(mom, lo, hi))
		})
		return
	}
	rmsUpdate(r, w, g, ms, mom)
}

// rmsUpdate updates w in place; mom is nil without momentum.
func rmsUpdate[T float32 | float64](r rmsRule, w, g []T, ms, mom []float64) {
	g, ms = g[:len(w)], ms[:len(w)]
	lr, rho, eps, mu := r.lr, r.rho, r.eps, r.momentum
	if mom == nil {
		for i := range w {
			gi := float64(g[i])
			ms[i] = rho*ms[i] + (1-rho)*gi*gi
			w[i] = T(float64(w[i]) - lr*gi/(math.Sqrt(ms[i])+eps))
		}
		return
	}
	mom = mom[:len(w)]
	for i := range w {
		gi := float64(g[i])
		ms[i] = rho*ms[i] + (1-rho)*gi*gi
		mom[i] = mu*mom[i] + lr*gi/(math.Sqrt(ms[i])+eps)
		w[i] = T(float64(w[i]) - mom[i])
	}
}

// State returns the moving averages.
func (o *RMSprop) State() map[string][]float64 { return o.state.copyOut() }

// SetState restores what State saved.
func (o *RMSprop) SetState(s map[string][]float64) error { o.state.copyIn(s); return nil }

// NewOptimizer returns a fresh optimizer by name: "adam", "sgd" (momentum 0.9) or
// "rmsprop".
func NewOptimizer(name string) (Optimizer, error) {
	switch name {
	case "adam":
		return &Adam{}, nil
	case "sgd":
		return &SGD{Momentum: 0.9}, nil
	case "rmsprop":
		return &RMSprop{}, nil
	}
	return nil, errors.Errorf("train: unknown optimizer %q (adam, sgd, rmsprop)", name)
}
