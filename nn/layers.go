package nn

import (
	"fmt"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
)

// Shape is the shape of one example, without the batch axis, in Keras's order: (height,
// width, channels) for images, (features) for vectors.
type Shape []int

// String formats the shape as Keras prints it, with None for the batch: (None, 28, 28, 1).
func (s Shape) String() string {
	out := "(None"
	for _, d := range s {
		out += fmt.Sprintf(", %d", d)
	}
	return out + ")"
}

// Size is the number of values in one example.
func (s Shape) Size() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func (s Shape) equal(o Shape) bool {
	if len(s) != len(o) {
		return false
	}
	for i := range s {
		if s[i] != o[i] {
			return false
		}
	}
	return true
}

// internal is the shape of a batch inside a graph: [N, C, H, W] for images, [N, F] for
// vectors.
func (s Shape) internal(batch int) tensor.Shape {
	if len(s) == 3 {
		return tensor.Shape{batch, s[2], s[0], s[1]}
	}
	return append(tensor.Shape{batch}, s...)
}

// A Layer is one configured layer, made by a constructor such as [Conv2D] and placed in a
// model by [Sequential] or [Builder.Apply]. A Layer value can be placed once.
type Layer struct {
	kind string
	cfg  Config
	err  error
}

// Kind is the layer's type name as Keras spells it: "Conv2D", "Dense", ...
func (l *Layer) Kind() string { return l.kind }

// Config returns the layer's configuration.
func (l *Layer) Config() Config { return l.cfg }

func newLayer(kind string, cfg Config, opts []Option) *Layer {
	l := &Layer{kind: kind, cfg: cfg}
	k, ok := kinds[kind]
	if !ok {
		l.err = fmt.Errorf("unknown layer type %q", kind)
		return l
	}
	l.err = applyOptions(kind, k.options, &l.cfg, opts)
	return l
}

// Input declares the model's input: one example's shape in Keras's order, e.g. (28, 28,
// 1) for a grayscale image or (784) for a vector. It must come first in [Sequential].
func Input(shape ...int) *Layer {
	return newLayer("InputLayer", Config{Shape: append([]int(nil), shape...)}, nil)
}

// Conv2D is a 2-D convolution with filters output channels and a kernel x kernel window
// ([KernelSize] for a non-square one). Options: [Padding], [ExplicitPadding], [Strides],
// [Dilation], [Groups], [Activation], [Alpha], [UseBias], [KernelInitializer],
// [BiasInitializer].
func Conv2D(filters, kernel int, opts ...Option) *Layer {
	return newLayer("Conv2D", Config{Filters: filters, KernelSize: []int{kernel, kernel}}, opts)
}

// KernelSize sets a convolution's window to h x w, overriding the square size.
func KernelSize(h, w int) Option {
	return opt("KernelSize", func(c *Config) (err error) {
		c.KernelSize, err = pair("kernel size", []int{h, w})
		return err
	})
}

// PoolSize sets a pooling window to h x w, overriding the square size.
func PoolSize(h, w int) Option {
	return opt("PoolSize", func(c *Config) (err error) {
		c.PoolSize, err = pair("pool size", []int{h, w})
		return err
	})
}

// MaxPool2D keeps the maximum of each pool x pool window. Options: [PoolSize],
// [Strides] (default: the pool size), [Padding], [ExplicitPadding].
func MaxPool2D(pool int, opts ...Option) *Layer {
	return newLayer("MaxPooling2D", Config{PoolSize: []int{pool, pool}}, opts)
}

// AvgPool2D averages each pool x pool window; padded cells are not counted. Options as
// for [MaxPool2D].
func AvgPool2D(pool int, opts ...Option) *Layer {
	return newLayer("AveragePooling2D", Config{PoolSize: []int{pool, pool}}, opts)
}

// GlobalAvgPool2D averages each channel over the whole image: (H, W, C) to (C).
func GlobalAvgPool2D(opts ...Option) *Layer {
	return newLayer("GlobalAveragePooling2D", Config{}, opts)
}

