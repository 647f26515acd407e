package graph_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/nlpodyssey/safetensors"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
)

// parityDir holds the PyTorch 1.13 reference fixtures written by tools/parity/gen.py; the
// conventions (tensor names, padding, batch norm momentum) are in tools/parity/README.md.
const parityDir = "../testdata/parity"

// The parity tolerance, elementwise: |got-want| <= parityRTol*|want| + parityATol. The
// references are float64 results rounded to float32; a float32 computation lands within
// about 2e-6 of them (tools/parity/check.py), so 1e-4 leaves room without hiding a bug.
const (
	parityRTol = 1e-4
	parityATol = 1e-6
)

// parityElsewhere lists the fixture ops that other packages compare: whole models need
// package nn's layers.
var parityElsewhere = map[string]string{
	"model_fashion_cnn": "package nn",
	"model_residual":    "package nn",
	"model_mobilenet":   "package nn",
}

// parityTensor is one fixture tensor. I64 tensors (class labels) are converted to float32,
// the form [graph.SoftmaxCrossEntropy] takes.
type parityTensor struct {
	shape []int
	data  []float32
}

// parityFixture is one case file: op name, parameters and named tensors.
type parityFixture struct {
	name    string
	op      string
	params  string
	tensors map[string]parityTensor
}

// loadParityFixture reads one safetensors fixture.
func loadParityFixture(path string) (*parityFixture, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	_, meta, err := safetensors.ReadMetadata(buf)
	if err != nil {
		return nil, errors.Wrapf(err, "%s: header", path)
	}
	st, err := safetensors.Deserialize(buf)
	if err != nil {
		return nil, errors.Wrapf(err, "%s", path)
	}
	md := meta.Metadata()
	fx := &parityFixture{
		name:    strings.TrimSuffix(filepath.Base(path), ".safetensors"),
		op:      md["op"],
		params:  md["params"],
		tensors: make(map[string]parityTensor, st.Len()),
	}
	if fx.op == "" {
		return nil, errors.Errorf("%s: metadata has no op", path)
	}
	for _, nt := range st.Tensors() {
		t := parityTensor{}
		for _, d := range nt.TensorView.Shape() {
			t.shape = append(t.shape, int(d))
		}
		raw := nt.TensorView.Data()
		switch dt := nt.TensorView.DType(); dt {
		case safetensors.F32:
			t.data = make([]float32, len(raw)/4)
			for i := range t.data {
				t.data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		case safetensors.I64:
			t.data = make([]float32, len(raw)/8)
			for i := range t.data {
				v := int64(binary.LittleEndian.Uint64(raw[8*i:]))
				if v < -1<<24 || v > 1<<24 {
					return nil, errors.Errorf("%s: %s[%d] = %d is not exact in float32", path, nt.Name, i, v)
				}
				t.data[i] = float32(v)
			}
		default:
			return nil, errors.Errorf("%s: %s has dtype %v; want F32 or I64", path, nt.Name, dt)
		}
		fx.tensors[nt.Name] = t
	}
	return fx, nil
}

// parityFiles lists the fixture files, sorted.
func parityFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(parityDir, "*.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no fixtures in %s", parityDir)
	}
	sort.Strings(files)
	return files
}

// parityParams is the union of the params every op fixture carries. Decoding rejects
// unknown fields, so a fixture with a parameter this test does not model fails.
type parityParams struct {
	Pad              []int    `json:"pad"`
	Padding          string   `json:"padding"`
	Strides          []int    `json:"strides"`
	Dilation         []int    `json:"dilation"`
	Kernel           []int    `json:"kernel"`
	Filters          int      `json:"filters"`
	Units            int      `json:"units"`
	UseBias          *bool    `json:"use_bias"`
	Pool             []int    `json:"pool"`
	CountIncludePad  *bool    `json:"count_include_pad"`
	Alpha            *float64 `json:"alpha"`
	Axis             *int     `json:"axis"`
	Order            string   `json:"order"`
	Reduction        string   `json:"reduction"`
	Eps              float64  `json:"eps"`
	Momentum         float64  `json:"momentum"`
	Training         *bool    `json:"training"`
	RunningVarUpdate string   `json:"running_var_update"`
	Approximate      string   `json:"approximate"`
	TargetShape      []int    `json:"target_shape"`
	DepthMultiplier  int      `json:"depth_multiplier"`
	Size             []int    `json:"size"`
	Interpolation    string   `json:"interpolation"`
	Out              []int    `json:"out"`
	LabelSmoothing   *float64 `json:"label_smoothing"`
	Delta            float64  `json:"delta"`
	Groups           int      `json:"groups"`
	Shared           *bool    `json:"shared"`
}

