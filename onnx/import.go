package onnx

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/pkg/errors"
	"google.golang.org/protobuf/proto"

	"github.com/convgraph/convgraph/graph"
	"github.com/convgraph/convgraph/nn"
	pb "github.com/convgraph/convgraph/onnx/internal/onnxpb"
)

// MaxFileBytes bounds the files [Import] reads: protobuf's own limit is 2 GiB.
const MaxFileBytes = 1<<31 - 1

// Info is what an imported file declares besides its network.
type Info struct {
	// Producer is the program that wrote the file ("pytorch 1.13.1", "convgraph devel").
	Producer string
	// Opset is the file's default-domain operator set version.
	Opset int
	// InputLayout is the file's (first) input order: "NCHW" (PyTorch's), "NHWC" (the
	// input was followed by a Transpose to NCHW, as convgraph and tf2onnx write) or "NC"
	// (vectors). The imported model takes (height, width, channels) in every case.
	InputLayout string
	// Inputs are the file's input names in the order of the model's inputs
	// ([nn.Model.Inputs], whose layers are named input, input_1, ...), and InputLayouts
	// their orders as InputLayout says.
	Inputs, InputLayouts []string
	// Outputs are the file's output names in the order of the model's outputs
	// ([nn.Model.Outputs], [nn.Graph.OutputAt]).
	Outputs []string
	// Classes are the class names of the file's "classes" metadata property, if any.
	Classes []string
	// Metadata holds the file's metadata properties.
	Metadata map[string]string
}

// An ImportOption changes how a file is imported.
type ImportOption func(*importConfig)

type importConfig struct{ name string }

// ModelName names the imported model (default: the file's graph name, or "imported").
func ModelName(name string) ImportOption { return func(c *importConfig) { c.name = name } }

// Import reads an ONNX model and returns it as a trainable [nn.Model] holding the file's
// weights, with layer names taken from the file's node names ("/layer1/layer1.0/conv1/Conv"
// becomes "layer1/0/conv1", so Freeze("layer1/") freezes a stage).
//
// Operators (docs/onnx.md has the full table): Conv (any group; strides, dilations, pads,
// auto_pad), Gemm, MatMul (+ Add of a constant: the bias), Relu, LeakyRelu, PRelu, Elu, Sigmoid,
// Tanh, Clip (ReLU, ReLU6), Gelu and its operator-set-13 spelling with Erf, x*Sigmoid(x)
// (Swish), Softmax, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool,
// BatchNormalization, Flatten, Reshape, Squeeze, Slice (cropping), Pad (zeros), Concat,
// Transpose from NHWC at the input, Add, Sum, Sub, Mul and Max of tensors, Add, Sub, Mul
// and Div by constants (folded into the layer before), Dropout, Identity, and the shape
// arithmetic exporters emit (Shape, Gather, Unsqueeze, Concat, Slice, Cast, Constant,
// ...), folded while reading.
// An activation right after a Conv or Gemm becomes that layer's activation.
//
// A file with several inputs or outputs gives a model with as many, in the file's order
// ([Info.Inputs], [Info.Outputs]).
//
// An operator with no mapping is an error naming the node and its op type; a malformed
// file is an error saying what is wrong, never a panic.
func Import(r io.Reader, opts ...ImportOption) (*nn.Model, *Info, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, nil, errors.Wrap(err, "onnx: reading")
	}
	if len(b) > MaxFileBytes {
		return nil, nil, errors.Errorf("onnx: the file is larger than %d bytes", MaxFileBytes)
	}
	var mp pb.ModelProto
	if err := proto.Unmarshal(b, &mp); err != nil {
		return nil, nil, errors.Wrap(err, "onnx: not an ONNX model (protobuf decoding failed)")
	}
	cfg := importConfig{}
	for _, o := range opts {
		o(&cfg)
	}
	return importModel(&mp, cfg)
}

// vkind is what a symbolic value is, in the file's terms.
type vkind int

const (
	vImage  vkind = iota // [N, C, H, W]
	vNHWC                // [N, H, W, C]: the model input before its Transpose
	vFlat                // [N, F]
	vPooled              // [N, C, 1, 1] from GlobalAveragePool: a flat (C) in convgraph
	vGelu                // a step of GELU as operator set 13 spells it (stage 1 to 4)
)

// value is one ONNX value while importing: a constant or a symbolic tensor.
type value struct {
	c    *constant
	kind vkind
	src  *layer // the layer computing the tensor (an InputLayer for a model input)
	// shape is the example shape in convgraph's order: (H, W, C) or (F).
	shape nn.Shape
	base  *value // vGelu: the value before; a sigmoid's input
	stage int    // vGelu: x/sqrt2, erf(x/sqrt2), 1+erf(x/sqrt2), x*(1+erf(x/sqrt2))
	uses  int    // nodes (and graph outputs) reading this value
}

// dims is the value's ONNX shape, the batch first (as 1: Shape marks it as the batch).
func (v *value) dims() []int {
	switch v.kind {
	case vImage:
		return []int{1, v.shape[2], v.shape[0], v.shape[1]}
	case vNHWC:
		return []int{1, v.shape[0], v.shape[1], v.shape[2]}
	case vPooled:
		return []int{1, v.shape[0], 1, 1}
	case vGelu:
		return v.base.dims()
	}
	return []int{1, v.shape[0]}
}

// layer is a convgraph layer to be built, with its parameters in convgraph's layout.
type layer struct {
	name, kind string
	node       string // the ONNX node it came from
	inputs     []*value
	out        *value // its output value, as last set

	filters, units int
	multiplier     int // DepthwiseConv2D, SeparableConv2D
	groups         int // Conv2D
	kernel, stride [2]int
	dilation, pool [2]int
	pads           [4]int // top, bottom, left, right
	act            nn.ActivationFn
	alpha          float64
	bias           bool // Conv2D, Dense
	eps, momentum  float64
	rate           float64
	axis           int    // softmax layer: Keras's axis
	crop           [4]int // Cropping2D
	same           bool   // Conv2DTranspose: nn's same padding
	shared         bool   // PReLU: one slope for all channels
	size           [2]int // UpSampling2D
	bilinear       bool   // UpSampling2D
	target         nn.Shape
	dead           bool // merged into another layer
	params         map[string][]float64
}

type importer struct {
	cfg     importConfig
	values  map[string]*value
	uses    map[string]int // readers of each ONNX value name
	layers  []*layer
	names   map[string]int
	readers map[string][]string // op types of the nodes reading each value
	inputs  []*layer            // the model's inputs, as layers of kind InputLayer
	opset   int64
	info    *Info
}

func importModel(mp *pb.ModelProto, cfg importConfig) (*nn.Model, *Info, error) {
	g := mp.GetGraph()
	if g == nil {
		return nil, nil, errors.New("onnx: the model has no graph")
	}
	im := &importer{cfg: cfg, values: map[string]*value{}, uses: map[string]int{}, names: map[string]int{}, readers: map[string][]string{},
		info: &Info{Producer: strings.TrimSpace(mp.GetProducerName() + " " + mp.GetProducerVersion()), Metadata: map[string]string{}}}
	for _, o := range mp.OpsetImport {
		if d := o.GetDomain(); d == "" || d == "ai.onnx" {
			im.opset = o.GetVersion()
		}
	}
	if im.opset == 0 {
		return nil, nil, errors.New("onnx: the model imports no version of the default operator set")
	}
	if im.opset < 7 || im.opset > 22 {
		return nil, nil, errors.Errorf("onnx: operator set %d is not supported (7 to 22 are)", im.opset)
	}
	im.info.Opset = int(im.opset)
	for _, p := range mp.MetadataProps {
		im.info.Metadata[p.GetKey()] = p.GetValue()
	}
	if cj, ok := im.info.Metadata[MetaClasses]; ok {
		_ = json.Unmarshal([]byte(cj), &im.info.Classes)
	}
	name := cfg.name
	if name == "" {
		name = g.GetName()
	}
	if name == "" || name == "torch_jit" || name == "main_graph" {
		name = "imported"
	}
	if mn := im.info.Metadata[MetaModel]; cfg.name == "" && mn != "" {
		name = mn
	}
	m, err := im.graph(g, name)
	if err != nil {
		return nil, nil, err
	}
	return m, im.info, nil
}

