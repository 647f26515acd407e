package train

import (
	"math"

	"github.com/pkg/errors"

	"github.com/convgraph/convgraph/nn"
)

// monitored reads a metric from the logs by its Keras name: "loss", "accuracy",
// "val_loss" or "val_accuracy".
func monitored(name string, l EpochLogs) (v float64, higherIsBetter bool, err error) {
	switch name {
	case "", "val_loss":
		return l.ValLoss, false, nil
	case "loss":
		return l.Loss, false, nil
	case "accuracy":
		return l.Accuracy, true, nil
	case "val_accuracy":
		return l.ValAccuracy, true, nil
	}
	return 0, false, errors.Errorf("train: unknown metric %q to monitor (loss, accuracy, val_loss, val_accuracy)", name)
}

// tracker remembers the best value of a monitored metric.
type tracker struct {
	best float64
	seen bool
}

// improved reports whether v beats the best so far by more than minDelta, and records it.
func (t *tracker) improved(v float64, higher bool, minDelta float64) bool {
	if math.IsNaN(v) {
		return false
	}
	better := !t.seen || (higher && v > t.best+minDelta) || (!higher && v < t.best-minDelta)
	if better {
		t.best, t.seen = v, true
	}
	return better
}

// EarlyStopping stops training when the monitored metric has not improved for Patience
// epochs, as Keras's callback does. With RestoreBestWeights the model gets back the
// weights of its best epoch when training stops (call Restore after Fit if training ran
// out of epochs first, as Keras does only on a stop).
type EarlyStopping struct {
	// Monitor is "val_loss" (default), "val_accuracy", "loss" or "accuracy".
	Monitor  string
	Patience int
	// MinDelta is the smallest change that counts as an improvement.
	MinDelta           float64
	RestoreBestWeights bool

	t         tracker
	wait      int
	best      map[string][]float64
	BestEpoch int
}

// EpochEnd implements [Callback].
func (e *EarlyStopping) EpochEnd(m *nn.Model, l EpochLogs) (bool, error) {
	v, higher, err := monitored(e.Monitor, l)
	if err != nil {
		return false, err
	}
	if math.IsNaN(v) {
		return false, errors.Errorf("train: early stopping monitors %q, which this run does not compute (no validation set?)", e.Monitor)
	}
	if e.t.improved(v, higher, e.MinDelta) {
		e.wait, e.BestEpoch = 0, l.Epoch
		if e.RestoreBestWeights {
			e.best = snapshot(m)
		}
		return false, nil
	}
	e.wait++
	if e.wait >= e.Patience {
		e.Restore(m)
		return true, nil
	}
	return false, nil
}

// Restore puts the best epoch's weights back (with RestoreBestWeights).
func (e *EarlyStopping) Restore(m *nn.Model) {
	if e.RestoreBestWeights && e.best != nil {
		restore(m, e.best)
	}
}

func snapshot(m *nn.Model) map[string][]float64 {
	out := map[string][]float64{}
	for _, p := range m.Params() {
		switch d := p.Value.Data().(type) {
		case []float32:
			v := make([]float64, len(d))
			for i, x := range d {
				v[i] = float64(x)
			}
			out[p.Name] = v
		case []float64:
			out[p.Name] = append([]float64(nil), d...)
		}
	}
	return out
}

func restore(m *nn.Model, s map[string][]float64) {
	for _, p := range m.Params() {
		v, ok := s[p.Name]
		if !ok {
			continue
		}
		switch d := p.Value.Data().(type) {
		case []float32:
			for i := range d {
				d[i] = float32(v[i])
			}
		case []float64:
			copy(d, v)
		}
	}
}

// ModelCheckpoint saves a checkpoint after each epoch, or with SaveBestOnly only when the
// monitored metric improves, as Keras's callback does. Writes are atomic ([Save]).
type ModelCheckpoint struct {
	Path string
	// Monitor is "val_loss" (default), "val_accuracy", "loss" or "accuracy".
	Monitor      string
	SaveBestOnly bool
	// Optimizer, if set, has its state saved too; Info is saved with the epoch filled in.
	Optimizer Optimizer
	Info      Checkpoint
	t         tracker
}

// EpochEnd implements [Callback].
func (c *ModelCheckpoint) EpochEnd(m *nn.Model, l EpochLogs) (bool, error) {
	if c.SaveBestOnly {
		v, higher, err := monitored(c.Monitor, l)
		if err != nil {
			return false, err
		}
		if !c.t.improved(v, higher, 0) {
			return false, nil
		}
	}
	info := c.Info
	info.Epoch = l.Epoch
	return false, Save(c.Path, m, c.Optimizer, info)
}
