package train

import (
	"context"
	"math"
	"math/rand/v2"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
)

// batchSource yields the batches of an epoch for fitLoop and evaluateSource.
type batchSource interface {
	// start begins epoch (0-based).
	start(epoch int) error
	// next returns the next batch; n is 0 after the last.
	next() (xs []tensor.Tensor, ys []nn.Target, n int, err error)
	// size is the number of batches and examples per epoch, -1 when unknown.
	size() (batches, examples int)
}

// tensorSource batches a Tensors, shuffled each epoch with (seed, epoch) if shuffle.
type tensorSource struct {
	d       *Tensors
	bs      int
	seed    uint64
	shuffle bool
	order   []int
	pos     int
	batcher *tensorBatcher
}

func newTensorSource(d *Tensors, bs int, seed uint64, shuffle bool) *tensorSource {
	s := &tensorSource{d: d, bs: bs, seed: seed, shuffle: shuffle, order: make([]int, d.Len())}
	for i := range s.order {
		s.order[i] = i
	}
	s.batcher = newTensorBatcher(d, bs, true)
	return s
}

func (s *tensorSource) start(epoch int) error {
	if s.shuffle {
		// The permutation carries over from epoch to epoch, each shuffled again.
		rng := rand.New(rand.NewPCG(s.seed, uint64(epoch)))
		rng.Shuffle(len(s.order), func(i, j int) { s.order[i], s.order[j] = s.order[j], s.order[i] })
	}
	s.pos = 0
	return nil
}

func (s *tensorSource) next() ([]tensor.Tensor, []nn.Target, int, error) {
	if s.pos >= len(s.order) {
		return nil, nil, 0, nil
	}
	idx := s.order[s.pos:min(s.pos+s.bs, len(s.order))]
	s.pos += len(idx)
	xs, ys := s.batcher.gather(idx)
	return xs, ys, len(idx), nil
}

func (s *tensorSource) size() (int, int) {
	n := len(s.order)
	return (n + s.bs - 1) / s.bs, n
}

// checkLoopConfig rejects the Config fields that only Fit on a data set takes.
func checkLoopConfig(cfg *Config, call string) error {
	switch {
	case cfg.Epochs < 0:
		return errors.Errorf("train: epochs %d must be positive", cfg.Epochs)
	case cfg.BatchSize < 0:
		return errors.Errorf("train: batch size %d must be positive", cfg.BatchSize)
	case cfg.Validation != nil || len(cfg.Augment) > 0 || cfg.Comm != nil || cfg.InitialEpoch != 0 || cfg.InitialStep != 0:
		return errors.Errorf("train: %s takes ValidationData or ValidationStream, not Validation, and no Augment, Comm or resume fields", call)
	case cfg.ValidationData != nil && cfg.ValidationStream != nil:
		return errors.Errorf("train: %s: set ValidationData or ValidationStream, not both", call)
	}
	return nil
}

