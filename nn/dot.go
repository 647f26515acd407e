package nn

import (
	"fmt"
	"strings"

	G "gorgonia.org/gorgonia"

	"github.com/convgraph/convgraph/graph"
	"github.com/convgraph/convgraph/internal/console"
)

// DOTConfig says what [Model.DOT] draws; the options mirror Keras's plot_model. The zero
// value draws every layer top to bottom with its name, type, output shape and parameter
// count, nested blocks expanded as clusters.
type DOTConfig struct {
	// RankDir is the direction of the layout: "TB" (top to bottom, the default) or "LR"
	// (plot_model's rankdir).
	RankDir string
	// HideShapes leaves out the output shapes (plot_model's show_shapes=False).
	HideShapes bool
	// HideLayerNames leaves out the layer names, keeping the types
	// (show_layer_names=False).
	HideLayerNames bool
	// HideParams leaves out the parameter counts.
	HideParams bool
	// ShowDType adds the parameters' element type (show_dtype).
	ShowDType bool
	// ShowTrainable adds a line saying whether each layer with parameters is trainable or
	// frozen (show_trainable). Frozen layers are drawn grey and dashed either way.
	ShowTrainable bool
	// Collapse draws each top-level block (the first segment of a layer path such as
	// "stage1/block1/conv1") as a single node, as plot_model does with
	// expand_nested=False. By default blocks are expanded into nested clusters.
	Collapse bool
}

// Colours of the layer view.
const (
	colourInput     = "#fff2cc" // the model's input
	colourTrainable = "#cfe2f3" // layers with trainable parameters
	colourPlain     = "#ffffff" // layers without parameters
	colourFrozen    = "#d9d9d9" // layers whose parameters are all frozen
	colourPartial   = "#e3ecf4" // collapsed blocks with frozen and trainable layers
	colourShortcut  = "#3d85c6" // edges that skip layers (residual connections)
)

// DOT draws the model's layers as a DOT digraph, as Keras's plot_model does: one node per
// layer labelled with its name, type (and main settings), output shape and parameter
// count; frozen layers grey with a dashed border; layers of nested blocks
// ([Builder.Block]) inside nested clusters, or one node per top-level block with
// [DOTConfig.Collapse]; shortcut (residual) edges, those that leave a layer read by
// several and skip over the layers placed after it, in blue. Render it with Graphviz (dot -Tsvg) or the convgraph dot command.
//
// The DOT is the same, byte for byte, for the same model and config: nodes are numbered
// in layer order and layer names appear only in escaped labels, so any name is safe. The
// only error is a rank direction other than TB or LR.
func (m *Model) DOT(cfg DOTConfig) ([]byte, error) {
	d, err := graph.NewDiagram(m.name, cfg.RankDir)
	if err != nil {
		return nil, err
	}
	type group struct {
		id    int
		nodes []*node
	}
	ids := map[*node]int{}
	index := map[*node]int{}
	for i, n := range m.nodes {
		index[n] = i
	}
	if cfg.Collapse {
		// One node per top-level block, placed where its first layer is.
		blocks := map[string]*group{}
		var order []string
		var nodes []*node
		for _, n := range m.nodes {
			top, _, nested := strings.Cut(n.name, "/")
			if !nested {
				nodes = append(nodes, n)
				continue
			}
			b, ok := blocks[top]
			if !ok {
				b = &group{id: -1}
				blocks[top] = b
				order = append(order, top)
				nodes = append(nodes, n) // stands for the block
			}
			b.nodes = append(b.nodes, n)
		}
		for _, n := range nodes {
			top, _, nested := strings.Cut(n.name, "/")
			if !nested {
				ids[n] = d.AddNode("", m.layerAttrs(n, cfg, n.name))
				continue
			}
			b := blocks[top]
			b.id = d.AddNode("", m.blockAttrs(top, b.nodes, cfg))
			for _, bn := range b.nodes {
				ids[bn] = b.id
			}
		}
	} else {
		for _, n := range m.nodes {
			cluster, local := "", n.name
			if i := strings.LastIndex(n.name, "/"); i >= 0 {
				cluster, local = n.name[:i], n.name[i+1:]
			}
			ids[n] = d.AddNode(cluster, m.layerAttrs(n, cfg, local))
		}
	}
	consumers := map[*node]int{}
	for _, n := range m.nodes {
		for _, in := range n.inputs {
			consumers[in]++
		}
	}
	type edge struct{ from, to int }
	drawn := map[edge]bool{}
	for i, n := range m.nodes {
		for _, in := range n.inputs {
			e := edge{ids[in], ids[n]}
			if e.from == e.to || drawn[e] {
				continue
			}
			drawn[e] = true
			var attrs graph.DOTAttrs
			if consumers[in] > 1 && index[in] != i-1 {
				attrs = graph.DOTAttrs{"color": colourShortcut, "penwidth": "1.5"}
			}
			d.AddEdge(e.from, e.to, attrs)
		}
	}
	return d.DOT(), nil
}

