package train_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

func logs(epoch int, valLoss float64) train.EpochLogs {
	return train.EpochLogs{Epoch: epoch, Loss: 1, ValLoss: valLoss, ValAccuracy: math.NaN()}
}

func TestEarlyStoppingRestoresTheBestWeights(t *testing.T) {
	m, _ := zoo.New("logreg")
	bias := m.Param("dense/bias").Value.Data().([]float32)
	es := &train.EarlyStopping{Patience: 2, RestoreBestWeights: true}
	steps := []struct {
		val  float64
		stop bool
	}{{1.0, false}, {0.5, false}, {0.6, false}, {0.7, true}}
	for i, s := range steps {
		bias[0] = float32(i) // the "weights" of epoch i+1
		stop, err := es.EpochEnd(m, logs(i+1, s.val))
		if err != nil || stop != s.stop {
			t.Fatalf("epoch %d: stop %v, err %v", i+1, stop, err)
		}
	}
	if bias[0] != 1 || es.BestEpoch != 2 {
		t.Errorf("restored bias %v from epoch %d; want 1 from epoch 2", bias[0], es.BestEpoch)
	}
	if _, err := (&train.EarlyStopping{Monitor: "val_loss"}).EpochEnd(m, logs(1, math.NaN())); err == nil {
		t.Error("monitoring val_loss without a validation set is not an error")
	}
	if _, err := (&train.EarlyStopping{Monitor: "f1"}).EpochEnd(m, logs(1, 1)); err == nil {
		t.Error("an unknown metric is not an error")
	}
}

func TestModelCheckpointSavesOnlyImprovements(t *testing.T) {
	s := sample(t)
	m, _ := zoo.New("logreg")
	path := filepath.Join(t.TempDir(), "best.safetensors")
	cb := &train.ModelCheckpoint{Path: path, Monitor: "val_accuracy", SaveBestOnly: true}
	if _, err := train.Fit(context.Background(), m, s.Train, train.Config{Epochs: 3, Validation: s.Test,
		Callbacks: []train.Callback{cb}}); err != nil {
		t.Fatal(err)
	}
	c, err := train.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Epoch < 1 || c.Epoch > 3 {
		t.Errorf("saved epoch %d", c.Epoch)
	}
	_ = nn.Eval
}
