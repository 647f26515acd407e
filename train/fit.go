package train

import (
	"context"
	"io"
	"math"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/preprocess"
)

// ErrInterrupted is returned by [Fit] when its context is cancelled (Ctrl-C in the CLI).
// The History returned with it holds the epochs that completed.
var ErrInterrupted = errors.New("train: interrupted")

// Config configures [Fit]. Zero fields take the defaults given.
type Config struct {
	// Epochs is the number of epochs to run (default 1, as Keras).
	Epochs int
	// BatchSize is the mini-batch size (default 32, as Keras).
	BatchSize int
	// Optimizer updates the weights (default Adam with Keras's settings).
	Optimizer Optimizer
	// LR is the learning rate when Schedule is nil (default 1e-3).
	LR float64
	// Schedule gives the learning rate per step, overriding LR.
	Schedule Schedule
	// Seed drives shuffling and augmentation. Initialization and dropout masks draw from
	// the model's own seed (nn.Model.Initialize).
	Seed uint64
	// Validation, if set, is evaluated after every epoch (val_loss, val_accuracy).
	Validation *data.Dataset
	// ValidationData is FitTensors's and FitStream's Validation: in-memory tensors
	// evaluated after every epoch.
	ValidationData *Tensors
	// ValidationStream is a Stream evaluated after every epoch (FitTensors, FitStream).
	ValidationStream Stream
	// ShuffleBuffer is FitStream's shuffle buffer, in examples (tf.data's
	// shuffle(buffer_size)); 0 keeps the stream's order.
	ShuffleBuffer int
	// ClassWeight weights each example's loss by its class (Keras's class_weight):
	// class index -> weight, 1 for a class not listed. It needs a model with one trained
	// output and a classification loss.
	ClassWeight map[int]float64
	// Metrics are reported after every epoch beside loss and accuracy, for training and
	// validation, in the progress line and the history (see [Metric]).
	Metrics []Metric
	// Augment adds batch options such as data.RandomFlip() to training batches.
	Augment []data.BatchOption
	// Callbacks run after every epoch.
	Callbacks []Callback
	// Progress receives a progress bar (on a terminal) or a line per epoch; nil is silent.
	Progress io.Writer
	// InitialEpoch and InitialStep resume a run: the epochs completed and the optimizer
	// steps taken (which may end inside the next epoch). The resumed epoch's logs cover
	// only its remaining batches. InitialStep 0 means the start of epoch InitialEpoch+1
	// (Keras's initial_epoch), as a second phase of fine-tuning wants.
	InitialEpoch, InitialStep int
	// History to continue (when resuming); nil starts a new one.
	History *History
	// OnStep, if set, is called after every optimizer step (the CLI uses it to keep a
	// resumable state).
	OnStep func(epoch, step int)
	// Comm, if set, makes Fit data-parallel over Comm's ranks (see [Comm] and
	// docs/distributed.md): BatchSize is then each rank's batch, and every rank must call
	// Fit with the same model, data and Config.
	Comm Comm
}

func (c *Config) defaults() {
	if c.Epochs == 0 {
		c.Epochs = 1
	}
	if c.BatchSize == 0 {
		c.BatchSize = 32
	}
	if c.Optimizer == nil {
		c.Optimizer = &Adam{}
	}
	if c.LR == 0 {
		c.LR = 1e-3
	}
	if c.Schedule == nil {
		c.Schedule = Constant(c.LR)
	}
}

// Callback runs after each epoch; returning stop ends training after this epoch.
type Callback interface {
	EpochEnd(m *nn.Model, logs EpochLogs) (stop bool, err error)
}

