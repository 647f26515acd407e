package train_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

// optimizerCases are every optimizer with each of its options, paired with the closure
// reference that must give the same bits.
func optimizerCases() []struct {
	name     string
	typed    func() train.Optimizer
	closures func() train.Optimizer
} {
	return []struct {
		name     string
		typed    func() train.Optimizer
		closures func() train.Optimizer
	}{
		{"sgd", func() train.Optimizer { return &train.SGD{} }, func() train.Optimizer { return &closureSGD{} }},
		{"sgd/decay", func() train.Optimizer { return &train.SGD{WeightDecay: 1e-3} }, func() train.Optimizer { return &closureSGD{WeightDecay: 1e-3} }},
		{"sgd/momentum", func() train.Optimizer { return &train.SGD{Momentum: 0.9} }, func() train.Optimizer { return &closureSGD{Momentum: 0.9} }},
		{"sgd/momentum+decay", func() train.Optimizer { return &train.SGD{Momentum: 0.8, WeightDecay: 5e-4} }, func() train.Optimizer { return &closureSGD{Momentum: 0.8, WeightDecay: 5e-4} }},
		{"sgd/nesterov", func() train.Optimizer { return &train.SGD{Momentum: 0.9, Nesterov: true} }, func() train.Optimizer { return &closureSGD{Momentum: 0.9, Nesterov: true} }},
		{"sgd/nesterov+decay", func() train.Optimizer { return &train.SGD{Momentum: 0.95, Nesterov: true, WeightDecay: 1e-2} }, func() train.Optimizer { return &closureSGD{Momentum: 0.95, Nesterov: true, WeightDecay: 1e-2} }},
		{"sgd/nesterov-without-momentum", func() train.Optimizer { return &train.SGD{Nesterov: true} }, func() train.Optimizer { return &closureSGD{Nesterov: true} }},
		{"adam", func() train.Optimizer { return &train.Adam{} }, func() train.Optimizer { return &closureAdam{} }},
		{"adam/custom", func() train.Optimizer { return &train.Adam{Beta1: 0.8, Beta2: 0.99, Epsilon: 1e-3} }, func() train.Optimizer { return &closureAdam{Beta1: 0.8, Beta2: 0.99, Epsilon: 1e-3} }},
		{"adam/eps", func() train.Optimizer { return &train.Adam{Epsilon: 1e-8} }, func() train.Optimizer { return &closureAdam{Epsilon: 1e-8} }},
		{"rmsprop", func() train.Optimizer { return &train.RMSprop{} }, func() train.Optimizer { return &closureRMSprop{} }},
		{"rmsprop/custom", func() train.Optimizer { return &train.RMSprop{Rho: 0.95, Epsilon: 1e-5} }, func() train.Optimizer { return &closureRMSprop{Rho: 0.95, Epsilon: 1e-5} }},
		{"rmsprop/momentum", func() train.Optimizer { return &train.RMSprop{Momentum: 0.9} }, func() train.Optimizer { return &closureRMSprop{Momentum: 0.9} }},
	}
}

// optimizerSizes are parameter sizes around the split into goroutines (2^14 elements a
// chunk): a scalar-sized bias, odd sizes on either side of one, two and three chunks, and
// a large kernel that does not divide evenly.
var optimizerSizes = []int{1, 2, 3, 10, 31, 100, 4097, 16383, 16384, 16385, 32767, 32769, 49157, 100003}

// Weights and gradients start with zeros of both signs, denormals and infinities; an
// infinite weight under a finite gradient is where weight decay's 0*w (NaN even at
// decay 0) shows.
var (
	specialWeights = []float64{0, math.Copysign(0, -1), 5e-324, -1e-40, math.Inf(1), 1}
	specialGrads   = []float64{math.Copysign(0, -1), 0, -1e-40, 5e-324, 0.5, math.Inf(-1)}
)

// randomParams returns parameters of the given sizes and dtype.
func randomParams(rng *rand.Rand, dt tensor.Dtype, sizes []int) []*nn.Param {
	ps := make([]*nn.Param, len(sizes))
	for i, n := range sizes {
		ps[i] = &nn.Param{Name: fmt.Sprintf("layer%d/kernel", i), Trainable: true, Value: randomTensor(rng, dt, n, specialWeights)}
	}
	return ps
}

func randomTensor(rng *rand.Rand, dt tensor.Dtype, n int, special []float64) *tensor.Dense {
	t := tensor.New(tensor.Of(dt), tensor.WithShape(n))
	for i := 0; i < n; i++ {
		x := rng.NormFloat64() * 0.1
		if i < len(special) {
			x = special[i]
		}
		if dt == tensor.Float32 {
			t.Float32s()[i] = float32(x)
		} else {
			t.Float64s()[i] = x
		}
	}
	return t
}

func cloneParams(ps []*nn.Param) []*nn.Param {
	out := make([]*nn.Param, len(ps))
	for i, p := range ps {
		out[i] = &nn.Param{Name: p.Name, Trainable: true, Value: p.Value.Clone().(*tensor.Dense)}
	}
	return out
}