func (im *importer) graph(g *pb.GraphProto, name string) (*nn.Model, error) {
	for _, t := range g.Initializer {
		c, err := tensorConst(t)
		if err != nil {
			return nil, errors.Wrapf(err, "onnx: initializer %q", t.GetName())
		}
		im.values[t.GetName()] = &value{c: c}
	}
	if len(g.SparseInitializer) > 0 {
		return nil, errors.New("onnx: sparse initializers are not supported")
	}
	for _, n := range g.Node {
		for _, in := range n.Input {
			im.uses[in]++
			im.readers[in] = append(im.readers[in], n.GetOpType())
		}
	}
	if len(g.Output) == 0 {
		return nil, errors.New("onnx: the graph has no outputs")
	}
	for _, o := range g.Output {
		im.uses[o.GetName()]++
	}
	var inputs []*pb.ValueInfoProto
	for _, vi := range g.Input {
		if _, ok := im.values[vi.GetName()]; !ok {
			inputs = append(inputs, vi)
		}
	}
	if len(inputs) == 0 {
		return nil, errors.New("onnx: the graph has no inputs besides its weights")
	}
	for _, vi := range inputs {
		if _, dup := im.values[vi.GetName()]; dup {
			return nil, errors.Errorf("onnx: input %q is declared twice", vi.GetName())
		}
		if err := im.declareInput(vi, g.Node); err != nil {
			return nil, err
		}
	}
	for i, n := range g.Node {
		if err := im.node(n); err != nil {
			nn := n.GetName()
			if nn == "" {
				nn = fmt.Sprintf("#%d", i)
			}
			return nil, errors.Wrapf(err, "onnx: node %q (%s)", nn, n.GetOpType())
		}
	}
	var outs []*value
	seen := map[*layer]string{}
	for _, o := range g.Output {
		outName := o.GetName()
		out, ok := im.values[outName]
		switch {
		case !ok:
			return nil, errors.Errorf("onnx: the graph's output %q is computed by no node", outName)
		case out.c != nil:
			return nil, errors.Errorf("onnx: the graph's output %q is a constant", outName)
		case out.src == nil || out.src.kind == "InputLayer" || out.kind == vNHWC || out.kind == vGelu:
			return nil, errors.Errorf("onnx: the graph's output %q is computed by no layer", outName)
		}
		if prev, dup := seen[out.src]; dup {
			return nil, errors.Errorf("onnx: the graph's outputs %q and %q are the same tensor; a convgraph model outputs each layer once", prev, outName)
		}
		seen[out.src] = outName
		outs = append(outs, out)
		im.info.Outputs = append(im.info.Outputs, outName)
	}
	return im.build(name, outs)
}

// declareInput reads the model input's shape and layout.
func (im *importer) declareInput(vi *pb.ValueInfoProto, nodes []*pb.NodeProto) error {
	name := vi.GetName()
	tt := vi.GetType().GetTensorType()
	if tt == nil || tt.Shape == nil {
		return errors.Errorf("onnx: input %q has no tensor shape", name)
	}
	if et := pb.TensorProto_DataType(tt.GetElemType()); et != pb.TensorProto_FLOAT && et != pb.TensorProto_DOUBLE {
		return errors.Errorf("onnx: input %q is %s; convgraph models take float tensors", name, et)
	}
	var dims []int
	for i, d := range tt.Shape.Dim {
		if i == 0 {
			continue // the batch, symbolic or not
		}
		v := d.GetDimValue()
		if v <= 0 || v > 1<<26 {
			return errors.Errorf("onnx: input %q: dimension %d is %q; convgraph needs fixed sizes but for the batch", name, i, dimString(d))
		}
		dims = append(dims, int(v))
	}
	v := &value{uses: im.uses[name]}
	layout := ""
	switch len(dims) {
	case 1:
		v.kind, v.shape, layout = vFlat, nn.Shape{dims[0]}, "NC"
	case 3:
		// NHWC if every reader of the input is a Transpose to NCHW.
		nhwc := im.uses[name] > 0
		for _, n := range nodes {
			for _, in := range n.Input {
				if in == name && !(n.GetOpType() == "Transpose" && intsAttr(n, "perm") == "0,3,1,2") {
					nhwc = false
				}
			}
		}
		if nhwc {
			v.kind, v.shape, layout = vNHWC, nn.Shape{dims[0], dims[1], dims[2]}, "NHWC"
		} else {
			v.kind, v.shape, layout = vImage, nn.Shape{dims[1], dims[2], dims[0]}, "NCHW"
		}
	default:
		return errors.Errorf("onnx: input %q has rank %d; convgraph takes images [N, C, H, W] or vectors [N, F]", name, len(dims)+1)
	}
	// The input is a layer of its own, so that values derived from it (a transposed or
	// flattened view) know which input they come from.
	v.src = &layer{kind: "InputLayer", name: name, node: name, out: v}
	im.inputs = append(im.inputs, v.src)
	im.values[name] = v
	if len(im.inputs) == 1 {
		im.info.InputLayout = layout
	}
	im.info.Inputs = append(im.info.Inputs, name)
	im.info.InputLayouts = append(im.info.InputLayouts, layout)
	return nil
}

func dimString(d *pb.TensorShapeProto_Dimension) string {
	if p := d.GetDimParam(); p != "" {
		return p
	}
	return fmt.Sprint(d.GetDimValue())
}

func intsAttr(n *pb.NodeProto, name string) string {
	for _, a := range n.Attribute {
		if a.GetName() == name {
			var s []string
			for _, v := range a.Ints {
				s = append(s, fmt.Sprint(v))
			}
			return strings.Join(s, ",")
		}
	}
	return ""
}

// attrs gives typed access to a node's attributes.
type attrs map[string]*pb.AttributeProto

func (a attrs) int(name string, def int64) int64 {
	if at, ok := a[name]; ok {
		return at.GetI()
	}
	return def
}

func (a attrs) float(name string, def float64) float64 {
	if at, ok := a[name]; ok {
		return float64(at.GetF())
	}
	return def
}

func (a attrs) ints(name string) ([]int64, bool) {
	at, ok := a[name]
	if !ok {
		return nil, false
	}
	return at.Ints, true
}

func (a attrs) str(name, def string) string {
	if at, ok := a[name]; ok {
		return string(at.GetS())
	}
	return def
}

// node imports one ONNX node.
func (im *importer) node(n *pb.NodeProto) error {
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		return errors.Errorf("operator domain %q is not supported", d)
	}
	a := attrs{}
	for _, at := range n.Attribute {
		if at.GetType() == pb.AttributeProto_GRAPH || at.GetType() == pb.AttributeProto_GRAPHS {
			return errors.New("subgraphs (control flow) are not supported")
		}
		a[at.GetName()] = at
	}
	ins := make([]*value, len(n.Input))
	for i, name := range n.Input {
		if name == "" {
			continue // an omitted optional input
		}
		v, ok := im.values[name]
		if !ok {
			return errors.Errorf("input %q is computed by no earlier node (nodes must be in topological order)", name)
		}
		ins[i] = v
	}
	outs, err := im.op(n, a, ins)
	if err != nil {
		return err
	}
	for i, name := range n.Output {
		if name == "" {
			continue
		}
		if i >= len(outs) || outs[i] == nil {
			if im.uses[name] > 0 {
				return errors.Errorf("output %d (%q) is read, and convgraph computes only the first", i, name)
			}
			continue
		}
		if _, dup := im.values[name]; dup {
			return errors.Errorf("output %q is computed twice", name)
		}
		v := outs[i]
		alias := false
		for _, in := range ins {
			alias = alias || in == v
		}
		if alias {
			v.uses += im.uses[name] - 1 // the node read it once; its readers now read it
		} else {
			v.uses = im.uses[name]
		}
		im.values[name] = v
	}
	return nil
}

func allConst(ins []*value) bool {
	for _, v := range ins {
		if v != nil && v.c == nil {
			return false
		}
	}
	return true
}

func need(ins []*value, n int) error {
	if len(ins) < n {
		return errors.Errorf("needs %d inputs, has %d", n, len(ins))
	}
	for i := 0; i < n; i++ {
		if ins[i] == nil {
			return errors.Errorf("input %d is missing", i)
		}
	}
	return nil
}

func constInput(ins []*value, i int, what string) (*constant, error) {
	if i >= len(ins) || ins[i] == nil {
		return nil, errors.Errorf("the %s (input %d) is missing", what, i)
	}
	if ins[i].c == nil {
		return nil, errors.Errorf("the %s (input %d) must be a constant (an initializer), not computed from the model's input", what, i)
	}
	return ins[i].c, nil
}

// op maps one node to its output values.
func (im *importer) op(n *pb.NodeProto, a attrs, ins []*value) ([]*value, error) {
	op := n.GetOpType()
	if allConst(ins) && len(ins) > 0 || op == "Constant" {
		if v, ok, err := im.fold(op, a, ins); ok || err != nil {
			if err != nil {
				return nil, err
			}
			return []*value{v}, nil
		}
	}
	if op != "Constant" {
		if err := need(ins, 1); err != nil {
			return nil, err
		}
	}
	switch op {
	case "Identity":
		return []*value{ins[0]}, nil
	case "Dropout":
		return im.dropout(n, a, ins)
	case "Shape":
		if _, ok := a["start"]; ok {
			return nil, errors.New("Shape with start or end is not supported")
		}
		return []*value{{c: shapeConst(ins[0].dims())}}, nil
	case "Conv":
		return im.conv(n, a, ins)
	case "ConvTranspose":
		return im.convTranspose(n, a, ins)
	case "Resize", "Upsample":
		return im.resize(n, a, ins)
	case "Gemm":
		return im.gemm(n, a, ins)
	case "MatMul":
		return im.matmul(n, ins)
	case "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softmax", "Clip", "Elu", "Gelu", "Erf":
		return im.activation(n, a, ins)
	case "MaxPool", "AveragePool":
		return im.pool(n, a, ins)
	case "GlobalAveragePool":
		x, err := image(ins[0])
		if err != nil {
			return nil, err
		}
		l := im.newLayer(n, "GlobalAveragePooling2D", x)
		return im.output(l, vPooled, nn.Shape{x.shape[2]}), nil
	case "GlobalMaxPool":
		x, err := image(ins[0])
		if err != nil {
			return nil, err
		}
		l := im.newLayer(n, "GlobalMaxPooling2D", x)
		return im.output(l, vPooled, nn.Shape{x.shape[2]}), nil
	case "PRelu":
		return im.prelu(n, ins)
	case "Concat":
		return im.concat(n, a, ins)
	case "Slice":
		return im.slice(n, a, ins)
	case "BatchNormalization":
		return im.batchNorm(n, a, ins)
	case "Flatten":
		return im.flatten(n, a, ins)
	case "Reshape":
		return im.reshape(n, a, ins)
	case "Squeeze":
		return im.squeeze(n, a, ins)
	case "Transpose":
		return im.transpose(n, a, ins)
	case "Add", "Sub", "Mul", "Div", "Sum", "Max":
		return im.arith(n, ins)
	case "Pad":
		return im.pad(n, a, ins)
	}
	return nil, errors.Errorf("operator %s has no convgraph mapping", op)
}

