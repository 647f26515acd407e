package train_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
)

func probs(rows ...[]float32) *tensor.Dense {
	var v []float32
	for _, r := range rows {
		v = append(v, r...)
	}
	return tensor.New(tensor.WithShape(len(rows), len(rows[0])), tensor.WithBacking(v))
}

// TestTopKAccuracy checks top-k accuracy on scores worked out by hand.
func TestTopKAccuracy(t *testing.T) {
	out := probs(
		[]float32{0.1, 0.6, 0.3}, // ranks: 1, 2, 0
		[]float32{0.5, 0.2, 0.3}, // ranks: 0, 2, 1
		[]float32{0.2, 0.3, 0.5}, // ranks: 2, 1, 0
		[]float32{0.4, 0.4, 0.2}) // a tie: 0 and 1 share the top
	labels := []int{2, 1, 0, 1}
	// top1: example 3 only (its class ties for first); top2: examples 0 and 3.
	for _, c := range []struct {
		k    int
		want float64
	}{{1, 0.25}, {2, 0.5}, {3, 1}} {
		m := train.TopKAccuracy(c.k)
		if err := m.Update(out, nn.Target{Labels: labels}); err != nil {
			t.Fatal(err)
		}
		// The same rows as one-hot targets, in a second batch.
		oneHot := make([]float32, 12)
		for r, l := range labels {
			oneHot[r*3+l] = 1
		}
		if err := m.Update(out, nn.Target{Values: tensor.New(tensor.WithShape(4, 3), tensor.WithBacking(oneHot))}); err != nil {
			t.Fatal(err)
		}
		name := map[int]string{1: "top1_accuracy", 2: "top2_accuracy", 3: "top3_accuracy"}[c.k]
		if got := m.Result()[name]; got != c.want {
			t.Errorf("%s = %v; want %v", name, got, c.want)
		}
		m.Reset()
		if r := m.Result()[name]; !math.IsNaN(r) {
			t.Errorf("after Reset %s = %v; want NaN (no examples)", name, r)
		}
	}
}

// TestPrecisionRecallF1 checks per-class precision, recall and F1 against a confusion
// matrix worked out by hand.
func TestPrecisionRecallF1(t *testing.T) {
	// predicted: 0, 0, 1, 2, 2, 2; true: 0, 1, 1, 2, 0, 2
	out := probs(
		[]float32{0.9, 0.05, 0.05},
		[]float32{0.6, 0.3, 0.1},
		[]float32{0.1, 0.8, 0.1},
		[]float32{0.1, 0.1, 0.8},
		[]float32{0.2, 0.1, 0.7},
		[]float32{0.3, 0.3, 0.4})
	m := train.PrecisionRecallF1()
	if err := m.Update(out, nn.Target{Labels: []int{0, 1, 1, 2, 0, 2}}); err != nil {
		t.Fatal(err)
	}
	// class 0: tp 1, predicted 2, actual 2 -> p 1/2, r 1/2, f1 1/2
	// class 1: tp 1, predicted 1, actual 2 -> p 1, r 1/2, f1 2/3
	// class 2: tp 2, predicted 3, actual 2 -> p 2/3, r 1, f1 4/5
	want := map[string]float64{
		"precision_0": 0.5, "recall_0": 0.5, "f1_0": 0.5,
		"precision_1": 1, "recall_1": 0.5, "f1_1": 2.0 / 3,
		"precision_2": 2.0 / 3, "recall_2": 1, "f1_2": 0.8,
		"precision": (0.5 + 1 + 2.0/3) / 3, "recall": (0.5 + 0.5 + 1) / 3, "f1": (0.5 + 2.0/3 + 0.8) / 3,
	}
	got := m.Result()
	if len(got) != len(want) {
		t.Errorf("results %v; want %d values", got, len(want))
	}
	for k, w := range want {
		if math.Abs(got[k]-w) > 1e-12 {
			t.Errorf("%s = %v; want %v", k, got[k], w)
		}
	}
}

// countingMetric counts the examples it sees: a user-defined metric.
type countingMetric struct{ n float64 }

func (c *countingMetric) Update(out *tensor.Dense, t nn.Target) error {
	c.n += float64(out.Shape()[0])
	return nil
}
func (c *countingMetric) Result() map[string]float64 { return map[string]float64{"examples": c.n} }
func (c *countingMetric) Reset()                     { c.n = 0 }

