package nn_test

// Runnable examples of the course's concepts; docs/concepts.md links each term to one.

import (
	"fmt"
	"strings"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
)

// batch wraps float32 values as a batch in Keras's order: [N, H, W, C] or [N, features].
func batch(vals []float32, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(vals))
}

// sobel is a 3x3 vertical-edge kernel: it answers where the image gets brighter to the right.
var sobel = []float32{
	-1, 0, 1,
	-2, 0, 2,
	-1, 0, 1,
}

// A Conv2D layer learns filters (kernels) kh x kw x channels in size, one per output
// channel: its parameter count is filters*kh*kw*channels + filters (one bias a filter).
// Kernels are stored OIHW, [filters, channels, kh, kw]; Keras stores (kh, kw, channels,
// filters).
func ExampleConv2D() {
	m, err := nn.Sequential("convs",
		nn.Input(28, 28, 1),
		nn.Conv2D(32, 3, nn.Activation(nn.ReLU)),
		nn.Conv2D(64, 3, nn.Activation(nn.ReLU)))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range m.Layers() {
		fmt.Println(l.Name, l.OutputShape)
	}
	for _, p := range m.Params() {
		fmt.Println(p.Name, p.Shape(), p.Size())
	}
	fmt.Println(32*3*3*1+32, 64*3*3*32+64)
	// Output:
	// conv2d (None, 26, 26, 32)
	// conv2d_1 (None, 24, 24, 64)
	// conv2d/kernel [32 1 3 3] 288
	// conv2d/bias [32] 32
	// conv2d_1/kernel [64 32 3 3] 18432
	// conv2d_1/bias [64] 64
	// 320 18496
}

// Valid padding (the default) shrinks a 28x28 image to 26x26 under a 3x3 kernel; Same
// padding adds a border of zeros so the output keeps 28x28, or ceil(28/2) = 14 at stride 2.
func ExamplePadding() {
	for _, c := range []struct {
		desc  string
		layer *nn.Layer
	}{
		{"Padding(nn.Valid)", nn.Conv2D(8, 3, nn.Padding(nn.Valid))},
		{"Padding(nn.Same)", nn.Conv2D(8, 3, nn.Padding(nn.Same))},
		{"Padding(nn.Same), Strides(2)", nn.Conv2D(8, 3, nn.Padding(nn.Same), nn.Strides(2))},
		{"Padding(nn.Valid), Strides(2)", nn.Conv2D(8, 3, nn.Padding(nn.Valid), nn.Strides(2))},
		{"ExplicitPadding(2, 2, 2, 2)", nn.Conv2D(8, 3, nn.ExplicitPadding(2, 2, 2, 2))},
	} {
		m, err := nn.Sequential("padding", nn.Input(28, 28, 1), c.layer)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%-30s %v\n", c.desc, m.OutputShape())
	}
	// Output:
	// Padding(nn.Valid)              (None, 26, 26, 8)
	// Padding(nn.Same)               (None, 28, 28, 8)
	// Padding(nn.Same), Strides(2)   (None, 14, 14, 8)
	// Padding(nn.Valid), Strides(2)  (None, 13, 13, 8)
	// ExplicitPadding(2, 2, 2, 2)    (None, 30, 30, 8)
}

