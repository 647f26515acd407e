package onnx

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime/debug"

	"github.com/pkg/errors"
	"google.golang.org/protobuf/proto"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
	"github.com/convgraph/convgraph/nn"
	pb "github.com/convgraph/convgraph/onnx/internal/onnxpb"
	"github.com/convgraph/convgraph/preprocess"
)

// The names of an exported model's input and output, whatever the model's own layer names.
const (
	InputName  = "input"
	OutputName = "output"
)

// Metadata keys an exported file carries in its metadata_props.
const (
	// MetaClasses is the class names as a JSON array of strings, index i naming output i.
	MetaClasses = "classes"
	// MetaPreprocessing says what the input must be, as JSON (see [Preprocessing]).
	MetaPreprocessing = "preprocessing"
	// MetaInputLayout is "NHWC" for image inputs (batch, height, width, channels) and "NC"
	// for vectors: the order of the input's dimensions.
	MetaInputLayout = "input_layout"
	// MetaModel is the convgraph model's name.
	MetaModel = "convgraph.model"
	// MetaOutputs names, for a model with several outputs, the layer behind each of
	// "output_0", "output_1", ... as a JSON array.
	MetaOutputs = "convgraph.outputs"
)

// Preprocessing describes how raw data becomes the model's input: the record convgraph
// stores with every model ([nn.Model.Preprocessing]), written as JSON in the
// [MetaPreprocessing] property. Each pixel value v (0-255) becomes v*Scale + Offset
// (then (v - Mean[ch]) / Std[ch] if they are set), in an image of the model's input size
// in (height, width, channels) order.
type Preprocessing = preprocess.Config

// An ExportOption adds information to an exported file.
type ExportOption func(*exportConfig)

type exportConfig struct {
	classes  []string
	scale    float64
	offset   float64
	scaleSet bool
	doc      string
	meta     [][2]string
}

// ClassNames records the names of the output classes in the [MetaClasses] property.
func ClassNames(names []string) ExportOption {
	return func(c *exportConfig) { c.classes = append([]string(nil), names...) }
}

// PixelScale sets the [Preprocessing] a runtime must apply to raw pixels: v*scale+offset.
// The default is the model's own ([nn.Model.Preprocessing]: scale 1/255, offset 0 unless
// set otherwise).
func PixelScale(scale, offset float64) ExportOption {
	return func(c *exportConfig) { c.scale, c.offset, c.scaleSet = scale, offset, true }
}

// Description sets the model's doc_string.
func Description(s string) ExportOption { return func(c *exportConfig) { c.doc = s } }

// Metadata adds a metadata_props entry; a key set twice keeps the last value.
func Metadata(key, value string) ExportOption {
	return func(c *exportConfig) { c.meta = append(c.meta, [2]string{key, value}) }
}

// Export writes m as an ONNX model (IR version 8, operator set 13) to w.
//
// The input is named "input" with shape [N, height, width, channels] (the order a
// convgraph user feeds), N a symbolic batch dimension, followed by a Transpose to NCHW,
// the layout of ONNX's convolution and pooling operators; a vector model's input is [N,
// features]. The output is named "output": [N, classes] for a classifier, or [N, height,
// width, channels] for a model ending on an image (transposed back). Parameters are
// written as float32 initializers named by their convgraph paths ("block1/conv1/kernel").
// Dropout exports as an inference-mode Dropout (the identity), BatchNorm as inference-mode
// BatchNormalization with its moving statistics. Every layer's output value and main
// node are named after the layer. It fails, naming the layer, for a layer type with no
// mapping.
func Export(m *nn.Model, w io.Writer, opts ...ExportOption) error {
	mp, err := exportProto(m, opts)
	if err != nil {
		return err
	}
	b, err := proto.Marshal(mp)
	if err != nil {
		return errors.Wrapf(err, "onnx: model %q: encoding", m.Name())
	}
	_, err = w.Write(b)
	return errors.Wrapf(err, "onnx: model %q: writing", m.Name())
}

// exporter accumulates the graph.
type exporter struct {
	m      *nn.Model
	g      *pb.GraphProto
	used   map[string]bool
	shapes map[string]nn.Shape // layer name -> output shape (Keras order)
	values map[string]string   // layer name -> ONNX value holding its output (NCHW)
}

func (e *exporter) unique(name string) string {
	n := name
	for i := 1; e.used[n]; i++ {
		n = fmt.Sprintf("%s_%d", name, i)
	}
	e.used[n] = true
	return n
}