// TestFitTensorsMetrics trains with built-in and user-defined metrics and checks that
// they reach the progress line and history, validation included, with values that agree
// with the built-in accuracy and the example counts.
func TestFitTensorsMetrics(t *testing.T) {
	m := imageAndMeta(t)
	d, val := imageAndMetaData(40, 1), imageAndMetaData(24, 2)
	var progress bytes.Buffer
	h, err := train.FitTensors(context.Background(), m, d, train.Config{Epochs: 2, BatchSize: 16, Seed: 3,
		ValidationData: val, Progress: &progress,
		Metrics: []train.Metric{train.TopKAccuracy(1), train.OnOutput("class", train.TopKAccuracy(2)),
			train.PrecisionRecallF1(), &countingMetric{}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range h.Epochs {
		got := e.Metrics
		if math.Abs(got["top1_accuracy"]-got["class_accuracy"]) > 1e-12 || math.Abs(got["val_top1_accuracy"]-got["val_class_accuracy"]) > 1e-12 {
			t.Errorf("top-1 accuracy %v (val %v); want the accuracy %v (val %v)", got["top1_accuracy"], got["val_top1_accuracy"], got["class_accuracy"], got["val_class_accuracy"])
		}
		if got["examples"] != 40 || got["val_examples"] != 24 {
			t.Errorf("the metric saw %v and %v examples; want 40 and 24", got["examples"], got["val_examples"])
		}
		if !(got["class_top2_accuracy"] >= got["top1_accuracy"]) || got["val_recall"] < 0 || got["val_recall"] > 1 {
			t.Errorf("metrics %v", got)
		}
		for _, k := range []string{"precision_2", "f1", "val_f1_0", "val_precision"} {
			if _, ok := got[k]; !ok {
				t.Errorf("no %s in %v", k, got)
			}
		}
	}
	var csv bytes.Buffer
	if err := h.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	header := strings.SplitN(csv.String(), "\n", 2)[0]
	for _, col := range []string{"top1_accuracy", "val_top1_accuracy", "class_top2_accuracy", "val_f1_2", "examples"} {
		if !strings.Contains(","+header+",", ","+col+",") {
			t.Errorf("history.csv header %q has no column %s", header, col)
		}
	}
	if !strings.Contains(progress.String(), "val_class_top2_accuracy: ") || !strings.Contains(progress.String(), "examples: 40.0000") {
		t.Errorf("progress line without the metrics:\n%s", progress.String())
	}
	// A metric on an output the model lacks is a MetricError naming both.
	_, err = train.FitTensors(context.Background(), m, d, train.Config{Metrics: []train.Metric{train.OnOutput("nope", train.TopKAccuracy(3))}})
	var me *train.MetricError
	if !errors.As(err, &me) || me.Output != "nope" || me.Metric != "top3_accuracy" {
		t.Errorf("error %v; want a MetricError for top3_accuracy on output nope", err)
	}
	// Top-k on a regression output cannot read its targets.
	_, err = train.FitTensors(context.Background(), m, d, train.Config{Metrics: []train.Metric{train.OnOutput("value", train.TopKAccuracy(1))}})
	if !errors.As(err, &me) || me.Output != "value" {
		t.Errorf("error %v; want a MetricError on output value", err)
	}
}

// classifier is a small float32 classifier of 4 features into 3 classes.
func classifier(t *testing.T, loss nn.Loss) *nn.Model {
	t.Helper()
	m, err := nn.Sequential("classifier", nn.Input(4), nn.Dense(8, nn.Activation(nn.Tanh)), nn.Dense(3, nn.Activation(nn.Softmax), nn.Name("class")))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetLoss("class", loss, 1); err != nil {
		t.Fatal(err)
	}
	return m
}

func classData(n int, oneHot bool) (*train.Tensors, []int) {
	rng := rand.New(rand.NewPCG(5, 5))
	x := make([]float32, n*4)
	for i := range x {
		x[i] = rng.Float32()*2 - 1
	}
	labels := make([]int, n)
	y := make([]float32, n*3)
	for i := range labels {
		labels[i] = rng.IntN(3)
		y[i*3+labels[i]] = 1
	}
	d := &train.Tensors{X: []tensor.Tensor{tensor.New(tensor.WithShape(n, 4), tensor.WithBacking(x))}}
	if oneHot {
		d.Y = []nn.Target{{Values: tensor.New(tensor.WithShape(n, 3), tensor.WithBacking(y))}}
	} else {
		d.Y = []nn.Target{{Labels: labels}}
	}
	return d, labels
}

// TestClassWeights checks Keras's class_weight against a hand computation: with one batch
// and one epoch, the history's loss is the loss before the update, Σ w[class]·(-log
// p[class]) / n over the model's predictions.
func TestClassWeights(t *testing.T) {
	cw := map[int]float64{0: 2, 2: 0.25} // class 1 unlisted: weight 1
	for _, oneHot := range []bool{false, true} {
		loss := nn.SparseCategoricalCrossentropy()
		if oneHot {
			loss = nn.CategoricalCrossentropy()
		}
		m := classifier(t, loss)
		d, labels := classData(20, oneHot)
		p, err := train.PredictTensors(m, d.X, 0)
		if err != nil {
			t.Fatal(err)
		}
		pv := p[0].Data().([]float32)
		var want float64
		for r, l := range labels {
			w := 1.0
			if v, ok := cw[l]; ok {
				w = v
			}
			want -= w * math.Log(float64(pv[r*3+l]))
		}
		want /= 20
		h, err := train.FitTensors(context.Background(), m, d, train.Config{BatchSize: 20, ClassWeight: cw})
		if err != nil {
			t.Fatal(err)
		}
		if got := h.Epochs[0].Loss; math.Abs(got-want) > 1e-5 {
			t.Errorf("one-hot %v: weighted loss %v; want %v", oneHot, got, want)
		}
		if m.ExampleWeights() {
			t.Error("FitTensors left the model compiling example weights")
		}
	}
	m := classifier(t, nn.SparseCategoricalCrossentropy())
	d, _ := classData(20, false)
	for _, bad := range []map[int]float64{{3: 1}, {0: -1}, {1: math.Inf(1)}} {
		if _, err := train.FitTensors(context.Background(), m, d, train.Config{ClassWeight: bad}); err == nil {
			t.Errorf("class weights %v: no error", bad)
		}
	}
}

// TestFitClassWeightsAndMetrics runs Fit on an image data set with class weights and
// metrics: the same weighted loss as the hand computation, and metrics for training and
// validation.
func TestFitClassWeightsAndMetrics(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pix := make([]uint8, 24*16)
	labels := make([]int, 24)
	for i := range pix {
		pix[i] = uint8(rng.IntN(256))
	}
	for i := range labels {
		labels[i] = i % 3
	}
	ds, err := data.New(pix, labels, 4, 4, 1, []string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	build := func() *nn.Model {
		m, err := nn.Sequential("tiny", nn.Input(4, 4, 1), nn.Flatten(), nn.Dense(3, nn.Activation(nn.Softmax)))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	cw := map[int]float64{0: 3, 1: 0.5}
	base, err := train.Fit(context.Background(), build(), ds, train.Config{BatchSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	h, err := train.Fit(context.Background(), build(), ds, train.Config{BatchSize: 24, ClassWeight: cw, Validation: ds,
		Metrics: []train.Metric{train.TopKAccuracy(2), train.PrecisionRecallF1()}})
	if err != nil {
		t.Fatal(err)
	}
	// The same model and batch before the update: each class holds 8 examples, so the
	// weighted loss is (3·L0 + 0.5·L1 + L2)/24 where Lk sums class k's losses. Without
	// weights it is (L0+L1+L2)/24; the per-class sums come from Evaluate's model.
	m0 := build()
	ev := map[int]float64{}
	p, err := train.Predict(m0, normalized(ds), 24)
	if err != nil {
		t.Fatal(err)
	}
	for r, l := range labels {
		ev[l] -= math.Log(p[r].Probs[l])
	}
	want := (3*ev[0] + 0.5*ev[1] + ev[2]) / 24
	if got := h.Epochs[0].Loss; math.Abs(got-want) > 1e-5 {
		t.Errorf("Fit with class weights: loss %v; want %v (unweighted %v)", got, want, base.Epochs[0].Loss)
	}
	for _, k := range []string{"top2_accuracy", "val_top2_accuracy", "val_recall_2", "f1"} {
		if _, ok := h.Epochs[0].Metrics[k]; !ok {
			t.Errorf("no %s in %v", k, h.Epochs[0].Metrics)
		}
	}
}

// normalized is ds's pixels as Fit feeds them (scaled to [0, 1]).
func normalized(ds *data.Dataset) []float32 {
	out := make([]float32, len(ds.Pixels()))
	for i, v := range ds.Pixels() {
		out[i] = float32(v) / 255
	}
	return out
}