// The stride is how far the window moves between outputs: a 3x3 valid convolution over 28
// cells gives (28-3)/stride + 1 of them. Pooling's stride defaults to its pool size.
func ExampleStrides() {
	for _, c := range []struct {
		desc  string
		layer *nn.Layer
	}{
		{"Conv2D(8, 3)", nn.Conv2D(8, 3)},
		{"Conv2D(8, 3, Strides(2))", nn.Conv2D(8, 3, nn.Strides(2))},
		{"Conv2D(8, 3, Strides(3))", nn.Conv2D(8, 3, nn.Strides(3))},
		{"Conv2D(8, 3, Strides(1, 2))", nn.Conv2D(8, 3, nn.Strides(1, 2))},
		{"MaxPool2D(2)", nn.MaxPool2D(2)},
		{"MaxPool2D(2, Strides(1))", nn.MaxPool2D(2, nn.Strides(1))},
	} {
		m, err := nn.Sequential("strides", nn.Input(28, 28, 1), c.layer)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%-28s %v\n", c.desc, m.OutputShape())
	}
	// Output:
	// Conv2D(8, 3)                 (None, 26, 26, 8)
	// Conv2D(8, 3, Strides(2))     (None, 13, 13, 8)
	// Conv2D(8, 3, Strides(3))     (None, 9, 9, 8)
	// Conv2D(8, 3, Strides(1, 2))  (None, 26, 13, 8)
	// MaxPool2D(2)                 (None, 14, 14, 1)
	// MaxPool2D(2, Strides(1))     (None, 27, 27, 1)
}

// A feature map is what one filter of a convolution outputs. To look at the first layer's
// feature maps, build a second model from the same Builder whose output is that layer (as
// Keras's Model(inputs, layer.output)); it shares the classifier's parameters. Filter 0 is
// set by hand to a vertical-edge detector and the image is dark on the left, bright from
// column 14 on: the map lights up along the edge.
//
// Run takes the image in Keras's order (N, H, W, C); inside the graph it is NCHW, so the
// layer's (28, 28, 32) output is a [1, 32, 28, 28] tensor and each map is one contiguous
// 28x28 block: map c starts at c*28*28.
func ExampleBuilder() {
	b := nn.NewBuilder("fashion-cnn")
	x := b.Input(28, 28, 1)
	conv1 := b.Apply(nn.Conv2D(32, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU), nn.Name("conv1")), x)
	y := b.Apply(nn.MaxPool2D(2), conv1)
	y = b.Apply(nn.Flatten(), y)
	y = b.Apply(nn.Dense(10, nn.Activation(nn.Softmax)), y)
	classifier, err := b.Model(y)
	if err != nil {
		fmt.Println(err)
		return
	}
	features, err := b.Model(conv1)
	if err != nil {
		fmt.Println(err)
		return
	}
	kernel := features.Param("conv1/kernel")
	fmt.Println("shared with the classifier:", kernel == classifier.Param("conv1/kernel"))
	copy(kernel.Value.Data().([]float32)[0:9], sobel) // filter 0, channel 0: OIHW

	img := make([]float32, 28*28)
	for i := 0; i < 28; i++ {
		for j := 14; j < 28; j++ {
			img[i*28+j] = 1
		}
	}
	gr, err := features.Compile(1, nn.Eval)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := gr.Run(batch(img, 1, 28, 28, 1), nil); err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range features.Layers() {
		fmt.Println(l.Name, l.OutputShape)
	}
	out := gr.Output()
	fmt.Println("graph output (NCHW):", out.Shape())
	v := out.Data().([]float32)
	const c, row = 0, 14
	at := c*28*28 + row*28
	fmt.Println("map 0, row 14, columns 10-17:", v[at+10:at+18])
	// Output:
	// shared with the classifier: true
	// conv1 (None, 28, 28, 32)
	// graph output (NCHW): (1, 32, 28, 28)
	// map 0, row 14, columns 10-17: [0 0 0 4 4 0 0 0]
}

