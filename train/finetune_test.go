package train_test

import (
	"context"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

func TestFineTuneTwoPhases(t *testing.T) {
	s := sample(t)
	m, err := zoo.New("mlp")
	if err != nil {
		t.Fatal(err)
	}
	if err := zoo.FreezeBackbone(m, "mlp"); err != nil {
		t.Fatal(err)
	}
	if _, tr, _ := m.ParamCounts(); tr != 1010 {
		t.Fatalf("%d trainable parameters with the backbone frozen; want the head's 1010", tr)
	}
	ds := s.Train.Take(256, 1)
	var before int
	h, err := train.FineTune(context.Background(), m, ds, train.FineTuneConfig{
		Config:   train.Config{Epochs: 2, LR: 2e-3, Seed: 1},
		Unfreeze: []string{"dense"},
		BeforeFine: func(_ *train.Config) error {
			_, before, _ = m.ParamCounts()
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Epochs) != 4 || h.Epochs[2].Epoch != 3 {
		t.Fatalf("history %+v; want 4 epochs numbered on", h.Epochs)
	}
	if h.Epochs[1].LR != 2e-3 || h.Epochs[2].LR != 2e-4 {
		t.Errorf("learning rates %v then %v; want 2e-3 then 2e-4", h.Epochs[1].LR, h.Epochs[2].LR)
	}
	if _, tr, _ := m.ParamCounts(); tr != 79510 || before != tr {
		t.Errorf("%d (%d before phase 2) trainable parameters after unfreezing; want all 79510", tr, before)
	}
	_, err = train.FineTune(context.Background(), m, ds, train.FineTuneConfig{Config: train.Config{Epochs: 1}, Unfreeze: []string{"nope"}})
	if err == nil || !strings.Contains(err.Error(), `has no layer "nope"`) {
		t.Errorf("unfreezing an unknown layer: %v", err)
	}
}
