// Package nn declares convolutional networks the way Keras does and compiles them to
// Gorgonia graphs.
//
// # Overview
//
// A [Layer] is a configured layer: [Conv2D], [MaxPool2D], [AvgPool2D], [GlobalAvgPool2D],
// [Dense], [Flatten], [Dropout], [BatchNorm], [Activate], and the merge layers that join
// branches: [Add], [Concatenate], [Multiply], [Average], [Maximum] and [Subtract]. Layers
// take functional options of the one type [Option] ([Padding], [Strides], [Activation],
// [Name], ...). [Sequential] stacks layers; a [Builder] wires any directed acyclic graph of
// them, such as residual blocks (a branch joined by [Add]) grouped into named nested blocks
// ([Builder.Block]). Both return a [Model]: a specification plus named parameters. A
// Builder's model may have several inputs and outputs, each output with its own [Loss]
// and weight ([Model.SetLoss]); [Graph.RunMulti] feeds it. [Builder.Call] places a whole
// model (a pretrained backbone, say) as one layer of another.
//
// Shapes are inferred and checked when the model is built, so a bad configuration (a
// kernel larger than its padded input, an Add of different shapes, Dense on an image,
// zero filters, a stride of 0) is an error that names the layer, never a panic inside
// Gorgonia.
//
// # Shapes and layout
//
// Users speak Keras's order: an image is (height, width, channels), and [Model.Summary]
// prints (None, 28, 28, 32). Inside a compiled graph images are NCHW and convolution
// kernels OIHW (docs/architecture.md says why); [Graph.Run] converts its NHWC input at the
// edge. Dense kernels are [inputs, units] as in Keras. [Flatten] orders features channel,
// row, column.
//
// # Parameters
//
// Parameters are float32 tensors (float64 after [Model.SetDType]) named by path:
// "conv2d/kernel", "block2/conv1/kernel", "batch_normalization/moving_mean". Each has a
// trainable flag ([Model.Freeze]); batch normalisation's moving statistics are never
// trainable. [Model.Initialize] re-draws them from a seed with each layer's initializer
// (Glorot uniform kernels and zero biases by default, as in Keras).
//
// # Compiling
//
// [Model.Compile] builds one Gorgonia graph per batch size and [Mode] and caches it; train
// and eval graphs bind the same parameter tensors, so an update is seen by both. A
// training graph asks Gorgonia for the gradients of trainable parameters only, and compiles
// only the subgraph the loss and those gradients need: nothing of the backward pass below
// the lowest trainable layer is built. A frozen BatchNorm runs in inference mode in
// training graphs too (Keras's rule).
//
// # Raw inputs
//
// A model stores the preprocessing it expects of raw images ([Model.Preprocessing], a
// preprocess.Config: scaling, input size and channels, resize rule, the training images'
// background) in its [Spec], so checkpoints and JSON specs carry it.
// [Model.PredictImages], [Model.PredictEncoded] and [Model.PredictFiles] (and the same
// methods of a [Predictor]) apply it to image.Images, PNG/JPEG bytes and files, and
// report per image what it did (an image on the opposite background is inverted).
//
// # Concurrency
//
// A [Graph] is for one goroutine at a time. [Model.Compile] is safe from any goroutine;
// [Model.Predict], [Model.Acquire] and a [Predictor] (a snapshot that may serve while
// its model trains) run inference from any number of goroutines, each on a graph of its
// own, with exactly the results of serial calls. Training or changing a model must not
// overlap any other use of it. [Model] lists the rules.
//
// # Errors
//
// Errors name the place: `nn: layer "conv2d_1" (Conv2D): kernel 3x3 larger than padded
// input 2x2`. A problem with one layer (its options, its configuration, its input shapes,
// building its part of a graph) is a [*LayerError] carrying the layer's name, kind and the
// problem; errors.As finds it through any github.com/pkg/errors wrapping. Gorgonia panics
// are caught at this package's boundary and returned as errors.
//
// Sizes are bounded before anything is allocated, so a spec read from a file cannot
// exhaust memory: a model of more than 2^28 parameters, an example of more than 2^26
// values at any layer, or a convolution needing more than 2^26 values of workspace per
// example is an error naming the layer; so is a model of more than 1,024 layers or a layer
// of more than 1,024 inputs. Compiling refuses a graph of more than 16,384 nodes (Gorgonia
// compiles in time quadratic in them), and one whose memory ([Graph.Memory]: its values,
// inputs, workspaces and, in training, optimizer state) exceeds the budget of
// internal/limits, before the first run allocates anything.
package nn