// Max pooling keeps each 2x2 window's largest value, halving height and width and keeping
// the channels; it has no parameters.
func ExampleMaxPool2D() {
	m, err := nn.Sequential("pool", nn.Input(4, 4, 1), nn.MaxPool2D(2))
	if err != nil {
		fmt.Println(err)
		return
	}
	gr, err := m.Compile(1, nn.Eval)
	if err != nil {
		fmt.Println(err)
		return
	}
	err = gr.Run(batch([]float32{
		1, 3, 2, 1,
		4, 2, 0, 1,
		5, 6, 1, 2,
		7, 8, 3, 4,
	}, 1, 4, 4, 1), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	total, _, _ := m.ParamCounts()
	fmt.Println(m.Layers()[0].OutputShape, total, gr.Output().Data())
	// Output:
	// (None, 2, 2, 1) 0 [4 2 8 4]
}

// Average pooling takes each window's mean. With Same padding a window that hangs over the
// edge averages only the cells inside the image (Keras's rule): the 3x3 windows at stride
// 2 below cover 9, 6, 6 and 4 cells of the image.
func ExampleAvgPool2D() {
	img := []float32{
		1, 3, 2, 1,
		4, 2, 0, 1,
		5, 6, 1, 2,
		7, 8, 3, 4,
	}
	for _, l := range []*nn.Layer{nn.AvgPool2D(2), nn.AvgPool2D(3, nn.Strides(2), nn.Padding(nn.Same))} {
		m, err := nn.Sequential("pool", nn.Input(4, 4, 1), l)
		if err != nil {
			fmt.Println(err)
			return
		}
		gr, err := m.Compile(1, nn.Eval)
		if err != nil {
			fmt.Println(err)
			return
		}
		if err := gr.Run(batch(img, 1, 4, 4, 1), nil); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(m.Layers()[0].OutputShape, gr.Output().Data())
	}
	// Output:
	// (None, 2, 2, 1) [2.5 1 6.5 2.5]
	// (None, 2, 2, 1) [2.6666667 1.1666666 5 2.5]
}

// Global average pooling replaces each channel by its mean: (H, W, C) to (C), often used
// instead of Flatten before the classifier.
func ExampleGlobalAvgPool2D() {
	m, err := nn.Sequential("gap", nn.Input(2, 2, 2), nn.GlobalAvgPool2D())
	if err != nil {
		fmt.Println(err)
		return
	}
	gr, err := m.Compile(1, nn.Eval)
	if err != nil {
		fmt.Println(err)
		return
	}
	// (H, W, C) order: channel 0 holds 1, 2, 3, 4 and channel 1 holds 10, 20, 30, 40.
	if err := gr.Run(batch([]float32{1, 10, 2, 20, 3, 30, 4, 40}, 1, 2, 2, 2), nil); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.OutputShape(), gr.Output().Data())
	// Output:
	// (None, 2) [2.5 25]
}

// Flatten turns an image into a vector so a Dense layer can read it. It orders features
// channel, row, column (as PyTorch does), not row, column, channel as Keras does: a Dense
// kernel imported from Keras after a Flatten needs its rows permuted.
func ExampleFlatten() {
	m, err := nn.Sequential("flat", nn.Input(2, 2, 2), nn.Flatten())
	if err != nil {
		fmt.Println(err)
		return
	}
	gr, err := m.Compile(1, nn.Eval)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Value 10*row + 5*column + channel, given in Keras's (H, W, C) order.
	hwc := []float32{0, 1, 5, 6, 10, 11, 15, 16}
	if err := gr.Run(batch(hwc, 1, 2, 2, 2), nil); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("Keras:    ", hwc)
	fmt.Println("convgraph:", gr.Output().Data())
	// Output:
	// Keras:     [0 1 5 6 10 11 15 16]
	// convgraph: [0 5 10 15 1 6 11 16]
}

// A dense (fully connected) layer multiplies its input vector by a kernel [inputs, units]
// (Keras's layout) and adds a bias: inputs*units + units parameters.
func ExampleDense() {
	m, err := nn.Sequential("head", nn.Input(7*7*64), nn.Dense(100, nn.Activation(nn.ReLU)))
	if err != nil {
		fmt.Println(err)
		return
	}
	total, _, _ := m.ParamCounts()
	fmt.Println(m.Param("dense/kernel").Shape(), total, 3136*100+100)

	// y = x . [[2], [3]] + 1
	tiny, err := nn.Sequential("tiny", nn.Input(2), nn.Dense(1))
	if err != nil {
		fmt.Println(err)
		return
	}
	copy(tiny.Param("dense/kernel").Value.Data().([]float32), []float32{2, 3})
	copy(tiny.Param("dense/bias").Value.Data().([]float32), []float32{1})
	gr, err := tiny.Compile(2, nn.Eval)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := gr.Run(batch([]float32{1, 1, 2, 0}, 2, 2), nil); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(gr.Output().Data())
	// Output:
	// [3136 100] 313700 313700
	// [6 5]
}

