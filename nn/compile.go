package nn

import (
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
)

// Mode selects how a graph behaves.
type Mode int

const (
	// Eval is inference: dropout passes through, batch normalisation uses its moving
	// statistics, and no gradients are built.
	Eval Mode = iota
	// Train drops out, normalises with batch statistics (updating the moving ones), and
	// builds the gradients of the loss for every trainable parameter.
	Train
)

func (md Mode) String() string {
	if md == Train {
		return "train"
	}
	return "eval"
}

type compileKey struct {
	batch     int
	mode      Mode
	dtype     tensor.Dtype
	trainable string
}

// Graph is a model compiled for one batch size and mode: a Gorgonia expression graph and
// the machine that runs it. Make one with [Model.Compile] (or borrow an eval graph with
// [Model.Acquire]).
//
// A Graph is not safe for concurrent use: it holds its input, its output and every
// intermediate value in tensors of its own, which [Graph.Run] overwrites, so one goroutine
// at a time may call Run and read the results. Different graphs of one model may run at
// the same time in [Eval] mode (they only read the shared parameters); a [Train] run
// writes the batch normalisation statistics, and an optimizer step the parameters, that
// every graph of the model reads, so no other graph of that model may run meanwhile.
type Graph struct {
	model *Model
	batch int
	mode  Mode

	g              *G.ExprGraph
	input, labels  *G.Node
	output, logits *G.Node
	loss           *G.Node
	params         map[string]*G.Node
	gradParams     []*Param
	grads          []*G.Node
	machine        *graph.Machine
	inVal, labVal  *tensor.Dense
	ins            []*G.Node // every input; ins[0] is input
	inVals         []*tensor.Dense
	outs           []*G.Node          // every output; outs[0] is output
	heads          []*head            // the outputs with a loss
	labelled       bool               // the last run had labels (or targets for every head)
	step           uint64             // seeds dropout masks: see SetStep
	pinned         bool               // masks stay at step: see PinStep
	layerOf        map[*G.Node]string // the layer that built each forward node (for DOT)
	pool           *graphPool         // the pool that lent it (Model.Acquire), or nil
	mem            GraphMemory        // what it needs when it runs, worked out before
}

// fixedDropoutMasks makes dropout reuse its first mask (for whole-model gradient checks).
var fixedDropoutMasks bool

// Compile returns the model's graph for a batch size and mode, building it on first use and
// caching it (by batch size, mode and the set of trainable parameters). The loss is the
// mean sparse categorical cross-entropy of the output: computed from the logits before a
// final softmax, so it stays finite, or from the output itself if it has no softmax.
//
// Compile is safe to call from several goroutines at once: a graph is built once per key
// even when calls race, and every caller of a key gets the same [*Graph]. That graph is
// for one goroutine at a time (see [Graph]); for inference from several goroutines use
// [Model.Predict], [Model.Acquire] or a [Predictor].
func (m *Model) Compile(batch int, mode Mode) (*Graph, error) {
	if batch <= 0 {
		return nil, errors.Errorf("nn: model %q: batch size %d must be positive", m.name, batch)
	}
	if mode != Train && mode != Eval {
		return nil, errors.Errorf("nn: model %q: unknown mode %d", m.name, mode)
	}
	m.mu.Lock()
	var tr []string
	for _, p := range m.params {
		if p.Trainable {
			tr = append(tr, p.Name)
		}
	}
	key := compileKey{batch, mode, m.dtype, strings.Join(tr, "\x00")}
	e, ok := m.cache[key]
	if ok {
		m.mu.Unlock()
		<-e.done
		return e.gr, e.err
	}
	e = &compileEntry{done: make(chan struct{})}
	m.cache[key] = e
	m.mu.Unlock()
	e.gr, e.err = m.compile(batch, mode, mode == Train)
	if e.err != nil {
		// Forget a failed build so that a later call tries again (and reports afresh).
		m.mu.Lock()
		if m.cache[key] == e {
			delete(m.cache, key)
		}
		m.mu.Unlock()
	}
	close(e.done)
	return e.gr, e.err
}

// compileEntry is one cached graph: done is closed once gr or err is set, so callers that
// race for a key wait for the one build instead of starting their own.
type compileEntry struct {
	done chan struct{}
	gr   *Graph
	err  error
}