// layerAttrs labels one layer; name is what to show of its path.
func (m *Model) layerAttrs(n *node, cfg DOTConfig, name string) graph.DOTAttrs {
	var lines []string
	kind := describe(n.layer.kind, n.layer.cfg)
	if cfg.HideLayerNames {
		lines = append(lines, kind)
	} else {
		lines = append(lines, name, kind)
	}
	if !cfg.HideShapes {
		lines = append(lines, n.out.String())
	}
	count := 0
	for _, p := range n.params {
		count += p.Size()
	}
	if !cfg.HideParams && count > 0 {
		lines = append(lines, plural(count, "param"))
	}
	if cfg.ShowDType {
		lines = append(lines, m.dtype.String())
	}
	attrs := graph.DOTAttrs{"fillcolor": colourPlain}
	switch {
	case n.layer.kind == "InputLayer":
		attrs["fillcolor"] = colourInput
	case n.frozen():
		attrs["fillcolor"], attrs["style"], attrs["fontcolor"] = colourFrozen, "rounded,filled,dashed", "#444444"
	case len(n.params) > 0:
		attrs["fillcolor"] = colourTrainable
	}
	if cfg.ShowTrainable && len(n.params) > 0 {
		lines = append(lines, map[bool]string{true: "frozen", false: "trainable"}[n.frozen()])
	}
	if m.isOutput(n) {
		attrs["penwidth"] = "2"
	}
	attrs["label"] = strings.Join(lines, "\n")
	return attrs
}

// blockAttrs labels a collapsed block of layers.
func (m *Model) blockAttrs(name string, nodes []*node, cfg DOTConfig) graph.DOTAttrs {
	lines := []string{name, fmt.Sprintf("block of %s", plural(len(nodes), "layer"))}
	// The block's output is its last layer that a layer outside it (or the model) reads.
	inside := map[*node]bool{}
	for _, n := range nodes {
		inside[n] = true
	}
	out := nodes[len(nodes)-1]
	for _, n := range m.nodes {
		for _, in := range n.inputs {
			if inside[in] && !inside[n] {
				out = in
			}
		}
	}
	if !cfg.HideShapes {
		lines = append(lines, out.out.String())
	}
	count, frozen, trainable := 0, 0, 0
	for _, n := range nodes {
		for _, p := range n.params {
			count += p.Size()
		}
		switch {
		case n.frozen():
			frozen++
		case len(n.params) > 0:
			trainable++
		}
	}
	if !cfg.HideParams && count > 0 {
		lines = append(lines, plural(count, "param"))
	}
	if cfg.ShowDType {
		lines = append(lines, m.dtype.String())
	}
	attrs := graph.DOTAttrs{"fillcolor": colourPlain, "shape": "box3d", "style": "filled"}
	state := ""
	switch {
	case frozen > 0 && trainable == 0:
		attrs["fillcolor"], attrs["style"], state = colourFrozen, "filled,dashed", "frozen"
	case frozen > 0:
		attrs["fillcolor"], state = colourPartial, "partly frozen"
	case trainable > 0:
		attrs["fillcolor"], state = colourTrainable, "trainable"
	}
	if cfg.ShowTrainable && state != "" {
		lines = append(lines, state)
	}
	for _, o := range m.outputs {
		if inside[o] {
			attrs["penwidth"] = "2"
		}
	}
	attrs["label"] = strings.Join(lines, "\n")
	return attrs
}