// Fit trains m on ds and returns the history. Batches are shuffled with cfg.Seed, the
// last partial batch is used (its own compiled graph), and the model's trainable
// parameters are updated in place. A NaN or infinite loss stops training with an error
// naming the epoch and batch; cancelling ctx stops after the current batch with
// [ErrInterrupted]. The returned history holds every completed epoch, also on error.
//
// Fit writes m's parameters at every step, so nothing else may use m while it runs
// (no Predict, Evaluate or Compile from another goroutine); an [nn.Predictor] made from
// m before or between Fit calls may answer meanwhile, since it holds a copy.
func Fit(ctx context.Context, m *nn.Model, ds *data.Dataset, cfg Config) (*History, error) {
	cfg.defaults()
	h := cfg.History
	if h == nil {
		h = &History{Model: m.Name()}
	}
	switch {
	case cfg.Epochs < 0:
		return h, errors.Errorf("train: epochs %d must be positive", cfg.Epochs)
	case cfg.BatchSize < 0:
		return h, errors.Errorf("train: batch size %d must be positive", cfg.BatchSize)
	case ds == nil || ds.Len() == 0:
		return h, errors.New("train: the training set is empty")
	}
	if err := checkFits(m, ds); err != nil {
		return h, err
	}
	if cfg.Validation != nil {
		if err := checkFits(m, cfg.Validation); err != nil {
			return h, errors.Wrap(err, "validation set")
		}
	}
	if err := recordPreprocessing(m, ds); err != nil {
		return h, err
	}
	bound, err := bindMetrics(m, cfg.Metrics)
	if err != nil {
		return h, err
	}
	cw, err := newClassWeighter(m, cfg.ClassWeight)
	if err != nil {
		return h, err
	}
	if (cw != nil || len(bound) > 0) && cfg.Comm != nil {
		return h, errors.New("train: ClassWeight and Metrics do not apply to data-parallel Fit (Comm) yet")
	}
	if cw != nil && !m.ExampleWeights() {
		m.SetExampleWeights(true)
		defer m.SetExampleWeights(false)
	}
	dp, err := newDataParallel(&cfg, m, ds)
	if err != nil {
		return h, err
	}
	opts := append([]data.BatchOption{data.Shuffle(), data.Seed(cfg.Seed), data.Normalize(normalization(m))}, cfg.Augment...)
	it := ds.Batches(dp.batchSize(cfg.BatchSize), opts...)
	for e := 0; e < cfg.InitialEpoch; e++ {
		it.Reset() // replay the shuffles of the epochs already done
	}
	if cfg.InitialStep == 0 {
		cfg.InitialStep = cfg.InitialEpoch * it.Len()
	}
	// A run interrupted mid-epoch resumes at the batch after the last step it took.
	skip := cfg.InitialStep - cfg.InitialEpoch*it.Len()
	if skip < 0 || skip > it.Len() {
		return h, errors.Errorf("train: cannot resume at step %d of epoch %d (%d batches per epoch)", cfg.InitialStep, cfg.InitialEpoch+1, it.Len())
	}
	for ; skip > 0; skip-- {
		it.Next()
	}
	step := cfg.InitialStep
	for epoch := cfg.InitialEpoch; epoch < cfg.Epochs; epoch++ {
		bar := newProgress(cfg.Progress, epoch+1, cfg.Epochs, it.Len(), ds.Len())
		start := time.Now()
		resetMetrics(bound)
		var lossSum, correct, seen float64
		var lr float64
		b := 0
		for it.Next() {
			if err := ctx.Err(); err != nil && dp == nil {
				bar.abort()
				return h, ErrInterrupted
			}
			batch := it.Batch()
			b++
			lr = cfg.Schedule.LR(step)
			var loss, hits float64
			if dp != nil {
				loss, hits, err = dp.step(ctx, m, batch, cfg.BatchSize, cfg.Optimizer, lr, step)
			} else {
				loss, hits, err = trainStep(m, batch, cfg.Optimizer, lr, step, cw, bound)
			}
			if errors.Is(err, ErrInterrupted) {
				bar.abort()
				return h, dp.stopped(err)
			}
			if err != nil {
				bar.abort()
				return h, errors.Wrapf(err, "train: epoch %d, batch %d", epoch+1, b)
			}
			step++
			n := float64(batch.Size)
			lossSum += loss * n
			correct += hits
			seen += n
			bar.add(batch.Size, lossSum/seen, correct/seen)
			if cfg.OnStep != nil {
				cfg.OnStep(epoch, step)
			}
		}
		it.Reset()
		if seen == 0 {
			continue // resumed exactly at an epoch's end
		}
		logs := EpochLogs{Epoch: epoch + 1, Loss: lossSum / seen, Accuracy: correct / seen, LR: lr,
			ValLoss: math.NaN(), ValAccuracy: math.NaN()}
		logs.Seconds = time.Since(start).Seconds()
		logs.ImagesPerS = seen / logs.Seconds
		if len(bound) > 0 {
			logs.Metrics = map[string]float64{}
			metricResults(bound, "", logs.Metrics)
		}
		if err := dp.syncStats(); err != nil {
			bar.abort()
			return h, errors.Wrapf(err, "train: epoch %d", epoch+1)
		}
		if cfg.Validation != nil {
			var ev *Evaluation
			if len(bound) > 0 {
				resetMetrics(bound)
				ev, err = evaluate(m, cfg.Validation, cfg.BatchSize, bound)
				metricResults(bound, "val_", logs.Metrics)
			} else {
				ev, err = dp.evaluate(m, cfg.Validation, cfg.BatchSize)
			}
			if err != nil {
				bar.abort()
				return h, errors.Wrapf(err, "train: epoch %d: validation", epoch+1)
			}
			logs.ValLoss, logs.ValAccuracy = ev.Loss, ev.Accuracy
		}
		bar.done(logs)
		h.Epochs = append(h.Epochs, logs)
		stop, err := dp.callbacksAgree(dp.runCallbacks(cfg.Callbacks, m, logs))
		if err != nil {
			return h, errors.Wrapf(err, "train: epoch %d: callback", epoch+1)
		}
		if stop {
			break
		}
	}
	return h, nil
}

