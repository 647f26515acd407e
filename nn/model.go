package nn

import (
	"fmt"
	"strings"
	"sync"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/preprocess"
)

// node is one placed layer of a model.
type node struct {
	name   string // full path: "block1/conv1"
	layer  *Layer
	inputs []*node
	out    Shape
	params []*Param
}

func (m *Model) isOutput(n *node) bool {
	for _, o := range m.outputs {
		if o == n {
			return true
		}
	}
	return false
}

func (n *node) String() string { return fmt.Sprintf("layer %q (%s)", n.name, n.layer.kind) }

// Model is a network: layers wired into a directed acyclic graph from one or more inputs
// to one or more outputs, and their parameters. Make one with [Sequential] or a [Builder].
//
// # Concurrency
//
// Reading a model (Name, shapes, Layers, Params, Spec, Summary) and the inference calls
// [Model.Compile], [Model.Acquire], [Model.Release] and [Model.Predict] are safe from any
// number of goroutines at once. Calls that change the model ([Model.Initialize],
// [Model.SetDType], [Model.Freeze], [Model.Unfreeze], loading weights into it) and
// training steps (a [Train] graph's Run, an optimizer's Step), which write the parameters
// in place, must not overlap any other use of the model. To serve a model while it
// trains, serve a snapshot: [NewPredictor] copies the parameters.
type Model struct {
	name    string
	nodes   []*node // topological order; nodes[0] is the first input
	inputs  []*node // in the order they were placed
	outputs []*node // in the order given to Builder.Model
	output  *node   // outputs[0]
	losses  map[*node]OutputLoss
	nested  []string // blocks that hold a whole model placed by Builder.Call
	params  []*Param
	byName  map[string]*Param
	dtype   tensor.Dtype
	seed    uint64
	// exampleWeights compiles every built-in loss with per-example weights.
	exampleWeights bool

	mu    sync.Mutex         // guards cache, pool and pre
	pre   *preprocess.Config // nil: the default for the input shape
	cache map[compileKey]*compileEntry
	pool  *graphPool // eval graphs for Acquire and Predict, made on first use
}

// Name is the model's name.
func (m *Model) Name() string { return m.name }

// InputShape is the shape of one input example, (height, width, channels) for images; for
// a model with several inputs, the first one's (see [Model.Inputs]).
func (m *Model) InputShape() Shape { return append(Shape(nil), m.nodes[0].out...) }

// OutputShape is the shape of one output example, (classes) for a classifier; for a model
// with several outputs, the first one's (see [Model.Outputs]).
func (m *Model) OutputShape() Shape { return append(Shape(nil), m.output.out...) }

// Port is one input or output of a model: its layer's name and one example's shape.
type Port struct {
	Name  string
	Shape Shape
}

// Inputs lists the model's inputs in the order they were declared: the order
// [Graph.RunMulti] takes their tensors in.
func (m *Model) Inputs() []Port {
	out := make([]Port, len(m.inputs))
	for i, n := range m.inputs {
		out[i] = Port{n.name, append(Shape(nil), n.out...)}
	}
	return out
}

// Outputs lists the model's outputs in the order given to [Builder.Model]: the order
// of [Graph.OutputAt] and of the targets [Graph.RunMulti] takes.
func (m *Model) Outputs() []Port {
	out := make([]Port, len(m.outputs))
	for i, n := range m.outputs {
		out[i] = Port{n.name, append(Shape(nil), n.out...)}
	}
	return out
}

// DType is the parameters' element type (float32 unless [Model.SetDType] changed it).
func (m *Model) DType() tensor.Dtype { return m.dtype }

// Layers lists the model's layers in topological order, without the input.
func (m *Model) Layers() []LayerInfo {
	var out []LayerInfo
	for _, n := range m.nodes[1:] {
		if n.layer.kind == "InputLayer" {
			continue
		}
		info := LayerInfo{Name: n.name, Kind: n.layer.kind, Config: n.layer.cfg, OutputShape: n.out}
		for _, in := range n.inputs {
			info.Inputs = append(info.Inputs, in.name)
		}
		for _, p := range n.params {
			info.Params = append(info.Params, p.Name)
		}
		out = append(out, info)
	}
	return out
}

// LayerInfo describes one layer of a model.
type LayerInfo struct {
	Name        string
	Kind        string
	Config      Config
	Inputs      []string
	OutputShape Shape
	Params      []string
}

// Builder wires layers into a model of any shape, as Keras's functional API does:
//
//	b := nn.NewBuilder("tiny-resnet")
//	x := b.Input(32, 32, 3)
//	y := b.Apply(nn.Conv2D(16, 3, nn.Padding(nn.Same)), x)
//	blk := b.Block("block1")
//	z := blk.Apply(nn.Conv2D(16, 3, nn.Padding(nn.Same), nn.Name("conv1")), y)
//	z = blk.Apply(nn.Add(), y, z)
//	m, err := b.Model(z)
//
// The first error stops the build and is returned by [Builder.Model], naming the layer.
type Builder struct {
	st     *buildState
	prefix string
}

