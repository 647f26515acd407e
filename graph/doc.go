// Package graph holds convgraph's Gorgonia operations and the tools around them: every
// convolution, pooling, normalisation, activation and loss op that convgraph models are made
// of, each a Gorgonia [gorgonia.Op] and [gorgonia.SDOp] whose SymDiff emits backward nodes,
// plus a finite-difference gradient checker ([GradCheck]) and helpers that turn Gorgonia's
// panics into errors ([Safely]).
//
// # Overview
//
// The functions in this package ([Conv2D], [MaxPool2D], [AvgPool2D], [GlobalAvgPool2D],
// [MatMul], [BiasAdd], [Dropout], [BatchNormTrain], [BatchNormInfer], [ReLU], [LeakyReLU],
// [Sigmoid], [Tanh], [Softmax], [SoftmaxCrossEntropy], [MeanSquaredError]) take and return
// *gorgonia.Node, so they compose with Gorgonia's own operations and with [gorgonia.Grad].
// convgraph owns these ops because Gorgonia 0.9.18's versions are wrong or slow in the ways
// docs/architecture.md lists (Dropout's gradient, BatchNorm's statistics, the softmax
// stabiliser, MaxPool padding, GlobalAveragePool without a gradient, the transpose in Conv2d).
//
// Images are NCHW (batch, channels, height, width) inside a graph; convolution kernels are
// OIHW. Package nn converts from the Keras order (height, width, channels) users speak.
// Every op computes in float32 or float64, the dtype of its inputs.
//
// Each op's WriteHash covers all of its parameters, and stateful ops (dropout, batch
// normalisation in training, max pooling other than 2x2/2, which hands its winners to its
// gradient) carry a unique identity, so Gorgonia's hash-based node de-duplication never
// merges two different operations.
//
// A [Machine] runs a compiled graph on Gorgonia's tape machine with a tensor engine of
// convgraph's whose Add is [kernels.Add], so the gradient sums Gorgonia's differentiation
// inserts run split over the cores like the ops here.
//
// # Errors
//
// Constructors check shapes and parameters and return errors of the form
// "graph: conv2d: kernel 5x5 larger than padded input 3x3"; callers (package nn) prefix the
// layer name. Run-time shape mismatches, which the graph construction rules out, are
// reported as errors from Do rather than panics.
package graph