// Dense is a fully connected layer with the given number of units on a flat input
// (add [Flatten] after images). Options: [Activation], [Alpha], [UseBias],
// [KernelInitializer], [BiasInitializer].
func Dense(units int, opts ...Option) *Layer {
	return newLayer("Dense", Config{Units: units}, opts)
}

// Flatten turns each example into a vector (channel, row, column order for images).
func Flatten(opts ...Option) *Layer { return newLayer("Flatten", Config{}, opts) }

// Dropout zeroes a fraction rate of its inputs during training and scales the rest by
// 1/(1-rate); at inference it passes its input through.
func Dropout(rate float64, opts ...Option) *Layer {
	return newLayer("Dropout", Config{Rate: rate}, opts)
}

// BatchNorm normalises each channel (of an image) or feature (of a vector) with batch
// statistics in training and moving averages in inference, then scales by gamma and
// shifts by beta. Options: [Momentum] (default 0.99), [Epsilon] (default 1e-3).
func BatchNorm(opts ...Option) *Layer { return newLayer("BatchNormalization", Config{}, opts) }

// Add sums two or more inputs of the same shape (the join of a residual block).
func Add(opts ...Option) *Layer { return newLayer("Add", Config{}, opts) }

// paramDecl declares one parameter of a layer.
type paramDecl struct {
	name          string       // local: "kernel"
	shape         tensor.Shape // in the graph's layout
	init          Initializer
	fanIn, fanOut int
	stat          bool // a moving statistic: never trainable
}

// kind is what the model needs to know about one layer type.
type kind struct {
	keras   string   // Keras's default-name stem: conv2d
	options []string // options the layer takes besides Name and Trainable
	arity   int      // inputs; -1: two or more
	check   func(c *Config) error
	out     func(c *Config, in []Shape) (Shape, error)
	params  func(c *Config, in []Shape) []paramDecl
	apply   func(a *applier, c *Config, in []*G.Node) (*G.Node, error)
}

var convOptions = []string{"Padding", "Strides", "Dilation", "Activation", "Alpha", "UseBias", "KernelInitializer", "BiasInitializer", "KernelSize"}
var poolOptions = []string{"PoolSize", "Strides", "Padding"}

var kinds map[string]kind