// add appends a node called name whose output value is called value (made unique).
func (e *exporter) add(op, name, value string, in []string, attrs ...*pb.AttributeProto) string {
	out := e.unique(value)
	e.g.Node = append(e.g.Node, node(op, name, in, []string{out}, attrs...))
	return out
}

func exportProto(m *nn.Model, opts []ExportOption) (*pb.ModelProto, error) {
	var cfg exportConfig
	for _, o := range opts {
		o(&cfg)
	}
	spec := m.Spec()
	infos := map[string]nn.LayerInfo{}
	for _, l := range m.Layers() {
		infos[l.Name] = l
	}
	e := &exporter{m: m, g: &pb.GraphProto{Name: proto.String(m.Name())},
		used:   map[string]bool{},
		shapes: map[string]nn.Shape{}, values: map[string]string{}}
	// One input is "input" and one output "output"; a model with several names them
	// after their layers, and its outputs "output_0", "output_1", ... in [nn.Model.Outputs]
	// order.
	inputs, outputs := m.Inputs(), m.Outputs()
	inName := func(i int) string {
		if len(inputs) == 1 {
			return InputName
		}
		return inputs[i].Name
	}
	outName := func(i int) string {
		if len(outputs) == 1 {
			return OutputName
		}
		return fmt.Sprintf("%s_%d", OutputName, i)
	}
	for i := range inputs {
		e.used[inName(i)] = true
	}
	for i := range outputs {
		e.used[outName(i)] = true
	}
	for i, port := range inputs {
		name := inName(i)
		e.shapes[port.Name] = port.Shape
		e.g.Input = append(e.g.Input, valueInfo(name, port.Shape))
		e.values[port.Name] = name
		if len(port.Shape) == 3 {
			e.values[port.Name] = e.add("Transpose", name+"/nchw", name+"/nchw", []string{name}, attrInts("perm", 0, 3, 1, 2))
		}
	}
	for _, p := range m.Params() {
		e.used[p.Name] = true
		e.g.Initializer = append(e.g.Initializer, floatTensor(p.Name, p.Shape(), float32s(p.Value)))
	}
	for _, ls := range spec.Layers {
		if ls.Kind == "InputLayer" {
			continue
		}
		info := infos[ls.Name]
		var ins []string
		var inShapes []nn.Shape
		for _, name := range ls.Inputs {
			ins = append(ins, e.values[name])
			inShapes = append(inShapes, e.shapes[name])
		}
		out, err := e.layer(ls, info, ins, inShapes)
		if err != nil {
			return nil, errors.Wrapf(err, "onnx: model %q: layer %q (%s)", m.Name(), ls.Name, ls.Kind)
		}
		e.values[ls.Name], e.shapes[ls.Name] = out, info.OutputShape
	}
	for i, port := range outputs {
		last, name := e.values[port.Name], outName(i)
		if len(port.Shape) == 3 {
			e.g.Node = append(e.g.Node, node("Transpose", name, []string{last}, []string{name}, attrInts("perm", 0, 2, 3, 1)))
		} else {
			e.g.Node = append(e.g.Node, node("Identity", name, []string{last}, []string{name}))
		}
		e.g.Output = append(e.g.Output, valueInfo(name, port.Shape))
	}
	outShape := m.OutputShape()

	pre := m.Preprocessing()
	if cfg.scaleSet {
		pre.Scale, pre.Offset = cfg.scale, cfg.offset
	}
	if pre.Layout == "" {
		pre.Layout = "NC"
	}
	preJSON, _ := json.Marshal(pre)
	meta := [][2]string{{MetaModel, m.Name()}, {MetaInputLayout, pre.Layout}, {MetaPreprocessing, string(preJSON)}}
	if len(outputs) > 1 {
		var names []string
		for _, o := range outputs {
			names = append(names, o.Name)
		}
		nj, _ := json.Marshal(names)
		meta = append(meta, [2]string{MetaOutputs, string(nj)})
	}
	if cfg.classes != nil {
		if len(outShape) == 1 && len(cfg.classes) != outShape[0] {
			return nil, errors.Errorf("onnx: model %q: %d class names for %d outputs", m.Name(), len(cfg.classes), outShape[0])
		}
		cj, _ := json.Marshal(cfg.classes)
		meta = append(meta, [2]string{MetaClasses, string(cj)})
	}
	meta = append(meta, cfg.meta...)
	mp := &pb.ModelProto{
		IrVersion:       proto.Int64(irVersion),
		OpsetImport:     []*pb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}},
		ProducerName:    proto.String("convgraph"),
		ProducerVersion: proto.String(version()),
		Graph:           e.g,
	}
	if cfg.doc != "" {
		mp.DocString = proto.String(cfg.doc)
	}
	seen := map[string]int{}
	for _, kv := range meta {
		if i, ok := seen[kv[0]]; ok {
			mp.MetadataProps[i].Value = proto.String(kv[1])
			continue
		}
		seen[kv[0]] = len(mp.MetadataProps)
		mp.MetadataProps = append(mp.MetadataProps, &pb.StringStringEntryProto{Key: proto.String(kv[0]), Value: proto.String(kv[1])})
	}
	return mp, nil
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/convgraph/convgraph" {
				return d.Version
			}
		}
		if bi.Main.Path == "github.com/convgraph/convgraph" && bi.Main.Version != "" {
			return bi.Main.Version
		}
	}
	return "devel"
}