// newLayer records a layer of the given kind built from node n.
func (im *importer) newLayer(n *pb.NodeProto, kind string, inputs ...*value) *layer {
	l := &layer{name: im.layerName(n), kind: kind, inputs: inputs, node: n.GetName(), params: map[string][]float64{}}
	im.layers = append(im.layers, l)
	return l
}

// output makes l's output value.
func (im *importer) output(l *layer, kind vkind, shape nn.Shape) []*value {
	l.out = &value{kind: kind, src: l, shape: shape}
	return []*value{l.out}
}

// image returns v if it is an image in NCHW.
func image(v *value) (*value, error) {
	switch {
	case v.c != nil:
		return nil, errors.New("the input is a constant; convgraph layers apply to values computed from the model's input")
	case v.kind == vImage:
		return v, nil
	case v.kind == vNHWC:
		return nil, errors.New("the model's input is NHWC here; only a Transpose to NCHW may read it")
	case v.kind == vGelu:
		return nil, errors.New("a part of x * (1 + erf(x / sqrt 2)) / 2 (GELU) is read elsewhere")
	}
	return nil, errors.Errorf("the input %v is not an image [N, C, H, W]", v.dims())
}

// flat returns v if it is a vector [N, F].
func flat(v *value) (*value, error) {
	switch {
	case v.c != nil:
		return nil, errors.New("the input is a constant; convgraph layers apply to values computed from the model's input")
	case v.kind == vFlat:
		return v, nil
	case v.kind == vPooled:
		return &value{kind: vFlat, src: v.src, shape: v.shape, uses: v.uses}, nil
	}
	return nil, errors.Errorf("the input %v is not a matrix [N, F]: flatten it first", v.dims())
}

// fusable reports whether v is the only use of its layer's output, so that an
// activation or a constant scale or shift may be merged into that layer.
func fusable(v *value, kinds ...string) bool {
	if v.src == nil || v.src.out != v || v.uses != 1 {
		return false
	}
	for _, k := range kinds {
		if v.src.kind == k {
			return true
		}
	}
	return false
}

func pairAttr(a attrs, name string) ([2]int, error) {
	v, ok := a.ints(name)
	if !ok {
		return [2]int{1, 1}, nil
	}
	if len(v) != 2 || v[0] <= 0 || v[1] <= 0 || v[0] > 1<<16 || v[1] > 1<<16 {
		return [2]int{}, errors.Errorf("%s %v must be two positive sizes", name, v)
	}
	return [2]int{int(v[0]), int(v[1])}, nil
}

// padsAttr resolves pads or auto_pad to top, bottom, left, right.
func padsAttr(a attrs, in nn.Shape, k, s, d [2]int) ([4]int, error) {
	switch ap := a.str("auto_pad", "NOTSET"); ap {
	case "NOTSET", "":
		p, ok := a.ints("pads")
		if !ok {
			return [4]int{}, nil
		}
		if len(p) != 4 {
			return [4]int{}, errors.Errorf("pads %v must have 4 values (2-D)", p)
		}
		for _, v := range p {
			if v < 0 || v > 1<<16 {
				return [4]int{}, errors.Errorf("pads %v must be non-negative sizes", p)
			}
		}
		// ONNX orders pads as all begins, then all ends: top, left, bottom, right.
		return [4]int{int(p[0]), int(p[2]), int(p[1]), int(p[3])}, nil
	case "VALID":
		return [4]int{}, nil
	case "SAME_UPPER", "SAME_LOWER":
		t, b := graph.SamePad(in[0], k[0], s[0], d[0])
		l, r := graph.SamePad(in[1], k[1], s[1], d[1])
		if ap == "SAME_LOWER" {
			t, b, l, r = b, t, r, l
		}
		return [4]int{t, b, l, r}, nil
	default:
		return [4]int{}, errors.Errorf("auto_pad %q is not NOTSET, VALID, SAME_UPPER or SAME_LOWER", ap)
	}
}

// window is the output size of a (dilated) window over a padded image.
func window(in nn.Shape, k, s, d [2]int, p [4]int) (int, int, error) {
	eh, ew := d[0]*(k[0]-1)+1, d[1]*(k[1]-1)+1
	ph, pw := in[0]+p[0]+p[1], in[1]+p[2]+p[3]
	if eh > ph || ew > pw {
		return 0, 0, errors.Errorf("window %dx%d is larger than the padded input %dx%d", eh, ew, ph, pw)
	}
	return (ph-eh)/s[0] + 1, (pw-ew)/s[1] + 1, nil
}

func (im *importer) conv(n *pb.NodeProto, a attrs, ins []*value) ([]*value, error) {
	if err := need(ins, 2); err != nil {
		return nil, err
	}
	x, err := image(ins[0])
	if err != nil {
		return nil, err
	}
	w, err := constInput(ins, 1, "weight")
	if err != nil {
		return nil, err
	}
	if len(w.shape) != 4 || w.isInt {
		return nil, errors.Errorf("the weight has shape %v; want [filters, channels, kh, kw] floats", w.shape)
	}
	f, c, kh, kw := w.shape[0], w.shape[1], w.shape[2], w.shape[3]
	group := a.int("group", 1)
	depthwise := false
	switch {
	case group == 1:
	case group == int64(x.shape[2]) && c == 1 && f%x.shape[2] == 0:
		depthwise = true
	case group < 1 || group > int64(x.shape[2]) || x.shape[2]%int(group) != 0 || f%int(group) != 0:
		return nil, errors.Errorf("group %d does not divide the input's %d channels and the weight's %d filters", group, x.shape[2], f)
	}
	if !depthwise && c*int(group) != x.shape[2] {
		return nil, errors.Errorf("the weight has %d input channels per group; %d groups of the input's %d channels have %d", c, group, x.shape[2], x.shape[2]/int(group))
	}
	if f <= 0 || kh <= 0 || kw <= 0 {
		return nil, errors.Errorf("the weight has shape %v", w.shape)
	}
	if ks, ok := a.ints("kernel_shape"); ok && (len(ks) != 2 || ks[0] != int64(kh) || ks[1] != int64(kw)) {
		return nil, errors.Errorf("kernel_shape %v does not match the weight's %dx%d", ks, kh, kw)
	}
	l := &layer{kernel: [2]int{kh, kw}, filters: f}
	if l.stride, err = pairAttr(a, "strides"); err != nil {
		return nil, err
	}
	if l.dilation, err = pairAttr(a, "dilations"); err != nil {
		return nil, err
	}
	if l.pads, err = padsAttr(a, x.shape, l.kernel, l.stride, l.dilation); err != nil {
		return nil, err
	}
	oh, ow, err := window(x.shape, l.kernel, l.stride, l.dilation, l.pads)
	if err != nil {
		return nil, err
	}
	var b *constant
	if len(ins) > 2 && ins[2] != nil {
		if b, err = constInput(ins, 2, "bias"); err != nil {
			return nil, err
		}
		if b.size() != f {
			return nil, errors.Errorf("the bias has %d values for %d filters", b.size(), f)
		}
	}
	if sep := x.src; !depthwise && group == 1 && sep != nil && sep.kind == "DepthwiseConv2D" && fusable(x, "DepthwiseConv2D") && !sep.bias &&
		(sep.act == "" || sep.act == nn.Linear) && kh == 1 && kw == 1 && l.stride == [2]int{1, 1} && l.dilation == [2]int{1, 1} && l.pads == [4]int{} {
		// A depthwise convolution without bias, then a 1x1 one: Keras's SeparableConv2D.
		sep.kind, sep.filters, sep.name, sep.node = "SeparableConv2D", f, im.layerName(n), n.GetName()
		sep.params["pointwise_kernel"] = w.floats()
		if b != nil {
			sep.bias = true
			sep.params["bias"] = b.floats()
		}
		return im.output(sep, vImage, nn.Shape{oh, ow, f}), nil
	}
	kind, key := "Conv2D", "kernel"
	if depthwise {
		kind, key = "DepthwiseConv2D", "depthwise_kernel"
	}
	nl := im.newLayer(n, kind, x)
	*nl = layer{name: nl.name, kind: nl.kind, node: nl.node, inputs: nl.inputs, params: nl.params,
		kernel: l.kernel, filters: f, stride: l.stride, dilation: l.dilation, pads: l.pads}
	if depthwise {
		nl.filters, nl.multiplier = 0, f/x.shape[2]
	} else {
		nl.groups = int(group)
	}
	nl.params[key] = w.floats() // OIHW ([C*M, 1, kh, kw] for depthwise), convgraph's layout
	if b != nil {
		nl.bias = true
		nl.params["bias"] = b.floats()
	}
	return im.output(nl, vImage, nn.Shape{oh, ow, f}), nil
}

