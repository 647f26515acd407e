package nn

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// denseChain is a model of n Dense+ReLU layers of 4 units and a softmax classifier.
func denseChain(tb testing.TB, n int) *Model {
	tb.Helper()
	layers := []*Layer{Input(4)}
	for range n {
		layers = append(layers, Dense(4, Activation(ReLU)))
	}
	layers = append(layers, Dense(2, Activation(Softmax)))
	m, err := Sequential("chain", layers...)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// BenchmarkCompileChain compiles a training graph of a chain of Dense+ReLU layers (9
// graph nodes per layer) with the layer and node limits lifted: the time grows with the
// square of the nodes (docs/reliability.md).
func BenchmarkCompileChain(b *testing.B) {
	defer func(l, n int) { maxLayers, maxGraphNodes = l, n }(maxLayers, maxGraphNodes)
	maxLayers, maxGraphNodes = 1<<20, 1<<30
	for _, n := range []int{250, 500, 1000, 2000, 4000} {
		b.Run(fmt.Sprintf("layers=%d", n), func(b *testing.B) {
			m := denseChain(b, n)
			c0 := cpuTime()
			for b.Loop() {
				m.cache = map[compileKey]*compileEntry{}
				gr, err := m.compile(8, Train, true)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(gr.g.AllNodes())), "nodes")
			}
			// CPU time, which a machine busy with other work changes less than wall time.
			b.ReportMetric((cpuTime()-c0).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// A graph of more than maxGraphNodes nodes is refused before Gorgonia compiles it.
func TestGraphNodeLimit(t *testing.T) {
	defer func(n int) { maxGraphNodes = n }(maxGraphNodes)
	maxGraphNodes = 500
	m := denseChain(t, 60) // 552 nodes in training
	if _, err := m.Compile(8, Eval); err != nil {
		t.Errorf("inference: %v", err)
	}
	_, err := m.Compile(8, Train)
	if err == nil || !strings.Contains(err.Error(), `nn: model "chain": the training graph at batch 8 has 552 nodes, more than the limit of 500`) {
		t.Errorf("training: %v", err)
	}
}