func init() {
	kinds = map[string]kind{
		"InputLayer": {keras: "input", arity: 0},
		"Conv2D": {keras: "conv2d", options: conv2DOptions, arity: 1,
			check: checkConv2D, out: convOut, params: convParams, apply: convApply},
		"MaxPooling2D": {keras: "max_pooling2d", options: poolOptions, arity: 1,
			check: checkPool, out: poolOut, apply: poolApply(true)},
		"AveragePooling2D": {keras: "average_pooling2d", options: poolOptions, arity: 1,
			check: checkPool, out: poolOut, apply: poolApply(false)},
		"GlobalAveragePooling2D": {keras: "global_average_pooling2d", arity: 1,
			out: func(c *Config, in []Shape) (Shape, error) {
				if len(in[0]) != 3 {
					return nil, errors.Errorf("input %v is not an image (height, width, channels)", in[0])
				}
				return Shape{in[0][2]}, nil
			},
			apply: func(a *applier, c *Config, in []*G.Node) (*G.Node, error) { return graph.GlobalAvgPool2D(in[0]) }},
		"Dense": {keras: "dense", options: []string{"Activation", "Alpha", "UseBias", "KernelInitializer", "BiasInitializer"}, arity: 1,
			check: func(c *Config) error {
				if c.Units <= 0 {
					return errors.Errorf("units %d must be positive", c.Units)
				}
				return nil
			},
			out: func(c *Config, in []Shape) (Shape, error) {
				if len(in[0]) != 1 {
					return nil, errors.Errorf("input %v is not flat: Dense takes (features); add Flatten first", in[0])
				}
				return Shape{c.Units}, nil
			},
			params: func(c *Config, in []Shape) []paramDecl {
				ps := []paramDecl{{name: "kernel", shape: tensor.Shape{in[0][0], c.Units}, init: c.kernelInit(), fanIn: in[0][0], fanOut: c.Units}}
				if c.useBias() {
					ps = append(ps, paramDecl{name: "bias", shape: tensor.Shape{c.Units}, init: c.biasInit()})
				}
				return ps
			},
			apply: denseApply},
		"Flatten": {keras: "flatten", arity: 1,
			out:   func(c *Config, in []Shape) (Shape, error) { return Shape{in[0].Size()}, nil },
			apply: func(a *applier, c *Config, in []*G.Node) (*G.Node, error) { return graph.Flatten(in[0]) }},
		"Dropout": {keras: "dropout", arity: 1,
			check: func(c *Config) error {
				if c.Rate < 0 || c.Rate >= 1 {
					return errors.Errorf("rate %v must be in [0, 1)", c.Rate)
				}
				return nil
			},
			out:   sameShape,
			apply: dropoutApply},
		"BatchNormalization": {keras: "batch_normalization", options: []string{"Momentum", "Epsilon"}, arity: 1,
			out: func(c *Config, in []Shape) (Shape, error) {
				if len(in[0]) != 1 && len(in[0]) != 3 {
					return nil, errors.Errorf("input %v must be (features) or (height, width, channels)", in[0])
				}
				return in[0], nil
			},
			params: bnParams, apply: bnApply},
		"Activation":         activationKind,
		"ZeroPadding2D":      zeroPaddingKind,
		"Cropping2D":         croppingKind,
		"Reshape":            reshapeKind,
		"GlobalMaxPooling2D": globalMaxPoolKind,
		"DepthwiseConv2D":    depthwiseKind,
		"SeparableConv2D":    separableKind,
		"UpSampling2D":       upsampleKind,
		"Conv2DTranspose":    convTransposeKind,
		"PReLU":              preluKind,
		"Resizing":           resizingKind,
		"Concatenate":        concatenateKind,
		"Multiply":           multiplyKind,
		"Average":            averageKind,
		"Maximum":            maximumKind,
		"Subtract":           subtractKind,
		"Add": {keras: "add", arity: -1,
			out: func(c *Config, in []Shape) (Shape, error) {
				for _, s := range in[1:] {
					if !s.equal(in[0]) {
						return nil, errors.Errorf("inputs have different shapes %v and %v", in[0], s)
					}
				}
				return in[0], nil
			},
			apply: func(a *applier, c *Config, in []*G.Node) (*G.Node, error) {
				y := in[0]
				for _, x := range in[1:] {
					var err error
					if y, err = graph.Add(y, x); err != nil {
						return nil, err
					}
				}
				return y, nil
			}},
	}
}

func sameShape(c *Config, in []Shape) (Shape, error) { return in[0], nil }

func (c *Config) useBias() bool { return c.UseBias == nil || *c.UseBias }

func (c *Config) kernelInit() Initializer {
	if c.KernelInit == "" {
		return GlorotUniform
	}
	return c.KernelInit
}

func (c *Config) biasInit() Initializer {
	if c.BiasInit == "" {
		return Zeros
	}
	return c.BiasInit
}

func (c *Config) alpha() float64 {
	if c.Alpha == 0 && c.Activation == ELU {
		return 1
	}
	if c.Alpha == 0 {
		return 0.3
	}
	return c.Alpha
}

func (c *Config) momentum() float64 {
	if c.Momentum == 0 {
		return 0.99
	}
	return c.Momentum
}

func (c *Config) epsilon() float64 {
	if c.Epsilon == 0 {
		return 1e-3
	}
	return c.Epsilon
}

func (c *Config) strides(def []int) []int {
	if len(c.Strides) == 2 {
		return c.Strides
	}
	return def
}

func (c *Config) dilation() []int {
	if len(c.Dilation) == 2 {
		return c.Dilation
	}
	return []int{1, 1}
}

// pads resolves the padding for an input of h x w and a window of kh x kw (dilated).
func (c *Config) pads(h, w, kh, kw int, strides, dil []int) graph.Pad {
	switch c.Padding {
	case Same:
		t, b := graph.SamePad(h, kh, strides[0], dil[0])
		l, r := graph.SamePad(w, kw, strides[1], dil[1])
		return graph.Pad{Top: t, Bottom: b, Left: l, Right: r}
	case Explicit:
		return graph.Pad{Top: c.Pads[0], Bottom: c.Pads[1], Left: c.Pads[2], Right: c.Pads[3]}
	}
	return graph.Pad{}
}