// dense makes a Dense layer from x [N, K] times w (k x units, row-major, already
// transposed to [K, units]) plus an optional bias.
func (im *importer) dense(n *pb.NodeProto, x *value, w []float64, units int, b []float64) []*value {
	l := im.newLayer(n, "Dense", x)
	l.units = units
	l.params["kernel"] = w
	if b != nil {
		l.bias = true
		l.params["bias"] = b
	}
	return im.output(l, vFlat, nn.Shape{units})
}

func (im *importer) gemm(n *pb.NodeProto, a attrs, ins []*value) ([]*value, error) {
	if err := need(ins, 2); err != nil {
		return nil, err
	}
	x, err := flat(ins[0])
	if err != nil {
		return nil, err
	}
	if a.int("transA", 0) != 0 {
		return nil, errors.New("transA 1 is not supported: the input must be [N, K]")
	}
	w, err := constInput(ins, 1, "weight B")
	if err != nil {
		return nil, err
	}
	if len(w.shape) != 2 {
		return nil, errors.Errorf("B has shape %v; want a matrix", w.shape)
	}
	if a.int("transB", 0) != 0 {
		if w, err = transposeConst(w, nil); err != nil {
			return nil, err
		}
	}
	k, units := w.shape[0], w.shape[1]
	if k != x.shape[0] {
		return nil, errors.Errorf("B has %d rows for %d input features", k, x.shape[0])
	}
	if units <= 0 {
		return nil, errors.Errorf("B has shape %v", w.shape)
	}
	alpha, beta := a.float("alpha", 1), a.float("beta", 1)
	wv := w.floats()
	if alpha != 1 {
		wv = scaled(wv, alpha)
	}
	var bv []float64
	if len(ins) > 2 && ins[2] != nil {
		c, err := constInput(ins, 2, "bias C")
		if err != nil {
			return nil, err
		}
		if bv, err = rowVector(c, units); err != nil {
			return nil, errors.Wrap(err, "bias C")
		}
		if beta != 1 {
			bv = scaled(bv, beta)
		}
	}
	return im.dense(n, x, wv, units, bv), nil
}

// rowVector reads a constant that broadcasts along [N, units] as one row of units values.
func rowVector(c *constant, units int) ([]float64, error) {
	vals := c.floats()
	size := 1
	for _, d := range c.shape {
		size *= d
	}
	switch {
	case size == units && (len(c.shape) == 1 || len(c.shape) == 2 && c.shape[0] == 1):
		return append([]float64(nil), vals...), nil
	case size == 1:
		out := make([]float64, units)
		for i := range out {
			out[i] = vals[0]
		}
		return out, nil
	}
	return nil, errors.Errorf("shape %v does not broadcast to one row of %d", c.shape, units)
}

func scaled(v []float64, s float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x * s
	}
	return out
}

func (im *importer) matmul(n *pb.NodeProto, ins []*value) ([]*value, error) {
	if err := need(ins, 2); err != nil {
		return nil, err
	}
	x, err := flat(ins[0])
	if err != nil {
		return nil, err
	}
	w, err := constInput(ins, 1, "weight")
	if err != nil {
		return nil, err
	}
	if len(w.shape) != 2 || w.shape[0] != x.shape[0] || w.shape[1] <= 0 {
		return nil, errors.Errorf("the weight has shape %v for %d input features", w.shape, x.shape[0])
	}
	return im.dense(n, x, w.floats(), w.shape[1], nil), nil
}

func (im *importer) activation(n *pb.NodeProto, a attrs, ins []*value) ([]*value, error) {
	x := ins[0]
	if x.c != nil || x.kind == vNHWC || x.kind == vGelu && n.GetOpType() != "Erf" {
		if _, err := image(x); err != nil {
			return nil, err
		}
	}
	var act nn.ActivationFn
	alpha := 0.0
	switch n.GetOpType() {
	case "Relu":
		act = nn.ReLU
	case "Sigmoid":
		act = nn.Sigmoid
	case "Tanh":
		act = nn.Tanh
	case "Elu":
		act, alpha = nn.ELU, a.float("alpha", 1)
		if !(alpha > 0) {
			return nil, errors.Errorf("alpha %v must be positive", alpha)
		}
	case "Gelu":
		if ap := a.str("approximate", "none"); ap != "none" {
			return nil, errors.Errorf("approximate %q: convgraph's GELU is the exact one", ap)
		}
		act = nn.GELU
	case "Erf":
		// The middle of GELU as operator set 13 spells it: x * (1 + erf(x / sqrt 2)) / 2.
		if x.kind != vGelu || x.stage != 1 {
			return nil, errors.New("Erf has no convgraph layer outside GELU (x * (1 + erf(x / sqrt 2)) / 2)")
		}
		return []*value{{kind: vGelu, stage: 2, base: x.base}}, nil
	case "LeakyRelu":
		act, alpha = nn.LeakyReLU, a.float("alpha", 0.01)
		if alpha < 0 || math.IsNaN(alpha) {
			return nil, errors.Errorf("alpha %v must not be negative", alpha)
		}
		if alpha == 0 {
			act = nn.ReLU
		}
	case "Softmax":
		axis := a.int("axis", -1)
		if im.opset < 13 {
			axis = a.int("axis", 1)
		}
		act = nn.Softmax
		if x.kind == vImage && im.opset >= 13 {
			k, err := normAxis(axis, 4)
			if err != nil || k == 0 {
				return nil, errors.Errorf("axis %d of an image", axis)
			}
			l := im.newLayer(n, "Activation", x)
			l.act, l.axis = nn.Softmax, [...]int{0, -1, 1, 2}[k]
			return im.output(l, x.kind, x.shape), nil
		}
		if x.kind != vFlat && x.kind != vPooled {
			return nil, errors.Errorf("softmax over %v: convgraph's softmax takes [N, classes] or, from operator set 13, images", x.dims())
		}
		if axis != 1 && axis != -1 {
			return nil, errors.Errorf("axis %d: a vector's softmax is over axis 1", axis)
		}
	case "Clip":
		lo, hi := math.Inf(-1), math.Inf(1)
		if im.opset < 11 {
			lo, hi = a.float("min", lo), a.float("max", hi)
		} else {
			for i, p := range []*float64{&lo, &hi} {
				if len(ins) > i+1 && ins[i+1] != nil {
					c, err := constInput(ins, i+1, []string{"min", "max"}[i])
					if err != nil {
						return nil, err
					}
					if c.size() != 1 {
						return nil, errors.Errorf("%s has %d values; want a scalar", []string{"min", "max"}[i], c.size())
					}
					*p = c.floats()[0]
				}
			}
		}
		switch {
		case lo == 0 && math.IsInf(hi, 1):
			act = nn.ReLU
		case lo == 0 && hi == 6:
			act = nn.ReLU6
		default:
			return nil, errors.Errorf("Clip(%v, %v) has no convgraph layer (Clip(0, inf) is ReLU, Clip(0, 6) ReLU6)", lo, hi)
		}
	}
	if x.kind == vPooled {
		var err error
		if x, err = flat(x); err != nil {
			return nil, err
		}
	}
	if n.GetOpType() == "Sigmoid" && x.uses == 2 && x.c == nil && (x.kind == vImage || x.kind == vFlat) {
		// Maybe Swish, x * sigmoid(x): Mul decides.
		l := im.newLayer(n, "Activation", x)
		l.act = nn.Sigmoid
		out := im.output(l, x.kind, x.shape)
		out[0].base = x
		return out, nil
	}
	if fusable(x, "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose", "Dense") && (x.src.act == "" || x.src.act == nn.Linear) && (act != nn.Softmax || x.src.kind == "Dense") {
		l := x.src
		l.act, l.alpha = act, alpha
		return im.output(l, x.kind, x.shape), nil
	}
	l := im.newLayer(n, "Activation", x)
	l.act, l.alpha = act, alpha
	return im.output(l, x.kind, x.shape), nil
}

func (im *importer) dropout(n *pb.NodeProto, a attrs, ins []*value) ([]*value, error) {
	rate := a.float("ratio", 0.5)
	if len(ins) > 1 && ins[1] != nil {
		c, err := constInput(ins, 1, "ratio")
		if err != nil {
			return nil, err
		}
		if c.size() != 1 {
			return nil, errors.New("ratio must be a scalar")
		}
		rate = c.floats()[0]
	}
	if len(ins) > 2 && ins[2] != nil {
		c, err := constInput(ins, 2, "training_mode")
		if err != nil {
			return nil, err
		}
		if c.size() != 1 || c.floats()[0] != 0 {
			return nil, errors.New("training_mode must be false: the file must be exported for inference")
		}
	}
	if !(rate >= 0 && rate < 1) {
		return nil, errors.Errorf("ratio %v must be in [0, 1)", rate)
	}
	x := ins[0]
	if x.c != nil || x.src == nil && x.kind != vImage && x.kind != vFlat {
		return []*value{x}, nil
	}
	if x.kind == vPooled {
		var err error
		if x, err = flat(x); err != nil {
			return nil, err
		}
	}
	if x.kind != vImage && x.kind != vFlat || rate == 0 {
		return []*value{x}, nil
	}
	l := im.newLayer(n, "Dropout", x)
	l.rate = rate
	return im.output(l, x.kind, x.shape), nil
}

