package onnx

import (
	"encoding/binary"
	"math"

	pb "github.com/convgraph/convgraph/onnx/internal/onnxpb"
)

// The versions an exported file declares: IR version 8 (ONNX 1.12, the schema compiled
// into onnxpb) and the default operator set at version 13, which every runtime of the
// last years reads (ONNX Runtime since 1.6, TensorRT 8, OpenVINO 2021) and which
// PyTorch's exporter writes by default.
const (
	irVersion = 8
	opset     = 13
)

func attrInts(name string, v ...int) *pb.AttributeProto {
	a := &pb.AttributeProto{Name: &name, Type: pb.AttributeProto_INTS.Enum()}
	for _, x := range v {
		a.Ints = append(a.Ints, int64(x))
	}
	return a
}

func attrInt(name string, v int) *pb.AttributeProto {
	x := int64(v)
	return &pb.AttributeProto{Name: &name, Type: pb.AttributeProto_INT.Enum(), I: &x}
}

func attrFloat(name string, v float64) *pb.AttributeProto {
	x := float32(v)
	return &pb.AttributeProto{Name: &name, Type: pb.AttributeProto_FLOAT.Enum(), F: &x}
}

func attrString(name, v string) *pb.AttributeProto {
	return &pb.AttributeProto{Name: &name, Type: pb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

func node(op, name string, inputs, outputs []string, attrs ...*pb.AttributeProto) *pb.NodeProto {
	return &pb.NodeProto{OpType: &op, Name: &name, Input: inputs, Output: outputs, Attribute: attrs}
}

// floatTensor makes an initializer of float32 values stored little-endian in raw_data,
// the form every ONNX reader takes fastest.
func floatTensor(name string, dims []int, vals []float32) *pb.TensorProto {
	raw := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	t := &pb.TensorProto{Name: &name, DataType: proto32(int32(pb.TensorProto_FLOAT)), RawData: raw}
	for _, d := range dims {
		t.Dims = append(t.Dims, int64(d))
	}
	return t
}

func proto32(v int32) *int32 { return &v }

// valueInfo declares a float tensor whose first dimension is the symbolic batch "N".
func valueInfo(name string, dims []int) *pb.ValueInfoProto {
	batch := "N"
	shape := &pb.TensorShapeProto{Dim: []*pb.TensorShapeProto_Dimension{
		{Value: &pb.TensorShapeProto_Dimension_DimParam{DimParam: batch}}}}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &pb.TensorShapeProto_Dimension{
			Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
	}
	return &pb.ValueInfoProto{Name: &name, Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{
		TensorType: &pb.TypeProto_Tensor{ElemType: proto32(int32(pb.TensorProto_FLOAT)), Shape: shape}}}}
}
