// Command regression trains a CNN to predict a continuous quantity of an image, with a
// loss written by hand: how much of each Fashion-MNIST image is covered by the garment
// (the fraction of pixels brighter than half), learned with a log-cosh loss defined as a
// Gorgonia expression and registered with nn.RegisterLoss, on the images bundled with
// convgraph. It reports the validation mean absolute error against always predicting
// the mean.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "regression:", err)
		os.Exit(1)
	}
}

// logCosh is log(cosh(pred - target)) averaged over the batch: like squared error near
// 0 and like absolute error far from it. It is computed as |d| + log1p(exp(-2|d|)) -
// log 2, which stays finite for any d (cosh itself overflows).
func logCosh(pred, target *G.Node) (*G.Node, error) {
	d, err := G.Sub(pred, target)
	if err != nil {
		return nil, err
	}
	a, err := G.Abs(d)
	if err != nil {
		return nil, err
	}
	m2, err := G.Mul(a, scalar(pred, -2))
	if err != nil {
		return nil, err
	}
	e, err := G.Exp(m2)
	if err != nil {
		return nil, err
	}
	l, err := G.Log1p(e)
	if err != nil {
		return nil, err
	}
	s, err := G.Add(a, l)
	if err != nil {
		return nil, err
	}
	mean, err := G.Mean(s)
	if err != nil {
		return nil, err
	}
	return G.Sub(mean, scalar(pred, math.Ln2))
}

// scalar is a constant of pred's dtype.
func scalar(pred *G.Node, v float64) *G.Node {
	if pred.Dtype() == tensor.Float32 {
		return G.NewConstant(float32(v))
	}
	return G.NewConstant(v)
}

// coverage turns a data set into images scaled to [0, 1] and each image's coverage.
func coverage(ds *data.Dataset, n int) *train.Tensors {
	n = min(n, ds.Len())
	size := ds.ImageSize()
	x := make([]float32, n*size)
	y := make([]float32, n)
	for i := 0; i < n; i++ {
		var on int
		for j, p := range ds.Image(i) {
			x[i*size+j] = float32(p) / 255
			if p > 127 {
				on++
			}
		}
		y[i] = float32(on) / float32(size)
	}
	return &train.Tensors{
		X: []tensor.Tensor{tensor.New(tensor.WithShape(n, ds.Height(), ds.Width(), ds.Channels()), tensor.WithBacking(x))},
		Y: []nn.Target{{Values: tensor.New(tensor.WithShape(n, 1), tensor.WithBacking(y))}},
	}
}

func run(args []string, out io.Writer) error {
	fl := flag.NewFlagSet("regression", flag.ContinueOnError)
	epochs := fl.Int("epochs", 8, "epochs")
	n := fl.Int("n", 2000, "training images (the bundled sample has 2,000)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	nn.RegisterLoss("log_cosh", logCosh)

	split, err := data.Sample("fashion-mnist")
	if err != nil {
		return err
	}
	d, val := coverage(split.Train, *n), coverage(split.Test, 500)

	m, err := nn.Sequential("coverage-cnn",
		nn.Input(28, 28, 1),
		nn.Conv2D(16, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)),
		nn.MaxPool2D(2),
		nn.Conv2D(32, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)),
		nn.MaxPool2D(2),
		nn.GlobalAvgPool2D(),
		nn.Dense(32, nn.Activation(nn.ReLU)),
		nn.Dense(1, nn.Name("coverage")))
	if err != nil {
		return err
	}
	if err := m.SetLoss("coverage", nn.CustomLoss("log_cosh"), 1); err != nil {
		return err
	}
	fmt.Fprint(out, m.Summary())
	if _, err := train.FitTensors(context.Background(), m, d, train.Config{
		Epochs: *epochs, BatchSize: 32, Seed: 1, ValidationData: val, Progress: out}); err != nil {
		return err
	}

	// The validation mean absolute error, against always predicting the training mean.
	pred, err := train.PredictTensors(m, val.X, 0)
	if err != nil {
		return err
	}
	var mean float64
	for _, v := range d.Y[0].Values.Data().([]float32) {
		mean += float64(v)
	}
	mean /= float64(d.Len())
	var mae, base float64
	truth := val.Y[0].Values.Data().([]float32)
	for i, p := range pred[0].Data().([]float32) {
		mae += math.Abs(float64(p - truth[i]))
		base += math.Abs(mean - float64(truth[i]))
	}
	fmt.Fprintf(out, "validation mean absolute error: %.4f (predicting the mean: %.4f)\n", mae/float64(val.Len()), base/float64(val.Len()))
	return nil
}
