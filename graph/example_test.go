package graph_test

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
)

// constant makes a named float64 input node holding vals in the given shape.
func constant(g *G.ExprGraph, name string, vals []float64, shape ...int) *G.Node {
	t := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(vals))
	return G.NewTensor(g, tensor.Float64, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(t))
}

// run compiles g, runs it once and returns the value of out.
func run(g *G.ExprGraph, out *G.Node) (*tensor.Dense, error) {
	m, err := graph.NewMachine(g)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	if err := m.Run(); err != nil {
		return nil, err
	}
	return out.Value().(*tensor.Dense), nil
}

// printImage prints the h x w plane starting at off of an NCHW tensor, one row a line.
func printImage(d *tensor.Dense, off, h, w int) {
	v := d.Data().([]float64)
	for i := 0; i < h; i++ {
		for j := 0; j < w; j++ {
			if j > 0 {
				fmt.Print(" ")
			}
			fmt.Printf("%4g", v[off+i*w+j])
		}
		fmt.Println()
	}
}

// A convolution slides a small kernel (filter) over the image and writes one number per
// position: here a hand-made 3x3 vertical-edge detector on a 6x6 image that is dark on
// the left and bright on the right. The feature map lights up exactly where the edge is,
// and a horizontal-edge detector (the second filter) sees nothing. Inside a graph images
// are NCHW and kernels OIHW: [filters, channels, kh, kw].
func ExampleConv2D() {
	g := G.NewGraph()
	img := make([]float64, 6*6)
	for i := 0; i < 6; i++ {
		for j := 3; j < 6; j++ {
			img[i*6+j] = 1
		}
	}
	x := constant(g, "x", img, 1, 1, 6, 6) // N=1 image, C=1 channel, 6x6
	w := constant(g, "w", []float64{
		// filter 0: vertical edges (Sobel)
		-1, 0, 1,
		-2, 0, 2,
		-1, 0, 1,
		// filter 1: horizontal edges
		-1, -2, -1,
		0, 0, 0,
		1, 2, 1,
	}, 2, 1, 3, 3) // O=2 filters, I=1 channel, 3x3
	y, err := graph.Conv2D(x, w, graph.Conv2DConfig{}) // stride 1, no padding ("valid")
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := run(g, y)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("input", x.Shape(), "kernel", w.Shape(), "feature maps", out.Shape())
	fmt.Println("vertical edges:")
	printImage(out, 0, 4, 4)
	fmt.Println("horizontal edges:")
	printImage(out, 16, 4, 4)
	// Output:
	// input (1, 1, 6, 6) kernel (2, 1, 3, 3) feature maps (1, 2, 4, 4)
	// vertical edges:
	//    0    4    4    0
	//    0    4    4    0
	//    0    4    4    0
	//    0    4    4    0
	// horizontal edges:
	//    0    0    0    0
	//    0    0    0    0
	//    0    0    0    0
	//    0    0    0    0
}

// Padding a 3x3 convolution "same" keeps 28 cells at stride 1 and gives ceil(28/2) = 14 at
// stride 2; when the total padding is odd the extra cell goes after (bottom, right), as in
// TensorFlow and Keras.
func ExampleSamePad() {
	for _, stride := range []int{1, 2} {
		before, after := graph.SamePad(28, 3, stride, 1)
		out := (28+before+after-3)/stride + 1
		fmt.Printf("stride %d: pad %d before, %d after: 28 -> %d\n", stride, before, after, out)
	}
	// Output:
	// stride 1: pad 1 before, 1 after: 28 -> 28
	// stride 2: pad 0 before, 1 after: 28 -> 14
}

// pool4x4 is the 4x4 example the pooling examples share.
var pool4x4 = []float64{
	1, 3, 2, 1,
	4, 2, 0, 1,
	5, 6, 1, 2,
	7, 8, 3, 4,
}

