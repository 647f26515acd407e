package nn_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/internal/limits"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/zoo"
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
		func() error { _, err := m.Compile(1<<40, nn.Eval); return err },
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := compile()
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
			t.Errorf("%v: allocated %d bytes before refusing", err, grew)
		}
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

// The memory a compiled graph says it needs (Graph.Memory, from its nodes and program)
// is checked against what compiling and one run really add to the heap, for zoo models
// at a few batch sizes in both modes: the estimate (without the optimizer's state, since
// no optimizer runs) must be between 0.9 and 2.5 times the heap the graph holds after the
// run (its buffers, own tensors and inputs, the kernels' pooled scratch). It counts each
// convolution's workspace once per core, which the kernels do not always all use.
func TestGraphMemoryMatchesTheHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles and runs several zoo models")
	}
	const low, high = 0.9, 2.5 // the estimate is between low and high times the heap held
	for _, c := range []struct {
		model string
		batch int
		mode  nn.Mode
	}{
		{"fashion-cnn", 32, nn.Train}, {"fashion-cnn", 128, nn.Eval}, {"fashion-cnn", 64, nn.Train},
		{"resnet-small", 16, nn.Train}, {"resnet-small", 64, nn.Eval},
		{"mlp", 256, nn.Train}, {"mobilenet-small", 32, nn.Train},
	} {
		m, err := zoo.New(c.model)
		if err != nil {
			t.Fatal(err)
		}
		in := m.InputShape()
		x := tensor.New(tensor.WithShape(append([]int{c.batch}, in...)...), tensor.Of(tensor.Float32))
		labels := make([]int, c.batch)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&before)
		gr, err := m.Compile(c.batch, c.mode)
		if err != nil {
			t.Fatal(err)
		}
		if err := gr.Run(x, labels); err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		gm := gr.Memory()
		runtime.KeepAlive(gr)
		held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
		est := gm.Bytes - gm.Optimizer // no optimizer ran
		t.Logf("%s batch %d %v: estimate %s (values %s, inputs %s, workspace %s, optimizer %s; %q needs the most, %s), heap held %s, allocated %s",
			c.model, c.batch, c.mode, limits.FormatBytes(gm.Bytes), limits.FormatBytes(gm.Values), limits.FormatBytes(gm.Inputs),
			limits.FormatBytes(gm.Workspace), limits.FormatBytes(gm.Optimizer), gm.Layer, limits.FormatBytes(gm.LayerBytes),
			limits.FormatBytes(held), limits.FormatBytes(int64(after.TotalAlloc-before.TotalAlloc)))
		if r := float64(est) / float64(held); r < low || r > high {
			t.Errorf("%s batch %d %v: estimate %s (without the optimizer), heap held %s: %.2f times, not within [%v, %v]", c.model, c.batch, c.mode,
				limits.FormatBytes(est), limits.FormatBytes(held), r, low, high)
		}
	}
}