// describe is a layer's type with its main settings: "Conv2D 3x3 /2 relu".
func describe(kind string, c Config) string {
	parts := []string{kind}
	win := func(s []int) {
		if len(s) == 2 {
			parts = append(parts, fmt.Sprintf("%dx%d", s[0], s[1]))
		}
	}
	switch kind {
	case "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose":
		win(c.KernelSize)
		if c.DepthMultiplier > 1 {
			parts = append(parts, fmt.Sprintf("x%d", c.DepthMultiplier))
		}
		if c.Groups > 1 {
			parts = append(parts, fmt.Sprintf("g%d", c.Groups))
		}
	case "MaxPooling2D", "AveragePooling2D":
		win(c.PoolSize)
	case "Dropout":
		parts = append(parts, fmt.Sprintf("%g", c.Rate))
	default:
		parts = append(parts, describeMore(kind, c)...)
	}
	if len(c.Strides) == 2 && (c.Strides[0] != 1 || c.Strides[1] != 1) {
		if c.Strides[0] == c.Strides[1] {
			parts = append(parts, fmt.Sprintf("/%d", c.Strides[0]))
		} else {
			parts = append(parts, fmt.Sprintf("/%dx%d", c.Strides[0], c.Strides[1]))
		}
	}
	if c.Activation != "" && c.Activation != Linear {
		parts = append(parts, string(c.Activation))
	}
	return strings.Join(parts, " ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return console.Commas(n) + " " + what + "s"
}

// DOT draws the compiled graph's operations (see [graph.DOT]): clustered by the layer
// that built them, parameters and the input and labels drawn apart from computed nodes,
// the output and loss in bold; with cfg.Grads, a training graph's backward pass too.
// Fields of cfg left empty are filled in from the graph: Outputs (the output and the
// loss), Gradients (those of the trainable parameters), Inputs (input and labels),
// Layer (the layer that built each node, or owns each parameter) and Title (the model's
// name, batch size and mode).
func (gr *Graph) DOT(cfg graph.DOTConfig) ([]byte, error) {
	if cfg.Title == "" {
		cfg.Title = fmt.Sprintf("%s (batch %d, %s)", gr.model.name, gr.batch, gr.mode)
	}
	if len(cfg.Outputs) == 0 && len(cfg.Gradients) == 0 {
		cfg.Outputs = append(cfg.Outputs, gr.outs...)
		if gr.loss != nil {
			cfg.Outputs = append(cfg.Outputs, gr.loss)
		}
		cfg.Gradients = append(cfg.Gradients, gr.grads...)
	}
	if cfg.Inputs == nil {
		cfg.Inputs = append([]*G.Node(nil), gr.ins...)
		for _, h := range gr.heads {
			cfg.Inputs = append(cfg.Inputs, h.target)
		}
	}
	if cfg.Layer == nil {
		owner := map[*G.Node]string{}
		for i, in := range gr.ins {
			owner[in] = gr.model.inputs[i].name
		}
		for _, p := range gr.model.params {
			owner[gr.params[p.Name]] = p.Layer
		}
		cfg.Layer = func(n *G.Node) string {
			if l, ok := owner[n]; ok {
				return l
			}
			return gr.layerOf[n]
		}
	}
	return graph.DOT(gr.g, cfg)
}
