package bench

import (
	"runtime"
	"testing"

	"github.com/convgraph/convgraph/internal/benchrun"
	"github.com/convgraph/convgraph/internal/kernels"
)

// The garbage budget of a steady-state step, a guard that CI can run (counts, not time):
// what a training step (forward, backward, Adam) or an inference pass of each zoo model
// may allocate. The counts are about 10% above those measured on every compute path
// (docs/benchmarks.md, "Garbage per step"); the bytes are far below the tens of
// megabytes a step allocated before ops wrote into their previous outputs, and above the
// noise of sync.Pool's scratch buffers, which a collection may drop.
var allocBudgets = []struct {
	model  string
	batch  int
	infer  bool
	allocs uint64
	bytes  uint64
}{
	{"fashion-cnn", 32, false, 300, 512 << 10},
	{"alexnet-small", 32, false, 570, 512 << 10},
	{"resnet-small", 32, false, 2400, 512 << 10},
	{"fashion-cnn", 256, true, 140, 256 << 10},
	{"alexnet-small", 32, true, 240, 256 << 10},
	{"resnet-small", 32, true, 870, 256 << 10},
}

func TestStepAllocationBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every zoo model's steps")
	}
	for _, c := range allocBudgets {
		mode := "train"
		if c.infer {
			mode = "infer"
		}
		t.Run(c.model+"/"+mode, func(t *testing.T) {
			m, err := benchrun.New(c.model)
			if err != nil {
				t.Fatal(err)
			}
			x := m.NewBatch(c.batch)
			step := m.TrainStep
			if c.infer {
				step = m.Infer
			}
			for range 3 {
				if err := step(x); err != nil {
					t.Fatal(err)
				}
			}
			// The least of three rounds: a collection inside a round empties the scratch
			// pools, and refilling them is not a step's own garbage.
			const steps = 10
			allocs, bytes := ^uint64(0), ^uint64(0)
			for range 3 {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				for range steps {
					if err := step(x); err != nil {
						t.Fatal(err)
					}
				}
				runtime.ReadMemStats(&after)
				allocs = min(allocs, (after.Mallocs-before.Mallocs)/steps)
				bytes = min(bytes, (after.TotalAlloc-before.TotalAlloc)/steps)
			}
			t.Logf("compute path %s: %d allocations, %d bytes per step (budget %d, %d)", kernels.Backend(), allocs, bytes, c.allocs, c.bytes)
			if allocs > c.allocs || bytes > c.bytes {
				t.Errorf("%s %s at batch %d allocates %d times and %d bytes per step on the %s path; the budget is %d and %d",
					c.model, mode, c.batch, allocs, bytes, kernels.Backend(), c.allocs, c.bytes)
			}
		})
	}
}