type buildState struct {
	name   string
	nodes  []*node
	names  map[string]bool
	counts map[string]int
	params int // values of all parameters declared so far, bounded by maxParams
	nested []string
	err    error
}

// Tensor is a symbolic output of a layer inside a [Builder].
type Tensor struct{ n *node }

// Shape is the tensor's example shape; nil after an error.
func (t Tensor) Shape() Shape {
	if t.n == nil {
		return nil
	}
	return append(Shape(nil), t.n.out...)
}

// NewBuilder starts a model called name.
func NewBuilder(name string) *Builder {
	return &Builder{st: &buildState{name: name, names: map[string]bool{}, counts: map[string]int{}}}
}

// Block returns a builder whose layers are named under path (a nested block such as
// "stage2/block1"); it shares the model with b.
func (b *Builder) Block(path string) *Builder {
	path = strings.Trim(path, "/")
	if path == "" {
		return b
	}
	return &Builder{st: b.st, prefix: b.prefix + path + "/"}
}

// Err is the first error met so far.
func (b *Builder) Err() error { return b.st.err }

// Input declares an input of the model, one example's shape in Keras's order. A model may
// have several; they are fed in the order they are declared.
func (b *Builder) Input(shape ...int) Tensor {
	return b.Apply(Input(shape...))
}

// Apply places layer l on the inputs and returns its output. It checks l's configuration
// and infers its output shape now; an error is kept and reported by [Builder.Model].
func (b *Builder) Apply(l *Layer, inputs ...Tensor) Tensor {
	st := b.st
	if st.err != nil {
		return Tensor{}
	}
	n, err := b.place(l, inputs)
	if err != nil {
		st.err = err
		return Tensor{}
	}
	st.nodes = append(st.nodes, n)
	return Tensor{n}
}

func (b *Builder) place(l *Layer, inputs []Tensor) (*node, error) {
	st := b.st
	if l == nil {
		return nil, errors.New("nn: nil layer")
	}
	k := kinds[l.kind]
	name := l.cfg.Name
	if name == "" {
		name = k.keras
		if c := st.counts[b.prefix+k.keras]; c > 0 {
			name = fmt.Sprintf("%s_%d", k.keras, c)
		}
		st.counts[b.prefix+k.keras]++
	}
	n := &node{name: b.prefix + name, layer: l}
	fail := func(err error) (*node, error) { return nil, errors.Wrap(n.errorf(err), "nn") }
	if l.err != nil {
		return fail(l.err)
	}
	if err := checkConfig(&l.cfg); err != nil {
		return fail(err)
	}
	if st.names[n.name] {
		return fail(errors.New("name used twice"))
	}
	if k.check != nil {
		if err := k.check(&l.cfg); err != nil {
			return fail(err)
		}
	}
	switch {
	case k.arity == 0 && len(inputs) > 0:
		return fail(errors.New("an input takes no inputs"))
	case k.arity == 0:
		if len(l.cfg.Shape) == 0 {
			return fail(errors.New("input shape is empty"))
		}
		for _, d := range l.cfg.Shape {
			if d <= 0 {
				return fail(errors.Errorf("input shape %v must be positive", l.cfg.Shape))
			}
		}
		if len(l.cfg.Shape) != 1 && len(l.cfg.Shape) != 3 {
			return fail(errors.Errorf("input shape %v must be (features) or (height, width, channels)", l.cfg.Shape))
		}
		if _, ok := sizeWithin(l.cfg.Shape, maxExampleValues); !ok {
			return fail(errors.Errorf("input shape %v has more than %d values", l.cfg.Shape, maxExampleValues))
		}
		n.out = append(Shape(nil), l.cfg.Shape...)
	case len(st.nodes) == 0:
		return fail(errors.New("the model has no input yet: start with Input"))
	case k.arity == -1 && len(inputs) < 2:
		return fail(errors.Errorf("needs two or more inputs, got %d", len(inputs)))
	case k.arity > 0 && len(inputs) != k.arity:
		return fail(errors.Errorf("needs %d input%s, got %d", k.arity, map[bool]string{true: "s"}[k.arity > 1], len(inputs)))
	}
	if len(inputs) > maxFanIn {
		return fail(errors.Errorf("%d inputs: more than the limit of %d", len(inputs), maxFanIn))
	}
	if len(st.nodes) > maxLayers {
		return fail(errors.Errorf("the model already has %d layers, the limit", maxLayers))
	}
	var shapes []Shape
	for i, in := range inputs {
		if in.n == nil {
			return fail(errors.Errorf("input %d is not the output of a layer", i))
		}
		if !st.has(in.n) {
			return fail(errors.Errorf("input %d comes from another model", i))
		}
		n.inputs = append(n.inputs, in.n)
		shapes = append(shapes, in.n.out)
	}
	if k.out != nil {
		out, err := k.out(&l.cfg, shapes)
		if err != nil {
			return fail(err)
		}
		for _, d := range out {
			if d <= 0 {
				return fail(errors.Errorf("output shape %v is empty", out))
			}
		}
		if _, ok := sizeWithin(out, maxExampleValues); !ok {
			return fail(errors.Errorf("output shape %v has more than %d values per example", out, maxExampleValues))
		}
		n.out = out
	}
	if k.params != nil {
		for _, d := range k.params(&l.cfg, shapes) {
			size, ok := sizeWithin(d.shape, maxParams-st.params)
			if !ok {
				return fail(errors.Errorf("parameter %q of shape %v would take the model over the limit of %d parameters",
					d.name, []int(d.shape), maxParams))
			}
			st.params += size
			n.params = append(n.params, &Param{Name: n.name + "/" + d.name, Layer: n.name,
				Trainable: !d.stat && !l.cfg.Frozen, Stat: d.stat, decl: d})
		}
	}
	for _, other := range st.nodes {
		if other.layer == l {
			return fail(errors.New("this Layer value is already placed; make a new one for each place"))
		}
	}
	st.names[n.name] = true
	return n, nil
}

