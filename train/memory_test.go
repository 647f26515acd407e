package train_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

// memoryProbe records the live heap (after two collections) and the resident set size
// after every epoch. The second collection frees what sync.Pool still caches from the
// first (the kernels' scratch buffers, a cache whose size depends on which goroutine ran
// which chunk): with one collection the measurement varied by up to 7 MiB between epochs.
type memoryProbe struct {
	heap, rss []uint64
}

func (p *memoryProbe) EpochEnd(m *nn.Model, l train.EpochLogs) (bool, error) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p.heap = append(p.heap, ms.HeapInuse)
	p.rss = append(p.rss, residentBytes())
	return false, nil
}

// residentBytes reads VmRSS from /proc/self/status; 0 where there is none.
func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// Three epochs of training the course's CNN (with validation) do not grow memory after
// the first: the graphs for the full and the last partial batch, the optimizer state and
// the kernels' scratch buffers all exist by then. The live heap after a collection may
// not grow by more than 2 MiB from epoch 1 to epoch 3, the resident set by more than 8
// MiB (the runtime returns freed pages lazily).
func TestTrainingMemoryIsFlatAfterTheFirstEpoch(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three epochs")
	}
	s := sample(t)
	tr := s.Train.Take(600, 3) // 18 full batches of 32 and one of 24
	val := s.Test.Take(100, 3)
	m, err := zoo.New("fashion-cnn")
	if err != nil {
		t.Fatal(err)
	}
	probe := &memoryProbe{}
	if _, err := train.Fit(context.Background(), m, tr, train.Config{Epochs: 3, Seed: 1, Validation: val,
		Callbacks: []train.Callback{probe}}); err != nil {
		t.Fatal(err)
	}
	mib := func(b uint64) float64 { return float64(b) / (1 << 20) }
	t.Logf("live heap after epochs 1, 2, 3: %.1f, %.1f, %.1f MiB", mib(probe.heap[0]), mib(probe.heap[1]), mib(probe.heap[2]))
	t.Logf("resident set after epochs 1, 2, 3: %.1f, %.1f, %.1f MiB", mib(probe.rss[0]), mib(probe.rss[1]), mib(probe.rss[2]))
	if probe.heap[2] > probe.heap[0]+2<<20 {
		t.Errorf("the live heap grew from %.1f MiB after epoch 1 to %.1f MiB after epoch 3", mib(probe.heap[0]), mib(probe.heap[2]))
	}
	if probe.rss[0] > 0 && probe.rss[2] > probe.rss[0]+8<<20 {
		t.Errorf("the resident set grew from %.1f MiB after epoch 1 to %.1f MiB after epoch 3", mib(probe.rss[0]), mib(probe.rss[2]))
	}
}