// applier is what a layer's apply function sees while a graph is built.
type applier struct {
	m          *Model
	gr         *Graph
	n          *node
	mode       Mode
	frozen     bool
	fixedMasks bool
	logits     *G.Node
	preSigmoid *G.Node // the input of a sigmoid activation, for binary cross-entropy
}

func (a *applier) param(local string) *G.Node { return a.gr.params[a.n.name+"/"+local] }

func (a *applier) value(local string) *tensor.Dense { return a.m.byName[a.n.name+"/"+local].Value }

// seed derives a layer's random stream from the model seed and the layer's name.
func (a *applier) seed() uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s", a.m.seed, a.n.name)
	return h.Sum64()
}

func (a *applier) activate(x *G.Node, fn ActivationFn, alpha float64) (*G.Node, error) {
	a.logits, a.preSigmoid = nil, nil
	switch fn {
	case "", Linear:
		return x, nil
	case ReLU:
		return graph.ReLU(x)
	case LeakyReLU:
		return graph.LeakyReLU(x, alpha)
	case Sigmoid:
		a.preSigmoid = x
		return graph.Sigmoid(x)
	case Tanh:
		return graph.Tanh(x)
	case Softmax:
		a.logits = x
		return graph.Softmax(x)
	}
	return activateMore(x, fn, alpha)
}

// compile builds a graph; withGrads adds the gradient nodes (off only for gradient checks,
// which differentiate the graph themselves).
func (m *Model) compile(batch int, mode Mode, withGrads bool) (gr *Graph, err error) {
	// Building allocates the input and target tensors; compiling allocates no values.
	// The graph's whole need, from its nodes and program, is checked against the memory
	// budget after compiling, before the first run allocates anything.
	if err := m.checkFedMemory(batch, mode); err != nil {
		return nil, err
	}
	gr = &Graph{model: m, batch: batch, mode: mode, g: G.NewGraph(), params: map[string]*G.Node{},
		layerOf: map[*G.Node]string{}}
	err = graph.Safely(func() error { return m.build(gr, withGrads) })
	if err != nil {
		return nil, err
	}
	gr.mem = gr.graphMemory()
	if err := gr.checkGraphMemory(); err != nil {
		return nil, err
	}
	return gr, nil
}

