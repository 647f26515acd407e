// Package onnx exports convgraph models to ONNX, the interchange format of ONNX Runtime,
// Triton, TensorRT and OpenVINO, and imports ONNX CNNs (from PyTorch's torch.onnx.export,
// tf2onnx or convgraph itself) as trainable [nn.Model]s.
//
// # Overview
//
// [Export] writes a model as an ONNX file (IR version 8, operator set 13). [Import] reads
// one back into an [nn.Model] whose layers carry readable names, whose parameters hold the
// file's weights, and which compiles, trains, freezes and saves like any other model.
// Export then Import gives a model with bit-identical outputs.
//
// # Layout
//
// convgraph users feed images as (height, width, channels); ONNX's convolution and
// pooling operators work on NCHW. An exported model keeps the user's order at its edge:
// its input is [N, height, width, channels] followed by a Transpose to NCHW, N a
// symbolic batch dimension. An imported model takes (height, width, channels) like every
// convgraph model, whatever the file's input layout: a file whose input is NCHW (PyTorch's)
// is the same network with its input transposed, and a file that starts with a Transpose
// from NHWC (convgraph's, tf2onnx's) loses that Transpose.
//
// # Errors
//
// Every failure is an error that names the file's node (by name and op type), layer or
// parameter at fault. A malformed or hostile file is an error, never a panic: sizes are
// checked against the data present before anything is allocated.
package onnx
