package nn

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
)

// Groups cuts a [Conv2D]'s input channels and filters into g equal groups, each group of
// filters seeing only its group of channels (Keras's Conv2D groups, PyTorch's Conv2d
// groups; ResNeXt's and ShuffleNet's grouped convolutions). The kernel is then [filters,
// channels/g, kh, kw] inside: g times fewer weights and multiply-adds. g must divide both
// the input's channels and the filters; the default is 1. For one group per channel,
// [DepthwiseConv2D] is the faster layer.
func Groups(g int) Option {
	return opt("Groups", func(c *Config) error {
		if g <= 0 || g > maxExampleValues {
			return errors.Errorf("groups %d must be positive", g)
		}
		c.Groups = g
		return nil
	})
}

func (c *Config) groups() int {
	if c.Groups <= 0 {
		return 1
	}
	return c.Groups
}

var conv2DOptions = append(append([]string(nil), convOptions...), "Groups")

func checkConv2D(c *Config) error {
	if c.Groups < 0 || c.Groups > maxExampleValues {
		return errors.Errorf("groups %d must be positive", c.Groups)
	}
	return checkConv(c)
}

// DepthwiseConv2D convolves each input channel with its own kernel x kernel filters
// (MobileNet's depthwise convolution, Keras's DepthwiseConv2D): [DepthMultiplier] M
// filters per channel give C*M output channels, channel c's filters making outputs c*M
// to c*M+M-1. Its parameters are "depthwise_kernel" ([C*M, 1, kh, kw] inside, Keras's
// (kh, kw, C, M)) and "bias". Options: those of [Conv2D] and [DepthMultiplier].
func DepthwiseConv2D(kernel int, opts ...Option) *Layer {
	return newLayer("DepthwiseConv2D", Config{KernelSize: []int{kernel, kernel}}, opts)
}

// SeparableConv2D is a depthwise convolution (see [DepthwiseConv2D]) followed by a 1x1
// convolution to filters channels, with one bias and activation at the end (Keras's
// SeparableConv2D): a MobileNet block in one layer. Its parameters are
// "depthwise_kernel", "pointwise_kernel" ([filters, C*M, 1, 1]) and "bias";
// [KernelInitializer] draws both kernels. Options: those of [Conv2D] and
// [DepthMultiplier].
func SeparableConv2D(filters, kernel int, opts ...Option) *Layer {
	return newLayer("SeparableConv2D", Config{Filters: filters, KernelSize: []int{kernel, kernel}}, opts)
}

// DepthMultiplier sets how many filters a depthwise convolution applies to each input
// channel (default 1).
func DepthMultiplier(m int) Option {
	return opt("DepthMultiplier", func(c *Config) error {
		if m <= 0 {
			return errors.Errorf("depth multiplier %d must be positive", m)
		}
		c.DepthMultiplier = m
		return nil
	})
}

func (c *Config) depthMultiplier() int {
	if c.DepthMultiplier == 0 {
		return 1
	}
	return c.DepthMultiplier
}

var depthwiseOptions = append(append([]string(nil), convOptions...), "DepthMultiplier")

var depthwiseKind = kind{keras: "depthwise_conv2d", options: depthwiseOptions, arity: 1,
	check: func(c *Config) error { return checkDepthwise(c, false) }, out: depthwiseOut,
	params: depthwiseParams, apply: depthwiseApply}

var separableKind = kind{keras: "separable_conv2d", options: depthwiseOptions, arity: 1,
	check: func(c *Config) error { return checkDepthwise(c, true) }, out: depthwiseOut,
	params: depthwiseParams, apply: depthwiseApply}

