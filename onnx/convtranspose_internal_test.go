package onnx

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/internal/ortrun"
	"github.com/convgraph/convgraph/nn"
	pb "github.com/convgraph/convgraph/onnx/internal/onnxpb"
)

// convTransposeFile is an ONNX model of one ConvTranspose (with bias) over an NCHW input
// [N, 3, 5, 4], its weight [3, 2, k, k] and the given attributes.
func convTransposeFile(t *testing.T, k int, attrs ...*pb.AttributeProto) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, uint64(k)))
	w := make([]float32, 3*2*k*k)
	for i := range w {
		w[i] = float32(rng.NormFloat64() * 0.5)
	}
	g := &pb.GraphProto{Name: proto.String("convt"),
		Input:       []*pb.ValueInfoProto{valueInfo("x", []int{3, 5, 4})},
		Initializer: []*pb.TensorProto{floatTensor("w", []int{3, 2, k, k}, w), floatTensor("b", []int{2}, []float32{0.25, -0.5})},
		Node:        []*pb.NodeProto{node("ConvTranspose", "up", []string{"x", "w", "b"}, []string{"y"}, attrs...)},
	}
	// The output's spatial size is left symbolic: ONNX Runtime infers it.
	y := valueInfo("y", []int{2})
	y.Type.GetTensorType().Shape.Dim = append(y.Type.GetTensorType().Shape.Dim,
		&pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimParam{DimParam: "H"}},
		&pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimParam{DimParam: "W"}})
	g.Output = []*pb.ValueInfoProto{y}
	mp := &pb.ModelProto{IrVersion: proto.Int64(irVersion), Graph: g,
		OpsetImport: []*pb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}}}
	b, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ConvTranspose's output_shape, auto_pad and output_padding import as the padding ONNX
// Runtime gives them: every value of the imported layer's output against ONNX Runtime's.
func TestImportConvTransposeShapesMatchONNXRuntime(t *testing.T) {
	ortrun.Require(t)
	for _, c := range []struct {
		name  string
		k     int
		attrs []*pb.AttributeProto
		out   string // convgraph's output shape, NCHW
	}{
		{"output_shape/odd", 3, []*pb.AttributeProto{attrInts("strides", 2, 2), attrInts("output_shape", 10, 8)}, "(2, 2, 10, 8)"},
		{"output_shape/s2x1", 3, []*pb.AttributeProto{attrInts("strides", 2, 1), attrInts("output_shape", 9, 5)}, "(2, 2, 9, 5)"},
		{"output_shape/same_upper", 3, []*pb.AttributeProto{attrInts("strides", 2, 2), attrInts("output_shape", 9, 8), attrString("auto_pad", "SAME_UPPER")}, "(2, 2, 9, 8)"},
		{"same_upper/s2/k3", 3, []*pb.AttributeProto{attrInts("strides", 2, 2), attrString("auto_pad", "SAME_UPPER")}, "(2, 2, 10, 8)"},
		{"same_lower/s2/k3", 3, []*pb.AttributeProto{attrInts("strides", 2, 2), attrString("auto_pad", "SAME_LOWER")}, "(2, 2, 10, 8)"},
		{"same_upper/s3/k4/dilation", 4, []*pb.AttributeProto{attrInts("strides", 3, 3), attrInts("dilations", 2, 1), attrString("auto_pad", "SAME_UPPER")}, "(2, 2, 15, 12)"},
		{"valid", 3, []*pb.AttributeProto{attrInts("strides", 2, 1), attrString("auto_pad", "VALID")}, "(2, 2, 11, 6)"},
		{"output_padding/general", 3, []*pb.AttributeProto{attrInts("strides", 3, 3), attrInts("pads", 1, 2, 1, 2), attrInts("output_padding", 1, 2)}, "(2, 2, 14, 10)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := convTransposeFile(t, c.k, c.attrs...)
			m, _, err := Import(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			x := make([]float32, 2*3*5*4) // NCHW, ONNX's order
			for i := range x {
				x[i] = float32(i%11)/11 - 0.3
			}
			p := filepath.Join(t.TempDir(), "convt.onnx")
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			want, err := ortrun.Run(p, x, []int{2, 3, 5, 4}, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			g, err := m.Compile(2, nn.Eval)
			if err != nil {
				t.Fatal(err)
			}
			nhwc := make([]float32, len(x))
			for n := 0; n < 2; n++ {
				for ch := 0; ch < 3; ch++ {
					for q := 0; q < 20; q++ {
						nhwc[(n*20+q)*3+ch] = x[(n*3+ch)*20+q]
					}
				}
			}
			if err := g.Run(tensor.New(tensor.WithShape(2, 5, 4, 3), tensor.WithBacking(nhwc)), nil); err != nil {
				t.Fatal(err)
			}
			out := g.Output() // NCHW inside convgraph, as ONNX Runtime gives it
			if got := fmt.Sprint(out.Shape()); got != c.out || fmt.Sprint(want.Shape) != fmt.Sprint([]int(out.Shape())) {
				t.Fatalf("output shape %s, ONNX Runtime's %v, want %s", got, want.Shape, c.out)
			}
			for i, v := range out.Data().([]float32) {
				if d := math.Abs(float64(v) - want.Values[i]); d > 1e-5+1e-4*math.Abs(want.Values[i]) {
					t.Fatalf("value %d: %v, ONNX Runtime %v", i, v, want.Values[i])
				}
			}
		})
	}
}

func TestImportConvTransposeShapeErrors(t *testing.T) {
	for _, c := range []struct {
		attrs []*pb.AttributeProto
		want  string
	}{
		{[]*pb.AttributeProto{attrInts("output_shape", 1, 2, 9, 7)}, `onnx: node "up" (ConvTranspose): output_shape [1 2 9 7] must be the height and width`},
		{[]*pb.AttributeProto{attrInts("strides", 2, 2), attrInts("output_shape", 12, 8)}, `onnx: node "up" (ConvTranspose): output 12x8 is larger than the transposed convolution's 11 cells along axis 2`},
		{[]*pb.AttributeProto{attrInts("strides", 2, 2), attrInts("output_padding", 1, 1)}, `onnx: node "up" (ConvTranspose): output_padding [1 1] is more than the end pads of [0 0 0 0]`},
		{[]*pb.AttributeProto{attrString("auto_pad", "SAME")}, `onnx: node "up" (ConvTranspose): auto_pad "SAME" is not NOTSET, VALID, SAME_UPPER or SAME_LOWER`},
	} {
		_, _, err := Import(bytes.NewReader(convTransposeFile(t, 3, c.attrs...)))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("error %v; want %s", err, c.want)
		}
	}
}
