package train_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/preprocess"
	"github.com/convgraph/convgraph/train"
)

// Fit records the training images' background in the model's preprocessing: dark for
// Fashion-MNIST, light for the same images inverted (photos on white), replacing the
// background a pretrained model came with.
func TestFitRecordsTheBackground(t *testing.T) {
	s, err := data.Sample(data.FashionMNIST)
	if err != nil {
		t.Fatal(err)
	}
	small := s.Train.Take(64, 1)
	px := append([]uint8(nil), small.Pixels()...)
	for i := range px {
		px[i] = 255 - px[i]
	}
	inverted, err := data.New(px, small.Labels(), 28, 28, 1, small.Classes)
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.Sequential("bg", nn.Input(28, 28, 1), nn.Flatten(), nn.Dense(10, nn.Activation(nn.Softmax)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ds   *data.Dataset
		want preprocess.Background
	}{{small, preprocess.Dark}, {inverted, preprocess.Light}} {
		if _, err := train.Fit(context.Background(), m, tc.ds, train.Config{Epochs: 1, BatchSize: 32}); err != nil {
			t.Fatal(err)
		}
		if got := m.Preprocessing(); got.Background != tc.want || got.Scale != 1.0/255 {
			t.Errorf("after fitting on %s: %+v, want background %s", tc.want, got, tc.want)
		}
	}
}

// A model trained on an image folder records the stretch its images were loaded with
// and drops the trim a pretrained backbone came with.
func TestFitRecordsAFoldersResize(t *testing.T) {
	s, err := data.Sample(data.FashionMNIST)
	if err != nil {
		t.Fatal(err)
	}
	small := s.Train.Take(32, 1)
	small.Resize = "stretch"
	m, err := nn.Sequential("folder", nn.Input(28, 28, 1), nn.Flatten(), nn.Dense(10, nn.Activation(nn.Softmax)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetPreprocessing(preprocess.Config{Background: preprocess.Dark, Trim: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := train.Fit(context.Background(), m, small, train.Config{Epochs: 1, BatchSize: 32}); err != nil {
		t.Fatal(err)
	}
	if got := m.Preprocessing(); got.Resize != preprocess.Stretch || got.Trim || got.Background != preprocess.Dark {
		t.Errorf("after fitting on a folder: %+v", got)
	}
}

// A checkpoint whose spec holds no preprocessing (written before models stored it)
// gets the one of the data set it was trained on: Fashion-MNIST's dark background and
// trim; an unregistered set leaves the default (unknown background).
func TestOldCheckpointsGetTheirDataSetsPreprocessing(t *testing.T) {
	for _, tc := range []struct {
		dataset string
		want    preprocess.Background
		trim    bool
	}{{data.FashionMNIST, preprocess.Dark, true}, {data.MNIST, preprocess.Dark, true}, {"my-photos", preprocess.Unknown, false}} {
		m, err := nn.Sequential("old", nn.Input(28, 28, 1), nn.Flatten(), nn.Dense(10, nn.Activation(nn.Softmax)))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "old.safetensors")
		if err := train.Save(path, m, nil, train.Checkpoint{Seed: 1, Extra: map[string]string{"dataset": tc.dataset}}); err != nil {
			t.Fatal(err)
		}
		c, err := train.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Model.Preprocessing(); got.Background != tc.want || got.Trim != tc.trim || got.Scale != 1.0/255 {
			t.Errorf("%s: %+v", tc.dataset, got)
		}
	}
}
