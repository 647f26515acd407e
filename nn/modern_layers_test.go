package nn

import (
	"strings"
	"testing"

	"github.com/convgraph/convgraph/graph"
)

// modernLayersCase is one layer of the MobileNet-era families placed on an input: the
// output shape it must infer, or the error it must give (naming the layer).
type modernLayersCase struct {
	name  string
	input Shape
	layer *Layer
	want  Shape
	err   string
}

func modernLayerCases() []modernLayersCase {
	return []modernLayersCase{
		{"zero_padding2d/1", Shape{5, 6, 2}, ZeroPadding2D(1), Shape{7, 8, 2}, ""},
		{"zero_padding2d/explicit", Shape{5, 6, 2}, ZeroPadding2D(0, ExplicitPadding(1, 2, 0, 3)), Shape{8, 9, 2}, ""},
		{"zero_padding2d/negative", Shape{5, 6, 2}, ZeroPadding2D(-1), nil, `layer "zero_padding2d" (ZeroPadding2D): padding -1 must not be negative`},
		{"zero_padding2d/same", Shape{5, 6, 2}, ZeroPadding2D(1, Padding(Same)), nil, `layer "zero_padding2d" (ZeroPadding2D): padding "same" must be explicit sizes`},
		{"zero_padding2d/flat", Shape{5}, ZeroPadding2D(1), nil, `layer "zero_padding2d" (ZeroPadding2D): input (None, 5) is not an image`},
		{"cropping2d/1", Shape{5, 6, 2}, Cropping2D(1), Shape{3, 4, 2}, ""},
		{"cropping2d/crop", Shape{5, 6, 2}, Cropping2D(0, Crop(1, 0, 2, 1), Name("crop")), Shape{4, 3, 2}, ""},
		{"cropping2d/too-much", Shape{5, 6, 2}, Cropping2D(3), nil, `layer "cropping2d" (Cropping2D): cropping 3,3,3,3 leaves nothing of a 5x6 input`},
		{"cropping2d/negative", Shape{5, 6, 2}, Cropping2D(0, Crop(0, -1, 0, 0)), nil, `cropping [0 -1 0 0] must not be negative`},
		{"reshape/image", Shape{12}, Reshape(Shape{2, 3, 2}), Shape{2, 3, 2}, ""},
		{"reshape/infer", Shape{4, 4, 3}, Reshape(Shape{-1, 2, 6}), Shape{4, 2, 6}, ""},
		{"reshape/flat", Shape{4, 4, 3}, Reshape(Shape{-1}), Shape{48}, ""},
		{"reshape/mismatch", Shape{4, 4, 3}, Reshape(Shape{2, 2, 2}), nil, `layer "reshape" (Reshape): target shape [2 2 2] holds 8 values; the input (None, 4, 4, 3) holds 48`},
		{"reshape/two-holes", Shape{12}, Reshape(Shape{-1, -1, 3}), nil, `target shape [-1 -1 3] may have only one -1`},
		{"reshape/rank2", Shape{12}, Reshape(Shape{3, 4}), nil, `target shape [3 4] must be (features) or (height, width, channels)`},
		{"reshape/indivisible", Shape{12}, Reshape(Shape{5, -1, 1}), nil, `target shape [5 -1 1] does not divide the input's 12 values`},
		{"global_max_pooling2d", Shape{5, 6, 3}, GlobalMaxPool2D(), Shape{3}, ""},
		{"global_max_pooling2d/flat", Shape{5}, GlobalMaxPool2D(), nil, `layer "global_max_pooling2d" (GlobalMaxPooling2D): input (None, 5) is not an image`},
		{"activation/relu6", Shape{3, 3, 2}, Activate(ReLU6), Shape{3, 3, 2}, ""},
		{"activation/elu", Shape{3}, Activate(ELU, Alpha(0.5)), Shape{3}, ""},
		{"activation/gelu", Shape{3}, Activate(GELU), Shape{3}, ""},
		{"activation/swish", Shape{3}, Activate(SiLU), Shape{3}, ""},
		{"activation/softmax-image", Shape{3, 3, 4}, Activate(Softmax), Shape{3, 3, 4}, ""},
		{"activation/softmax-axis", Shape{3, 3, 4}, Activate(Softmax, Axis(1)), Shape{3, 3, 4}, ""},
		{"activation/softmax-axis-out", Shape{3, 3, 4}, Activate(Softmax, Axis(4)), nil, `layer "activation" (Activation): softmax axis 4 is outside the input (None, 3, 3, 4)`},
		{"activation/axis-not-softmax", Shape{3}, Activate(ReLU, Axis(1)), nil, `axis 1 applies only to softmax, not relu`},
		{"activation/axis0", Shape{3}, Activate(Softmax, Axis(0)), nil, `axis 0 is the batch`},
		{"activation/unknown", Shape{3}, Activate("mish"), nil, `unknown activation "mish"`},
		{"conv2d/relu6", Shape{5, 5, 1}, Conv2D(2, 3, Activation(ReLU6)), Shape{3, 3, 2}, ""},
		{"dense/gelu", Shape{5}, Dense(2, Activation(GELU)), Shape{2}, ""},
		{"depthwise_conv2d/same", Shape{8, 8, 3}, DepthwiseConv2D(3, Padding(Same)), Shape{8, 8, 3}, ""},
		{"depthwise_conv2d/mult2/s2", Shape{8, 8, 3}, DepthwiseConv2D(3, Padding(Same), Strides(2), DepthMultiplier(2), Activation(ReLU6)), Shape{4, 4, 6}, ""},
		{"depthwise_conv2d/valid/rect", Shape{8, 9, 2}, DepthwiseConv2D(3, KernelSize(2, 3), Dilation(2)), Shape{6, 5, 2}, ""},
		{"depthwise_conv2d/too-big", Shape{2, 2, 2}, DepthwiseConv2D(3), nil, `layer "depthwise_conv2d" (DepthwiseConv2D): kernel 3x3 larger than padded input 2x2`},
		{"depthwise_conv2d/mult0", Shape{4, 4, 2}, DepthwiseConv2D(3, DepthMultiplier(0)), nil, `depth multiplier 0 must be positive`},
		{"depthwise_conv2d/flat", Shape{4}, DepthwiseConv2D(3), nil, `input (None, 4) is not an image`},
		{"depthwise_conv2d/softmax", Shape{4, 4, 2}, DepthwiseConv2D(3, Activation(Softmax)), nil, `softmax needs a flat output`},
		{"up_sampling2d/2", Shape{3, 4, 2}, UpSampling2D(2), Shape{6, 8, 2}, ""},
		{"up_sampling2d/bilinear", Shape{3, 4, 2}, UpSampling2D(1, Size(3, 2), Interpolation(Bilinear)), Shape{9, 8, 2}, ""},
		{"up_sampling2d/zero", Shape{3, 4, 2}, UpSampling2D(0), nil, `layer "up_sampling2d" (UpSampling2D): size 0 must be positive`},
		{"up_sampling2d/bicubic", Shape{3, 4, 2}, UpSampling2D(2, Interpolation("bicubic")), nil, `interpolation "bicubic" is not "nearest" or "bilinear"`},
		{"up_sampling2d/flat", Shape{3}, UpSampling2D(2), nil, `input (None, 3) is not an image`},
		{"conv2d_transpose/valid/s2", Shape{4, 5, 3}, Conv2DTranspose(2, 3, Strides(2)), Shape{9, 11, 2}, ""},
		{"conv2d_transpose/same/s2", Shape{4, 5, 3}, Conv2DTranspose(2, 3, Strides(2), Padding(Same), Activation(ReLU)), Shape{8, 10, 2}, ""},
		{"conv2d_transpose/same/s3/k2", Shape{3, 3, 1}, Conv2DTranspose(1, 2, Strides(3), Padding(Same)), Shape{9, 9, 1}, ""},
		{"conv2d_transpose/explicit", Shape{4, 4, 2}, Conv2DTranspose(2, 4, Strides(2), ExplicitPadding(1, 1, 1, 1)), Shape{8, 8, 2}, ""},
		{"conv2d_transpose/dilation", Shape{3, 4, 2}, Conv2DTranspose(2, 3, Dilation(2, 1)), Shape{7, 6, 2}, ""},
		{"conv2d_transpose/padding-eats-all", Shape{1, 1, 2}, Conv2DTranspose(2, 1, ExplicitPadding(1, 0, 0, 0)), nil, `layer "conv2d_transpose" (Conv2DTranspose): padding [1 0 0 0] leaves no output of a 1x1 input`},
		{"conv2d_transpose/filters0", Shape{4, 4, 2}, Conv2DTranspose(0, 3), nil, `filters 0 must be positive`},
		{"conv2d_transpose/flat", Shape{4}, Conv2DTranspose(2, 3), nil, `input (None, 4) is not an image`},
		{"separable_conv2d/same", Shape{8, 8, 3}, SeparableConv2D(5, 3, Padding(Same)), Shape{8, 8, 5}, ""},
		{"separable_conv2d/mult2/s2", Shape{8, 8, 3}, SeparableConv2D(4, 3, Strides(2), DepthMultiplier(2), UseBias(false)), Shape{3, 3, 4}, ""},
		{"separable_conv2d/filters0", Shape{8, 8, 3}, SeparableConv2D(0, 3), nil, `layer "separable_conv2d" (SeparableConv2D): filters 0 must be positive`},
		{"depthwise_conv2d/bad-option", Shape{8, 8, 3}, DepthwiseConv2D(3, Momentum(0.5)), nil, `option Momentum does not apply to DepthwiseConv2D`},
	}
}