// window computes the output size of a (dilated) window over a padded image.
func window(what string, in Shape, k, strides, dil []int, p graph.Pad) (oh, ow int, err error) {
	if len(in) != 3 {
		return 0, 0, errors.Errorf("input %v is not an image (height, width, channels)", in)
	}
	effH, effW := dil[0]*(k[0]-1)+1, dil[1]*(k[1]-1)+1
	ph, pw := in[0]+p.Top+p.Bottom, in[1]+p.Left+p.Right
	if effH > ph || effW > pw {
		return 0, 0, errors.Errorf("%s %dx%d larger than padded input %dx%d", what, effH, effW, ph, pw)
	}
	return (ph-effH)/strides[0] + 1, (pw-effW)/strides[1] + 1, nil
}

func checkConv(c *Config) error {
	if c.Filters <= 0 {
		return errors.Errorf("filters %d must be positive", c.Filters)
	}
	if len(c.KernelSize) != 2 || c.KernelSize[0] <= 0 || c.KernelSize[1] <= 0 {
		return errors.Errorf("kernel size %v must be positive", c.KernelSize)
	}
	return nil
}

func convOut(c *Config, in []Shape) (Shape, error) {
	if len(in[0]) != 3 {
		return nil, errors.Errorf("input %v is not an image (height, width, channels)", in[0])
	}
	s, d := c.strides([]int{1, 1}), c.dilation()
	p := c.pads(in[0][0], in[0][1], c.KernelSize[0], c.KernelSize[1], s, d)
	oh, ow, err := window("kernel", in[0], c.KernelSize, s, d, p)
	if err != nil {
		return nil, err
	}
	if c.Activation == Softmax {
		return nil, errors.New("softmax needs a flat output (classes); use it on Dense")
	}
	if g := c.groups(); in[0][2]%g != 0 || c.Filters%g != 0 {
		return nil, errors.Errorf("%d groups do not divide the input's %d channels and %d filters", g, in[0][2], c.Filters)
	}
	if _, ok := sizeWithin([]int{in[0][2], c.KernelSize[0], c.KernelSize[1], oh, ow}, maxExampleValues); !ok {
		return nil, errors.Errorf("kernel %dx%d over %d channels and a %dx%d output needs more than %d values of workspace per example",
			c.KernelSize[0], c.KernelSize[1], in[0][2], oh, ow, maxExampleValues)
	}
	return Shape{oh, ow, c.Filters}, nil
}

func convParams(c *Config, in []Shape) []paramDecl {
	ch, kh, kw := in[0][2]/c.groups(), c.KernelSize[0], c.KernelSize[1]
	ps := []paramDecl{{name: "kernel", shape: tensor.Shape{c.Filters, ch, kh, kw}, init: c.kernelInit(),
		fanIn: ch * kh * kw, fanOut: c.Filters * kh * kw}}
	if c.useBias() {
		ps = append(ps, paramDecl{name: "bias", shape: tensor.Shape{c.Filters}, init: c.biasInit()})
	}
	return ps
}

func convApply(a *applier, c *Config, in []*G.Node) (*G.Node, error) {
	x := in[0]
	xs := x.Shape()
	s, d := c.strides([]int{1, 1}), c.dilation()
	p := c.pads(xs[2], xs[3], c.KernelSize[0], c.KernelSize[1], s, d)
	cfg := graph.Conv2DConfig{StrideH: s[0], StrideW: s[1], DilationH: d[0], DilationW: d[1], Pad: p}
	var y *G.Node
	var err error
	switch g := c.groups(); {
	case g > 1 && g == xs[1]:
		// One channel per group is a depthwise convolution (the same kernel layout), whose
		// op is faster for it; an imported ONNX Conv of that grouping is one too.
		y, err = graph.DepthwiseConv2D(x, a.param("kernel"), cfg)
	case g > 1:
		y, err = graph.GroupedConv2D(x, a.param("kernel"), g, cfg)
	default:
		y, err = graph.Conv2D(x, a.param("kernel"), cfg)
	}
	if err != nil {
		return nil, err
	}
	if c.useBias() {
		if y, err = graph.BiasAdd(y, a.param("bias")); err != nil {
			return nil, err
		}
	}
	return a.activate(y, c.Activation, c.alpha())
}