func (m *Model) build(gr *Graph, withGrads bool) error {
	dt := m.dtype
	out := map[*node]*G.Node{}
	for i, in := range m.inputs {
		s := in.out.internal(gr.batch)
		v := tensor.New(tensor.Of(dt), tensor.WithShape(s...))
		name := "input"
		if i > 0 {
			name = "input/" + in.name
		}
		x := G.NewTensor(gr.g, dt, len(s), G.WithShape(s...), G.WithName(name), G.WithValue(v))
		gr.ins, gr.inVals = append(gr.ins, x), append(gr.inVals, v)
		out[in] = x
	}
	gr.input, gr.inVal = gr.ins[0], gr.inVals[0]
	for _, p := range m.params {
		// The node is bound to a tensor header of its own over the parameter's memory:
		// it sees every in-place update, but Gorgonia's tape machine, which writes its
		// engine into every bound tensor when it is made, writes only this graph's
		// header, so graphs of one model can be compiled while others run.
		s := p.Value.Shape()
		v := tensor.New(tensor.WithShape(s...), tensor.WithBacking(p.Value.Data()))
		gr.params[p.Name] = G.NewTensor(gr.g, dt, s.Dims(), G.WithShape(s...), G.WithName(p.Name), G.WithValue(v))
	}
	logitsOf, preSigmoidOf := map[*node]*G.Node{}, map[*node]*G.Node{}
	for _, n := range m.nodes {
		if n.layer.kind == "InputLayer" {
			continue
		}
		ins := make([]*G.Node, len(n.inputs))
		for i, in := range n.inputs {
			ins[i] = out[in]
		}
		a := &applier{m: m, gr: gr, n: n, mode: gr.mode, frozen: n.frozen(), fixedMasks: fixedDropoutMasks}
		before := len(gr.g.AllNodes())
		var y *G.Node
		err := graph.Safely(func() (err error) {
			y, err = kinds[n.layer.kind].apply(a, &n.layer.cfg, ins)
			return err
		})
		if err != nil {
			return errors.Wrapf(n.errorf(err), "nn: model %q", m.name)
		}
		if want := n.out.internal(gr.batch); !y.Shape().Eq(want) {
			return errors.Wrapf(n.errorf(errors.Errorf("built shape %v, inferred %v", y.Shape(), want)), "nn: model %q", m.name)
		}
		for _, gn := range gr.g.AllNodes()[before:] {
			gr.layerOf[gn] = n.name
		}
		out[n] = y
		if a.logits != nil {
			logitsOf[n] = a.logits
		}
		if a.preSigmoid != nil {
			preSigmoidOf[n] = a.preSigmoid
		}
	}
	for _, o := range m.outputs {
		gr.outs = append(gr.outs, out[o])
	}
	gr.output = gr.outs[0]
	roots := append(G.Nodes(nil), gr.outs...)
	for i, o := range m.outputs {
		l := m.lossOf(o)
		if l.Loss.Kind == "" {
			continue
		}
		h := &head{index: i, n: o, loss: l}
		if err := h.build(gr, dt, out[o], logitsOf[o], preSigmoidOf[o]); err != nil {
			return errors.Wrapf(h.errorf(err), "nn: model %q", m.name)
		}
		gr.heads = append(gr.heads, h)
	}
	if len(gr.heads) == 0 {
		// No loss (a feature extractor, say): outputs only.
		if gr.mode == Train {
			if len(m.outputs) == 1 {
				return errors.Errorf("nn: model %q: training needs a classifier output (classes), not %v, or a loss (SetLoss)", m.name, m.output.out)
			}
			return errors.Errorf("nn: model %q: training needs a loss on at least one output (SetLoss)", m.name)
		}
		return gr.newMachine(roots)
	}
	gr.logits = gr.output
	if l := logitsOf[m.output]; l != nil {
		gr.logits = l
	}
	if h := gr.heads[0]; len(m.outputs) == 1 && h.loss.Loss.labels() {
		// The one classifier output of the course's models: Run's labels.
		gr.labels, gr.labVal = h.target, h.tgtVal
	}
	// The total loss: the one head's loss as it is (no extra op on the course CNN's
	// path), or the weighted sum of the heads' losses.
	var err error
	if h := gr.heads[0]; len(gr.heads) == 1 && h.loss.Weight == 1 {
		gr.loss = h.value
	} else {
		err = graph.Safely(func() error {
			for _, h := range gr.heads {
				w := G.NewConstant(scalarOf(dt, h.loss.Weight))
				term := G.Must(G.Mul(h.value, w))
				if gr.loss == nil {
					gr.loss = term
				} else {
					gr.loss = G.Must(G.Add(gr.loss, term))
				}
			}
			return nil
		})
		if err != nil {
			return errors.Wrapf(err, "nn: model %q: total loss", m.name)
		}
	}
	for _, h := range gr.heads {
		if h.value != gr.loss {
			roots = append(roots, h.value)
		}
	}
	roots = append(roots, gr.loss)
	if gr.mode == Train && withGrads {
		var wrt G.Nodes
		for _, p := range m.params {
			if p.Trainable {
				gr.gradParams = append(gr.gradParams, p)
				wrt = append(wrt, gr.params[p.Name])
			}
		}
		if len(wrt) == 0 {
			return errors.Errorf("nn: model %q: no trainable parameters (every layer is frozen)", m.name)
		}
		if gr.grads, err = G.Grad(gr.loss, wrt...); err != nil {
			return errors.Wrapf(err, "nn: model %q: differentiating the loss", m.name)
		}
		roots = append(roots, gr.grads...)
	}
	// Compile only what the outputs need: no backward ops below the lowest trainable layer.
	return gr.newMachine(roots)
}

// newMachine compiles the subgraph that roots need, if it has at most maxGraphNodes
// nodes: Gorgonia's code generator takes time quadratic in them (see maxGraphNodes).
func (gr *Graph) newMachine(roots G.Nodes) error {
	sub := gr.g.SubgraphRoots(roots...)
	if n := len(sub.AllNodes()); n > maxGraphNodes {
		return errors.Errorf("nn: model %q: the %s graph at batch %d has %d nodes, more than the limit of %d (compiling takes time quadratic in them)",
			gr.model.name, modeName(gr.mode), gr.batch, n, maxGraphNodes)
	}
	var err error
	gr.machine, err = graph.NewMachine(sub, graph.ShareBuffers(gr.kept()...))
	return errors.Wrapf(err, "nn: model %q", gr.model.name)
}