func checkDepthwise(c *Config, separable bool) error {
	if separable && c.Filters <= 0 {
		return errors.Errorf("filters %d must be positive", c.Filters)
	}
	if !separable && c.Filters != 0 {
		return errors.Errorf("filters %d: a depthwise convolution's outputs are set by its depth multiplier", c.Filters)
	}
	if len(c.KernelSize) != 2 || c.KernelSize[0] <= 0 || c.KernelSize[1] <= 0 {
		return errors.Errorf("kernel size %v must be positive", c.KernelSize)
	}
	if c.DepthMultiplier < 0 || c.DepthMultiplier > maxExampleValues {
		return errors.Errorf("depth multiplier %d must be positive", c.DepthMultiplier)
	}
	return nil
}

func depthwiseOut(c *Config, in []Shape) (Shape, error) {
	if len(in[0]) != 3 {
		return nil, errors.Errorf("input %v is not an image (height, width, channels)", in[0])
	}
	if c.Activation == Softmax {
		return nil, errors.New("softmax needs a flat output (classes); use it on Dense")
	}
	s, d := c.strides([]int{1, 1}), c.dilation()
	p := c.pads(in[0][0], in[0][1], c.KernelSize[0], c.KernelSize[1], s, d)
	oh, ow, err := window("kernel", in[0], c.KernelSize, s, d, p)
	if err != nil {
		return nil, err
	}
	ch, ok := sizeWithin([]int{in[0][2], c.depthMultiplier()}, maxExampleValues)
	if !ok {
		return nil, errors.Errorf("%d channels times depth multiplier %d is too many channels", in[0][2], c.depthMultiplier())
	}
	if c.Filters > 0 {
		ch = c.Filters
	}
	return Shape{oh, ow, ch}, nil
}

func depthwiseParams(c *Config, in []Shape) []paramDecl {
	ch, kh, kw, m := in[0][2], c.KernelSize[0], c.KernelSize[1], c.depthMultiplier()
	// Keras's fans for a (kh, kw, C, M) kernel: C*kh*kw in, M*kh*kw out.
	ps := []paramDecl{{name: "depthwise_kernel", shape: tensor.Shape{ch * m, 1, kh, kw}, init: c.kernelInit(),
		fanIn: ch * kh * kw, fanOut: m * kh * kw}}
	out := ch * m
	if c.Filters > 0 {
		out = c.Filters
		ps = append(ps, paramDecl{name: "pointwise_kernel", shape: tensor.Shape{c.Filters, ch * m, 1, 1}, init: c.kernelInit(),
			fanIn: ch * m, fanOut: c.Filters})
	}
	if c.useBias() {
		ps = append(ps, paramDecl{name: "bias", shape: tensor.Shape{out}, init: c.biasInit()})
	}
	return ps
}

func depthwiseApply(a *applier, c *Config, in []*G.Node) (*G.Node, error) {
	x := in[0]
	xs := x.Shape()
	s, d := c.strides([]int{1, 1}), c.dilation()
	p := c.pads(xs[2], xs[3], c.KernelSize[0], c.KernelSize[1], s, d)
	y, err := graph.DepthwiseConv2D(x, a.param("depthwise_kernel"), graph.Conv2DConfig{StrideH: s[0], StrideW: s[1],
		DilationH: d[0], DilationW: d[1], Pad: p})
	if err != nil {
		return nil, err
	}
	if c.Filters > 0 {
		if y, err = graph.Conv2D(y, a.param("pointwise_kernel"), graph.Conv2DConfig{}); err != nil {
			return nil, err
		}
	}
	if c.useBias() {
		if y, err = graph.BiasAdd(y, a.param("bias")); err != nil {
			return nil, err
		}
	}
	return a.activate(y, c.Activation, c.alpha())
}

// Conv2DTranspose is a transposed convolution (Keras's Conv2DTranspose, PyTorch's
// ConvTranspose2d): the gradient of a convolution with respect to its input, used to
// enlarge feature maps with learned weights. With [Valid] padding (the default) an input
// of n cells gives (n-1)*stride + kernel; with [Same], n*stride; with [ExplicitPadding],
// the valid size minus the padding (PyTorch's padding). Its parameters are "kernel"
// ([channels, filters, kh, kw] inside, PyTorch's layout; Keras's is (kh, kw, filters,
// channels)) and "bias". Options: those of [Conv2D].
func Conv2DTranspose(filters, kernel int, opts ...Option) *Layer {
	return newLayer("Conv2DTranspose", Config{Filters: filters, KernelSize: []int{kernel, kernel}}, opts)
}