func (im *importer) pool(n *pb.NodeProto, a attrs, ins []*value) ([]*value, error) {
	x, err := image(ins[0])
	if err != nil {
		return nil, err
	}
	ks, ok := a.ints("kernel_shape")
	if !ok || len(ks) != 2 || ks[0] <= 0 || ks[1] <= 0 || ks[0] > 1<<16 || ks[1] > 1<<16 {
		return nil, errors.Errorf("kernel_shape %v must be two positive sizes", ks)
	}
	k := [2]int{int(ks[0]), int(ks[1])}
	s, err := pairAttr(a, "strides")
	if err != nil {
		return nil, err
	}
	if d, err := pairAttr(a, "dilations"); err != nil || d != [2]int{1, 1} {
		return nil, errors.Errorf("dilations %v: convgraph's pooling has none", d)
	}
	p, err := padsAttr(a, x.shape, k, s, [2]int{1, 1})
	if err != nil {
		return nil, err
	}
	oh, ow, err := window(x.shape, k, s, [2]int{1, 1}, p)
	if err != nil {
		return nil, err
	}
	if a.int("ceil_mode", 0) != 0 {
		// Ceil mode changes nothing when the windows fit exactly.
		ch := (x.shape[0]+p[0]+p[1]-k[0]+s[0]-1)/s[0] + 1
		cw := (x.shape[1]+p[2]+p[3]-k[1]+s[1]-1)/s[1] + 1
		if ch != oh || cw != ow {
			return nil, errors.New("ceil_mode 1 is not supported where it adds a partial window")
		}
	}
	kind := "MaxPooling2D"
	if n.GetOpType() == "AveragePool" {
		kind = "AveragePooling2D"
		if a.int("count_include_pad", 0) != 0 && p != [4]int{} {
			return nil, errors.New("count_include_pad 1 with padding: convgraph averages over the cells inside the image only")
		}
	}
	for i, v := range p {
		if v >= k[i/2] {
			return nil, errors.Errorf("pads %v must be smaller than the window %dx%d", p, k[0], k[1])
		}
	}
	l := im.newLayer(n, kind, x)
	l.pool, l.stride, l.pads = k, s, p
	return im.output(l, vImage, nn.Shape{oh, ow, x.shape[2]}), nil
}

func (im *importer) batchNorm(n *pb.NodeProto, a attrs, ins []*value) ([]*value, error) {
	if err := need(ins, 5); err != nil {
		return nil, err
	}
	if a.int("training_mode", 0) != 0 {
		return nil, errors.New("training_mode 1: export the model for inference")
	}
	x := ins[0]
	var ch int
	switch {
	case x.c == nil && x.kind == vImage:
		ch = x.shape[2]
	case x.c == nil && (x.kind == vFlat || x.kind == vPooled):
		x, _ = flat(x)
		ch = x.shape[0]
	default:
		if _, err := image(x); err != nil {
			return nil, err
		}
	}
	l := im.newLayer(n, "BatchNormalization", x)
	for i, name := range []string{"gamma", "beta", "moving_mean", "moving_variance"} {
		c, err := constInput(ins, i+1, name)
		if err != nil {
			return nil, err
		}
		if c.size() != ch {
			return nil, errors.Errorf("%s has %d values for %d channels", name, c.size(), ch)
		}
		l.params[name] = c.floats()
	}
	l.eps, l.momentum = a.float("epsilon", 1e-5), a.float("momentum", 0.9)
	if !(l.eps > 0) {
		return nil, errors.Errorf("epsilon %v must be positive", l.eps)
	}
	if !(l.momentum >= 0 && l.momentum < 1) {
		l.momentum = 0.9
	}
	return im.output(l, x.kind, x.shape), nil
}

// flattenTo gives the value [N, F] of x, adding a Flatten layer for images.
func (im *importer) flattenTo(n *pb.NodeProto, x *value) ([]*value, error) {
	switch {
	case x.c != nil:
		return nil, errors.New("flattening a constant computed from the input")
	case x.kind == vFlat:
		return []*value{x}, nil
	case x.kind == vPooled:
		v, _ := flat(x)
		return []*value{v}, nil
	case x.kind == vImage:
		l := im.newLayer(n, "Flatten", x)
		return im.output(l, vFlat, nn.Shape{x.shape.Size()}), nil
	}
	_, err := image(x)
	return nil, err
}

func (im *importer) flatten(n *pb.NodeProto, a attrs, ins []*value) ([]*value, error) {
	if axis := a.int("axis", 1); axis != 1 {
		return nil, errors.Errorf("axis %d: convgraph flattens from axis 1", axis)
	}
	return im.flattenTo(n, ins[0])
}

func (im *importer) reshape(n *pb.NodeProto, a attrs, ins []*value) ([]*value, error) {
	x := ins[0]
	var target *constant
	if im.opset < 5 {
		return nil, errors.New("Reshape before operator set 5 is not supported")
	}
	target, err := constInput(ins, 1, "shape")
	if err != nil {
		return nil, err
	}
	if !target.isInt || len(target.shape) != 1 {
		return nil, errors.Errorf("shape %v must be a vector of integers", target.shape)
	}
	in := x.dims()
	per := 1
	for _, d := range in[1:] {
		per *= d
	}
	// The target, with its first entry the batch: 0 (copy), -1 (infer) or Shape's batch.
	dims := target.i
	if len(dims) == 0 {
		return nil, errors.New("empty shape")
	}
	first := dims[0] == 0 && a.int("allowzero", 0) == 0 || target.batch[0] || dims[0] == -1
	if !first {
		return nil, errors.Errorf("shape %v does not keep the batch as its first dimension", dims)
	}
	var out []int
	infer := -1
	rest := 1
	for i, d := range dims[1:] {
		switch {
		case target.batch[i+1]:
			return nil, errors.Errorf("shape %v moves the batch size off the first dimension", dims)
		case d == -1 && infer < 0 && dims[0] != -1:
			infer = len(out)
			out = append(out, -1)
		case d == 0 && a.int("allowzero", 0) == 0 && i+1 < len(in):
			out = append(out, in[i+1])
			rest *= in[i+1]
		case d > 0 && d <= 1<<30:
			out = append(out, int(d))
			rest *= int(d)
		default:
			return nil, errors.Errorf("shape %v is not supported", dims)
		}
	}
	if infer >= 0 {
		if rest == 0 || per%rest != 0 {
			return nil, errors.Errorf("shape %v does not fit %v", dims, in)
		}
		out[infer] = per / rest
		rest = per
	}
	if rest != per {
		return nil, errors.Errorf("shape %v does not fit %v", dims, in)
	}
	switch {
	case len(out) == 1:
		return im.flattenTo(n, x)
	case len(out) == len(in)-1 && fmt.Sprint(out) == fmt.Sprint(in[1:]):
		return []*value{x}, nil
	case x.kind == vFlat && len(out) == 3 && out[1] == 1 && out[2] == 1 && x.src != nil &&
		(x.src.kind == "GlobalAveragePooling2D" || x.src.kind == "GlobalMaxPooling2D"):
		return []*value{{kind: vPooled, src: x.src, shape: x.shape}}, nil
	case len(out) == 3 && (x.kind == vFlat || x.kind == vImage || x.kind == vPooled):
		// ONNX reshapes NCHW in C, H, W order, as convgraph's Reshape does.
		if x.kind == vPooled {
			x, _ = flat(x)
		}
		l := im.newLayer(n, "Reshape", x)
		l.target = nn.Shape{out[1], out[2], out[0]}
		return im.output(l, vImage, l.target), nil
	}
	return nil, errors.Errorf("reshaping %v to %v has no convgraph layer", in, dims)
}

func (im *importer) squeeze(n *pb.NodeProto, a attrs, ins []*value) ([]*value, error) {
	x := ins[0]
	var axes []int64
	if im.opset >= 13 {
		if len(ins) > 1 && ins[1] != nil {
			c, err := constInput(ins, 1, "axes")
			if err != nil {
				return nil, err
			}
			if axes, err = c.ints(); err != nil {
				return nil, err
			}
		}
	} else {
		axes, _ = a.ints("axes")
	}
	if x.c == nil && x.kind == vPooled {
		ok := len(axes) == 2 || len(axes) == 0
		for _, ax := range axes {
			ok = ok && (ax == 2 || ax == 3 || ax == -1 || ax == -2)
		}
		if ok {
			v, _ := flat(x)
			return []*value{v}, nil
		}
	}
	return nil, errors.Errorf("squeezing axes %v of %v has no convgraph layer", axes, x.dims())
}

