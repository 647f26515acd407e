package nn

import (
	"math/bits"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// DefaultMaxBatch is the largest batch one graph run takes in [Model.Predict] and a
// [Predictor] unless [MaxBatch] says otherwise; larger inputs run in several batches.
const DefaultMaxBatch = 64

// graphPool lends eval graphs of one model, each to one goroutine at a time. Graphs are
// compiled per batch size on demand and kept for the next caller; at most maxGraphs of
// one size exist, so a burst of callers waits for a graph instead of compiling (and
// holding the activations of) one each.
type graphPool struct {
	m         *Model
	maxGraphs int
	maxBatch  int

	mu    sync.Mutex
	sizes map[int]*poolSize
}

type poolSize struct {
	slots chan struct{} // a token per graph lent out (or being compiled)
	idle  []*Graph      // guarded by graphPool.mu
}

func newGraphPool(m *Model, maxGraphs, maxBatch int) *graphPool {
	if maxGraphs <= 0 {
		maxGraphs = max(2, runtime.GOMAXPROCS(0))
	}
	if maxBatch <= 0 {
		maxBatch = DefaultMaxBatch
	}
	return &graphPool{m: m, maxGraphs: maxGraphs, maxBatch: maxBatch, sizes: map[int]*poolSize{}}
}

func (p *graphPool) acquire(batch int) (*Graph, error) {
	p.mu.Lock()
	s := p.sizes[batch]
	if s == nil {
		s = &poolSize{slots: make(chan struct{}, p.maxGraphs)}
		p.sizes[batch] = s
	}
	p.mu.Unlock()
	s.slots <- struct{}{}
	p.mu.Lock()
	if k := len(s.idle); k > 0 {
		gr := s.idle[k-1]
		s.idle = s.idle[:k-1]
		p.mu.Unlock()
		return gr, nil
	}
	p.mu.Unlock()
	// A graph of its own, not the one Compile caches: that one belongs to whoever
	// called Compile.
	gr, err := p.m.compile(batch, Eval, false)
	if err != nil {
		<-s.slots
		return nil, err
	}
	gr.pool = p
	return gr, nil
}

func (p *graphPool) release(gr *Graph) {
	p.mu.Lock()
	s := p.sizes[gr.batch]
	s.idle = append(s.idle, gr)
	p.mu.Unlock()
	<-s.slots
}

// dropGraphs forgets every compiled graph (after a change that makes them stale).
func (m *Model) dropGraphs() {
	m.mu.Lock()
	m.cache = map[compileKey]*compileEntry{}
	m.pool = nil
	m.mu.Unlock()
}

// pooled returns the model's graph pool, making it on first use.
func (m *Model) pooled() *graphPool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pool == nil {
		m.pool = newGraphPool(m, 0, 0)
	}
	return m.pool
}

// Acquire lends the caller an [Eval] graph of the model for batch examples that no other
// goroutine uses until the caller gives it back with [Model.Release]. Graphs are compiled
// on first need and reused; when as many graphs of that size as the machine has cores
// (at least 2) are lent out, Acquire waits for one to come back. It is safe for
// concurrent use, as is running the graphs it lends at the same time, as long as nothing
// changes the model meanwhile (see [Model]'s concurrency rules).
func (m *Model) Acquire(batch int) (*Graph, error) {
	if batch <= 0 {
		return nil, errors.Errorf("nn: model %q: batch size %d must be positive", m.name, batch)
	}
	return m.pooled().acquire(batch)
}

// Release gives back a graph lent by [Model.Acquire]; the caller must not use it (or
// tensors it returned, such as [Graph.Output]) afterwards. Releasing a graph that did not
// come from Acquire does nothing.
func (m *Model) Release(gr *Graph) {
	if gr == nil || gr.pool == nil {
		return
	}
	gr.pool.release(gr)
}