// sameBits reports the first element where a and b differ in any bit.
func sameBits(a, b *tensor.Dense) (int, bool) {
	if a.Dtype() == tensor.Float32 {
		x, y := a.Float32s(), b.Float32s()
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
				return i, false
			}
		}
		return 0, true
	}
	x, y := a.Float64s(), b.Float64s()
	for i := range x {
		if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
			return i, false
		}
	}
	return 0, true
}

func sameState(t *testing.T, step int, typed, closures train.Optimizer) {
	t.Helper()
	a, b := typed.(train.Stateful).State(), closures.(train.Stateful).State()
	if len(a) != len(b) {
		t.Fatalf("step %d: %d state vectors, reference has %d", step, len(a), len(b))
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok || len(x) != len(y) {
			t.Fatalf("step %d: state %q: length %d, reference %d", step, k, len(x), len(y))
		}
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
				t.Fatalf("step %d: state %q[%d] = %v, reference %v", step, k, i, x[i], y[i])
			}
		}
	}
}

// The typed loops give the same bits as the per-element closures they replaced, for
// weights and state, on one goroutine and split over two, for every optimizer and
// option. From step 3 on the first parameter is left out (as if frozen), so Adam's
// per-parameter step counts differ; at step 4 the state goes through State and SetState,
// as a checkpoint and --resume do.
func TestOptimizersMatchTheClosureReference(t *testing.T) {
	steps := 6
	if testing.Short() {
		steps = 4
	}
	for _, procs := range []int{1, 2} {
		for _, c := range optimizerCases() {
			for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
				t.Run(fmt.Sprintf("procs=%d/%s/%v", procs, c.name, dt), func(t *testing.T) {
					defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
					rng := rand.New(rand.NewPCG(7, uint64(len(c.name))))
					ps := randomParams(rng, dt, optimizerSizes)
					ref := cloneParams(ps)
					typed, closures := c.typed(), c.closures()
					for step := 1; step <= steps; step++ {
						grads := make([]*tensor.Dense, len(ps))
						for i, p := range ps {
							grads[i] = randomTensor(rng, dt, p.Size(), specialGrads)
						}
						lr := 0.01 / float64(step)
						active, activeRef, g := ps, ref, grads
						if step >= 3 {
							active, activeRef, g = ps[1:], ref[1:], grads[1:]
						}
						if err := typed.Step(active, g, lr); err != nil {
							t.Fatal(err)
						}
						if err := closures.Step(activeRef, g, lr); err != nil {
							t.Fatal(err)
						}
						for i := range ps {
							if at, ok := sameBits(ps[i].Value, ref[i].Value); !ok {
								x, _ := ps[i].Value.At(at)
								y, _ := ref[i].Value.At(at)
								t.Fatalf("step %d: %s (size %d) differs at %d: %v, reference %v", step, ps[i].Name, ps[i].Size(), at, x, y)
							}
						}
						sameState(t, step, typed, closures)
						if step == 4 {
							resumed := c.typed()
							if err := resumed.(train.Stateful).SetState(closures.(train.Stateful).State()); err != nil {
								t.Fatal(err)
							}
							typed = resumed
						}
					}
				})
			}
		}
	}
}

// A step on small parameters (no goroutines) allocates nothing once the state exists.
func TestOptimizerStepDoesNotAllocate(t *testing.T) {
	for _, c := range optimizerCases() {
		rng := rand.New(rand.NewPCG(1, 2))
		ps := randomParams(rng, tensor.Float32, []int{288, 32, 1000, 10})
		grads := make([]*tensor.Dense, len(ps))
		for i, p := range ps {
			grads[i] = randomTensor(rng, tensor.Float32, p.Size(), specialGrads)
		}
		opt := c.typed()
		if err := opt.Step(ps, grads, 1e-3); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(20, func() { _ = opt.Step(ps, grads, 1e-3) }); n != 0 {
			t.Errorf("%s: %v allocations a step", c.name, n)
		}
	}
}

// A gradient that does not fit fails the step before any parameter changes.
func TestOptimizerStepChecksFirst(t *testing.T) {
	for _, c := range optimizerCases() {
		rng := rand.New(rand.NewPCG(3, 4))
		ps := randomParams(rng, tensor.Float32, []int{5, 7})
		before := cloneParams(ps)
		grads := []*tensor.Dense{randomTensor(rng, tensor.Float32, 5, nil), randomTensor(rng, tensor.Float32, 6, nil)}
		if err := c.typed().Step(ps, grads, 0.1); err == nil {
			t.Errorf("%s: a 6-element gradient for a 7-element parameter: no error", c.name)
		}
		grads[1] = randomTensor(rng, tensor.Float64, 7, nil)
		if err := c.typed().Step(ps, grads, 0.1); err == nil {
			t.Errorf("%s: a float64 gradient for a float32 parameter: no error", c.name)
		}
		for i := range ps {
			if _, ok := sameBits(ps[i].Value, before[i].Value); !ok {
				t.Errorf("%s: %s changed by a failed step", c.name, ps[i].Name)
			}
		}
	}
}