func decodeParityParams(s string) (parityParams, error) {
	var p parityParams
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, errors.Wrapf(err, "params %s", s)
	}
	return p, nil
}

// parityPair reads a two-element parameter such as strides [h, w].
func parityPair(name string, v []int) (int, int, error) {
	if len(v) != 2 {
		return 0, 0, errors.Errorf("params.%s = %v; want 2 values", name, v)
	}
	return v[0], v[1], nil
}

// parityPad reads params.pad [top, bottom, left, right].
// parityConv reads a convolution fixture's strides, dilation and padding, and its inputs
// x and w (as n[0] and n[1]).
func parityConv(in *parityInputs, p parityParams) (n []*G.Node, c graph.Conv2DConfig, err error) {
	if c.StrideH, c.StrideW, err = parityPair("strides", p.Strides); err != nil {
		return nil, c, err
	}
	if c.DilationH, c.DilationW, err = parityPair("dilation", p.Dilation); err != nil {
		return nil, c, err
	}
	if c.Pad, err = parityPad(p.Pad); err != nil {
		return nil, c, err
	}
	n, err = in.get("x", "w")
	return n, c, err
}

func parityPad(v []int) (graph.Pad, error) {
	if len(v) != 4 {
		return graph.Pad{}, errors.Errorf("params.pad = %v; want [top, bottom, left, right]", v)
	}
	return graph.Pad{Top: v[0], Bottom: v[1], Left: v[2], Right: v[3]}, nil
}

func parityBool(p *bool, want bool) bool { return p != nil && *p == want }

// parityInputs hands a builder the fixture's input tensors, as graph nodes or raw tensors,
// and remembers which it took, so the runner can insist that every input was used and
// that every grad_<name> has a node <name> to differentiate.
type parityInputs struct {
	g     *G.ExprGraph
	fx    *parityFixture
	nodes map[string]*G.Node
	used  map[string]bool
}

// get returns the named tensors as float32 input nodes.
func (in *parityInputs) get(names ...string) ([]*G.Node, error) {
	out := make([]*G.Node, len(names))
	for i, name := range names {
		if n, ok := in.nodes[name]; ok {
			out[i] = n
			continue
		}
		d, err := in.dense(name)
		if err != nil {
			return nil, err
		}
		n := G.NewTensor(in.g, tensor.Float32, d.Dims(), G.WithShape(d.Shape()...), G.WithName(name), G.WithValue(d))
		in.nodes[name] = n
		out[i] = n
	}
	return out, nil
}

// dense returns a fresh copy of the named tensor.
func (in *parityInputs) dense(name string) (*tensor.Dense, error) {
	t, ok := in.fx.tensors[name]
	if !ok {
		return nil, errors.Errorf("fixture has no tensor %q", name)
	}
	if len(t.shape) == 0 {
		return nil, errors.Errorf("input %q is a scalar", name)
	}
	in.used[name] = true
	return tensor.New(tensor.WithShape(t.shape...), tensor.WithBacking(slices.Clone(t.data))), nil
}

// lossConfig reads a loss's settings: label smoothing, Huber's delta and, when the
// fixture has them, per-example weights.
func (in *parityInputs) lossConfig(p parityParams) (graph.LossConfig, error) {
	cfg := graph.LossConfig{Delta: p.Delta}
	if p.LabelSmoothing != nil {
		cfg.LabelSmoothing = *p.LabelSmoothing
	}
	if _, ok := in.fx.tensors["weights"]; ok {
		w, err := in.get("weights")
		if err != nil {
			return cfg, err
		}
		cfg.Weights = w[0]
	}
	return cfg, nil
}

// parityLoss builds a loss of (x, target) with the fixture's settings.
func parityLoss(f func(pred, target *G.Node, cfg graph.LossConfig) (*G.Node, error)) parityBuild {
	return func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		if p.Reduction != "mean" {
			return nil, nil, errors.New("want params.reduction \"mean\"")
		}
		n, err := in.get("x", "target")
		if err != nil {
			return nil, nil, err
		}
		cfg, err := in.lossConfig(p)
		if err != nil {
			return nil, nil, err
		}
		y, err := f(n[0], n[1], cfg)
		return y, nil, err
	}
}