// Max pooling keeps the largest value of each 2x2 window; with the default stride (the
// pool size) the windows do not overlap and the image halves.
func ExampleMaxPool2D() {
	g := G.NewGraph()
	x := constant(g, "x", pool4x4, 1, 1, 4, 4)
	y, err := graph.MaxPool2D(x, graph.Pool2DConfig{KH: 2, KW: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := run(g, y)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.Shape())
	printImage(out, 0, 2, 2)
	// Output:
	// (1, 1, 2, 2)
	//    4    2
	//    8    4
}

// Average pooling takes the mean of each 2x2 window of the same image.
func ExampleAvgPool2D() {
	g := G.NewGraph()
	x := constant(g, "x", pool4x4, 1, 1, 4, 4)
	y, err := graph.AvgPool2D(x, graph.Pool2DConfig{KH: 2, KW: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := run(g, y)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.Shape())
	printImage(out, 0, 2, 2)
	// Output:
	// (1, 1, 2, 2)
	//  2.5    1
	//  6.5  2.5
}

// Softmax turns each row of logits into probabilities that sum to 1. Each row subtracts
// its own maximum first, so huge logits stay finite.
func ExampleSoftmax() {
	g := G.NewGraph()
	x := constant(g, "logits", []float64{
		1, 2, 3,
		1000, 1001, 1002,
	}, 2, 3)
	y, err := graph.Softmax(x)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := run(g, y)
	if err != nil {
		fmt.Println(err)
		return
	}
	v := out.Data().([]float64)
	for r := 0; r < 2; r++ {
		row := v[r*3 : r*3+3]
		fmt.Printf("%.4f sum %.4f\n", row, row[0]+row[1]+row[2])
	}
	// Output:
	// [0.0900 0.2447 0.6652] sum 1.0000
	// [0.0900 0.2447 0.6652] sum 1.0000
}

// Dropout in training zeroes each value with probability Rate and scales the survivors by
// 1/(1-Rate), so the expected sum is unchanged; the same seed gives the same masks.
func ExampleDropout() {
	g := G.NewGraph()
	ones := make([]float64, 1000)
	for i := range ones {
		ones[i] = 1
	}
	x := constant(g, "x", ones, 1, 1000)
	y, err := graph.Dropout(x, graph.DropoutConfig{Rate: 0.4, Seed: 7})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := run(g, y)
	if err != nil {
		fmt.Println(err)
		return
	}
	kept := map[float64]int{}
	var sum float64
	for _, v := range out.Data().([]float64) {
		kept[v]++
		sum += v
	}
	fmt.Printf("zeroed %d of 1000, kept %d as %.4f, mean %.1f\n", kept[0], kept[1/(1-0.4)], 1/(1-0.4), sum/1000)
	// Output:
	// zeroed 397 of 1000, kept 603 as 1.6667, mean 1.0
}

// GradCheck compares Gorgonia's symbolic gradients with central finite differences: here
// of a mean-squared error through a 3x3 convolution, for both the input and the kernel.
func ExampleGradCheck() {
	g := G.NewGraph()
	x := constant(g, "x", []float64{
		0.1, -0.4, 0.7, 0.2,
		0.5, 0.3, -0.6, 0.9,
		-0.2, 0.8, 0.4, -0.1,
		0.6, -0.7, 0.3, 0.5,
	}, 1, 1, 4, 4)
	w := constant(g, "w", []float64{
		0.2, -0.1, 0.4,
		-0.3, 0.5, 0.1,
		0.3, 0.2, -0.4,
	}, 1, 1, 3, 3)
	target := constant(g, "target", []float64{1, 0, -1, 0.5}, 1, 1, 2, 2)
	y, err := graph.Conv2D(x, w, graph.Conv2DConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	loss, err := graph.MeanSquaredError(y, target)
	if err != nil {
		fmt.Println(err)
		return
	}
	results, err := graph.GradCheck(loss, G.Nodes{x, w}, graph.GradCheckConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		fmt.Printf("%s: pass %v, relative error below 1e-6: %v\n", r.Name, r.Pass, r.RelErr < 1e-6)
	}
	// Output:
	// x: pass true, relative error below 1e-6: true
	// w: pass true, relative error below 1e-6: true
}