func (im *importer) transpose(n *pb.NodeProto, a attrs, ins []*value) ([]*value, error) {
	x := ins[0]
	perm := intsAttr(n, "perm")
	switch {
	case x.c == nil && x.kind == vNHWC && perm == "0,3,1,2":
		return []*value{{kind: vImage, src: x.src, shape: x.shape, uses: x.uses}}, nil
	case x.c == nil && x.kind == vImage && perm == "0,2,3,1" && len(n.Output) == 1 && im.uses[n.Output[0]] == 1:
		// Back to NHWC at the output: convgraph's images are NCHW inside and its users
		// read them that way ([nn.Graph.Output]); the layer is the one before.
		return []*value{x}, nil
	}
	return nil, errors.Errorf("perm %s of %v: convgraph takes transposes only from NHWC at the input and to NHWC at the output", perm, x.dims())
}

func (im *importer) pad(n *pb.NodeProto, a attrs, ins []*value) ([]*value, error) {
	x := ins[0]
	if mode := a.str("mode", "constant"); mode != "constant" {
		return nil, errors.Errorf("mode %q: only padding by zeros is supported", mode)
	}
	var p []int64
	if im.opset >= 11 {
		c, err := constInput(ins, 1, "pads")
		if err != nil {
			return nil, err
		}
		if p, err = c.ints(); err != nil {
			return nil, err
		}
		if len(ins) > 2 && ins[2] != nil {
			v, err := constInput(ins, 2, "constant_value")
			if err != nil {
				return nil, err
			}
			if v.size() != 1 || v.floats()[0] != 0 {
				return nil, errors.New("only padding by zeros is supported")
			}
		}
		if len(ins) > 3 && ins[3] != nil {
			return nil, errors.New("axes are not supported")
		}
	} else {
		p, _ = a.ints("pads")
		if a.float("value", 0) != 0 {
			return nil, errors.New("only padding by zeros is supported")
		}
	}
	xi, err := image(x)
	if err != nil {
		return nil, err
	}
	if len(p) != 8 || p[0] != 0 || p[1] != 0 || p[4] != 0 || p[5] != 0 {
		return nil, errors.Errorf("pads %v: only the height and width of an image may be padded", p)
	}
	var q [4]int
	for i, v := range []int64{p[2], p[6], p[3], p[7]} {
		if v < 0 || v > 1<<16 {
			return nil, errors.Errorf("pads %v must be non-negative sizes", p)
		}
		q[i] = int(v)
	}
	if q == [4]int{} {
		return []*value{xi}, nil
	}
	l := im.newLayer(n, "ZeroPadding2D", xi)
	l.pads = q
	return im.output(l, vImage, nn.Shape{xi.shape[0] + q[0] + q[1], xi.shape[1] + q[2] + q[3], xi.shape[2]}), nil
}

// arith imports Add, Sub, Mul, Div, Sum and Max: of tensors computed from the input (a
// convgraph Add, Subtract, Multiply or Maximum; x * sigmoid(x) is Swish), or of one such
// tensor and a constant, which folds into the layer before (a bias, a scale), finishes an
// Average, or is a step of GELU.
func (im *importer) arith(n *pb.NodeProto, ins []*value) ([]*value, error) {
	op := n.GetOpType()
	if err := need(ins, 2); err != nil {
		return nil, err
	}
	for i, v := range ins {
		if v == nil {
			return nil, errors.Errorf("input %d is missing", i)
		}
	}
	if v, ok, err := im.gelu(n, op, ins); ok || err != nil {
		return v, err
	}
	var syms []*value
	var consts []*constant
	constFirst := false
	for i, v := range ins {
		if v.c != nil {
			consts = append(consts, v.c)
			constFirst = constFirst || i == 0
			continue
		}
		if v.kind == vPooled {
			v, _ = flat(v)
		}
		if v.kind != vImage && v.kind != vFlat {
			if _, err := image(v); err != nil {
				return nil, err
			}
		}
		syms = append(syms, v)
	}
	if len(consts) == 0 {
		for _, v := range syms[1:] {
			if v.kind != syms[0].kind || fmt.Sprint(v.shape) != fmt.Sprint(syms[0].shape) {
				return nil, errors.Errorf("%v and %v: convgraph's merge layers take tensors of the same shape", syms[0].dims(), v.dims())
			}
		}
		kind := map[string]string{"Add": "Add", "Sum": "Add", "Mul": "Multiply", "Sub": "Subtract", "Max": "Maximum"}[op]
		if kind == "" || kind == "Subtract" && len(syms) != 2 {
			return nil, errors.Errorf("%s of %d computed tensors has no convgraph layer", op, len(syms))
		}
		if op == "Mul" && len(syms) == 2 {
			if v := im.swish(syms[0], syms[1]); v != nil {
				return v, nil
			}
		}
		l := im.newLayer(n, kind, syms...)
		return im.output(l, syms[0].kind, syms[0].shape), nil
	}
	if len(syms) != 1 || len(consts) != 1 {
		return nil, errors.Errorf("%s of %d tensors", op, len(ins))
	}
	x, c := syms[0], consts[0]
	if constFirst && (op == "Sub" || op == "Div") {
		return nil, errors.Errorf("%s with the constant first has no convgraph layer", op)
	}
	// Per-channel values: a scalar, or one per channel (image) or feature (vector).
	ch := x.shape[len(x.shape)-1]
	vals, err := channelVector(c, x, ch)
	if err != nil {
		return nil, err
	}
	if fusable(x, "Add") && len(vals) > 0 && (op == "Mul" || op == "Div") {
		k := float32(len(x.src.inputs))
		same := true
		for _, v := range vals {
			same = same && (op == "Mul" && float32(v) == 1/k || op == "Div" && float32(v) == k)
		}
		if same {
			x.src.kind = "Average"
			return im.output(x.src, x.kind, x.shape), nil
		}
	}
	if !fusable(x, "Conv2D", "DepthwiseConv2D", "Dense", "BatchNormalization") || x.src.act != "" && x.src.act != nn.Linear {
		return nil, errors.Errorf("%s by a constant must follow a Conv, Gemm, MatMul or BatchNormalization whose output nothing else reads", op)
	}
	l := x.src
	shift := func(sign float64) {
		key := "bias"
		if l.kind == "BatchNormalization" {
			key = "beta"
		}
		if !l.bias && key == "bias" {
			l.bias = true
			l.params["bias"] = make([]float64, ch)
		}
		for i := range l.params[key] {
			l.params[key][i] += sign * vals[i]
		}
	}
	scale := func(inv bool) error {
		s := vals
		if inv {
			s = make([]float64, ch)
			for i, v := range vals {
				if v == 0 {
					return errors.New("division by zero")
				}
				s[i] = 1 / v
			}
		}
		switch l.kind {
		case "Conv2D", "DepthwiseConv2D": // kernel [F, C, kh, kw] or [C*M, 1, kh, kw]: filter f scaled
			key := "kernel"
			if l.kind == "DepthwiseConv2D" {
				key = "depthwise_kernel"
			}
			per := len(l.params[key]) / ch
			for i := range l.params[key] {
				l.params[key][i] *= s[i/per]
			}
		case "Dense": // kernel [K, units]: column u scaled
			for i := range l.params["kernel"] {
				l.params["kernel"][i] *= s[i%ch]
			}
		case "BatchNormalization":
			for i := range l.params["gamma"] {
				l.params["gamma"][i] *= s[i]
			}
		}
		key := "bias"
		if l.kind == "BatchNormalization" {
			key = "beta"
		}
		for i := range l.params[key] {
			l.params[key][i] *= s[i]
		}
		return nil
	}
	switch op {
	case "Add", "Sum":
		shift(1)
	case "Sub":
		shift(-1)
	case "Mul":
		if err := scale(false); err != nil {
			return nil, err
		}
	case "Div":
		if err := scale(true); err != nil {
			return nil, err
		}
	}
	return im.output(l, x.kind, x.shape), nil
}

// channelVector reads a constant that broadcasts over x as one value per channel.
func channelVector(c *constant, x *value, ch int) ([]float64, error) {
	vals := c.floats()
	if len(vals) == 1 {
		out := make([]float64, ch)
		for i := range out {
			out[i] = vals[0]
		}
		return out, nil
	}
	shape := append([]int(nil), c.shape...)
	for len(shape) > 0 && shape[0] == 1 {
		shape = shape[1:]
	}
	ok := false
	switch x.kind {
	case vImage: // [C, 1, 1]
		ok = len(shape) == 3 && shape[0] == ch && shape[1] == 1 && shape[2] == 1
	case vFlat: // [F]
		ok = len(shape) == 1 && shape[0] == ch
	}
	if !ok {
		return nil, errors.Errorf("a constant of shape %v is not one value per channel of %v", c.shape, x.dims())
	}
	return append([]float64(nil), vals...), nil
}

// scalarIs reports whether c is one value equal to v in float32.
func scalarIs(c *constant, v float64) bool {
	return c != nil && c.size() == 1 && float32(c.floats()[0]) == float32(v)
}

