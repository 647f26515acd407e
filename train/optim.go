package train

import (
	"math"
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
)

// Optimizer updates parameters from their gradients.
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

func (s slots) get(p *nn.Param, slot string) []float64 {
	k := p.Name + "/" + slot
	v, ok := s[k]
	if !ok || len(v) != p.Size() {
		v = make([]float64, p.Size())
		s[k] = v
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

// update calls f for each parameter with a function that visits every element: it passes
// the weight and gradient (as float64) and stores the weight returned, without copying
// the tensors.
func update(params []*nn.Param, grads []*tensor.Dense, f func(p *nn.Param, each func(func(i int, w, g float64) float64))) error {
	if len(params) != len(grads) {
		return errors.Errorf("train: %d parameters but %d gradients", len(params), len(grads))
	}
	for i, p := range params {
		g := grads[i]
		if g == nil || g.Size() != p.Size() || g.Dtype() != p.Value.Dtype() {
			return errors.Errorf("train: parameter %q: gradient does not match its shape %v", p.Name, p.Value.Shape())
		}
		switch w := p.Value.Data().(type) {
		case []float32:
			f(p, func(step func(i int, w, g float64) float64) { visit(w, g.Data().([]float32), step) })
		case []float64:
			f(p, func(step func(i int, w, g float64) float64) { visit(w, g.Data().([]float64), step) })
		default:
			return errors.Errorf("train: parameter %q: dtype %v", p.Name, p.Value.Dtype())
		}
	}
	return nil
}

func visit[T float32 | float64](w, g []T, step func(i int, w, g float64) float64) {
	for i := range w {
		w[i] = T(step(i, float64(w[i]), float64(g[i])))
	}
}

// SGD is stochastic gradient descent with optional momentum, Nesterov momentum and
// decoupled-from-nothing L2 weight decay (added to the gradient, as torch.optim.SGD does).
type SGD struct {
	Momentum    float64
	Nesterov    bool
	WeightDecay float64
	state       slots
}

// Name is "sgd".
func (o *SGD) Name() string { return "sgd" }

// Step applies v = momentum*v - lr*g; w += v (or the Nesterov form).
func (o *SGD) Step(params []*nn.Param, grads []*tensor.Dense, lr float64) error {
	if o.state == nil {
		o.state = slots{}
	}
	return update(params, grads, func(p *nn.Param, each func(func(i int, w, g float64) float64)) {
		var v []float64
		if o.Momentum != 0 {
			v = o.state.get(p, "velocity")
		}
		each(func(i int, w, g float64) float64 {
			g += o.WeightDecay * w
			if v == nil {
				return w - lr*g
			}
			v[i] = o.Momentum*v[i] - lr*g
			if o.Nesterov {
				return w + o.Momentum*v[i] - lr*g
			}
			return w + v[i]
		})
	})
}

// State returns the velocities.
func (o *SGD) State() map[string][]float64 { return o.state.copyOut() }

// SetState restores velocities saved by State.
func (o *SGD) SetState(s map[string][]float64) error { o.state.copyIn(s); return nil }

// Adam is Adam with Keras's defaults: Beta1 0.9, Beta2 0.999, Epsilon 1e-7 (zero fields
// take these).
type Adam struct {
	Beta1, Beta2, Epsilon float64
	state                 slots
	steps                 map[string]int
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
	if o.state == nil {
		o.state, o.steps = slots{}, map[string]int{}
	}
	b1, b2, eps := o.defaults()
	return update(params, grads, func(p *nn.Param, each func(func(i int, w, g float64) float64)) {
		m, v := o.state.get(p, "m"), o.state.get(p, "v")
		o.steps[p.Name]++
		t := float64(o.steps[p.Name])
		a := lr * math.Sqrt(1-math.Pow(b2, t)) / (1 - math.Pow(b1, t))
		each(func(i int, w, g float64) float64 {
			m[i] = b1*m[i] + (1-b1)*g
			v[i] = b2*v[i] + (1-b2)*g*g
			return w - a*m[i]/(math.Sqrt(v[i])+eps)
		})
	})
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
// (Keras's), optional Momentum.
type RMSprop struct {
	Rho, Epsilon, Momentum float64
	state                  slots
}

// Name is "rmsprop".
func (o *RMSprop) Name() string { return "rmsprop" }

// Step applies Keras's RMSprop update.
func (o *RMSprop) Step(params []*nn.Param, grads []*tensor.Dense, lr float64) error {
	if o.state == nil {
		o.state = slots{}
	}
	rho, eps := o.Rho, o.Epsilon
	if rho == 0 {
		rho = 0.9
	}
	if eps == 0 {
		eps = 1e-7
	}
	return update(params, grads, func(p *nn.Param, each func(func(i int, w, g float64) float64)) {
		ms := o.state.get(p, "rms")
		var mom []float64
		if o.Momentum != 0 {
			mom = o.state.get(p, "momentum")
		}
		each(func(i int, w, g float64) float64 {
			ms[i] = rho*ms[i] + (1-rho)*g*g
			step := lr * g / (math.Sqrt(ms[i]) + eps)
			if mom != nil {
				mom[i] = o.Momentum*mom[i] + step
				step = mom[i]
			}
			return w - step
		})
	})
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