func (st *buildState) has(n *node) bool {
	for _, o := range st.nodes {
		if o == n {
			return true
		}
	}
	return false
}

// Model finishes the build with the given outputs (one or more, Keras's
// Model(inputs, outputs)), allocates the parameters and initializes them with seed 1 (see
// [Model.Initialize]). The model's inputs are the inputs the outputs depend on, in the
// order they were declared. Model may be called again for other outputs (a feature
// extractor over a classifier's layers, say): the models share the parameters of their
// common layers, values included, and parameters that already have values keep them.
func (b *Builder) Model(outputs ...Tensor) (*Model, error) {
	st := b.st
	if st.err != nil {
		return nil, st.err
	}
	if len(st.nodes) == 0 {
		return nil, errors.Errorf("nn: model %q has no input", st.name)
	}
	if len(outputs) == 0 {
		return nil, errors.Errorf("nn: model %q: no output given", st.name)
	}
	m := &Model{name: st.name, byName: map[string]*Param{}, dtype: tensor.Float32,
		cache: map[compileKey]*compileEntry{}}
	// Keep only the layers the outputs depend on, in the order they were placed.
	needed := map[*node]bool{}
	var mark func(n *node)
	mark = func(n *node) {
		if needed[n] {
			return
		}
		needed[n] = true
		for _, in := range n.inputs {
			mark(in)
		}
	}
	for i, o := range outputs {
		if o.n == nil || !st.has(o.n) {
			return nil, errors.Errorf("nn: model %q: output %d is not a layer of this model", st.name, i)
		}
		for _, prev := range m.outputs {
			if prev == o.n {
				return nil, errors.Errorf("nn: model %q: layer %q is given as an output twice", st.name, o.n.name)
			}
		}
		m.outputs = append(m.outputs, o.n)
		mark(o.n)
	}
	m.output = m.outputs[0]
	for _, n := range st.nodes {
		if needed[n] {
			m.nodes = append(m.nodes, n)
			m.params = append(m.params, n.params...)
			if n.layer.kind == "InputLayer" {
				m.inputs = append(m.inputs, n)
			}
		}
	}
	for _, p := range st.nested {
		for _, n := range m.nodes {
			if strings.HasPrefix(n.name, p+"/") {
				m.nested = append(m.nested, p)
				break
			}
		}
	}
	fresh := false
	for _, p := range m.params {
		m.byName[p.Name] = p
		fresh = fresh || p.Value == nil
	}
	if fresh {
		// Initialize only parameters no earlier model of this builder has: models built
		// from one Builder share their common layers' parameters, values included.
		if err := m.initialize(1, true); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Sequential stacks layers into a model, each layer's output feeding the next; the first
// layer must be [Input]. The model is initialized with seed 1.
func Sequential(name string, layers ...*Layer) (*Model, error) {
	b := NewBuilder(name)
	if len(layers) == 0 || layers[0] == nil || layers[0].kind != "InputLayer" {
		return nil, errors.Errorf("nn: model %q: the first layer must be nn.Input(shape...)", name)
	}
	x := b.Apply(layers[0])
	for _, l := range layers[1:] {
		x = b.Apply(l, x)
	}
	return b.Model(x)
}