// fitLoop is FitTensors's and FitStream's training loop over a batch source.
func fitLoop(ctx context.Context, m *nn.Model, src batchSource, cfg Config, h *History) (*History, error) {
	var val batchSource
	if cfg.ValidationData != nil {
		if err := cfg.ValidationData.check(m, "validation data", true); err != nil {
			return h, err
		}
		val = newTensorSource(cfg.ValidationData, min(cfg.BatchSize, cfg.ValidationData.Len()), 0, false)
	}
	if cfg.ValidationStream != nil {
		val = newStreamSource(m, cfg.ValidationStream, cfg.BatchSize, 0, 0, "validation stream")
	}
	bound, err := bindMetrics(m, cfg.Metrics)
	if err != nil {
		return h, err
	}
	cw, err := newClassWeighter(m, cfg.ClassWeight)
	if err != nil {
		return h, err
	}
	if cw != nil && !m.ExampleWeights() {
		m.SetExampleWeights(true)
		defer m.SetExampleWeights(false)
	}
	step := 0
	for epoch := 0; epoch < cfg.Epochs; epoch++ {
		if err := src.start(epoch); err != nil {
			return h, errors.Wrapf(err, "train: epoch %d", epoch+1)
		}
		batches, examples := src.size()
		bar := newProgress(cfg.Progress, epoch+1, cfg.Epochs, batches, examples)
		start := time.Now()
		stats := newOutputStats(m)
		resetMetrics(bound)
		var lr float64
		for b := 0; ; b++ {
			if err := ctx.Err(); err != nil {
				bar.abort()
				return h, ErrInterrupted
			}
			xs, ys, n, err := src.next()
			if err == nil && n == 0 {
				break
			}
			lr = cfg.Schedule.LR(step)
			var gr *nn.Graph
			if err == nil {
				err = cw.apply(ys, n)
			}
			if err == nil {
				gr, err = m.Compile(n, nn.Train)
			}
			if err == nil {
				gr.SetStep(uint64(step))
				err = gr.RunMulti(xs, ys)
			}
			if err == nil {
				err = update(gr, cfg.Optimizer, lr)
			}
			if err == nil {
				err = updateMetrics(bound, gr, ys)
			}
			if err != nil {
				bar.abort()
				return h, errors.Wrapf(err, "train: epoch %d, batch %d", epoch+1, b+1)
			}
			step++
			stats.add(gr, ys, n)
			bar.add(n, stats.loss/stats.seen, stats.accuracy())
			if cfg.OnStep != nil {
				cfg.OnStep(epoch, step)
			}
		}
		if stats.seen == 0 {
			bar.abort()
			return h, errors.Errorf("train: epoch %d: the training data gave no examples", epoch+1)
		}
		logs := EpochLogs{Epoch: epoch + 1, Loss: stats.loss / stats.seen, Accuracy: stats.accuracy(), LR: lr,
			ValLoss: math.NaN(), ValAccuracy: math.NaN(), Metrics: map[string]float64{}}
		logs.Seconds = time.Since(start).Seconds()
		logs.ImagesPerS = stats.seen / logs.Seconds
		stats.metrics("", logs.Metrics)
		metricResults(bound, "", logs.Metrics)
		if val != nil {
			resetMetrics(bound)
			vs, err := evaluateSource(m, val, bound)
			if err != nil {
				bar.abort()
				return h, errors.Wrapf(err, "train: epoch %d: validation", epoch+1)
			}
			logs.ValLoss, logs.ValAccuracy = vs.loss/vs.seen, vs.accuracy()
			vs.metrics("val_", logs.Metrics)
			metricResults(bound, "val_", logs.Metrics)
		}
		if len(logs.Metrics) == 0 {
			logs.Metrics = nil
		}
		bar.done(logs)
		h.Epochs = append(h.Epochs, logs)
		stop := false
		for _, c := range cfg.Callbacks {
			s, err := c.EpochEnd(m, logs)
			if err != nil {
				return h, errors.Wrapf(err, "train: epoch %d: callback", epoch+1)
			}
			stop = stop || s
		}
		if stop {
			break
		}
	}
	return h, nil
}

// evaluateSource runs m in inference mode over one pass of src, updating the metrics
// (which the caller has reset).
func evaluateSource(m *nn.Model, src batchSource, bound []*boundMetric) (*outputStats, error) {
	if err := src.start(0); err != nil {
		return nil, err
	}
	stats := newOutputStats(m)
	for {
		xs, ys, n, err := src.next()
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		gr, err := m.Compile(n, nn.Eval)
		if err != nil {
			return nil, err
		}
		if err := gr.RunMulti(xs, ys); err != nil {
			return nil, err
		}
		if err := updateMetrics(bound, gr, ys); err != nil {
			return nil, err
		}
		stats.add(gr, ys, n)
	}
	if stats.seen == 0 {
		return nil, errors.New("train: the evaluation data gave no examples")
	}
	return stats, nil
}