// The defaults nn applies to zero Config fields (nn.Config's documentation).
const (
	defaultAlpha   = 0.3
	defaultEpsilon = 1e-3
	defaultMoment  = 0.99
)

func orDefault(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// layer emits the nodes of one layer and returns the value holding its output.
func (e *exporter) layer(ls nn.LayerSpec, info nn.LayerInfo, ins []string, inShapes []nn.Shape) (string, error) {
	c := ls.Config
	name := ls.Name
	param := func(local string) string { return name + "/" + local }
	hasParam := func(local string) bool {
		for _, p := range info.Params {
			if p == param(local) {
				return true
			}
		}
		return false
	}
	switch ls.Kind {
	case "Conv2D":
		s, d := pairOr(c.Strides, 1), pairOr(c.Dilation, 1)
		p := pads(c, inShapes[0], c.KernelSize, s, d)
		args := []string{ins[0], param("kernel")}
		if hasParam("bias") {
			args = append(args, param("bias"))
		}
		y := e.add("Conv", name, e.step(name, "conv", c.Activation), args,
			attrInts("kernel_shape", c.KernelSize...), attrInts("strides", s...), attrInts("dilations", d...),
			attrInts("pads", p.Top, p.Left, p.Bottom, p.Right), attrInt("group", max(c.Groups, 1)))
		return e.activation(name, y, c.Activation, c.Alpha, false)
	case "DepthwiseConv2D", "SeparableConv2D":
		// A depthwise convolution is a Conv with one group per input channel; its kernel
		// [C*M, 1, kh, kw] is that Conv's weight as it is.
		s, d := pairOr(c.Strides, 1), pairOr(c.Dilation, 1)
		p := pads(c, inShapes[0], c.KernelSize, s, d)
		sep := ls.Kind == "SeparableConv2D"
		args := []string{ins[0], param("depthwise_kernel")}
		if hasParam("bias") && !sep {
			args = append(args, param("bias"))
		}
		dwName, dwValue := name, e.step(name, "conv", c.Activation)
		if sep {
			dwName, dwValue = name+"/depthwise", name+"/depthwise"
		}
		y := e.add("Conv", dwName, dwValue, args,
			attrInts("kernel_shape", c.KernelSize...), attrInts("strides", s...), attrInts("dilations", d...),
			attrInts("pads", p.Top, p.Left, p.Bottom, p.Right), attrInt("group", inShapes[0][2]))
		if sep {
			args = []string{y, param("pointwise_kernel")}
			if hasParam("bias") {
				args = append(args, param("bias"))
			}
			y = e.add("Conv", name, e.step(name, "conv", c.Activation), args,
				attrInts("kernel_shape", 1, 1), attrInts("strides", 1, 1), attrInts("dilations", 1, 1),
				attrInts("pads", 0, 0, 0, 0), attrInt("group", 1))
		}
		return e.activation(name, y, c.Activation, c.Alpha, false)
	case "Conv2DTranspose":
		// ONNX's output: s*(in-1) + output_padding + d*(k-1) + 1 - pad_begin - pad_end.
		s, d := pairOr(c.Strides, 1), pairOr(c.Dilation, 1)
		out := info.OutputShape
		p := pads(c, nn.Shape{out[0], out[1]}, c.KernelSize, s, d)
		if c.Padding != nn.Same && c.Padding != nn.Explicit {
			p = graph.Pad{}
		}
		opH := out[0] - (s[0]*(inShapes[0][0]-1) + d[0]*(c.KernelSize[0]-1) + 1 - p.Top - p.Bottom)
		opW := out[1] - (s[1]*(inShapes[0][1]-1) + d[1]*(c.KernelSize[1]-1) + 1 - p.Left - p.Right)
		args := []string{ins[0], param("kernel")} // [C, F, kh, kw]: ONNX's layout too
		if hasParam("bias") {
			args = append(args, param("bias"))
		}
		y := e.add("ConvTranspose", name, e.step(name, "conv_transpose", c.Activation), args,
			attrInts("kernel_shape", c.KernelSize...), attrInts("strides", s...), attrInts("dilations", d...),
			attrInts("pads", p.Top, p.Left, p.Bottom, p.Right), attrInts("output_padding", opH, opW), attrInt("group", 1))
		return e.activation(name, y, c.Activation, c.Alpha, false)
	case "UpSampling2D":
		size := pairOr(c.Size, 1)
		scales := e.unique(name + "/scales")
		e.g.Initializer = append(e.g.Initializer, floatTensor(scales, []int{4}, []float32{1, 1, float32(size[0]), float32(size[1])}))
		if c.Interpolation == nn.Bilinear {
			return e.add("Resize", name, name, []string{ins[0], "", scales}, attrString("mode", "linear"),
				attrString("coordinate_transformation_mode", "half_pixel")), nil
		}
		return e.add("Resize", name, name, []string{ins[0], "", scales}, attrString("mode", "nearest"),
			attrString("coordinate_transformation_mode", "asymmetric"), attrString("nearest_mode", "floor")), nil
	case "Resizing":
		// Resize takes sizes of all four axes: the batch and channels from the input's
		// Shape (the batch is symbolic), then the height and width.
		shape := e.add("Shape", name+"/shape", name+"/shape", []string{ins[0]})
		nc := e.add("Slice", name+"/nc", name+"/nc", []string{shape, e.ints(name+"/nc_starts", 0), e.ints(name+"/nc_ends", 2)})
		sizes := e.add("Concat", name+"/sizes", name+"/sizes", []string{nc, e.ints(name+"/hw", c.Height, c.Width)}, attrInt("axis", 0))
		if c.Interpolation == nn.Nearest {
			return e.add("Resize", name, name, []string{ins[0], "", "", sizes}, attrString("mode", "nearest"),
				attrString("coordinate_transformation_mode", "asymmetric"), attrString("nearest_mode", "floor")), nil
		}
		return e.add("Resize", name, name, []string{ins[0], "", "", sizes}, attrString("mode", "linear"),
			attrString("coordinate_transformation_mode", "half_pixel")), nil
	case "Dense":
		args := []string{ins[0], param("kernel")}
		if hasParam("bias") {
			args = append(args, param("bias"))
		}
		y := e.add("Gemm", name, e.step(name, "gemm", c.Activation), args)
		return e.activation(name, y, c.Activation, c.Alpha, false)
	case "MaxPooling2D", "AveragePooling2D":
		s := c.PoolSize // pooling's default stride
		if len(c.Strides) == 2 {
			s = c.Strides
		}
		p := pads(c, inShapes[0], c.PoolSize, s, []int{1, 1})
		attrs := []*pb.AttributeProto{attrInts("kernel_shape", c.PoolSize...), attrInts("strides", s...),
			attrInts("pads", p.Top, p.Left, p.Bottom, p.Right)}
		op := "MaxPool"
		if ls.Kind == "AveragePooling2D" {
			op = "AveragePool"
			attrs = append(attrs, attrInt("count_include_pad", 0))
		}
		return e.add(op, name, name, ins, attrs...), nil
	case "GlobalAveragePooling2D":
		y := e.add("GlobalAveragePool", name, name+"/pool", ins)
		return e.add("Flatten", name+"/flatten", name, []string{y}, attrInt("axis", 1)), nil
	case "Flatten":
		if len(inShapes[0]) == 1 {
			return e.add("Identity", name, name, ins), nil
		}
		// NCHW flattened from axis 1 is channel, row, column: convgraph's order.
		return e.add("Flatten", name, name, ins, attrInt("axis", 1)), nil
	case "Dropout":
		// Inference-mode Dropout (training_mode false): the identity in every runtime,
		// kept so that an import gets the layer back for fine-tuning.
		ratio := e.unique(name + "/ratio")
		e.g.Initializer = append(e.g.Initializer, floatTensor(ratio, nil, []float32{float32(c.Rate)}))
		return e.add("Dropout", name, name, []string{ins[0], ratio}), nil
	case "BatchNormalization":
		return e.add("BatchNormalization", name, name,
			[]string{ins[0], param("gamma"), param("beta"), param("moving_mean"), param("moving_variance")},
			attrFloat("epsilon", orDefault(c.Epsilon, defaultEpsilon)), attrFloat("momentum", orDefault(c.Momentum, defaultMoment))), nil
	case "Activation":
		if c.Activation == nn.Linear || c.Activation == "" {
			return e.add("Identity", name, name, ins), nil
		}
		if c.Activation == nn.Softmax && len(inShapes[0]) == 3 {
			// Keras's axis on (height, width, channels) to the NCHW axis.
			k := c.Axis
			if k == 0 {
				k = -1
			}
			if k < 0 {
				k += 4
			}
			if k < 1 || k > 3 {
				return "", errors.Errorf("softmax axis %d", c.Axis)
			}
			return e.add("Softmax", name, name, ins, attrInt("axis", [...]int{0, 2, 3, 1}[k])), nil
		}
		return e.activation(name, ins[0], c.Activation, c.Alpha, true)
	case "Add":
		if len(ins) > 2 {
			return e.add("Sum", name, name, ins), nil
		}
		return e.add("Add", name, name, ins), nil
	case "Multiply":
		y := ins[0]
		for i, x := range ins[1:] {
			step := name
			if i < len(ins)-2 {
				step = fmt.Sprintf("%s/mul%d", name, i)
			}
			y = e.add("Mul", step, step, []string{y, x})
		}
		return y, nil
	case "Average":
		op := "Add"
		if len(ins) > 2 {
			op = "Sum"
		}
		sum := e.add(op, name, name+"/sum", ins)
		return e.add("Mul", name+"/mean", name, []string{sum, e.scalar(name+"/scale", 1/float64(len(ins)))}), nil
	case "Maximum":
		return e.add("Max", name, name, ins), nil
	case "Subtract":
		return e.add("Sub", name, name, ins), nil
	case "Concatenate":
		// The last axis of Keras's shapes is axis 1 in NCHW and of [N, F] alike.
		return e.add("Concat", name, name, ins, attrInt("axis", 1)), nil
	case "ZeroPadding2D":
		p := c.Pads
		pads := e.ints(name+"/pads", 0, 0, p[0], p[2], 0, 0, p[1], p[3])
		return e.add("Pad", name, name, []string{ins[0], pads}, attrString("mode", "constant")), nil
	case "Cropping2D":
		p, in := c.Cropping, inShapes[0]
		starts, ends := e.ints(name+"/starts", p[0], p[2]), e.ints(name+"/ends", in[0]-p[1], in[1]-p[3])
		return e.add("Slice", name, name, []string{ins[0], starts, ends, e.ints(name+"/axes", 2, 3)}), nil
	case "Reshape":
		// convgraph reshapes in NCHW order, as ONNX does: (h, w, c) is [N, c, h, w].
		out := info.OutputShape
		dims := []int{0, out[0]}
		if len(out) == 3 {
			dims = []int{0, out[2], out[0], out[1]}
		}
		return e.add("Reshape", name, name, []string{ins[0], e.ints(name+"/shape", dims...)}), nil
	case "PReLU":
		// ONNX broadcasts the slope from the last axis: one per channel of NCHW is [C, 1, 1].
		slope := param("alpha")
		if in := inShapes[0]; len(in) == 3 && !c.SharedAlpha {
			slope = e.add("Reshape", name+"/slope", name+"/slope", []string{slope, e.ints(name+"/slope_shape", in[2], 1, 1)})
		}
		return e.add("PRelu", name, name, []string{ins[0], slope}), nil
	case "GlobalMaxPooling2D":
		y := e.add("GlobalMaxPool", name, name+"/pool", ins)
		return e.add("Flatten", name+"/flatten", name, []string{y}, attrInt("axis", 1)), nil
	}
	return "", errors.Errorf("no ONNX mapping for layer type %s", ls.Kind)
}

// step names the value a layer's main node writes: the layer's own name when no
// activation follows it, else the layer's name and the op's.
func (e *exporter) step(layer, op string, act nn.ActivationFn) string {
	if act == "" || act == nn.Linear {
		return layer
	}
	return layer + "/" + op
}

// activation emits the activation node, named layer/op (the layer's name alone for an
// Activation layer), whose output value is named after the layer.
func (e *exporter) activation(layer, x string, act nn.ActivationFn, alpha float64, own bool) (string, error) {
	name := func(op string) string {
		if own {
			return layer
		}
		return layer + "/" + op
	}
	switch act {
	case "", nn.Linear:
		return x, nil
	case nn.ReLU:
		return e.add("Relu", name("relu"), layer, []string{x}), nil
	case nn.LeakyReLU:
		return e.add("LeakyRelu", name("leaky_relu"), layer, []string{x}, attrFloat("alpha", orDefault(alpha, defaultAlpha))), nil
	case nn.Sigmoid:
		return e.add("Sigmoid", name("sigmoid"), layer, []string{x}), nil
	case nn.Tanh:
		return e.add("Tanh", name("tanh"), layer, []string{x}), nil
	case nn.Softmax:
		return e.add("Softmax", name("softmax"), layer, []string{x}, attrInt("axis", -1)), nil
	case nn.ReLU6:
		lo, hi := e.scalar(layer+"/min", 0), e.scalar(layer+"/max", 6)
		return e.add("Clip", name("relu6"), layer, []string{x, lo, hi}), nil
	case nn.ELU:
		if alpha == 0 {
			alpha = 1 // nn's default for ELU
		}
		return e.add("Elu", name("elu"), layer, []string{x}, attrFloat("alpha", alpha)), nil
	case nn.Swish:
		sig := e.add("Sigmoid", layer+"/sigmoid", layer+"/sigmoid", []string{x})
		return e.add("Mul", name("swish"), layer, []string{x, sig}), nil
	case nn.GELU:
		// Operator set 13 has no Gelu: x * (1 + erf(x / sqrt 2)) / 2, as PyTorch writes it.
		d := e.add("Div", layer+"/gelu_div", layer+"/gelu_div", []string{x, e.scalar(layer+"/sqrt2", math.Sqrt2)})
		erf := e.add("Erf", layer+"/gelu_erf", layer+"/gelu_erf", []string{d})
		one := e.add("Add", layer+"/gelu_add", layer+"/gelu_add", []string{erf, e.scalar(layer+"/one", 1)})
		xm := e.add("Mul", layer+"/gelu_mul", layer+"/gelu_mul", []string{x, one})
		return e.add("Mul", name("gelu"), layer, []string{xm, e.scalar(layer+"/half", 0.5)}), nil
	}
	return "", errors.Errorf("no ONNX mapping for activation %q", act)
}

// scalar adds a float32 scalar initializer and returns its name.
func (e *exporter) scalar(name string, v float64) string {
	n := e.unique(name)
	e.g.Initializer = append(e.g.Initializer, floatTensor(n, nil, []float32{float32(v)}))
	return n
}

// ints adds an int64 vector initializer and returns its name.
func (e *exporter) ints(name string, v ...int) string {
	n := e.unique(name)
	t := &pb.TensorProto{Name: proto.String(n), DataType: proto32(int32(pb.TensorProto_INT64)), Dims: []int64{int64(len(v))}}
	for _, x := range v {
		t.Int64Data = append(t.Int64Data, int64(x))
	}
	e.g.Initializer = append(e.g.Initializer, t)
	return n
}

func pairOr(v []int, def int) []int {
	if len(v) == 2 {
		return v
	}
	return []int{def, def}
}

// pads resolves a layer's padding for an input image as nn does.
func pads(c nn.Config, in nn.Shape, k, s, d []int) graph.Pad {
	switch c.Padding {
	case nn.Same:
		t, b := graph.SamePad(in[0], k[0], s[0], d[0])
		l, r := graph.SamePad(in[1], k[1], s[1], d[1])
		return graph.Pad{Top: t, Bottom: b, Left: l, Right: r}
	case nn.Explicit:
		return graph.Pad{Top: c.Pads[0], Bottom: c.Pads[1], Left: c.Pads[2], Right: c.Pads[3]}
	}
	return graph.Pad{}
}

func float32s(d *tensor.Dense) []float32 {
	switch v := d.Data().(type) {
	case []float32:
		return v
	case []float64:
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out
	}
	return nil
}