// parityBuild builds one op from its fixture inputs and returns its output y. Batch norm in
// training mode also returns the running statistics the op updates.
type parityBuild func(in *parityInputs, p parityParams) (y *G.Node, st *graph.BatchNormStats, err error)

// parityOps maps each fixture op name to the graph ops that compute it.
var parityOps = map[string]parityBuild{
	"conv2d": func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		n, c, err := parityConv(in, p)
		if err != nil {
			return nil, nil, err
		}
		if ws := n[1].Shape(); ws[0] != p.Filters || len(p.Kernel) != 2 || ws[2] != p.Kernel[0] || ws[3] != p.Kernel[1] {
			return nil, nil, errors.Errorf("kernel shape %v does not match filters %d, kernel %v", ws, p.Filters, p.Kernel)
		}
		y, err := graph.Conv2D(n[0], n[1], c)
		if err != nil || parityBool(p.UseBias, false) {
			return y, nil, err
		}
		if !parityBool(p.UseBias, true) {
			return nil, nil, errors.New("params.use_bias missing")
		}
		b, err := in.get("b")
		if err != nil {
			return nil, nil, err
		}
		y, err = graph.BiasAdd(y, b[0])
		return y, nil, err
	},
	"maxpool2d": func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		return parityPool(in, p, graph.MaxPool2D)
	},
	"avgpool2d": func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		if !parityBool(p.CountIncludePad, false) {
			return nil, nil, errors.New("AvgPool2D never counts padded cells; want params.count_include_pad false")
		}
		return parityPool(in, p, graph.AvgPool2D)
	},
	"global_avgpool2d": parityUnary(graph.GlobalAvgPool2D),
	"dense": func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		if !parityBool(p.UseBias, true) {
			return nil, nil, errors.New("want params.use_bias true")
		}
		n, err := in.get("x", "w", "b")
		if err != nil {
			return nil, nil, err
		}
		if n[1].Shape()[1] != p.Units {
			return nil, nil, errors.Errorf("kernel shape %v does not match units %d", n[1].Shape(), p.Units)
		}
		y, err := graph.MatMul(n[0], n[1])
		if err != nil {
			return nil, nil, err
		}
		y, err = graph.BiasAdd(y, n[2])
		return y, nil, err
	},
	"bias_add": func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		if p.Axis == nil || *p.Axis != 1 {
			return nil, nil, errors.New("BiasAdd adds along axis 1; want params.axis 1")
		}
		n, err := in.get("x", "b")
		if err != nil {
			return nil, nil, err
		}
		y, err := graph.BiasAdd(n[0], n[1])
		return y, nil, err
	},
	"relu": parityUnary(graph.ReLU),
	"leaky_relu": func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		if p.Alpha == nil {
			return nil, nil, errors.New("params.alpha missing")
		}
		return parityUnary(func(x *G.Node) (*G.Node, error) { return graph.LeakyReLU(x, *p.Alpha) })(in, p)
	},
	"sigmoid": parityUnary(graph.Sigmoid),
	"tanh":    parityUnary(graph.Tanh),
	"softmax": func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		if p.Axis == nil || *p.Axis != -1 {
			return nil, nil, errors.New("Softmax normalises the last axis; want params.axis -1")
		}
		return parityUnary(graph.Softmax)(in, p)
	},
	"softmax_xent": func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		if p.Reduction != "mean" || p.Axis == nil || *p.Axis != -1 {
			return nil, nil, errors.New("want params.reduction \"mean\" and axis -1")
		}
		n, err := in.get("x", "labels")
		if err != nil {
			return nil, nil, err
		}
		cfg, err := in.lossConfig(p)
		if err != nil {
			return nil, nil, err
		}
		y, err := graph.SoftmaxCrossEntropyWith(n[0], n[1], cfg)
		return y, nil, err
	},
	"mse":        parityLoss(graph.MeanSquaredErrorWith),
	"mae":        parityLoss(graph.MeanAbsoluteError),
	"huber":      parityLoss(graph.Huber),
	"cce":        parityLoss(graph.CategoricalCrossEntropy),
	"bce":        parityLoss(graph.BinaryCrossEntropy),
	"bce_logits": parityLoss(graph.BinaryCrossEntropyFromLogits),
	"add": func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		n, err := in.get("x", "x2")
		if err != nil {
			return nil, nil, err
		}
		y, err := graph.Add(n[0], n[1])
		return y, nil, err
	},
	"flatten": func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		if p.Order != "CHW" {
			return nil, nil, errors.New("Flatten keeps NCHW's C,H,W order; want params.order \"CHW\"")
		}
		return parityUnary(graph.Flatten)(in, p)
	},
	"batchnorm": func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		if p.Axis == nil || *p.Axis != 1 || p.RunningVarUpdate != "unbiased" || p.Training == nil {
			return nil, nil, errors.New("want params.axis 1, running_var_update \"unbiased\" and training set")
		}
		n, err := in.get("x", "gamma", "beta")
		if err != nil {
			return nil, nil, err
		}
		if !*p.Training {
			s, err := in.get("running_mean", "running_var")
			if err != nil {
				return nil, nil, err
			}
			y, err := graph.BatchNormInfer(n[0], n[1], n[2], s[0], s[1], p.Eps)
			return y, nil, err
		}
		mean, err := in.dense("running_mean")
		if err != nil {
			return nil, nil, err
		}
		variance, err := in.dense("running_var")
		if err != nil {
			return nil, nil, err
		}
		st := &graph.BatchNormStats{Mean: mean, Variance: variance, Momentum: p.Momentum, Epsilon: p.Eps}
		y, err := graph.BatchNormTrain(n[0], n[1], n[2], st)
		return y, st, err
	},
}