// gelu follows x * (1 + erf(x / sqrt 2)) / 2 (PyTorch's GELU in operator set 13, and
// convgraph's) step by step; ok is false when the node is not one of its steps.
func (im *importer) gelu(n *pb.NodeProto, op string, ins []*value) (out []*value, ok bool, err error) {
	if len(ins) != 2 {
		return nil, false, nil
	}
	a, b := ins[0], ins[1]
	switch {
	case op == "Div" && a.c == nil && (a.kind == vImage || a.kind == vFlat) && a.uses == 2 && scalarIs(b.c, math.Sqrt2):
		return []*value{{kind: vGelu, stage: 1, base: a}}, true, nil
	case op == "Add" && a.kind == vGelu && a.c == nil && a.stage == 2 && scalarIs(b.c, 1):
		return []*value{{kind: vGelu, stage: 3, base: a.base}}, true, nil
	case op == "Mul" && a.c == nil && b.c == nil && (a.kind == vGelu && a.stage == 3 && a.base == b || b.kind == vGelu && b.stage == 3 && b.base == a):
		base := a
		if a.kind == vGelu {
			base = b
		}
		return []*value{{kind: vGelu, stage: 4, base: base}}, true, nil
	case op == "Mul" && a.c == nil && a.kind == vGelu && a.stage == 4 && scalarIs(b.c, 0.5):
		x := a.base
		if x.src != nil && x.src.out == x && x.uses == 2 && convLike(x.src.kind) && (x.src.act == "" || x.src.act == nn.Linear) {
			x.src.act = nn.GELU
			return im.output(x.src, x.kind, x.shape), true, nil
		}
		l := im.newLayer(n, "Activation", x)
		l.act = nn.GELU
		return im.output(l, x.kind, x.shape), true, nil
	}
	for _, v := range ins {
		if v.kind == vGelu && v.c == nil {
			return nil, true, errors.New("a part of x * (1 + erf(x / sqrt 2)) / 2 (GELU) is read elsewhere")
		}
	}
	return nil, false, nil
}

// swish recognises x * sigmoid(x) (either order) and returns Swish on x, merged into the
// layer before when nothing else reads x.
func (im *importer) swish(a, b *value) []*value {
	x, s := a, b
	if !(s.src != nil && s.src.kind == "Activation" && s.src.act == nn.Sigmoid && s.base == x && s.uses == 1) {
		x, s = b, a
	}
	if !(s.src != nil && s.src.kind == "Activation" && s.src.act == nn.Sigmoid && s.base == x && s.uses == 1) {
		return nil
	}
	if x.src != nil && x.src.out == x && x.uses == 2 && convLike(x.src.kind) && (x.src.act == "" || x.src.act == nn.Linear) {
		s.src.dead = true
		x.src.act = nn.Swish
		return im.output(x.src, x.kind, x.shape)
	}
	s.src.act = nn.Swish
	return im.output(s.src, x.kind, x.shape)
}

func (im *importer) concat(n *pb.NodeProto, a attrs, ins []*value) ([]*value, error) {
	var xs []*value
	for i, v := range ins {
		if v == nil {
			return nil, errors.Errorf("input %d is missing", i)
		}
		if v.c != nil {
			return nil, errors.New("joins a constant to computed tensors")
		}
		if v.kind == vPooled {
			v, _ = flat(v)
		}
		if v.kind != vImage && v.kind != vFlat {
			if _, err := image(v); err != nil {
				return nil, err
			}
		}
		if v.kind != ins[0].kind && !(v.kind == vFlat && ins[0].kind == vPooled) {
			return nil, errors.New("joins images and vectors")
		}
		xs = append(xs, v)
	}
	rank := 2
	if xs[0].kind == vImage {
		rank = 4
	}
	if ax, err := normAxis(a.int("axis", 1), rank); err != nil || ax != 1 {
		return nil, errors.Errorf("axis %d: convgraph concatenates channels or features (axis 1)", a.int("axis", 1))
	}
	out := append(nn.Shape(nil), xs[0].shape...)
	for _, v := range xs[1:] {
		last := len(out) - 1
		if fmt.Sprint(v.shape[:last]) != fmt.Sprint(out[:last]) {
			return nil, errors.Errorf("inputs %v and %v differ off axis 1", xs[0].dims(), v.dims())
		}
		out[last] += v.shape[last]
	}
	if len(xs) == 1 {
		return []*value{xs[0]}, nil
	}
	l := im.newLayer(n, "Concatenate", xs...)
	return im.output(l, xs[0].kind, out), nil
}

func (im *importer) slice(n *pb.NodeProto, a attrs, ins []*value) ([]*value, error) {
	x, err := image(ins[0])
	if err != nil {
		return nil, err
	}
	get := func(i int, what string) ([]int64, error) {
		if i >= len(ins) || ins[i] == nil {
			return nil, nil
		}
		c, err := constInput(ins, i, what)
		if err != nil {
			return nil, err
		}
		return c.ints()
	}
	if im.opset < 10 {
		return nil, errors.New("Slice before operator set 10 is not supported on images")
	}
	starts, err := get(1, "starts")
	if err != nil {
		return nil, err
	}
	ends, err := get(2, "ends")
	if err != nil {
		return nil, err
	}
	axes, err := get(3, "axes")
	if err != nil {
		return nil, err
	}
	steps, err := get(4, "steps")
	if err != nil {
		return nil, err
	}
	if len(starts) != len(ends) || axes != nil && len(axes) != len(starts) || steps != nil && len(steps) != len(starts) {
		return nil, errors.New("starts, ends, axes and steps differ in length")
	}
	dims := x.dims()
	crop := [4]int{}
	for i := range starts {
		ax := int64(i)
		if axes != nil {
			ax = axes[i]
		}
		k, err := normAxis(ax, 4)
		if err != nil {
			return nil, err
		}
		if steps != nil && steps[i] != 1 {
			return nil, errors.Errorf("step %d: convgraph crops with step 1", steps[i])
		}
		d := int64(dims[k])
		lo, hi := starts[i], ends[i]
		if lo < 0 {
			lo += d
		}
		if hi < 0 {
			hi += d
		}
		lo, hi = max(0, min(lo, d)), max(0, min(hi, d))
		if k < 2 {
			if lo != 0 || hi != d {
				return nil, errors.New("slices the batch or the channels: convgraph crops height and width (Cropping2D)")
			}
			continue
		}
		if hi <= lo {
			return nil, errors.New("the slice is empty")
		}
		crop[2*(k-2)], crop[2*(k-2)+1] = int(lo), int(d-hi)
	}
	if crop == [4]int{} {
		return []*value{x}, nil
	}
	l := im.newLayer(n, "Cropping2D", x)
	l.crop = crop
	return im.output(l, vImage, nn.Shape{x.shape[0] - crop[0] - crop[1], x.shape[1] - crop[2] - crop[3], x.shape[2]}), nil
}

// convLike reports whether a layer kind takes an activation of its own.
func convLike(kind string) bool {
	return kind == "Conv2D" || kind == "DepthwiseConv2D" || kind == "SeparableConv2D" || kind == "Conv2DTranspose" || kind == "Dense"
}

func (im *importer) convTranspose(n *pb.NodeProto, a attrs, ins []*value) ([]*value, error) {
	if err := need(ins, 2); err != nil {
		return nil, err
	}
	x, err := image(ins[0])
	if err != nil {
		return nil, err
	}
	w, err := constInput(ins, 1, "weight")
	if err != nil {
		return nil, err
	}
	if len(w.shape) != 4 || w.isInt || w.shape[0] != x.shape[2] || w.shape[1] <= 0 || w.shape[2] <= 0 || w.shape[3] <= 0 {
		return nil, errors.Errorf("the weight has shape %v; want [%d channels, filters, kh, kw] floats", w.shape, x.shape[2])
	}
	if g := a.int("group", 1); g != 1 {
		return nil, errors.Errorf("group %d: convgraph's transposed convolution has one group", g)
	}
	f, k := w.shape[1], [2]int{w.shape[2], w.shape[3]}
	l := &layer{kernel: k, filters: f}
	if l.stride, err = pairAttr(a, "strides"); err != nil {
		return nil, err
	}
	if l.dilation, err = pairAttr(a, "dilations"); err != nil {
		return nil, err
	}
	op := [2]int{}
	if v, ok := a.ints("output_padding"); ok {
		if len(v) != 2 || v[0] < 0 || v[1] < 0 || v[0] > 1<<16 || v[1] > 1<<16 {
			return nil, errors.Errorf("output_padding %v must be two sizes", v)
		}
		op = [2]int{int(v[0]), int(v[1])}
	}
	if l.pads, err = convTransposePads(a, x.shape, k, l.stride, l.dilation, op); err != nil {
		return nil, err
	}
	// Output padding adds cells after the bottom and right of the full transposed
	// convolution that the end padding would have cropped: it is that much less end
	// padding. nn's same padding (in*stride cells, padded as TensorFlow pads a
	// convolution of that size) is kept as such, so that convgraph's files come back
	// with their own settings.
	var same [4]int
	same[0], same[1] = graph.SamePad(x.shape[0]*l.stride[0], k[0], l.stride[0], l.dilation[0])
	same[2], same[3] = graph.SamePad(x.shape[1]*l.stride[1], k[1], l.stride[1], l.dilation[1])
	var out [2]int
	for i := 0; i < 2; i++ {
		if l.pads[2*i+1] < op[i] {
			return nil, errors.Errorf("output_padding %v is more than the end pads of %v: convgraph's transposed convolution would need cells no window reaches", op, l.pads)
		}
		l.pads[2*i+1] -= op[i]
		out[i] = l.stride[i]*(x.shape[i]-1) + l.dilation[i]*(k[i]-1) + 1 - l.pads[2*i] - l.pads[2*i+1]
		if out[i] < 1 {
			return nil, errors.Errorf("pads %v leave no output", l.pads)
		}
	}
	l.same = op != [2]int{} && same == l.pads && out[0] == x.shape[0]*l.stride[0] && out[1] == x.shape[1]*l.stride[1]
	var b *constant
	if len(ins) > 2 && ins[2] != nil {
		if b, err = constInput(ins, 2, "bias"); err != nil {
			return nil, err
		}
		if b.size() != f {
			return nil, errors.Errorf("the bias has %d values for %d filters", b.size(), f)
		}
	}
	nl := im.newLayer(n, "Conv2DTranspose", x)
	*nl = layer{name: nl.name, kind: nl.kind, node: nl.node, inputs: nl.inputs, params: nl.params,
		kernel: k, filters: f, stride: l.stride, dilation: l.dilation, pads: l.pads, same: l.same}
	nl.params["kernel"] = w.floats() // [C, F, kh, kw], convgraph's layout
	if b != nil {
		nl.bias = true
		nl.params["bias"] = b.floats()
	}
	return im.output(nl, vImage, nn.Shape{out[0], out[1], f}), nil
}