// checkFits reports a data set whose images or classes do not fit the model.
// recordPreprocessing records in m's preprocessing what it learns to expect from ds:
// the training images' background (read from the borders of up to 2,000 of them), and
// for an image folder the stretch its images were loaded with (no trim). What the data
// shows replaces what the model had: a backbone pretrained on Fashion-MNIST (dark,
// trimmed, fitted) and fine-tuned on a folder of photos on white expects those.
func recordPreprocessing(m *nn.Model, ds *data.Dataset) error {
	pre, changed := preprocess.Config{}, !m.HasPreprocessing()
	if !changed {
		pre = m.Preprocessing()
	}
	if bg := preprocess.BackgroundOf(ds.Pixels(), min(ds.Len(), 2000), ds.Height(), ds.Width(), ds.Channels()); bg != preprocess.Unknown && bg != pre.Background {
		pre.Background, changed = bg, true
	}
	if r := preprocess.Resize(ds.Resize); r != "" && (pre.Resize != r || pre.Trim) {
		pre.Resize, pre.Trim, changed = r, false, true
	}
	if !changed {
		return nil
	}
	return m.SetPreprocessing(pre)
}

// normalization is the model's stored preprocessing ([nn.Model.Preprocessing]) as the
// data pipeline applies it to batches: training, evaluation and prediction on raw
// images scale pixels the same way.
func normalization(m *nn.Model) data.Normalization {
	pre := m.Preprocessing()
	n := data.Normalization{Scale: float32(pre.Scale), Offset: float32(pre.Offset)}
	for i := range pre.Mean {
		n.Mean = append(n.Mean, float32(pre.Mean[i]))
		n.Std = append(n.Std, float32(pre.Std[i]))
	}
	return n
}

func checkFits(m *nn.Model, ds *data.Dataset) error {
	if len(m.Inputs()) > 1 || len(m.Outputs()) > 1 {
		return errors.Errorf("train: model %q has %d inputs and %d outputs: train it on Tensors (FitTensors, EvaluateTensors)",
			m.Name(), len(m.Inputs()), len(m.Outputs()))
	}
	in := m.InputShape()
	img := nn.Shape{ds.Height(), ds.Width(), ds.Channels()}
	if len(in) == 3 && (in[0] != img[0] || in[1] != img[1] || in[2] != img[2]) {
		return errors.Errorf("train: %s has %dx%dx%d images; model %q takes %v",
			ds.Name, img[0], img[1], img[2], m.Name(), in)
	}
	if len(in) == 1 && in[0] != img.Size() {
		return errors.Errorf("train: %s has %d values per image; model %q takes %d", ds.Name, img.Size(), m.Name(), in[0])
	}
	out := m.OutputShape()
	if len(out) != 1 {
		return errors.Errorf("train: model %q outputs %v, not class scores", m.Name(), out)
	}
	if l := m.Losses()[0]; !l.Loss.TakesLabels() {
		return errors.Errorf("train: model %q: output %q has loss %v, which takes values, not a data set's labels: train it on Tensors (FitTensors)", m.Name(), l.Output, l.Loss)
	}
	if k := ds.NumClasses(); k > out[0] {
		return errors.Errorf("train: %s has %d classes; model %q outputs %d", ds.Name, k, m.Name(), out[0])
	}
	return nil
}