// Softmax turns a row of scores (logits) into probabilities that sum to 1; the largest
// score gets the largest probability. Here the Dense kernel is the identity, so the
// logits are the inputs.
func ExampleSoftmax() {
	m, err := nn.Sequential("classes", nn.Input(3), nn.Dense(3, nn.UseBias(false), nn.Activation(nn.Softmax)))
	if err != nil {
		fmt.Println(err)
		return
	}
	copy(m.Param("dense/kernel").Value.Data().([]float32), []float32{1, 0, 0, 0, 1, 0, 0, 0, 1})
	gr, err := m.Compile(3, nn.Eval)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := gr.Run(batch([]float32{1, 2, 3, 0, 0, 0, 1000, 1001, 1002}, 3, 3), nil); err != nil {
		fmt.Println(err)
		return
	}
	p := gr.Output().Data().([]float32)
	for r := 0; r < 3; r++ {
		row := p[3*r : 3*r+3]
		fmt.Printf("logits %v -> %.3f sum %.3f\n", gr.Logits().Data().([]float32)[3*r:3*r+3], row, row[0]+row[1]+row[2])
	}
	// Output:
	// logits [1 2 3] -> [0.090 0.245 0.665] sum 1.000
	// logits [0 0 0] -> [0.333 0.333 0.333] sum 1.000
	// logits [1000 1001 1002] -> [0.090 0.245 0.665] sum 1.000
}

// Batch normalization normalises each feature (or channel) over the batch, then scales by
// gamma and shifts by beta, which train. Its moving mean and variance, used at inference,
// are updated by each training step and are never trainable: four numbers a channel, two
// of them non-trainable.
func ExampleBatchNorm() {
	conv, err := nn.Sequential("conv-bn", nn.Input(28, 28, 1),
		nn.Conv2D(32, 3, nn.Padding(nn.Same)), nn.BatchNorm(), nn.Activate(nn.ReLU))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range conv.Params() {
		if strings.HasPrefix(p.Name, "batch_normalization/") {
			fmt.Println(p.Name, p.Shape(), "trainable:", p.Trainable)
		}
	}
	fmt.Println(conv.ParamCounts())

	m, err := nn.Sequential("bn", nn.Input(2), nn.BatchNorm())
	if err != nil {
		fmt.Println(err)
		return
	}
	gr, err := m.Compile(4, nn.Train)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Feature 0 is 1, 3, 5, 7 (mean 4); feature 1 is 10, 20, 30, 40 (mean 25).
	if err := gr.Run(batch([]float32{1, 10, 3, 20, 5, 30, 7, 40}, 4, 2), []int{0, 1, 0, 1}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("normalised: %.2f\n", gr.Output().Data())
	fmt.Printf("moving mean: %.4f\n", m.Param("batch_normalization/moving_mean").Value.Data())
	fmt.Printf("moving variance: %.4f\n", m.Param("batch_normalization/moving_variance").Value.Data())
	// Output:
	// batch_normalization/gamma [32] trainable: true
	// batch_normalization/beta [32] trainable: true
	// batch_normalization/moving_mean [32] trainable: false
	// batch_normalization/moving_variance [32] trainable: false
	// 448 384 64
	// normalised: [-1.34 -1.34 -0.45 -0.45 0.45 0.45 1.34 1.34]
	// moving mean: [0.0400 0.2500]
	// moving variance: [1.0567 2.6567]
}

// Dropout randomly zeroes a fraction of its inputs while training, so the network cannot
// lean on any one of them; at inference (Eval) it passes its input through unchanged.
// The training behaviour is shown by graph's Dropout example.
func ExampleDropout() {
	m, err := nn.Sequential("dropout", nn.Input(4), nn.Dropout(0.4))
	if err != nil {
		fmt.Println(err)
		return
	}
	gr, err := m.Compile(1, nn.Eval)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := gr.Run(batch([]float32{1, 2, 3, 4}, 1, 4), nil); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(gr.Output().Data())
	// Output:
	// [1 2 3 4]
}

// exampleCNN is the course's Fashion-MNIST network.
func exampleCNN() (*nn.Model, error) {
	return nn.Sequential("fashion-cnn",
		nn.Input(28, 28, 1),
		nn.Conv2D(32, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)),
		nn.MaxPool2D(2),
		nn.Conv2D(64, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)),
		nn.MaxPool2D(2),
		nn.Flatten(),
		nn.Dense(100, nn.Activation(nn.ReLU)),
		nn.Dropout(0.4),
		nn.Dense(10, nn.Activation(nn.Softmax)))
}