func (im *importer) resize(n *pb.NodeProto, a attrs, ins []*value) ([]*value, error) {
	x, err := image(ins[0])
	if err != nil {
		return nil, err
	}
	var factors []float64
	switch {
	case n.GetOpType() == "Upsample" || im.opset < 11:
		if im.opset >= 9 {
			c, err := constInput(ins, 1, "scales")
			if err != nil {
				return nil, err
			}
			factors = c.floats()
		} else {
			at, ok := a["scales"]
			if !ok {
				return nil, errors.New("no scales")
			}
			for _, v := range at.Floats {
				factors = append(factors, float64(v))
			}
		}
	case len(ins) > 3 && ins[3] != nil:
		c, err := constInput(ins, 3, "sizes")
		if err != nil {
			return nil, err
		}
		// The batch's size may come from the input's Shape (it is any size): the
		// resize keeps it.
		var sizes []int64
		if c.isInt && len(c.batch) == len(c.i) && len(c.i) > 0 && c.batch[0] {
			sizes = append([]int64{1}, c.i[1:]...)
			for _, b := range c.batch[1:] {
				if b {
					return nil, errors.New("sizes: the batch size appears off the first axis")
				}
			}
		} else if sizes, err = c.ints(); err != nil {
			return nil, err
		}
		d := x.dims()
		if len(sizes) != 4 {
			return nil, errors.Errorf("sizes %v must have 4 values", sizes)
		}
		for i, v := range sizes {
			if i == 0 {
				factors = append(factors, 1)
				continue
			}
			factors = append(factors, float64(v)/float64(d[i]))
		}
	default:
		c, err := constInput(ins, 2, "scales")
		if err != nil {
			return nil, err
		}
		factors = c.floats()
	}
	if len(factors) != 4 || factors[0] != 1 || factors[1] != 1 {
		return nil, errors.Errorf("scales %v: convgraph resizes height and width only", factors)
	}
	// Whole factors are UpSampling2D; any other ratio is Resizing to the output size,
	// whose coordinates (o*in/out) are ONNX's (o/scale) when in*scale is that size.
	var size, out [2]int
	whole := true
	for i, f := range factors[2:] {
		in := x.shape[i]
		o := float64(float32(in) * float32(f)) // ONNX: floor(in * scale), in float32
		if !(f > 0) || o > 1<<16 || o < 1 {
			return nil, errors.Errorf("scale %v of %d cells: convgraph resizes to 1 to 65536 cells", f, in)
		}
		out[i] = int(math.Floor(o))
		if math.Abs(o-math.Round(o)) > 1e-3 {
			return nil, errors.Errorf("scale %v of %d cells gives %.4g, not a whole size: convgraph resizes to whole sizes (give sizes, or F.interpolate(size=...))", f, in, o)
		}
		out[i] = int(math.Round(o))
		if f != math.Trunc(f) || f < 1 {
			whole = false
		} else {
			size[i] = int(f)
		}
	}
	mode := a.str("mode", "nearest")
	ctm := a.str("coordinate_transformation_mode", "half_pixel")
	if n.GetOpType() == "Upsample" || im.opset < 11 {
		ctm = "asymmetric"
	}
	bilinear := false
	switch mode {
	case "nearest":
		if nm := a.str("nearest_mode", "round_prefer_floor"); ctm != "asymmetric" || nm != "floor" && im.opset >= 11 {
			return nil, errors.Errorf("nearest with %s coordinates and %s rounding: convgraph repeats cells (asymmetric, floor)", ctm, nm)
		}
	case "linear", "bilinear":
		if ctm != "half_pixel" && ctm != "pytorch_half_pixel" {
			return nil, errors.Errorf("linear with %s coordinates: convgraph's bilinear uses half-pixel centres", ctm)
		}
		bilinear = true
	default:
		return nil, errors.Errorf("mode %q: convgraph has nearest and bilinear", mode)
	}
	if !whole {
		if bilinear && ctm == "pytorch_half_pixel" && (out[0] == 1 || out[1] == 1) {
			return nil, errors.New("pytorch_half_pixel coordinates to a size of 1: convgraph's bilinear resizing uses half_pixel")
		}
		l := im.newLayer(n, "Resizing", x)
		l.size, l.bilinear = out, bilinear
		return im.output(l, vImage, nn.Shape{out[0], out[1], x.shape[2]}), nil
	}
	l := im.newLayer(n, "UpSampling2D", x)
	l.size, l.bilinear = size, bilinear
	return im.output(l, vImage, nn.Shape{x.shape[0] * size[0], x.shape[1] * size[1], x.shape[2]}), nil
}

// prelu imports PRelu with a constant slope: one value (a shared slope) or one per channel
// of an image ([C, 1, 1]) or feature of a vector ([F]).
func (im *importer) prelu(n *pb.NodeProto, ins []*value) ([]*value, error) {
	if err := need(ins, 2); err != nil {
		return nil, err
	}
	x := ins[0]
	if x.c == nil && x.kind == vPooled {
		x, _ = flat(x)
	}
	if x.c != nil || x.kind != vImage && x.kind != vFlat {
		if _, err := image(x); err != nil {
			return nil, err
		}
	}
	slope, err := constInput(ins, 1, "slope")
	if err != nil {
		return nil, err
	}
	ch := x.shape[len(x.shape)-1]
	l := &layer{}
	if slope.size() == 1 {
		l.shared = true
		l.params = map[string][]float64{"alpha": slope.floats()}
	} else {
		vals, err := channelVector(slope, x, ch)
		if err != nil {
			return nil, errors.Wrap(err, "slope")
		}
		l.params = map[string][]float64{"alpha": vals}
	}
	nl := im.newLayer(n, "PReLU", x)
	nl.shared, nl.params = l.shared, l.params
	return im.output(nl, x.kind, x.shape), nil
}

// convTransposePads resolves a ConvTranspose's padding (top, bottom, left, right, before
// output_padding op is taken off the ends): from output_shape if given, from auto_pad
// SAME_UPPER or SAME_LOWER (output in*stride), or from pads. A total padding t is split
// as ONNX's operator documents it: t/2 at the start and the rest at the end for
// SAME_UPPER, the other way round otherwise.
func convTransposePads(a attrs, in nn.Shape, k, s, d, op [2]int) ([4]int, error) {
	ap := a.str("auto_pad", "NOTSET")
	outShape, hasShape := a.ints("output_shape")
	switch {
	case ap != "NOTSET" && ap != "" && ap != "VALID" && ap != "SAME_UPPER" && ap != "SAME_LOWER":
		return [4]int{}, errors.Errorf("auto_pad %q is not NOTSET, VALID, SAME_UPPER or SAME_LOWER", ap)
	case !hasShape && (ap == "NOTSET" || ap == ""):
		return padsAttr(a, in, k, s, d)
	case !hasShape && ap == "VALID":
		return [4]int{}, nil
	}
	var want [2]int
	if hasShape {
		if len(outShape) != 2 {
			return [4]int{}, errors.Errorf("output_shape %v must be the height and width", outShape)
		}
		for i, v := range outShape {
			if v <= 0 || v > 1<<26 {
				return [4]int{}, errors.Errorf("output_shape %v must be positive sizes", outShape)
			}
			want[i] = int(v)
		}
	} else {
		want = [2]int{in[0] * s[0], in[1] * s[1]}
	}
	var p [4]int
	for i := 0; i < 2; i++ {
		total := s[i]*(in[i]-1) + op[i] + d[i]*(k[i]-1) + 1 - want[i]
		if total < 0 {
			return [4]int{}, errors.Errorf("output %dx%d is larger than the transposed convolution's %d cells along axis %d", want[0], want[1], want[i]+total, i+2)
		}
		if ap == "SAME_UPPER" {
			p[2*i], p[2*i+1] = total/2, total-total/2
		} else {
			p[2*i], p[2*i+1] = total-total/2, total/2
		}
	}
	return p, nil
}