// parityUnary builds a one-input op on x.
func parityUnary(f func(*G.Node) (*G.Node, error)) parityBuild {
	return func(in *parityInputs, p parityParams) (*G.Node, *graph.BatchNormStats, error) {
		n, err := in.get("x")
		if err != nil {
			return nil, nil, err
		}
		y, err := f(n[0])
		return y, nil, err
	}
}

func parityPool(in *parityInputs, p parityParams, pool func(*G.Node, graph.Pool2DConfig) (*G.Node, error)) (*G.Node, *graph.BatchNormStats, error) {
	kh, kw, err := parityPair("pool", p.Pool)
	if err != nil {
		return nil, nil, err
	}
	sh, sw, err := parityPair("strides", p.Strides)
	if err != nil {
		return nil, nil, err
	}
	pad, err := parityPad(p.Pad)
	if err != nil {
		return nil, nil, err
	}
	n, err := in.get("x")
	if err != nil {
		return nil, nil, err
	}
	y, err := pool(n[0], graph.Pool2DConfig{KH: kh, KW: kw, StrideH: sh, StrideW: sw, Pad: pad})
	return y, nil, err
}

// parityDiff summarises one compared tensor.
type parityDiff struct {
	tensor string
	// bad counts elements outside the tolerance; worst is the element that uses the most
	// of its tolerance, at flat index worstAt.
	bad, size   int
	worstAt     int
	got, want   float64
	budget      float64 // max |got-want| / (rtol|want| + atol)
	maxRel      float64 // max |got-want| / |want| over elements with |want| > atol
	maxAbs      float64
	shapeDiffer string
}

func (d parityDiff) ok() bool { return d.shapeDiffer == "" && d.bad == 0 }

func (d parityDiff) String() string {
	if d.shapeDiffer != "" {
		return d.tensor + ": " + d.shapeDiffer
	}
	return fmt.Sprintf("%s: %d of %d elements outside |got-want| <= %g|want|+%g; worst at %d: got %.9g, want %.9g (|diff| %.2e, %.2f of tolerance); max rel err %.2e",
		d.tensor, d.bad, d.size, parityRTol, parityATol, d.worstAt, d.got, d.want, math.Abs(d.got-d.want), d.budget, d.maxRel)
}

// compareParity compares got with the fixture tensor want elementwise.
func compareParity(name string, gotShape []int, got []float32, want parityTensor) parityDiff {
	d := parityDiff{tensor: name, size: len(want.data)}
	if !slices.Equal(gotShape, want.shape) || len(got) != len(want.data) {
		d.shapeDiffer = fmt.Sprintf("got shape %v (%d values), want %v", gotShape, len(got), want.shape)
		return d
	}
	d.budget = -1
	for i, w := range want.data {
		g, w := float64(got[i]), float64(w)
		diff := math.Abs(g - w)
		tol := parityRTol*math.Abs(w) + parityATol
		if !(diff <= tol) { // NaN fails
			d.bad++
		}
		if u := diff / tol; u > d.budget || math.IsNaN(u) {
			d.budget, d.worstAt, d.got, d.want = u, i, g, w
		}
		d.maxAbs = math.Max(d.maxAbs, diff)
		if math.Abs(w) > parityATol {
			d.maxRel = math.Max(d.maxRel, diff/math.Abs(w))
		}
	}
	return d
}