var benchSink float32

// BenchmarkAdamStep times one Adam update of the course CNN's parameters (float32; conv
// 32x1x3x3 and 64x32x3x3, dense 3136x100 and 100x10, and their biases), with the typed
// loops and with the per-element closures they replaced.
func BenchmarkAdamStep(b *testing.B) {
	for _, c := range []struct {
		name string
		opt  func() train.Optimizer
	}{
		{"impl=typed", func() train.Optimizer { return &train.Adam{} }},
		{"impl=closure", func() train.Optimizer { return &closureAdam{} }},
	} {
		b.Run(c.name, func(b *testing.B) {
			m, err := zoo.New("fashion-cnn")
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			ps := m.Params()
			grads := make([]*tensor.Dense, len(ps))
			for i, p := range ps {
				grads[i] = randomTensor(rng, tensor.Float32, p.Size(), specialGrads)
			}
			opt := c.opt()
			if err := opt.Step(ps, grads, 1e-3); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := opt.Step(ps, grads, 1e-3); err != nil {
					b.Fatal(err)
				}
			}
			benchSink = ps[0].Value.Float32s()[0]
		})
	}
}

// The optimizers as they were before the typed loops: one closure call per element. They
// are the reference TestOptimizersMatchTheClosureReference holds the typed loops to, bit
// for bit, and the baseline of BenchmarkAdamStep. Do not "improve" them.

type closureSlots map[string][]float64

func (s closureSlots) get(p *nn.Param, slot string) []float64 {
	k := p.Name + "/" + slot
	v, ok := s[k]
	if !ok || len(v) != p.Size() {
		v = make([]float64, p.Size())
		s[k] = v
	}
	return v
}

func (s closureSlots) copyOut() map[string][]float64 {
	out := make(map[string][]float64, len(s))
	for k, v := range s {
		out[k] = append([]float64(nil), v...)
	}
	return out
}

func closureUpdate(params []*nn.Param, grads []*tensor.Dense, f func(p *nn.Param, each func(func(i int, w, g float64) float64))) error {
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
			f(p, func(step func(i int, w, g float64) float64) { closureVisit(w, g.Data().([]float32), step) })
		case []float64:
			f(p, func(step func(i int, w, g float64) float64) { closureVisit(w, g.Data().([]float64), step) })
		default:
			return errors.Errorf("train: parameter %q: dtype %v", p.Name, p.Value.Dtype())
		}
	}
	return nil
}

func closureVisit[T float32 | float64](w, g []T, step func(i int, w, g float64) float64) {
	for i := range w {
		w[i] = T(step(i, float64(w[i]), float64(g[i])))
	}
}

type closureSGD struct {
	Momentum    float64
	Nesterov    bool
	WeightDecay float64
	state       closureSlots
}

func (o *closureSGD) Name() string { return "sgd" }

func (o *closureSGD) Step(params []*nn.Param, grads []*tensor.Dense, lr float64) error {
	if o.state == nil {
		o.state = closureSlots{}
	}
	return closureUpdate(params, grads, func(p *nn.Param, each func(func(i int, w, g float64) float64)) {
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

func (o *closureSGD) State() map[string][]float64 { return o.state.copyOut() }

func (o *closureSGD) SetState(map[string][]float64) error { panic("not used") }

type closureAdam struct {
	Beta1, Beta2, Epsilon float64
	state                 closureSlots
	steps                 map[string]int
}

func (o *closureAdam) Name() string { return "adam" }

func (o *closureAdam) defaults() (b1, b2, eps float64) {
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

func (o *closureAdam) Step(params []*nn.Param, grads []*tensor.Dense, lr float64) error {
	if o.state == nil {
		o.state, o.steps = closureSlots{}, map[string]int{}
	}
	b1, b2, eps := o.defaults()
	return closureUpdate(params, grads, func(p *nn.Param, each func(func(i int, w, g float64) float64)) {
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

func (o *closureAdam) State() map[string][]float64 {
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

func (o *closureAdam) SetState(map[string][]float64) error { panic("not used") }

type closureRMSprop struct {
	Rho, Epsilon, Momentum float64
	state                  closureSlots
}

func (o *closureRMSprop) Name() string { return "rmsprop" }

func (o *closureRMSprop) Step(params []*nn.Param, grads []*tensor.Dense, lr float64) error {
	if o.state == nil {
		o.state = closureSlots{}
	}
	rho, eps := o.Rho, o.Epsilon
	if rho == 0 {
		rho = 0.9
	}
	if eps == 0 {
		eps = 1e-7
	}
	return closureUpdate(params, grads, func(p *nn.Param, each func(func(i int, w, g float64) float64)) {
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

func (o *closureRMSprop) State() map[string][]float64 { return o.state.copyOut() }

func (o *closureRMSprop) SetState(map[string][]float64) error { panic("not used") }