// Predict runs the model in inference mode on x, a batch of examples in Keras's order
// ([n, height, width, channels] or [n, features]), float32 or float64, and returns a new
// tensor of the model's dtype, [n, OutputShape()...] ([n, classes] probabilities for a
// classifier, [n, height, width, channels] for a feature map), which the caller owns.
// Batches larger than [DefaultMaxBatch] run in several graph runs; an example's result
// does not depend on the other examples in x.
//
// Predict is safe for concurrent use: each call runs on graphs lent to it alone
// ([Model.Acquire]), and concurrent calls give, bit for bit, what serial calls give. It
// must not overlap a change to the model or a training step (see [Model]); a
// [Predictor] may.
func (m *Model) Predict(x tensor.Tensor) (*tensor.Dense, error) {
	return m.pooled().predict(x)
}

func (p *graphPool) predict(x tensor.Tensor) (*tensor.Dense, error) {
	m := p.m
	in := m.nodes[0].out
	if len(m.inputs) != 1 || len(m.outputs) != 1 {
		return nil, errors.Errorf("nn: model %q: predict takes a model of one input and one output, not %d and %d (run graphs from Model.Acquire with RunMulti)",
			m.name, len(m.inputs), len(m.outputs))
	}
	if x == nil {
		return nil, errors.Errorf("nn: model %q: predict: no input", m.name)
	}
	s := x.Shape()
	if len(s) != len(in)+1 || s[0] < 1 || !tensor.Shape(s[1:]).Eq(tensor.Shape(in)) {
		return nil, errors.Errorf("nn: model %q: predict: input has shape %v; want (n, %s) with n >= 1", m.name, s, shapeList(in))
	}
	n, per := s[0], in.Size()
	var rows func(lo, hi int) tensor.Tensor
	switch d := x.Data().(type) {
	case []float32:
		rows = func(lo, hi int) tensor.Tensor {
			return tensor.New(tensor.WithShape(append([]int{hi - lo}, in...)...), tensor.WithBacking(d[lo*per:hi*per]))
		}
	case []float64:
		rows = func(lo, hi int) tensor.Tensor {
			return tensor.New(tensor.WithShape(append([]int{hi - lo}, in...)...), tensor.WithBacking(d[lo*per:hi*per]))
		}
	default:
		return nil, errors.Errorf("nn: model %q: predict: dtype %v is not float32 or float64", m.name, x.Dtype())
	}
	outShape := append([]int{n}, m.output.out...)
	out := tensor.New(tensor.Of(m.dtype), tensor.WithShape(outShape...))
	outPer := m.output.out.Size()
	for lo := 0; lo < n; {
		// Batches of powers of two: a handful of graph sizes serve every n.
		b := 1 << (bits.Len(uint(min(n-lo, p.maxBatch))) - 1)
		gr, err := p.acquire(b)
		if err != nil {
			return nil, err
		}
		err = gr.Run(rows(lo, lo+b), nil)
		if err == nil {
			copyOutput(out, lo*outPer, gr.Output(), m.output.out)
		}
		p.release(gr)
		if err != nil {
			return nil, err
		}
		lo += b
	}
	return out, nil
}

// copyOutput writes a graph's output (NCHW for images) into dst from offset on, in
// Keras's order (NHWC for images).
func copyOutput(dst *tensor.Dense, offset int, src *tensor.Dense, ex Shape) {
	h, w, c := 1, 1, ex.Size()
	if len(ex) == 3 {
		h, w, c = ex[0], ex[1], ex[2]
	}
	n := src.Shape()[0]
	switch d := dst.Data().(type) {
	case []float32:
		toNHWC(src.Data().([]float32), d[offset:], n, h, w, c)
	case []float64:
		toNHWC(src.Data().([]float64), d[offset:], n, h, w, c)
	}
}

// toNHWC writes src [n,c,h,w] into dst [n,h,w,c] (a plain copy when h*w is 1).
func toNHWC[T float32 | float64](src, dst []T, n, h, w, c int) {
	hw := h * w
	if hw == 1 || c == 1 {
		copy(dst, src[:n*hw*c])
		return
	}
	for in := 0; in < n; in++ {
		for ic := 0; ic < c; ic++ {
			for p := 0; p < hw; p++ {
				dst[(in*hw+p)*c+ic] = src[(in*c+ic)*hw+p]
			}
		}
	}
}