// exampleImages makes n 28x28 grayscale images with a different bright square in each.
func exampleImages(n int) *tensor.Dense {
	vals := make([]float32, n*28*28)
	for k := 0; k < n; k++ {
		for i := 4 + 3*k; i < 14+3*k; i++ {
			for j := 6; j < 20; j++ {
				vals[k*28*28+i*28+j] = 1
			}
		}
	}
	return batch(vals, n, 28, 28, 1)
}

// countInstructions counts the compiled instructions that mention op.
func countInstructions(gr *nn.Graph, op string) int {
	n := 0
	for _, s := range gr.Instructions() {
		if strings.Contains(s, op) {
			n++
		}
	}
	return n
}

// Compile builds a graph for one batch size and mode. A Train graph computes the
// cross-entropy loss and the gradient of every trainable parameter; an untrained
// classifier of 10 classes starts near ln(10) = 2.3.
func ExampleModel_Compile() {
	m, err := exampleCNN()
	if err != nil {
		fmt.Println(err)
		return
	}
	gr, err := m.Compile(2, nn.Train)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := gr.Run(exampleImages(2), []int{3, 7}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("loss %.1f\n", gr.Loss())
	for _, p := range gr.GradParams() {
		fmt.Println("gradient", p.Name, gr.Grad(p.Name).Shape())
	}
	again, _ := m.Compile(2, nn.Train)
	fmt.Println("cached:", again == gr)
	// Output:
	// loss 2.4
	// gradient conv2d/kernel (32, 1, 3, 3)
	// gradient conv2d/bias (32)
	// gradient conv2d_1/kernel (64, 32, 3, 3)
	// gradient conv2d_1/bias (64)
	// gradient dense/kernel (3136, 100)
	// gradient dense/bias (100)
	// gradient dense_1/kernel (100, 10)
	// gradient dense_1/bias (10)
	// cached: true
}

// Transfer learning keeps a trained convolutional base and trains a new head on top:
// freeze the base. Frozen parameters get no gradient and the compiled training graph
// contains no backward convolutions at all.
func ExampleModel_Freeze() {
	m, err := exampleCNN()
	if err != nil {
		fmt.Println(err)
		return
	}
	full, err := m.Compile(2, nn.Train)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := m.Freeze("conv2d", "conv2d_1"); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(m.Summary())
	head, err := m.Compile(2, nn.Train)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := head.Run(exampleImages(2), []int{3, 7}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("gradient of conv2d/kernel:", head.Grad("conv2d/kernel"))
	fmt.Println("gradient of dense/kernel:", head.Grad("dense/kernel").Shape())
	fmt.Printf("backward convolutions: full %d, frozen %d\n", countInstructions(full, "Conv2DBackward"), countInstructions(head, "Conv2DBackward"))
	// Output:
	// Model: "fashion-cnn"
	// _______________________________________________________________________
	//  Layer (type)                    Output Shape        Param #  Trainable
	// =======================================================================
	//  conv2d (Conv2D)                 (None, 28, 28, 32)      320  N
	//
	//  max_pooling2d (MaxPooling2D)    (None, 14, 14, 32)        0  -
	//
	//  conv2d_1 (Conv2D)               (None, 14, 14, 64)   18,496  N
	//
	//  max_pooling2d_1 (MaxPooling2D)  (None, 7, 7, 64)          0  -
	//
	//  flatten (Flatten)               (None, 3136)              0  -
	//
	//  dense (Dense)                   (None, 100)         313,700  Y
	//
	//  dropout (Dropout)               (None, 100)               0  -
	//
	//  dense_1 (Dense)                 (None, 10)            1,010  Y
	// =======================================================================
	// Total params: 333,526
	// Trainable params: 314,710
	// Non-trainable params: 18,816
	// _______________________________________________________________________
	// gradient of conv2d/kernel: <nil>
	// gradient of dense/kernel: (3136, 100)
	// backward convolutions: full 3, frozen 0
}

// Fine-tuning unfreezes the top of a frozen base once the new head has trained. Layers
// grouped with Builder.Block freeze and unfreeze by prefix ("base/"); batch
// normalisation's moving statistics stay non-trainable throughout.
func ExampleModel_Unfreeze() {
	b := nn.NewBuilder("transfer")
	x := b.Input(28, 28, 1)
	base := b.Block("base")
	y := base.Apply(nn.Conv2D(8, 3, nn.Name("conv1")), x)
	y = base.Apply(nn.BatchNorm(nn.Name("bn1")), y)
	y = base.Apply(nn.Activate(nn.ReLU, nn.Name("relu1")), y)
	y = base.Apply(nn.Conv2D(16, 3, nn.Strides(2), nn.Activation(nn.ReLU), nn.Name("conv2")), y)
	head := b.Block("head")
	y = head.Apply(nn.GlobalAvgPool2D(nn.Name("pool")), y)
	y = head.Apply(nn.Dense(10, nn.Activation(nn.Softmax), nn.Name("classes")), y)
	m, err := b.Model(y)
	if err != nil {
		fmt.Println(err)
		return
	}
	show := func(step string) {
		total, trainable, non := m.ParamCounts()
		fmt.Printf("%-24s total %d, trainable %d, non-trainable %d\n", step, total, trainable, non)
	}
	show("all trainable:")
	if err := m.Freeze("base/"); err != nil {
		fmt.Println(err)
		return
	}
	show(`Freeze("base/"):`)
	if err := m.Unfreeze("base/conv2"); err != nil {
		fmt.Println(err)
		return
	}
	show(`Unfreeze("base/conv2"):`)
	if err := m.Unfreeze("base/"); err != nil {
		fmt.Println(err)
		return
	}
	show(`Unfreeze("base/"):`)
	// Output:
	// all trainable:           total 1450, trainable 1434, non-trainable 16
	// Freeze("base/"):         total 1450, trainable 170, non-trainable 1280
	// Unfreeze("base/conv2"):  total 1450, trainable 1338, non-trainable 112
	// Unfreeze("base/"):       total 1450, trainable 1434, non-trainable 16
}

// Trainable(false) freezes a layer from the start, like Keras's trainable=False.
func ExampleTrainable() {
	m, err := nn.Sequential("frozen-base", nn.Input(28, 28, 1),
		nn.Conv2D(32, 3, nn.Trainable(false)),
		nn.Flatten(),
		nn.Dense(10, nn.Activation(nn.Softmax)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.ParamCounts())
	// Output:
	// 216650 216330 320
}