// parityValue returns a node value's shape and float32 data; a scalar has shape [].
func parityValue(v G.Value) ([]int, []float32, error) {
	switch v := v.(type) {
	case *G.F32:
		return []int{}, []float32{float32(*v)}, nil
	case *tensor.Dense:
		data, ok := v.Data().([]float32)
		if !ok {
			if s, ok := v.Data().(float32); ok && v.Shape().IsScalar() {
				return []int{}, []float32{s}, nil
			}
			return nil, nil, errors.Errorf("value has dtype %v; want float32", v.Dtype())
		}
		shape := []int(v.Shape().Clone())
		if v.Shape().IsScalar() {
			shape = []int{}
		}
		return shape, data, nil
	}
	return nil, nil, errors.Errorf("value is %T; want float32", v)
}

// parityBuilt is one fixture's op built into a fresh graph.
type parityBuilt struct {
	g  *G.ExprGraph
	in *parityInputs
	y  *G.Node
	st *graph.BatchNormStats
}

func buildParityCase(fx *parityFixture, build parityBuild, p parityParams, used map[string]bool) (*parityBuilt, error) {
	g := G.NewGraph()
	in := &parityInputs{g: g, fx: fx, nodes: map[string]*G.Node{}, used: used}
	y, st, err := build(in, p)
	if err != nil {
		return nil, errors.Wrap(err, "building")
	}
	return &parityBuilt{g: g, in: in, y: y, st: st}, nil
}

// runParityCase builds fx's op and compares its output, its gradients and batch norm's
// running statistics with the fixture's.
//
// The output is computed by a forward-only graph and the gradients by a second, fresh
// graph: in the gradient graph Gorgonia's HadamardProd(y, dy) writes its result over y's
// value whenever the backward ops do not read y, so y cannot be read back from it.
func runParityCase(fx *parityFixture) ([]parityDiff, error) {
	build, ok := parityOps[fx.op]
	if !ok {
		return nil, errors.Errorf("no builder for op %q", fx.op)
	}
	p, err := decodeParityParams(fx.params)
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	var diffs []parityDiff
	compare := func(name string, v G.Value) error {
		want, ok := fx.tensors[name]
		if !ok {
			return errors.Errorf("fixture has no %s to compare with", name)
		}
		used[name] = true
		shape, data, err := parityValue(v)
		if err != nil {
			return errors.Wrap(err, name)
		}
		diffs = append(diffs, compareParity(name, shape, data, want))
		return nil
	}

	// Forward: y, and the running statistics batch norm updates once per run.
	fwd, err := buildParityCase(fx, build, p, used)
	if err != nil {
		return nil, err
	}
	if err := runParityGraph(fwd.g, fwd.y); err != nil {
		return nil, errors.Wrap(err, "forward")
	}
	if err := compare("y", fwd.y.Value()); err != nil {
		return nil, err
	}
	if fwd.st != nil {
		if err := parityFirstErr(compare("new_running_mean", fwd.st.Mean), compare("new_running_var", fwd.st.Variance)); err != nil {
			return nil, err
		}
	}

	// Backward: the gradients of y itself for the scalar losses and of sum(y*dy) otherwise,
	// exactly as gen.py.
	bwd, err := buildParityCase(fx, build, p, used)
	if err != nil {
		return nil, err
	}
	loss := bwd.y
	if dyT, ok := fx.tensors["dy"]; ok {
		used["dy"] = true
		dy := G.NewTensor(bwd.g, tensor.Float32, len(dyT.shape), G.WithShape(dyT.shape...), G.WithName("dy"),
			G.WithValue(tensor.New(tensor.WithShape(dyT.shape...), tensor.WithBacking(slices.Clone(dyT.data)))))
		err = graph.Safely(func() error {
			prod, err := G.HadamardProd(bwd.y, dy)
			if err != nil {
				return err
			}
			loss, err = G.Sum(prod)
			return err
		})
		if err != nil {
			return nil, errors.Wrap(err, "building sum(y*dy)")
		}
	} else if !loss.IsScalar() {
		return nil, errors.Errorf("y has shape %v but the fixture has no dy", loss.Shape())
	}
	var wrtNames []string
	for name := range fx.tensors {
		if strings.HasPrefix(name, "grad_") {
			wrtNames = append(wrtNames, name)
		}
	}
	sort.Strings(wrtNames)
	wrt := make(G.Nodes, len(wrtNames))
	for i, name := range wrtNames {
		n, ok := bwd.in.nodes[strings.TrimPrefix(name, "grad_")]
		if !ok {
			return nil, errors.Errorf("fixture has %s but the op has no input %s", name, strings.TrimPrefix(name, "grad_"))
		}
		wrt[i] = n
	}
	var grads G.Nodes
	if err := graph.Safely(func() (err error) { grads, err = G.Grad(loss, wrt...); return err }); err != nil {
		return nil, errors.Wrap(err, "differentiating")
	}
	if err := runParityGraph(bwd.g, grads...); err != nil {
		return nil, errors.Wrap(err, "backward")
	}
	for i, name := range wrtNames {
		if err := compare(name, grads[i].Value()); err != nil {
			return nil, err
		}
	}

	for name := range fx.tensors {
		if !used[name] {
			return diffs, errors.Errorf("fixture tensor %s is neither an input of the op nor compared", name)
		}
	}
	return diffs, nil
}

