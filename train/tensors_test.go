package train_test

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
)

// imageAndMeta is a two-input, two-output model: an image and three metadata values in,
// a class (which metadata value is largest) and a value (the first minus the second) out.
func imageAndMeta(t testing.TB) *nn.Model {
	t.Helper()
	b := nn.NewBuilder("image-and-meta")
	img := b.Input(8, 8, 1)
	meta := b.Input(3)
	x := b.Apply(nn.Conv2D(4, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)), img)
	x = b.Apply(nn.GlobalAvgPool2D(), x)
	v := b.Apply(nn.Dense(16, nn.Activation(nn.ReLU)), meta)
	x = b.Apply(nn.Concatenate(), x, v)
	class := b.Apply(nn.Dense(3, nn.Activation(nn.Softmax), nn.Name("class")), x)
	value := b.Apply(nn.Dense(1, nn.Name("value")), x)
	m, err := b.Model(class, value)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetLoss("class", nn.SparseCategoricalCrossentropy(), 1); err != nil {
		t.Fatal(err)
	}
	if err := m.SetLoss("value", nn.MeanSquaredError(), 0.5); err != nil {
		t.Fatal(err)
	}
	return m
}

func imageAndMetaData(n int, seed uint64) *train.Tensors {
	rng := rand.New(rand.NewPCG(seed, 9))
	img := make([]float32, n*64)
	for i := range img {
		img[i] = rng.Float32()
	}
	meta := make([]float32, n*3)
	for i := range meta {
		meta[i] = rng.Float32()
	}
	labels := make([]int, n)
	vals := make([]float32, n)
	for i := range labels {
		for c := 1; c < 3; c++ {
			if meta[3*i+c] > meta[3*i+labels[i]] {
				labels[i] = c
			}
		}
		vals[i] = meta[3*i] - meta[3*i+1]
	}
	return &train.Tensors{
		X: []tensor.Tensor{
			tensor.New(tensor.WithShape(n, 8, 8, 1), tensor.WithBacking(img)),
			tensor.New(tensor.WithShape(n, 3), tensor.WithBacking(meta)),
		},
		Y: []nn.Target{{Labels: labels}, {Values: tensor.New(tensor.WithShape(n, 1), tensor.WithBacking(vals))}},
	}
}

func TestFitTensorsTwoInputsTwoOutputs(t *testing.T) {
	m := imageAndMeta(t)
	d, val := imageAndMetaData(200, 1), imageAndMetaData(50, 2)
	before, err := train.EvaluateTensors(m, val, 16)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	h, err := train.FitTensors(context.Background(), m, d, train.Config{Epochs: 8, BatchSize: 16, LR: 0.01,
		ValidationData: val, Progress: &log})
	if err != nil {
		t.Fatal(err)
	}
	after, err := train.EvaluateTensors(m, val, 16)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("before %v\nafter %v\n%s", before, after, log.String())
	for _, k := range []string{"loss", "accuracy", "class_loss", "class_accuracy", "value_loss"} {
		if _, ok := after[k]; !ok {
			t.Errorf("evaluation lacks %q: %v", k, after)
		}
	}
	if math.Abs(after["loss"]-(after["class_loss"]+0.5*after["value_loss"])) > 1e-5 {
		t.Errorf("total loss %v is not class_loss + 0.5 value_loss", after)
	}
	if !(after["class_loss"] < 0.8*before["class_loss"]) || !(after["value_loss"] < 0.5*before["value_loss"]) || after["accuracy"] < 0.6 {
		t.Errorf("training did not learn: before %v, after %v", before, after)
	}
	last, _ := h.Last()
	if last.Metrics["val_value_loss"] != after["value_loss"] || last.ValAccuracy != after["accuracy"] {
		t.Errorf("last epoch's logs %+v; evaluation %v", last, after)
	}
	if !strings.Contains(log.String(), "val_class_accuracy: ") || !strings.Contains(log.String(), "- value_loss: ") {
		t.Errorf("progress lines lack the outputs' metrics:\n%s", log.String())
	}
	var csv bytes.Buffer
	if err := h.WriteCSV(&csv); err != nil || !strings.Contains(strings.SplitN(csv.String(), "\n", 2)[0], "class_accuracy,class_loss,val_class_accuracy") {
		t.Errorf("history CSV header: %q, %v", strings.SplitN(csv.String(), "\n", 2)[0], err)
	}

	// PredictTensors gives one tensor per output, the same as a graph run.
	outs, err := train.PredictTensors(m, val.X, 16)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 || !outs[0].Shape().Eq(tensor.Shape{50, 3}) || !outs[1].Shape().Eq(tensor.Shape{50, 1}) {
		t.Fatalf("predictions %v", outs)
	}
	gr, err := m.Compile(50, nn.Eval)
	if err != nil {
		t.Fatal(err)
	}
	if err := gr.RunMulti(val.X, nil); err != nil {
		t.Fatal(err)
	}
	for i := range outs {
		got, want := outs[i].Data().([]float32), gr.OutputAt(i).Data().([]float32)
		for j := range want {
			if math.Abs(float64(got[j]-want[j])) > 1e-5 {
				t.Fatalf("output %d: prediction %v; graph %v", i, got[j], want[j])
			}
		}
	}
}

func TestTensorsErrors(t *testing.T) {
	m := imageAndMeta(t)
	good := imageAndMetaData(10, 3)
	for _, c := range []struct {
		d    *train.Tensors
		want string
	}{
		{&train.Tensors{X: good.X[:1], Y: good.Y}, "1 input tensors for model \"image-and-meta\"'s 2 inputs"},
		{&train.Tensors{X: []tensor.Tensor{good.X[1], good.X[0]}, Y: good.Y}, `input "input" has shape (10, 3); want (10, 8, 8, 1)`},
		{&train.Tensors{X: good.X, Y: good.Y[:1]}, "1 targets for model"},
		{&train.Tensors{X: good.X, Y: []nn.Target{{Labels: []int{1}}, good.Y[1]}}, `output "class": 1 labels for 10 examples`},
		{&train.Tensors{X: good.X, Y: []nn.Target{{Labels: make([]int, 10)}, {Values: good.X[1]}}}, `output "value": targets have shape (10, 3); want (10, 1)`},
		{&train.Tensors{X: good.X, Y: []nn.Target{{Labels: []int{0, 1, 2, 3, 0, 0, 0, 0, 0, 0}}, good.Y[1]}}, "label 3 of example 3 is outside [0, 3)"},
	} {
		_, err := train.FitTensors(context.Background(), m, c.d, train.Config{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v; want %q", err, c.want)
		}
	}
	if _, err := train.Fit(context.Background(), m, sample(t).Train, train.Config{}); err == nil || !strings.Contains(err.Error(), "FitTensors") {
		t.Errorf("Fit on a two-input model: %v", err)
	}
}
