package train

import (
	"context"

	"github.com/pkg/errors"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/nn"
)

// FineTuneConfig configures [FineTune]'s two phases.
type FineTuneConfig struct {
	// Config is the first phase: the head trained on the frozen backbone (freeze it before
	// calling, with zoo.FreezeBackbone or nn.Model.Freeze). Its Optimizer defaults to
	// Adam.
	Config Config
	// Unfreeze names what the second phase makes trainable (zoo.LastStage gives the last
	// stage of a zoo backbone); empty skips the second phase.
	Unfreeze []string
	// FineEpochs is the second phase's number of epochs (default: Config.Epochs).
	FineEpochs int
	// FineLR is the second phase's learning rate (default: a tenth of Config.LR).
	FineLR float64
	// FineOptimizer is the second phase's optimizer (default: a fresh Adam, as Keras's
	// guide recompiles the model).
	FineOptimizer Optimizer
	// BeforeFine, if set, is called after the layers are unfrozen, before the second phase
	// starts, with its config, which it may change (the CLI prints what it unfroze and, when
	// it resumes inside the second phase, sets the step and the optimizer's saved state);
	// an error stops the run.
	BeforeFine func(cfg *Config) error
}

// FineTune runs Keras's two-phase fine-tuning recipe on m: Fit with ft.Config (the
// frozen backbone's head), then unfreeze ft.Unfreeze and Fit on until epoch
// ft.Config.Epochs + ft.FineEpochs at ft.FineLR with a fresh optimizer, the epoch
// numbering and the optimizer step count going on where the first phase stopped, in one
// history. A run resumed past the first phase (ft.Config.InitialEpoch >=
// ft.Config.Epochs) goes straight to the second. `convgraph finetune --two-phase` is this
// function.
func FineTune(ctx context.Context, m *nn.Model, ds *data.Dataset, ft FineTuneConfig) (*History, error) {
	cfg := ft.Config
	cfg.defaults()
	switch {
	case ft.FineEpochs < 0:
		return nil, errors.Errorf("train: fine-tuning epochs %d must not be negative", ft.FineEpochs)
	case ft.FineLR < 0 || ft.FineLR != ft.FineLR:
		return nil, errors.Errorf("train: fine-tuning learning rate %v must not be negative", ft.FineLR)
	}
	if cfg.History == nil {
		cfg.History = &History{Model: m.Name()}
	}
	h := cfg.History
	if cfg.InitialEpoch < cfg.Epochs || len(ft.Unfreeze) == 0 {
		var err error
		if h, err = Fit(ctx, m, ds, cfg); err != nil || len(ft.Unfreeze) == 0 {
			return h, err
		}
	}
	if err := m.Unfreeze(ft.Unfreeze...); err != nil {
		return h, errors.Wrap(err, "train: fine-tuning")
	}
	cfg2 := cfg
	cfg2.History = h
	cfg2.InitialEpoch, cfg2.InitialStep = len(h.Epochs), 0
	fine := ft.FineEpochs
	if fine == 0 {
		fine = cfg.Epochs - ft.Config.InitialEpoch
	}
	cfg2.Epochs = cfg.Epochs + fine
	cfg2.LR = ft.FineLR
	if cfg2.LR == 0 {
		cfg2.LR = cfg.LR / 10
	}
	cfg2.Schedule = nil
	cfg2.Optimizer = ft.FineOptimizer
	if cfg2.Optimizer == nil {
		cfg2.Optimizer = &Adam{}
	}
	if ft.BeforeFine != nil {
		if err := ft.BeforeFine(&cfg2); err != nil {
			return h, err
		}
	}
	cfg2.defaults()
	return Fit(ctx, m, ds, cfg2)
}