func batchTensor(m *nn.Model, b *data.Batch) tensor.Tensor {
	shape := append(tensor.Shape{b.Size}, m.InputShape()...)
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(b.X[:shape.TotalSize()]))
}

// trainStep runs [Step] on a batch (with its examples weighted by class when cw is set)
// and shows the batch to the metrics; it returns the batch's mean loss and the number of
// correct predictions.
func trainStep(m *nn.Model, b *data.Batch, opt Optimizer, lr float64, step int, cw *classWeighter, bound []*boundMetric) (loss, hits float64, err error) {
	labels := b.Labels[:b.Size]
	var gr *nn.Graph
	if cw == nil {
		gr, err = Step(m, batchTensor(m, b), labels, opt, lr, step)
	} else {
		ys := []nn.Target{{Labels: labels}}
		if err = cw.apply(ys, b.Size); err == nil {
			gr, _, _, err = forwardBackward(m, b, uint64(step), ys[0].Weights)
		}
		if err == nil {
			err = update(gr, opt, lr)
		}
	}
	if err != nil {
		return 0, 0, err
	}
	if err := updateMetrics(bound, gr, []nn.Target{{Labels: labels}}); err != nil {
		return 0, 0, err
	}
	return gr.Loss(), float64(countCorrect(gr.Output(), labels)), nil
}

// forwardBackward runs one forward and backward pass, dropout masks drawn for maskStep,
// each example's loss weighted by weights if set; it returns the graph holding the
// gradients, the batch's mean loss and its hits.
func forwardBackward(m *nn.Model, b *data.Batch, maskStep uint64, weights []float64) (gr *nn.Graph, loss, hits float64, err error) {
	if gr, err = m.Compile(b.Size, nn.Train); err != nil {
		return nil, 0, 0, err
	}
	gr.SetStep(maskStep)
	if weights != nil {
		err = gr.RunMulti([]tensor.Tensor{batchTensor(m, b)}, []nn.Target{{Labels: b.Labels[:b.Size], Weights: weights}})
	} else {
		err = gr.Run(batchTensor(m, b), b.Labels[:b.Size])
	}
	if err != nil {
		return nil, 0, 0, err
	}
	hits = float64(countCorrect(gr.Output(), b.Labels[:b.Size]))
	return gr, gr.Loss(), hits, nil
}

// countCorrect counts rows whose largest score is at the label.
func countCorrect(out *tensor.Dense, labels []int) int {
	k := out.Shape()[1]
	n := 0
	for r, l := range labels {
		if argmax(out, r, k) == l {
			n++
		}
	}
	return n
}

func argmax(out *tensor.Dense, r, k int) int {
	best := 0
	switch d := out.Data().(type) {
	case []float32:
		row := d[r*k : (r+1)*k]
		for i, v := range row {
			if v > row[best] {
				best = i
			}
		}
	case []float64:
		row := d[r*k : (r+1)*k]
		for i, v := range row {
			if v > row[best] {
				best = i
			}
		}
	}
	return best
}

// Evaluation is a model's performance on a data set.
type Evaluation struct {
	Loss, Accuracy float64
	// PerClass[k] is the accuracy on images of class k (NaN if there are none).
	PerClass []float64
	// Confusion[true][predicted] counts images.
	Confusion [][]int
	Images    int
}

// Evaluate runs m in inference mode over ds in batches of batchSize (default 32 when 0).
// It runs on graphs lent by [nn.Model.Acquire], so several goroutines may evaluate or
// predict with one model at once (but not while it trains).
func Evaluate(m *nn.Model, ds *data.Dataset, batchSize int) (*Evaluation, error) {
	return evaluate(m, ds, batchSize, nil)
}