func shapeList(s Shape) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, ", ")
}

// PredictorOption configures [NewPredictor].
type PredictorOption func(*predictorConfig)

type predictorConfig struct {
	maxBatch, maxGraphs int
	output              string
}

// MaxBatch sets the largest batch one graph run of a [Predictor] takes (default
// [DefaultMaxBatch]); larger inputs run in several batches.
func MaxBatch(n int) PredictorOption { return func(c *predictorConfig) { c.maxBatch = n } }

// MaxGraphs sets how many graphs of one batch size a [Predictor] runs at once (default:
// the number of cores, at least 2); further concurrent calls wait for a graph. Each
// graph holds its activations, so this bounds memory too.
func MaxGraphs(n int) PredictorOption { return func(c *predictorConfig) { c.maxGraphs = n } }

// OutputLayer makes a [Predictor] end at the named layer and return its output (a
// convolution's feature maps, say) instead of the model's.
func OutputLayer(name string) PredictorOption { return func(c *predictorConfig) { c.output = name } }

// Predictor serves a snapshot of a model for inference from any number of goroutines.
// [NewPredictor] copies the model's parameters, so the model may go on training (or be
// changed in any way) while the Predictor answers; make a new Predictor to serve the new
// weights. Every method is safe for concurrent use.
type Predictor struct {
	m    *Model
	pool *graphPool
}

// NewPredictor snapshots m (its architecture, up to [OutputLayer] if given, and the
// values of its parameters) for inference. It reads m's parameters, so it must not
// overlap a training step or another change of m.
func NewPredictor(m *Model, opts ...PredictorOption) (*Predictor, error) {
	var cfg predictorConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.maxBatch < 0 || cfg.maxGraphs < 0 {
		return nil, errors.Errorf("nn: model %q: predictor: MaxBatch %d and MaxGraphs %d must not be negative", m.name, cfg.maxBatch, cfg.maxGraphs)
	}
	spec := m.Spec()
	if cfg.output != "" {
		found := false
		for _, l := range spec.Layers[1:] {
			found = found || l.Name == cfg.output
		}
		if !found {
			return nil, errors.Errorf("nn: model %q has no layer %q (layers: %s)", m.name, cfg.output, strings.Join(m.layerNames(), ", "))
		}
		spec.Output, spec.Outputs, spec.Losses = cfg.output, nil, nil
	}
	c, err := FromSpec(spec)
	if err != nil {
		return nil, errors.Wrapf(err, "nn: model %q: predictor", m.name)
	}
	if err := c.SetDType(m.dtype); err != nil {
		return nil, err
	}
	c.seed = m.seed
	for _, p := range c.params {
		src := m.byName[p.Name]
		if src == nil || !src.Value.Shape().Eq(p.Value.Shape()) {
			return nil, errors.Errorf("nn: model %q: predictor: parameter %q does not match", m.name, p.Name)
		}
		copyInto(p.Value, src.Value)
	}
	return &Predictor{m: c, pool: newGraphPool(c, cfg.maxGraphs, cfg.maxBatch)}, nil
}

// Name is the model's name.
func (p *Predictor) Name() string { return p.m.name }

// InputShape is the shape of one input example, (height, width, channels) for images.
func (p *Predictor) InputShape() Shape { return p.m.InputShape() }

// OutputShape is the shape of one result, (classes) for a classifier.
func (p *Predictor) OutputShape() Shape { return p.m.OutputShape() }

// Predict runs the snapshot on x as [Model.Predict] does and returns a new tensor the
// caller owns. Concurrent calls give, bit for bit, what serial calls give.
func (p *Predictor) Predict(x tensor.Tensor) (*tensor.Dense, error) { return p.pool.predict(x) }
