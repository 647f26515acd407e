package nn

import (
	"fmt"
	"math"
	"math/bits"
	"runtime"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
	"github.com/convgraph/convgraph/internal/limits"
)

// MemoryEstimate is what a graph compiled for a batch size and mode needs, worked out from
// the layers' shapes alone, before any graph is built: a quick upper bound. Compiling
// checks the compiled graph's own, closer figure ([Graph.Memory]).
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
// how much is needed and which layer needs the most. It needs no graph, so a caller can
// check before allocating anything of its own (convgraph bench does, before its batches);
// compiling ([Model.Compile], [Model.Acquire]) checks [Graph.Memory] instead, and this
// only when a batch's inputs and targets alone exceed the budget, to name a layer.
func (m *Model) CheckMemory(batch int, mode Mode) error {
	est := m.EstimateMemory(batch, mode)
	detail := ""
	if est.Layer != "" {
		detail = fmt.Sprintf("layer %q (%s) needs the most, %s", est.Layer, est.Kind, limits.FormatBytes(est.LayerBytes))
	}
	return limits.CheckMemory(fmt.Sprintf("nn: model %q at batch %d (%s)", m.name, batch, modeName(mode)), est.Bytes, detail)
}

// GraphMemory is what a compiled graph needs when it runs, worked out from its nodes
// before anything is allocated (see [Graph.Memory]).
type GraphMemory struct {
	// Bytes is the whole need: the sum of the parts below.
	Bytes int64
	// Values is what the values of the graph's ops take: the buffers ops share, the
	// tensors of those that keep their own (outputs, loss, gradients), and the outputs
	// of Gorgonia's own ops, from the compiled program and every node's shape.
	Values int64
	// Inputs is the input batch and the targets the graph is fed.
	Inputs int64
	// Workspace is the convolution kernels' scratch memory: each core's im2col columns
	// (rounded up to a power of two, as the kernels' pools keep them), twice in training
	// (the backward pass's columns too).
	Workspace int64
	// Optimizer is, in Train mode, the state an optimizer keeps for every trainable
	// parameter: two values each (Adam's moments, the most any optimizer here keeps).
	Optimizer int64
	// Layer is the layer whose values and workspace need the most (the gradients of its
	// ops counted with it), and LayerBytes how much: its values as if none shared a buffer.
	Layer, Kind string
	LayerBytes  int64
}

// Memory returns what the graph needs when it runs (see [GraphMemory]). Compiling
// checks it against the memory budget before the first run allocates anything.
func (gr *Graph) Memory() GraphMemory { return gr.mem }

// graphMemory works out gr's [GraphMemory] from its nodes, its compiled program and the
// model's layers; nothing of the graph's values exists yet.
func (gr *Graph) graphMemory() GraphMemory {
	m := gr.model
	elem := int64(gr.inVal.Dtype().Size())
	var gm GraphMemory
	gm.Values = gr.machine.ValueBytes()
	for _, v := range gr.inVals {
		gm.Inputs += int64(v.Size()) * elem
	}
	for _, h := range gr.heads {
		if h.tgtVal != nil {
			gm.Inputs += int64(h.tgtVal.Size()) * elem
		}
	}
	// Each node's value is counted with the layer that made it; the backward pass's
	// nodes (made by differentiation, after the layers) with the layer of the first
	// value they read, so a layer's gradients count with it.
	perLayer := map[string]int64{}
	layerOf := make(map[*G.Node]string, len(gr.layerOf))
	for _, n := range gr.g.AllNodes() {
		l, ok := gr.layerOf[n]
		if !ok {
			for it := gr.g.From(n.ID()); it.Next() && !ok; {
				if c, isNode := it.Node().(*G.Node); isNode {
					l, ok = layerOf[c]
				}
			}
		}
		if !ok {
			continue
		}
		layerOf[n] = l
		if n.Op() != nil {
			perLayer[l] += graph.NodeBytes(n)
		}
	}
	workers := int64(min(max(gr.batch, 1), runtime.GOMAXPROCS(0)))
	passes := int64(1)
	if gr.mode == Train {
		passes = 2
	}
	for _, n := range m.nodes {
		if col := im2colValues(n); col > 0 {
			w := int64(1) << bits.Len64(uint64(col-1)) * elem * workers * passes
			gm.Workspace += w
			perLayer[n.name] += w
		}
	}
	if gr.mode == Train {
		for _, p := range gr.gradParams {
			gm.Optimizer += 2 * int64(p.Size()) * elem
		}
	}
	gm.Bytes = gm.Values + gm.Inputs + gm.Workspace + gm.Optimizer
	for _, n := range m.nodes {
		if b := perLayer[n.name]; b > gm.LayerBytes && n.layer.kind != "InputLayer" {
			gm.Layer, gm.Kind, gm.LayerBytes = n.name, n.layer.kind, b
		}
	}
	return gm
}

// im2colValues is the im2col workspace of one example of a convolution layer n, in
// values (0 for other layers).
func im2colValues(n *node) int64 {
	switch n.layer.kind {
	case "Conv2D", "DepthwiseConv2D", "SeparableConv2D":
	default:
		return 0
	}
	if len(n.inputs) != 1 {
		return 0
	}
	in, c := n.inputs[0].out, n.layer.cfg
	if len(in) != 3 || len(n.out) != 3 || len(c.KernelSize) != 2 {
		return 0
	}
	return int64(in[2]) * int64(c.KernelSize[0]*c.KernelSize[1]) * int64(n.out[0]*n.out[1])
}

// checkGraphMemory refuses a compiled graph whose [GraphMemory] exceeds the budget, with
// the amount and the layer that needs the most.
func (gr *Graph) checkGraphMemory() error {
	gm := gr.mem
	detail := ""
	if gm.Layer != "" {
		detail = fmt.Sprintf("layer %q (%s) needs the most, %s", gm.Layer, gm.Kind, limits.FormatBytes(gm.LayerBytes))
	}
	return limits.CheckMemory(fmt.Sprintf("nn: model %q at batch %d (%s)", gr.model.name, gr.batch, modeName(gr.mode)), gm.Bytes, detail)
}

// checkFedMemory refuses, before the graph is built, a batch whose inputs and targets
// (the tensors building a graph allocates) alone exceed the memory budget.
func (m *Model) checkFedMemory(batch int, mode Mode) error {
	elem := 4.0
	if m.dtype == tensor.Float64 {
		elem = 8
	}
	values := 0.0
	for _, in := range m.inputs {
		values += float64(in.out.Size())
	}
	for _, o := range m.outputs {
		values += float64(o.out.Size()) // a target is at most an output's size
	}
	need := saturate(float64(batch) * values * elem)
	err := limits.CheckMemory(fmt.Sprintf("nn: model %q at batch %d (%s)", m.name, batch, modeName(mode)), need, "its inputs and targets alone")
	if err == nil {
		return nil
	}
	// The layers' estimate counts the inputs and outputs too, and names a layer.
	if lerr := m.CheckMemory(batch, mode); lerr != nil {
		return lerr
	}
	return err
}

func modeName(mode Mode) string {
	if mode == Train {
		return "training"
	}
	return "inference"
}
