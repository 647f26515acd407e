package onnx_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/onnx"
	"github.com/convgraph/convgraph/onnx/internal/onnxpb"
	"github.com/convgraph/convgraph/zoo"
)

// torchCase is a model exported by PyTorch (tools/onnx/torch_models.py) with PyTorch's
// output for a fixed input.
type torchCase struct {
	InputShape  []int     `json:"input_shape"`
	Input       []float64 `json:"input"`
	OutputShape []int     `json:"output_shape"`
	Output      []float64 `json:"output"`
}

func loadTorch(t testing.TB, name string) (*nn.Model, *onnx.Info, torchCase) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, info, err := onnx.Import(f, onnx.ModelName(name))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var c torchCase
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return m, info, c
}

// nhwc reorders PyTorch's NCHW input into convgraph's order.
func nhwc(x []float64, shape []int) ([]float32, []int) {
	n, c, h, w := shape[0], shape[1], shape[2], shape[3]
	out := make([]float32, len(x))
	for in := 0; in < n; in++ {
		for ic := 0; ic < c; ic++ {
			for p := 0; p < h*w; p++ {
				out[(in*h*w+p)*c+ic] = float32(x[(in*c+ic)*h*w+p])
			}
		}
	}
	return out, []int{n, h, w, c}
}

func TestImportPyTorchModels(t *testing.T) {
	for _, name := range []string{"course_cnn", "resnet20", "resnet20_fused", "mobilenet", "mixed", "tiny", "modern", "resnext", "prelu", "prelu_channels", "resize"} {
		t.Run(name, func(t *testing.T) {
			m, info, c := loadTorch(t, name)
			if info.InputLayout != "NCHW" || info.Opset != 13 || !strings.HasPrefix(info.Producer, "pytorch") {
				t.Errorf("info %+v", info)
			}
			x, dims := nhwc(c.Input, c.InputShape)
			got, shape := runConvgraph(t, m, x, dims)
			if fmt.Sprint(shape) != fmt.Sprint(c.OutputShape) {
				t.Fatalf("output shape %v, PyTorch's %v", shape, c.OutputShape)
			}
			closeTo(t, name, got, c.Output, 1e-4, 1e-5)
		})
	}
}

func TestImportUnsupportedOperator(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "instance_norm.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, _, err = onnx.Import(f)
	if want := `onnx: node "/norm/InstanceNormalization" (InstanceNormalization): operator InstanceNormalization has no convgraph mapping`; err == nil || err.Error() != want {
		t.Errorf("error %v; want %s", err, want)
	}
}

func TestImportNames(t *testing.T) {
	m, _, _ := loadTorch(t, "resnet20")
	var names []string
	for _, l := range m.Layers() {
		names = append(names, l.Name+" "+l.Kind)
	}
	all := strings.Join(names, "\n")
	for _, want := range []string{"conv1 Conv2D", "bn1 BatchNormalization", "relu Activation",
		"layer1/0/conv1 Conv2D", "layer2/0/shortcut/0 Conv2D", "layer2/0/shortcut/1 BatchNormalization",
		"layer3/2/add Add", "averagepool AveragePooling2D", "linear Dense"} {
		if !strings.Contains(all, want+"\n") && !strings.HasSuffix(all, want) {
			t.Errorf("no layer %q among\n%s", want, all)
		}
	}
	t.Log(m.Summary())
}