func scalarOf(dt tensor.Dtype, v float64) any {
	if dt == tensor.Float32 {
		return float32(v)
	}
	return v
}

// kept lists the nodes whose values a user reads after a run (Output, Logits, Loss, Grad):
// they keep buffers of their own. Every other node's buffer is shared with nodes that are
// not alive at the same time, so its value is valid only until the next op that reuses
// the buffer (see graph.ShareBuffers).
func (gr *Graph) kept() []*G.Node {
	keep := append(G.Nodes{gr.logits, gr.loss}, gr.outs...)
	for _, h := range gr.heads {
		keep = append(keep, h.value)
	}
	return append(keep, gr.grads...)
}

// SetStep sets the training step that the next run's dropout masks derive from (with the
// model's seed and the layer's name). Every run then advances the step by one, so a
// training loop that never calls SetStep still draws a new mask at every step (steps 0,
// 1, 2, ...); loops that call it before each step (as Fit does) make a resumed run draw
// the same masks as an uninterrupted one.
func (gr *Graph) SetStep(step uint64) { gr.step = step }

// Step is the step the next run's dropout masks derive from.
func (gr *Graph) Step() uint64 { return gr.step }

// PinStep(true) stops runs from advancing the step, so every run draws the same dropout
// masks (a gradient check by finite differences needs that); PinStep(false) lets them
// advance again.
func (gr *Graph) PinStep(on bool) { gr.pinned = on }

// run runs the machine and advances the dropout step.
func (gr *Graph) run() error {
	err := gr.machine.Run()
	if !gr.pinned {
		gr.step++
	}
	return errors.Wrapf(err, "nn: model %q", gr.model.name)
}

// Batch is the graph's batch size.
func (gr *Graph) Batch() int { return gr.batch }

// Mode is the graph's mode.
func (gr *Graph) Mode() Mode { return gr.mode }

// Run feeds one batch through the graph: x holds batch examples in Keras's order
// ([batch, height, width, channels] or [batch, features]), float32 or float64; labels
// holds a class index per example, or is nil when only outputs are wanted. In [Train]
// mode it also computes the gradients ([Graph.Grad]) and updates batch normalisation's
// moving statistics.
func (gr *Graph) Run(x tensor.Tensor, labels []int) error {
	m := gr.model
	if len(m.inputs) > 1 || (len(gr.heads) > 0 && gr.labels == nil) {
		return errors.Errorf("nn: model %q has %d inputs and %d outputs (%s): feed it with RunMulti",
			m.name, len(m.inputs), len(m.outputs), gr.targetKinds())
	}
	want := append(tensor.Shape{gr.batch}, m.nodes[0].out...)
	if x == nil || !x.Shape().Eq(want) {
		var got tensor.Shape
		if x != nil {
			got = x.Shape()
		}
		return errors.Errorf("nn: model %q: input has shape %v; want %v", m.name, got, want)
	}
	if err := toInternal(x, gr.inVal); err != nil {
		return errors.Wrapf(err, "nn: model %q: input", m.name)
	}
	if gr.labels != nil {
		if labels == nil && gr.mode == Train {
			return errors.Errorf("nn: model %q: training needs labels", m.name)
		}
		if labels != nil && len(labels) != gr.batch {
			return errors.Errorf("nn: model %q: %d labels for a batch of %d", m.name, len(labels), gr.batch)
		}
		classes := m.output.out[0]
		for i, l := range labels {
			if l < 0 || l >= classes {
				return errors.Errorf("nn: model %q: label %d of example %d is outside [0, %d)", m.name, l, i, classes)
			}
		}
		setLabels(gr.labVal, labels)
	}
	for _, h := range gr.heads {
		_ = h.setWeights(gr, nil) // Run weights every example alike
	}
	gr.labelled = labels != nil
	return gr.run()
}