// Every new layer infers its shape, and every misconfiguration is an error naming the
// layer.
func TestModernLayerShapes(t *testing.T) {
	for _, c := range modernLayerCases() {
		t.Run(c.name, func(t *testing.T) {
			b := NewBuilder("m")
			x := b.Input(c.input...)
			y := b.Apply(c.layer, x)
			m, err := b.Model(y)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v; want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := m.OutputShape(); !got.equal(c.want) {
				t.Fatalf("output %v; want %v", got, c.want)
			}
			// The built graph agrees with the inferred shape (Compile checks it).
			if _, err := m.Compile(2, Eval); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// modernModel is a small network through every new layer family, with a classifier head.
func modernModel(t *testing.T) *Model {
	t.Helper()
	b := NewBuilder("modern")
	x := b.Input(6, 6, 2)
	y := b.Apply(ZeroPadding2D(1), x)
	y = b.Apply(Conv2D(3, 3, Activation(ReLU6)), y)
	y = b.Apply(DepthwiseConv2D(3, Padding(Same), DepthMultiplier(2), Activation(GELU)), y)
	y = b.Apply(SeparableConv2D(3, 3, Padding(Same), Strides(2), Activation(Swish)), y)
	y = b.Apply(UpSampling2D(2, Interpolation(Bilinear)), y)
	y = b.Apply(Conv2D(3, 3, Strides(2), Padding(Same)), y)
	y = b.Apply(Conv2DTranspose(3, 3, Strides(2), Padding(Same), Activation(Tanh)), y)
	y = b.Apply(Conv2D(3, 2, Strides(2)), y)
	y = b.Apply(UpSampling2D(1, Size(1, 2)), y)
	y = b.Apply(Cropping2D(0, Crop(0, 0, 1, 2)), y)
	y = b.Apply(ZeroPadding2D(0, ExplicitPadding(1, 2, 1, 2)), y)
	y = b.Apply(Activate(ELU), y)
	y = b.Apply(Cropping2D(0, Crop(1, 0, 0, 1)), y)
	y = b.Apply(Activate(Softmax, Axis(-1)), y)
	y = b.Apply(Activate(GELU), y)
	z := b.Apply(GlobalMaxPool2D(), y)
	z = b.Apply(Reshape(Shape{1, 1, 3}), z)
	z = b.Apply(Activate(Swish), z)
	z = b.Apply(Reshape(Shape{-1}), z)
	z = b.Apply(Dense(4, Activation(GELU)), z)
	z = b.Apply(Dense(3, Activation(Softmax)), z)
	m, err := b.Model(z)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The new layers' gradients, whole-model, against central differences in float64.
func TestGradCheckModernLayers(t *testing.T) {
	gradCheckModel(t, modernModel(t), 2, 30)
}

// Each new layer has its Summary row, its node in the layer diagram and its ops in the
// op diagram, and survives a spec round trip.
func TestModernLayersSummaryDOTSpec(t *testing.T) {
	m := modernModel(t)
	sum := m.Summary()
	flat := strings.Join(strings.Fields(sum), " ")
	for _, row := range []string{
		"zero_padding2d (ZeroPadding2D) (None, 8, 8, 2) 0 -",
		"cropping2d_1 (Cropping2D) (None, 5, 5, 3) 0 -",
		"depthwise_conv2d (DepthwiseConv2D) (None, 6, 6, 6) 60 Y",
		"separable_conv2d (SeparableConv2D) (None, 3, 3, 3) 75 Y",
		"activation_1 (Activation) (None, 5, 5, 3) 0 -",
		"global_max_pooling2d (GlobalMaxPooling2D) (None, 3) 0 -",
		"reshape (Reshape) (None, 1, 1, 3) 0 -",
		"reshape_1 (Reshape) (None, 3) 0 -",
	} {
		if !strings.Contains(flat, row) {
			t.Errorf("summary has no row %q:\n%s", row, sum)
		}
	}
	layers, err := m.DOT(DOTConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, label := range []string{"ZeroPadding2D 1", "Cropping2D 1,0,0,1", "Activation axis -1 softmax", "Conv2D 3x3 relu6", "GlobalMaxPooling2D", "Reshape 1 1 3", "Activation swish", "Dense gelu", "DepthwiseConv2D 3x3 x2 gelu", "SeparableConv2D 3x3 /2 swish", "UpSampling2D 2x2 bilinear", "UpSampling2D 1x2", "Conv2DTranspose 3x3 /2 tanh"} {
		if !strings.Contains(string(layers), label) {
			t.Errorf("layer diagram has no %q", label)
		}
	}
	gr, err := m.Compile(2, Train)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := gr.DOT(graph.DOTConfig{Grads: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"ZeroPad2D", "Crop2D", "relu6Backward", "eluBackward", "geluBackward", "swishBackward",
		`Softmax\n2x3x5x5 axis:1`, `SoftmaxBackward\n2x3x5x5 axis:1`, "GlobalMaxPool2DBackward", `Reshape\n(2, 3)->(2, 3, 1, 1)`,
		"DepthwiseConv2D\\n", "DepthwiseConv2DBackwardInput", "DepthwiseConv2DBackwardKernel", "Upsample2DBackward", "s:2x2 bilinear", "Conv2DTransposeBackwardInput", "Conv2DTransposeBackwardKernel"} {
		if !strings.Contains(string(ops), op) {
			t.Errorf("op diagram has no %q", op)
		}
	}
	js, err := m.MarshalSpec()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := UnmarshalSpec(js)
	if err != nil {
		t.Fatal(err)
	}
	if m2.Summary() != sum {
		t.Fatalf("summary changed on a spec round trip:\n%s\n%s", sum, m2.Summary())
	}
	checkBuiltModel(t, m)
}

// modernSpecModel is a spec fuzzer seed with every layer and option of the new families.
func modernSpecModel() (*Model, error) {
	return Sequential("modern",
		Input(8, 8, 2),
		ZeroPadding2D(0, ExplicitPadding(1, 2, 0, 1), Name("pad")),
		Cropping2D(1, Crop(1, 0, 1, 0)),
		Conv2D(3, 3, Activation(ELU), Alpha(0.5)),
		DepthwiseConv2D(3, Padding(Same), DepthMultiplier(2), Strides(1, 2), UseBias(false), KernelInitializer(HeNormal)),
		SeparableConv2D(4, 2, Dilation(2), DepthMultiplier(3), Activation(ReLU6), BiasInitializer(Ones)),
		Activate(Softmax, Axis(1)),
		Activate(ReLU6),
		Activate(GELU),
		UpSampling2D(2, Size(2, 1), Interpolation(Bilinear)),
		UpSampling2D(2),
		Conv2DTranspose(2, 3, Strides(2, 1), Padding(Same), UseBias(false)),
		Conv2DTranspose(2, 2, ExplicitPadding(0, 1, 1, 0), Dilation(2), Activation(GELU)),
		Reshape(Shape{-1, 2, 3}),
		Activate(Swish),
		GlobalMaxPool2D(),
		Dense(3, Activation(Softmax)))
}

// A MobileNet block (depthwise 3x3, batch norm, ReLU6, pointwise 1x1, batch norm) with a
// stride-2 step and a separable convolution, whole-model, against central differences.
func TestGradCheckMobileNetBlock(t *testing.T) {
	b := NewBuilder("mobile-block")
	x := b.Input(8, 8, 2)
	y := b.Apply(Conv2D(4, 3, Padding(Same), Strides(2), UseBias(false), Name("stem")), x)
	y = b.Apply(BatchNorm(), y)
	y = b.Apply(Activate(ReLU6), y)
	blk := b.Block("block1")
	z := blk.Apply(DepthwiseConv2D(3, Padding(Same), UseBias(false), Name("dw")), y)
	z = blk.Apply(BatchNorm(Name("dw_bn")), z)
	z = blk.Apply(Activate(ReLU6, Name("dw_relu")), z)
	z = blk.Apply(Conv2D(6, 1, UseBias(false), Name("pw")), z)
	z = blk.Apply(BatchNorm(Name("pw_bn")), z)
	z = b.Apply(SeparableConv2D(5, 3, Padding(Same), Strides(2), DepthMultiplier(2), Activation(ReLU6)), z)
	z = b.Apply(GlobalAvgPool2D(), z)
	z = b.Apply(Dense(3, Activation(Softmax)), z)
	m, err := b.Model(z)
	if err != nil {
		t.Fatal(err)
	}
	gradCheckModel(t, m, 3, 30)
}
