package train_test

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

// The same seeds give bit-identical weights after training on 1, 2 or 3 threads: for the
// course's CNN (convolutions large enough for gonum to block its GEMM, pooling, dropout)
// and a narrow ResNet (batch normalisation, residual adds, global average pooling), with
// ragged last batches. With -short (CI's race run), the CNN on 1 and 2 threads only.
func TestFitIsBitIdenticalOnAnyThreads(t *testing.T) {
	s := sample(t)
	procs := []int{2, 3}
	models := []struct {
		name   string
		width  float64
		images int
		epochs int
	}{
		{"fashion-cnn", 1, 72, 2}, // batches of 32, 32 and 8
		{"resnet-small", 0.25, 40, 1},
	}
	if testing.Short() {
		procs, models = procs[:1], models[:1]
	}
	for _, c := range models {
		t.Run(c.name, func(t *testing.T) {
			ds := s.Train.Take(c.images, 5)
			weights := func(procs int) map[string][]float32 {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				m, err := zoo.New(c.name, zoo.Width(c.width))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := train.Fit(context.Background(), m, ds, train.Config{Epochs: c.epochs, Seed: 9}); err != nil {
					t.Fatal(err)
				}
				out := map[string][]float32{}
				for _, p := range m.Params() {
					out[p.Name] = append([]float32(nil), p.Value.Data().([]float32)...)
				}
				return out
			}
			one := weights(1)
			for _, n := range procs {
				t.Run(fmt.Sprintf("GOMAXPROCS=%d", n), func(t *testing.T) {
					for name, w := range weights(n) {
						for i, v := range w {
							if math.Float32bits(v) != math.Float32bits(one[name][i]) {
								t.Fatalf("%s[%d]: %v on 1 thread, %v on %d", name, i, one[name][i], v, n)
							}
						}
					}
				})
			}
		})
	}
}

// A checkpoint keeps the model's seed, which draws its dropout masks: a run seeded with 5
// and resumed from its checkpoint draws the masks an uninterrupted run would.
func TestCheckpointKeepsTheModelSeed(t *testing.T) {
	m, err := zoo.New("fashion-cnn")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Initialize(5); err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/seed5.safetensors"
	if err := train.Save(path, m, nil, train.Checkpoint{Seed: 5}); err != nil {
		t.Fatal(err)
	}
	c, err := train.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Model.Seed() != 5 {
		t.Errorf("loaded model seed %d; want 5", c.Model.Seed())
	}
	for _, p := range m.Params() {
		a, b := p.Value.Data().([]float32), c.Model.Param(p.Name).Value.Data().([]float32)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s[%d]: %v saved, %v loaded", p.Name, i, a[i], b[i])
			}
		}
	}
}