// Files convgraph cannot take give one-line errors naming the node, initializer or input.
func TestImportErrors(t *testing.T) {
	m, err := nn.Sequential("small", nn.Input(6, 6, 4),
		nn.Conv2D(4, 3, nn.Name("conv"), nn.Activation(nn.ReLU)), nn.Flatten(nn.Name("flatten")), nn.Dense(3, nn.Name("head")))
	if err != nil {
		t.Fatal(err)
	}
	good := exportBytes(t, m)
	edit := func(f func(mp *onnxpb.ModelProto)) []byte {
		var mp onnxpb.ModelProto
		if err := proto.Unmarshal(good, &mp); err != nil {
			t.Fatal(err)
		}
		f(&mp)
		b, err := proto.Marshal(&mp)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	nodeNamed := func(mp *onnxpb.ModelProto, name string) *onnxpb.NodeProto {
		for _, n := range mp.Graph.Node {
			if n.GetName() == name {
				return n
			}
		}
		t.Fatalf("no node %q", name)
		return nil
	}
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"not protobuf", []byte("\xff\xff\xff"), "onnx: not an ONNX model (protobuf decoding failed)"},
		{"no graph", edit(func(mp *onnxpb.ModelProto) { mp.Graph = nil }), "onnx: the model has no graph"},
		{"unknown op", edit(func(mp *onnxpb.ModelProto) { nodeNamed(mp, "conv/relu").OpType = proto.String("LRN") }),
			`onnx: node "conv/relu" (LRN): operator LRN has no convgraph mapping`},
		{"other domain", edit(func(mp *onnxpb.ModelProto) { nodeNamed(mp, "conv/relu").Domain = proto.String("com.microsoft") }),
			`onnx: node "conv/relu" (Relu): operator domain "com.microsoft" is not supported`},
		{"group 2", edit(func(mp *onnxpb.ModelProto) {
			for _, a := range nodeNamed(mp, "conv").Attribute {
				if a.GetName() == "group" {
					a.I = proto.Int64(2)
				}
			}
		}), `onnx: node "conv" (Conv): the weight has 4 input channels per group; 2 groups of the input's 4 channels have 2`},
		{"group 3", edit(func(mp *onnxpb.ModelProto) {
			for _, a := range nodeNamed(mp, "conv").Attribute {
				if a.GetName() == "group" {
					a.I = proto.Int64(3)
				}
			}
		}), `onnx: node "conv" (Conv): group 3 does not divide the input's 4 channels and the weight's 4 filters`},
		{"short weights", edit(func(mp *onnxpb.ModelProto) {
			for _, t := range mp.Graph.Initializer {
				if t.GetName() == "conv/kernel" {
					t.RawData = t.RawData[:10]
				}
			}
		}), `onnx: initializer "conv/kernel": raw data has 10 bytes for 144 values of 4 bytes`},
		{"external data", edit(func(mp *onnxpb.ModelProto) {
			mp.Graph.Initializer[0].DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
		}), "its data is in an external file"},
		{"huge dims", edit(func(mp *onnxpb.ModelProto) { mp.Graph.Initializer[0].Dims = []int64{1 << 40, 1 << 40} }),
			"hold more than 268435456 values"},
		{"missing input", edit(func(mp *onnxpb.ModelProto) { nodeNamed(mp, "flatten").Input[0] = "nowhere" }),
			`onnx: node "flatten" (Flatten): input "nowhere" is computed by no earlier node`},
		{"two outputs", edit(func(mp *onnxpb.ModelProto) { mp.Graph.Output = append(mp.Graph.Output, mp.Graph.Output[0]) }),
			`onnx: the graph's outputs "output" and "output" are the same tensor`},
		{"symbolic height", edit(func(mp *onnxpb.ModelProto) {
			mp.Graph.Input[0].Type.GetTensorType().Shape.Dim[1].Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "H"}
		}), `onnx: input "input": dimension 1 is "H"; convgraph needs fixed sizes but for the batch`},
		{"no opset", edit(func(mp *onnxpb.ModelProto) { mp.OpsetImport = nil }), "imports no version of the default operator set"},
	} {
		_, _, err := onnx.Import(bytes.NewReader(c.b))
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v; want %q", c.name, err, c.want)
		}
	}
}

// Export then import gives a model with bit-identical outputs.
func TestExportImportBitIdentical(t *testing.T) {
	models := []*nn.Model{everyLayer(t), modernLayers(t)}
	for _, name := range zoo.Names() {
		models = append(models, zooModel(t, name))
	}
	bb, err := zoo.New("alexnet-small", zoo.IncludeHead(false), zoo.InputShape(32, 32, 3))
	if err != nil {
		t.Fatal(err)
	}
	models = append(models, bb)
	for _, m := range models {
		t.Run(m.Name(), func(t *testing.T) {
			b := exportBytes(t, m)
			back, info, err := onnx.Import(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if info.InputLayout != "NHWC" || back.Name() != m.Name() {
				t.Errorf("layout %s, name %q", info.InputLayout, back.Name())
			}
			x, dims := randomInput(5, 3, m.InputShape())
			want, _ := runConvgraph(t, m, x, dims)
			got, _ := runConvgraph(t, back, x, dims)
			for i := range want {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
					t.Fatalf("value %d: %v after export and import, %v before", i, got[i], want[i])
				}
			}
			// The same layers, but for a linear Activation (an Identity in the file).
			if a, b := m.Summary(), back.Summary(); a != b && m.Name() != "every-layer" {
				t.Errorf("summary before:\n%s\nafter:\n%s", a, b)
			}
			if len(back.Params()) != len(m.Params()) {
				t.Errorf("%d parameters after, %d before", len(back.Params()), len(m.Params()))
			}
			for _, p := range m.Params() {
				q := back.Param(p.Name)
				if q == nil || q.Trainable != p.Trainable || fmt.Sprint(q.Value.Data()) != fmt.Sprint(p.Value.Data()) {
					t.Errorf("parameter %q differs after export and import", p.Name)
				}
			}
		})
	}
}

// Grouped convolutions come back out: the ResNeXt-style net imported from PyTorch, then
// exported by convgraph, runs in ONNX Runtime with PyTorch's outputs.
func TestImportedGroupedConvRunsInONNXRuntime(t *testing.T) {
	requireORT(t)
	m, _, c := loadTorch(t, "resnext")
	groups := 0
	for _, l := range m.Layers() {
		if l.Kind == "Conv2D" && l.Config.Groups > 1 {
			groups++
		}
	}
	if groups != 5 {
		t.Errorf("%d grouped Conv2D layers, want 5 (2 blocks x 2, and one more)", groups)
	}
	x, dims := nhwc(c.Input, c.InputShape)
	closeTo(t, "resnext in ONNX Runtime", runORT(t, exportBytes(t, m), x, dims).Values, c.Output, 1e-4, 1e-5)
}