// targetKinds describes what each output is trained on, for error messages.
func (gr *Graph) targetKinds() string {
	var parts []string
	for _, o := range gr.model.Losses() {
		switch {
		case o.Loss.Kind == "":
			parts = append(parts, o.Output+": no loss")
		case o.Loss.labels():
			parts = append(parts, o.Output+": labels")
		default:
			parts = append(parts, o.Output+": values")
		}
	}
	return strings.Join(parts, ", ")
}

// RunMulti feeds one batch through a graph of a model with any number of inputs and
// outputs: inputs holds one tensor per model input in [Model.Inputs]'s order, each
// [batch, example shape...] in Keras's order, float32 or float64; targets holds one
// [Target] per output in [Model.Outputs]'s order (the zero Target for an output without
// a loss), or is nil when only outputs are wanted. In [Train] mode it also computes the
// gradients of the total loss ([Model.SetLoss]) and updates batch normalisation's moving
// statistics.
func (gr *Graph) RunMulti(inputs []tensor.Tensor, targets []Target) error {
	m := gr.model
	if len(inputs) != len(m.inputs) {
		return errors.Errorf("nn: model %q: %d input tensors for %d inputs", m.name, len(inputs), len(m.inputs))
	}
	for i, x := range inputs {
		want := append(tensor.Shape{gr.batch}, m.inputs[i].out...)
		if x == nil || !x.Shape().Eq(want) {
			var got tensor.Shape
			if x != nil {
				got = x.Shape()
			}
			return errors.Errorf("nn: model %q: input %q has shape %v; want %v", m.name, m.inputs[i].name, got, want)
		}
		if err := toInternal(x, gr.inVals[i]); err != nil {
			return errors.Wrapf(err, "nn: model %q: input %q", m.name, m.inputs[i].name)
		}
	}
	switch {
	case targets == nil && gr.mode == Train:
		return errors.Errorf("nn: model %q: training needs targets (%s)", m.name, gr.targetKinds())
	case targets != nil && len(targets) != len(m.outputs):
		return errors.Errorf("nn: model %q: %d targets for %d outputs", m.name, len(targets), len(m.outputs))
	}
	if targets != nil {
		withLoss := map[int]bool{}
		for _, h := range gr.heads {
			withLoss[h.index] = true
			if err := h.feed(gr, targets[h.index]); err != nil {
				return errors.Wrapf(err, "nn: model %q", m.name)
			}
		}
		for i, t := range targets {
			if !withLoss[i] && (t.Labels != nil || t.Values != nil) {
				return errors.Errorf("nn: model %q: output %q has no loss (SetLoss), but a target was given", m.name, m.outputs[i].name)
			}
		}
	}
	gr.labelled = targets != nil && len(gr.heads) > 0
	return gr.run()
}

// OutputAt is the i-th output ([Model.Outputs]) for the last batch, as [Graph.Output] is
// for the first; nil if i is out of range.
func (gr *Graph) OutputAt(i int) *tensor.Dense {
	if i < 0 || i >= len(gr.outs) {
		return nil
	}
	return denseOf(gr.outs[i])
}

// LossAt is the i-th output's own loss for the last batch, before its weight (0 if it has
// no loss or the run had no targets).
func (gr *Graph) LossAt(i int) float64 {
	if !gr.labelled {
		return 0
	}
	for _, h := range gr.heads {
		if h.index == i {
			return scalarValue(h.value)
		}
	}
	return 0
}

func scalarValue(n *G.Node) float64 {
	if n == nil || n.Value() == nil {
		return 0
	}
	switch v := n.Value().(type) {
	case *G.F32:
		return float64(*v)
	case *G.F64:
		return float64(*v)
	}
	return 0
}

func setLabels(d *tensor.Dense, labels []int) {
	switch s := d.Data().(type) {
	case []float32:
		for i := range s {
			s[i] = 0
			if labels != nil {
				s[i] = float32(labels[i])
			}
		}
	case []float64:
		for i := range s {
			s[i] = 0
			if labels != nil {
				s[i] = float64(labels[i])
			}
		}
	}
}

