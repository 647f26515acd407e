package nn_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/internal/limits"
	"github.com/convgraph/convgraph/nn"
)

// Compiling checks the graph's memory against the budget before anything is allocated:
// an 8192x8192 map (within the per-example limit) at batch 256 is refused with the
// amount and the layer that needs the most, while small batches compile.
func TestCompileChecksTheMemoryBudget(t *testing.T) {
	m, err := nn.Sequential("pad", nn.Input(28, 28, 1), nn.Conv2D(1, 1, nn.ExplicitPadding(4082, 4082, 4082, 4082)),
		nn.GlobalAvgPool2D(), nn.Dense(10, nn.Activation(nn.Softmax)))
	if err != nil {
		t.Fatal(err)
	}
	one, two := m.EstimateMemory(1, nn.Eval), m.EstimateMemory(2, nn.Eval)
	if one.Bytes < 1<<28 || two.Bytes < 2*one.Bytes-one.Bytes/4 || m.EstimateMemory(1, nn.Train).Bytes < 2*one.Bytes-1 {
		t.Errorf("estimates: batch 1 %d, batch 2 %d, train %d", one.Bytes, two.Bytes, m.EstimateMemory(1, nn.Train).Bytes)
	}
	if one.Layer != "conv2d" || one.Kind != "Conv2D" {
		t.Errorf("dominant layer %q (%s)", one.Layer, one.Kind)
	}
	limits.SetMemory(1 << 30)
	defer limits.SetMemory(0)
	for _, compile := range []func() error{
		func() error { _, err := m.Compile(256, nn.Eval); return err },
		func() error { _, err := m.Compile(8, nn.Train); return err },
		func() error { _, err := m.Acquire(256); return err },
	} {
		err := compile()
		var me *limits.MemoryError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), `nn: model "pad" at batch`) || !strings.Contains(err.Error(), `layer "conv2d" (Conv2D) needs the most`) {
			t.Errorf("got %v", err)
		}
	}
	if m.EstimateMemory(1<<62, nn.Train).Bytes <= 0 {
		t.Error("a huge batch overflowed the estimate")
	}
	small, err := nn.Sequential("small", nn.Input(8, 8, 1), nn.Conv2D(4, 3), nn.Flatten(), nn.Dense(2))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := small.Compile(64, nn.Train); err != nil {
		t.Errorf("a small model within the budget: %v", err)
	}
}

// Compiling is quadratic in a graph's nodes, so a model's layers and a layer's inputs are
// bounded, with errors that name the layer, before anything is built.
func TestGraphSizeLimits(t *testing.T) {
	layers := []*nn.Layer{nn.Input(4)}
	for range 1100 {
		layers = append(layers, nn.Dense(4))
	}
	if _, err := nn.Sequential("chain", layers...); err == nil || !strings.Contains(err.Error(), "the model already has 1024 layers, the limit") {
		t.Errorf("1,100 layers: %v", err)
	}
	b := nn.NewBuilder("wide")
	x := b.Input(4)
	ins := make([]nn.Tensor, 2000)
	for i := range ins {
		ins[i] = x
	}
	y := b.Apply(nn.Add(), ins...)
	if _, err := b.Model(y); err == nil || !strings.Contains(err.Error(), "2000 inputs: more than the limit of 1024") {
		t.Errorf("an Add of 2,000 inputs: %v", err)
	}
}