var convTransposeKind = kind{keras: "conv2d_transpose", options: convOptions, arity: 1,
	check: checkConv, out: convTransposeOut, params: convTransposeParams, apply: convTransposeApply}

// convTransposeSize is the output size of a transposed convolution along one axis; pad
// is the explicit padding of that axis (both sides).
func (c *Config) convTransposeSize(in, k, s, d, pad int) int {
	if c.Padding == Same {
		return in * s
	}
	if c.Padding != Explicit {
		pad = 0
	}
	return (in-1)*s + d*(k-1) + 1 - pad
}

func convTransposeOut(c *Config, in []Shape) (Shape, error) {
	if len(in[0]) != 3 {
		return nil, errors.Errorf("input %v is not an image (height, width, channels)", in[0])
	}
	if c.Activation == Softmax {
		return nil, errors.New("softmax needs a flat output (classes); use it on Dense")
	}
	s, d := c.strides([]int{1, 1}), c.dilation()
	// Bound each factor first so that the sizes below cannot overflow.
	for _, v := range [][]int{{in[0][0], s[0]}, {in[0][1], s[1]}, {d[0], c.KernelSize[0]}, {d[1], c.KernelSize[1]}} {
		if _, ok := sizeWithin(v, maxExampleValues); !ok {
			return nil, errors.Errorf("input %v with strides %v, dilation %v and kernel %v makes too large an output", in[0], s, d, c.KernelSize)
		}
	}
	var ph, pw int
	if len(c.Pads) == 4 {
		ph, pw = c.Pads[0]+c.Pads[1], c.Pads[2]+c.Pads[3]
	}
	oh := c.convTransposeSize(in[0][0], c.KernelSize[0], s[0], d[0], ph)
	ow := c.convTransposeSize(in[0][1], c.KernelSize[1], s[1], d[1], pw)
	if oh < 1 || ow < 1 {
		return nil, errors.Errorf("padding %v leaves no output of a %dx%d input", c.Pads, in[0][0], in[0][1])
	}
	if _, ok := sizeWithin([]int{c.Filters, c.KernelSize[0], c.KernelSize[1], in[0][0], in[0][1]}, maxExampleValues); !ok {
		return nil, errors.Errorf("kernel %dx%d over %d filters and a %dx%d input needs more than %d values of workspace per example",
			c.KernelSize[0], c.KernelSize[1], c.Filters, in[0][0], in[0][1], maxExampleValues)
	}
	return Shape{oh, ow, c.Filters}, nil
}

func convTransposeParams(c *Config, in []Shape) []paramDecl {
	ch, kh, kw := in[0][2], c.KernelSize[0], c.KernelSize[1]
	// Keras's fans for a (kh, kw, filters, channels) kernel.
	ps := []paramDecl{{name: "kernel", shape: tensor.Shape{ch, c.Filters, kh, kw}, init: c.kernelInit(),
		fanIn: c.Filters * kh * kw, fanOut: ch * kh * kw}}
	if c.useBias() {
		ps = append(ps, paramDecl{name: "bias", shape: tensor.Shape{c.Filters}, init: c.biasInit()})
	}
	return ps
}

func convTransposeApply(a *applier, c *Config, in []*G.Node) (*G.Node, error) {
	out := a.n.out
	s, d := c.strides([]int{1, 1}), c.dilation()
	p := c.pads(out[0], out[1], c.KernelSize[0], c.KernelSize[1], s, d)
	y, err := graph.Conv2DTranspose(in[0], a.param("kernel"), graph.Conv2DTransposeConfig{StrideH: s[0], StrideW: s[1],
		DilationH: d[0], DilationW: d[1], Pad: p, OutH: out[0], OutW: out[1]})
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