func poolOut(c *Config, in []Shape) (Shape, error) {
	if len(in[0]) != 3 {
		return nil, errors.Errorf("input %v is not an image (height, width, channels)", in[0])
	}
	s := c.strides(c.PoolSize)
	p := c.pads(in[0][0], in[0][1], c.PoolSize[0], c.PoolSize[1], s, []int{1, 1})
	if p.Top >= c.PoolSize[0] || p.Bottom >= c.PoolSize[0] || p.Left >= c.PoolSize[1] || p.Right >= c.PoolSize[1] {
		return nil, errors.Errorf("padding %d,%d,%d,%d must be smaller than the pool size %dx%d",
			p.Top, p.Bottom, p.Left, p.Right, c.PoolSize[0], c.PoolSize[1])
	}
	oh, ow, err := window("pool size", in[0], c.PoolSize, s, []int{1, 1}, p)
	if err != nil {
		return nil, err
	}
	return Shape{oh, ow, in[0][2]}, nil
}

func poolApply(max bool) func(a *applier, c *Config, in []*G.Node) (*G.Node, error) {
	return func(a *applier, c *Config, in []*G.Node) (*G.Node, error) {
		xs := in[0].Shape()
		s := c.strides(c.PoolSize)
		cfg := graph.Pool2DConfig{KH: c.PoolSize[0], KW: c.PoolSize[1], StrideH: s[0], StrideW: s[1],
			Pad: c.pads(xs[2], xs[3], c.PoolSize[0], c.PoolSize[1], s, []int{1, 1})}
		if max {
			return graph.MaxPool2D(in[0], cfg)
		}
		return graph.AvgPool2D(in[0], cfg)
	}
}

func denseApply(a *applier, c *Config, in []*G.Node) (*G.Node, error) {
	y, err := graph.MatMul(in[0], a.param("kernel"))
	if err != nil {
		return nil, err
	}
	if c.useBias() {
		if y, err = graph.BiasAdd(y, a.param("bias")); err != nil {
			return nil, err
		}
	}
	return a.activate(y, c.Activation, c.alpha())
}

func dropoutApply(a *applier, c *Config, in []*G.Node) (*G.Node, error) {
	if a.mode != Train || c.Rate == 0 {
		return in[0], nil
	}
	return graph.Dropout(in[0], graph.DropoutConfig{Rate: c.Rate, Seed: a.seed(), FixedMask: a.fixedMasks, Step: &a.gr.step})
}

func bnParams(c *Config, in []Shape) []paramDecl {
	ch := in[0][len(in[0])-1]
	s := tensor.Shape{ch}
	return []paramDecl{
		{name: "gamma", shape: s, init: Ones},
		{name: "beta", shape: s, init: Zeros},
		{name: "moving_mean", shape: s, init: Zeros, stat: true},
		{name: "moving_variance", shape: s, init: Ones, stat: true},
	}
}

func bnApply(a *applier, c *Config, in []*G.Node) (*G.Node, error) {
	// A frozen BatchNorm runs in inference mode even while the rest trains (Keras's rule).
	if a.mode == Train && !a.frozen {
		st := &graph.BatchNormStats{Mean: a.value("moving_mean"), Variance: a.value("moving_variance"),
			Momentum: c.momentum(), Epsilon: c.epsilon()}
		return graph.BatchNormTrain(in[0], a.param("gamma"), a.param("beta"), st)
	}
	return graph.BatchNormInfer(in[0], a.param("gamma"), a.param("beta"),
		a.param("moving_mean"), a.param("moving_variance"), c.epsilon())
}
