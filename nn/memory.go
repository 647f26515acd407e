package nn

import (
	"fmt"
	"math"
	"runtime"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/internal/limits"
)

// MemoryEstimate is what a graph compiled for a batch size and mode needs, worked out from
// the layers' shapes before anything is allocated.
type MemoryEstimate struct {
	// Bytes is the whole estimate.
	Bytes int64
	// Layer is the layer whose buffers need the most, and LayerBytes how much.
	Layer, Kind string
	LayerBytes  int64
}

// EstimateMemory returns the memory a graph of m compiled for batch and mode needs: the
// input batch, every layer's output for the whole batch (in Train mode twice: the
// activations the backward pass keeps, and their gradients), the parameters' gradients
// in Train mode, and each convolution's im2col workspace (per example, one per core).
// It counts every buffer as live at once; the compiled graph shares the buffers of values
// that are never alive together, so it usually needs less (an upper bound, not a
// prediction). The estimate saturates at math.MaxInt64.
func (m *Model) EstimateMemory(batch int, mode Mode) MemoryEstimate {
	elem := 4.0
	if m.dtype == tensor.Float64 {
		elem = 8
	}
	perBuffer := 1.0
	if mode == Train {
		perBuffer = 2
	}
	workers := float64(min(max(batch, 1), runtime.GOMAXPROCS(0)))
	var est MemoryEstimate
	total, worst := 0.0, 0.0
	for _, n := range m.nodes {
		b := float64(batch) * float64(n.out.Size()) * elem * perBuffer
		if n.layer.kind != "InputLayer" && len(n.inputs) == 1 {
			switch n.layer.kind {
			case "Conv2D", "DepthwiseConv2D", "SeparableConv2D":
				in, c := n.inputs[0].out, n.layer.cfg
				if len(in) == 3 && len(n.out) == 3 && len(c.KernelSize) == 2 {
					col := float64(in[2]) * float64(c.KernelSize[0]*c.KernelSize[1]) * float64(n.out[0]*n.out[1])
					b += col * elem * workers * perBuffer
				}
			}
		}
		for _, p := range n.params {
			if mode == Train && p.Trainable {
				b += float64(p.Size()) * elem
			}
		}
		total += b
		if b > worst && n.layer.kind != "InputLayer" {
			worst, est.Layer, est.Kind = b, n.name, n.layer.kind
		}
	}
	est.Bytes, est.LayerBytes = saturate(total), saturate(worst)
	return est
}

func saturate(x float64) int64 {
	if x >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(x)
}

// CheckMemory returns an error if a graph of m compiled for batch and mode would need
// more than the memory budget ([EstimateMemory] against limits.Memory: half the machine's
// memory unless --memory-limit or $CONVGRAPH_MEMORY_LIMIT say otherwise). The error says
// how much is needed and which layer needs the most. Compiling a graph ([Model.Compile], [Model.Acquire]) calls it first.
func (m *Model) CheckMemory(batch int, mode Mode) error {
	est := m.EstimateMemory(batch, mode)
	modeName := "inference"
	if mode == Train {
		modeName = "training"
	}
	detail := ""
	if est.Layer != "" {
		detail = fmt.Sprintf("layer %q (%s) needs the most, %s", est.Layer, est.Kind, limits.FormatBytes(est.LayerBytes))
	}
	return limits.CheckMemory(fmt.Sprintf("nn: model %q at batch %d (%s)", m.name, batch, modeName), est.Bytes, detail)
}