// runParityGraph runs the part of g that computes roots, once.
func runParityGraph(g *G.ExprGraph, roots ...*G.Node) error {
	m, err := graph.NewMachine(g.SubgraphRoots(roots...))
	if err != nil {
		return err
	}
	defer m.Close()
	return m.Run()
}

func parityFirstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// TestParity runs every op fixture in testdata/parity through convgraph's float32 ops and
// compares the output, every input gradient and batch norm's updated running statistics
// with PyTorch's, elementwise within 1e-4 relative.
func TestParity(t *testing.T) {
	for _, path := range parityFiles(t) {
		fx, err := loadParityFixture(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := parityElsewhere[fx.op]; ok {
			continue
		}
		t.Run(fx.name, func(t *testing.T) {
			diffs, err := runParityCase(fx)
			for _, d := range diffs {
				if d.ok() {
					t.Logf("ok %s: max rel err %.2e, max abs err %.2e, %.3f of tolerance", d.tensor, d.maxRel, d.maxAbs, d.budget)
				} else {
					t.Errorf("parity %s (op %s) FAIL %v", fx.name, fx.op, d)
				}
			}
			if err != nil {
				t.Fatalf("parity %s (op %s): %v", fx.name, fx.op, err)
			}
		})
	}
}

// TestParityCoversEveryFixture checks that every fixture file is an op case TestParity runs
// or a model another package compares, and that index.json lists exactly the files present,
// so a new fixture cannot be silently ignored.
func TestParityCoversEveryFixture(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(parityDir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index struct {
		Cases []struct {
			File, Name, Op string
		} `json:"cases"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&index); err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for _, c := range index.Cases {
		listed[c.File] = c.Op
	}
	ops := map[string]bool{}
	for _, path := range parityFiles(t) {
		file := filepath.Base(path)
		fx, err := loadParityFixture(path)
		if err != nil {
			t.Fatal(err)
		}
		ops[fx.op] = true
		if _, ok := parityOps[fx.op]; !ok {
			if _, ok := parityElsewhere[fx.op]; !ok {
				t.Errorf("%s: op %q has no parity builder and is not covered elsewhere", file, fx.op)
			}
		}
		if op, ok := listed[file]; !ok {
			t.Errorf("%s is not listed in index.json", file)
		} else if op != fx.op {
			t.Errorf("%s: index.json says op %q, the file says %q", file, op, fx.op)
		}
		delete(listed, file)
	}
	for file := range listed {
		t.Errorf("index.json lists %s, which is missing", file)
	}
	for op := range parityOps {
		if !ops[op] {
			t.Errorf("parity builder for op %q has no fixture", op)
		}
	}
	for op := range parityElsewhere {
		if !ops[op] {
			t.Errorf("op %q is listed as covered elsewhere but has no fixture", op)
		}
	}
}