// evaluate is Evaluate, updating metrics on every batch.
func evaluate(m *nn.Model, ds *data.Dataset, batchSize int, bound []*boundMetric) (*Evaluation, error) {
	if batchSize == 0 {
		batchSize = 32
	}
	if batchSize < 0 {
		return nil, errors.Errorf("train: batch size %d must be positive", batchSize)
	}
	if ds == nil || ds.Len() == 0 {
		return nil, errors.New("train: the evaluation set is empty")
	}
	if err := checkFits(m, ds); err != nil {
		return nil, err
	}
	k := m.OutputShape()[0]
	ev := &Evaluation{Confusion: make([][]int, k), PerClass: make([]float64, k)}
	for i := range ev.Confusion {
		ev.Confusion[i] = make([]int, k)
	}
	it := ds.Batches(batchSize, data.Normalize(normalization(m)))
	var lossSum float64
	for it.Next() {
		b := it.Batch()
		gr, err := m.Acquire(b.Size)
		if err != nil {
			return nil, err
		}
		if err := gr.Run(batchTensor(m, b), b.Labels[:b.Size]); err != nil {
			m.Release(gr)
			return nil, errors.Wrapf(err, "train: evaluating %s", ds.Name)
		}
		if err := updateMetrics(bound, gr, []nn.Target{{Labels: b.Labels[:b.Size]}}); err != nil {
			m.Release(gr)
			return nil, err
		}
		lossSum += gr.Loss() * float64(b.Size)
		out := gr.Output()
		for r, l := range b.Labels[:b.Size] {
			ev.Confusion[l][argmax(out, r, k)]++
		}
		m.Release(gr)
		ev.Images += b.Size
	}
	correct := 0
	for c := range ev.Confusion {
		total := 0
		for _, v := range ev.Confusion[c] {
			total += v
		}
		correct += ev.Confusion[c][c]
		ev.PerClass[c] = math.NaN()
		if total > 0 {
			ev.PerClass[c] = float64(ev.Confusion[c][c]) / float64(total)
		}
	}
	ev.Loss = lossSum / float64(ev.Images)
	ev.Accuracy = float64(correct) / float64(ev.Images)
	return ev, nil
}

// Prediction is one image's top classes.
type Prediction struct {
	// Probs holds every class's probability.
	Probs []float64
	// Top holds class indices by decreasing probability.
	Top []int
}

// Predict returns class probabilities for n images given in x as NHWC float32 values
// (already normalised like the training data). It is safe for concurrent use
// ([nn.Model.Predict]), but not while m trains: serve a training model through an
// [nn.Predictor].
func Predict(m *nn.Model, x []float32, n int) ([]Prediction, error) {
	in := m.InputShape()
	if n <= 0 || len(x) != n*in.Size() {
		return nil, errors.Errorf("train: predict: %d values for %d images of %v", len(x), n, in)
	}
	shape := append(tensor.Shape{n}, in...)
	out, err := m.Predict(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(x)))
	if err != nil {
		return nil, err
	}
	return Predictions(out), nil
}

// Predictions sorts the rows of a [n, classes] probability tensor (what
// [nn.Model.Predict] and [nn.Predictor.Predict] return for a classifier) into
// [Prediction]s.
func Predictions(out *tensor.Dense) []Prediction {
	n, k := out.Shape()[0], out.Shape()[1]
	preds := make([]Prediction, n)
	for r := range preds {
		p := Prediction{Probs: make([]float64, k), Top: make([]int, k)}
		for c := 0; c < k; c++ {
			switch d := out.Data().(type) {
			case []float32:
				p.Probs[c] = float64(d[r*k+c])
			case []float64:
				p.Probs[c] = d[r*k+c]
			}
			p.Top[c] = c
		}
		sortByProb(p.Top, p.Probs)
		preds[r] = p
	}
	return preds
}

func sortByProb(idx []int, probs []float64) {
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && probs[idx[j]] > probs[idx[j-1]]; j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
}