// toInternal copies an NHWC (or [N,F]) batch into an NCHW (or [N,F]) tensor, converting
// the element type.
func toInternal(x tensor.Tensor, dst *tensor.Dense) error {
	if x.Shape().TotalSize() != dst.Size() {
		return errors.Errorf("%d values for %d", x.Shape().TotalSize(), dst.Size())
	}
	s := x.Shape()
	n, h, w, c := s[0], 1, 1, dst.Size()/s[0]
	if len(s) == 4 {
		h, w, c = s[1], s[2], s[3]
	}
	switch src := x.Data().(type) {
	case []float32:
		nhwcToNCHW(src, dst, n, h, w, c)
	case []float64:
		nhwcToNCHW(src, dst, n, h, w, c)
	default:
		return errors.Errorf("dtype %v is not float32 or float64", x.Dtype())
	}
	return nil
}

func nhwcToNCHW[S float32 | float64](src []S, dst *tensor.Dense, n, h, w, c int) {
	switch d := dst.Data().(type) {
	case []float32:
		transposeNHWC(src, d, n, h, w, c)
	case []float64:
		transposeNHWC(src, d, n, h, w, c)
	}
}

// transposeNHWC writes src [n,h,w,c] into dst [n,c,h,w] (a plain copy when c is 1).
func transposeNHWC[S, D float32 | float64](src []S, dst []D, n, h, w, c int) {
	if c == 1 {
		for i, v := range src {
			dst[i] = D(v)
		}
		return
	}
	hw := h * w
	for in := 0; in < n; in++ {
		for p := 0; p < hw; p++ {
			for ic := 0; ic < c; ic++ {
				dst[(in*c+ic)*hw+p] = D(src[(in*hw+p)*c+ic])
			}
		}
	}
}

// Output is the model's output for the last batch: [batch, classes] probabilities for a
// classifier ending in softmax; images come back NCHW. The graph writes every run into the
// same tensors, so Output, [Graph.Logits] and [Graph.Grad] hold the last run's values
// until the next [Graph.Run]: copy what must outlive it.
func (gr *Graph) Output() *tensor.Dense { return denseOf(gr.output) }

// Logits is the input of the final softmax (or the output if there is none).
func (gr *Graph) Logits() *tensor.Dense { return denseOf(gr.logits) }

// Loss is the total loss of the last batch: the mean cross-entropy of a classifier, or
// the weighted sum of the outputs' losses ([Model.SetLoss]); 0 when it ran without
// labels or targets, or the model has no loss.
func (gr *Graph) Loss() float64 {
	if !gr.labelled {
		return 0
	}
	return scalarValue(gr.loss)
}

// GradParams lists the parameters the graph computes gradients for, in model order.
func (gr *Graph) GradParams() []*Param { return append([]*Param(nil), gr.gradParams...) }

// Grad returns the gradient of the loss for the named parameter after a [Train] run, or
// nil if the parameter is frozen or unknown.
func (gr *Graph) Grad(param string) *tensor.Dense {
	for i, p := range gr.gradParams {
		if p.Name == param {
			return denseOf(gr.grads[i])
		}
	}
	return nil
}

// ExprGraph is the underlying Gorgonia graph. After a run, only the values of the nodes
// that [Graph.Output], [Graph.Logits], [Graph.Loss] and [Graph.Grad] read (and the input,
// labels and parameters) are sure to be the last run's: other nodes share memory, and a
// value read from an intermediate node is valid until the next op that reuses its buffer.
func (gr *Graph) ExprGraph() *G.ExprGraph { return gr.g }

// Node returns a graph node by role: "input", "labels", "output", "logits", "loss", or a
// parameter's name; nil if there is none.
func (gr *Graph) Node(name string) *G.Node {
	switch name {
	case "input":
		return gr.input
	case "labels":
		return gr.labels
	case "output":
		return gr.output
	case "logits":
		return gr.logits
	case "loss":
		return gr.loss
	}
	return gr.params[name]
}

// Buffers says how the graph's ops share output memory: every op but those whose values
// Output, Logits, Loss and Grad read writes into a buffer it shares with ops whose values
// are not alive at the same time (see graph.ShareBuffers).
func (gr *Graph) Buffers() graph.BufferStats { return gr.machine.Buffers() }

// Instructions lists the compiled program; tests count backward ops in it.
func (gr *Graph) Instructions() []string { return gr.machine.Instructions() }

func denseOf(n *G.Node) *tensor.Dense {
	if n == nil {
		return nil
	}
	d, _ := n.Value().(*tensor.Dense)
	return d
}
