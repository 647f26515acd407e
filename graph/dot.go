package graph

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// DOTConfig says what [DOT] draws. The zero value draws every forward operation of the
// graph, top to bottom, without clusters.
type DOTConfig struct {
	// Title labels the drawing; "" for none.
	Title string
	// RankDir is the direction of the layout: "TB" (top to bottom, the default) or "LR".
	RankDir string
	// Grads draws the backward pass too: the nodes that compute gradients, in red, with
	// red edges.
	Grads bool
	// Outputs are the results of the forward pass (a model's output and loss). The nodes
	// they depend on are the forward pass. When Outputs and Gradients are both empty, every
	// root of the graph that depends on no gradient is an output.
	Outputs []*G.Node
	// Gradients are the gradients the backward pass computes (what gorgonia.Grad
	// returned); with Grads, they and the nodes they depend on are drawn. When Outputs and
	// Gradients are both empty, every other root of the graph is one.
	Gradients []*G.Node
	// Inputs are the leaves fed with data at each step; they are drawn as data inputs
	// (yellow parallelograms). Every other leaf variable is drawn as a parameter: a green
	// box, or a grey dashed one when the graph has gradients and none of them is its own.
	Inputs []*G.Node
	// Layer names the layer a forward node or parameter belongs to, as a slash-separated
	// path ("stage1/block1/conv1"); nodes are drawn in nested clusters by path. A backward
	// node goes in the layer of the forward operation whose gradient it computes. Nil, or
	// "" for a node: no cluster.
	Layer func(*G.Node) string
}

// DOT draws the operations of a Gorgonia graph as a DOT digraph: one node per operation
// labelled with the operation (its name, then its parameters) and its output shape,
// parameters and data inputs drawn apart from computed nodes, optionally clustered by
// layer ([DOTConfig.Layer]) and with the backward pass ([DOTConfig.Grads]). Only the nodes
// the outputs (and, with Grads, the gradients) depend on are drawn.
//
// The result is deterministic: nodes are numbered by a depth-first walk from the outputs
// in argument order, never by Gorgonia's node IDs or pointers, and the process-unique
// identities of stateful operations ("id:7") are left out of labels. It is an error if g
// is nil or has nothing to draw, or if the rank direction is not TB or LR.
func DOT(g *G.ExprGraph, cfg DOTConfig) (out []byte, err error) {
	var inner error
	if err := Safely(func() error { out, inner = dot(g, cfg); return nil }); err != nil {
		return nil, errors.Wrap(err, "graph: DOT")
	}
	return out, inner
}

func dot(g *G.ExprGraph, cfg DOTConfig) ([]byte, error) {
	if g == nil {
		return nil, errors.New("graph: DOT of a nil graph")
	}
	d, err := NewDiagram(cfg.Title, cfg.RankDir)
	if err != nil {
		return nil, err
	}
	outputs, grads := cfg.Outputs, cfg.Gradients
	if len(outputs) == 0 && len(grads) == 0 {
		roots := append(G.Nodes(nil), g.Roots()...)
		sort.SliceStable(roots, func(i, j int) bool { return roots[i].ID() < roots[j].ID() })
		// A root that depends on a gradient is part of the backward pass.
		memo := map[*G.Node]bool{}
		var backward func(n *G.Node) bool
		backward = func(n *G.Node) bool {
			if v, ok := memo[n]; ok {
				return v
			}
			memo[n] = len(n.DerivOf()) > 0
			for _, c := range children(n) {
				if backward(c) {
					memo[n] = true
					break
				}
			}
			return memo[n]
		}
		for _, n := range roots {
			if backward(n) {
				grads = append(grads, n)
			} else {
				outputs = append(outputs, n)
			}
		}
	}
	var order []*G.Node
	seen := map[*G.Node]bool{}
	var visit func(n *G.Node)
	visit = func(n *G.Node) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		for _, c := range children(n) {
			visit(c)
		}
		order = append(order, n)
	}
	for _, n := range outputs {
		visit(n)
	}
	nfwd := len(order)
	if cfg.Grads {
		for _, n := range grads {
			visit(n)
		}
	}
	if len(order) == 0 {
		return nil, errors.New("graph: DOT: the graph has no nodes to draw")
	}
	forward := map[*G.Node]bool{}
	for _, n := range order[:nfwd] {
		forward[n] = true
	}
	isOutput := map[*G.Node]bool{}
	for _, n := range outputs {
		isOutput[n] = true
	}
	isInput := map[*G.Node]bool{}
	for _, n := range cfg.Inputs {
		isInput[n] = true
	}
	hasGrad := map[*G.Node]bool{}
	for _, gn := range grads {
		for _, of := range gn.DerivOf() {
			hasGrad[of] = true
		}
	}

	layer := map[*G.Node]string{}
	fwdLayer := func(n *G.Node) string {
		if cfg.Layer == nil || n == nil {
			return ""
		}
		return cfg.Layer(n)
	}
	for _, n := range order {
		if forward[n] {
			layer[n] = fwdLayer(n)
			continue
		}
		layer[n] = backwardLayer(n, forward, layer, fwdLayer)
	}

	ids := map[*G.Node]int{}
	for _, n := range order {
		attrs := nodeAttrs(n, forward[n])
		switch {
		case n.Op() == nil && isInput[n]:
			attrs["shape"], attrs["style"], attrs["fillcolor"] = "parallelogram", "filled", "#fff2cc"
		case n.Op() == nil && len(grads) > 0 && !hasGrad[n]:
			attrs["shape"], attrs["style"], attrs["fillcolor"] = "box", "filled,dashed", "#e6e6e6"
			attrs["fontcolor"] = "#555555"
		case n.Op() == nil:
			attrs["shape"], attrs["style"], attrs["fillcolor"] = "box", "filled", "#d9ead3"
		}
		if isOutput[n] {
			attrs["penwidth"] = "2"
		}
		ids[n] = d.AddNode(layer[n], attrs)
	}
	for _, n := range order {
		for _, c := range children(n) {
			if _, ok := ids[c]; !ok {
				continue
			}
			switch {
			case forward[n] && layer[c] != layer[n] && c.Op() != nil:
				// A rank between layers leaves room for the next layer's parameters, so
				// consecutive layer clusters stack instead of stepping sideways.
				d.AddEdge(ids[c], ids[n], DOTAttrs{"minlen": "2"})
			case forward[n]:
				d.AddEdge(ids[c], ids[n], nil)
			case forward[c]:
				d.AddEdge(ids[c], ids[n], DOTAttrs{"color": "#cc4125"})
			default:
				// Gradients flow from the loss back to the input: drawn against the rank
				// direction, the backward pass runs alongside the forward one.
				d.AddEdge(ids[n], ids[c], DOTAttrs{"color": "#cc4125", "dir": "back"})
			}
		}
	}
	return d.DOT(), nil
}

// backwardLayer places a backward node in the layer of the forward operation whose
// gradient it computes: the op whose incoming gradient is one of n's arguments, else
// the node n is the gradient of, else the layer of its first placed backward argument.
func backwardLayer(n *G.Node, forward map[*G.Node]bool, placed map[*G.Node]string, fwdLayer func(*G.Node) string) string {
	layerOf := func(m *G.Node) string {
		if forward[m] {
			return fwdLayer(m)
		}
		return placed[m]
	}
	for _, c := range children(n) {
		if !forward[c] && len(c.DerivOf()) > 0 {
			return layerOf(c.DerivOf()[0])
		}
	}
	if of := n.DerivOf(); len(of) > 0 {
		return layerOf(of[0])
	}
	for _, c := range children(n) {
		if !forward[c] {
			if l := placed[c]; l != "" {
				return l
			}
		}
	}
	return ""
}

// children lists a node's arguments in order (Gorgonia exposes them only through the
// graph).
func children(n *G.Node) []*G.Node {
	g := n.Graph()
	if g == nil {
		return nil
	}
	var out []*G.Node
	for it := g.From(n.ID()); it != nil && it.Next(); {
		if c, ok := it.Node().(*G.Node); ok {
			out = append(out, c)
		}
	}
	return out
}

// stateID matches the process-unique identity that stateful ops print.
var stateID = regexp.MustCompile(`\s*\bid:\d+`)

// nodeAttrs labels a node: a leaf by its name, an operation by its name and parameters;
// both with the output shape.
func nodeAttrs(n *G.Node, fwd bool) DOTAttrs {
	var lines []string
	switch {
	case n.Op() == nil:
		lines = append(lines, n.Name())
	default:
		name, detail := splitOp(stateID.ReplaceAllString(n.Op().String(), ""))
		lines = append(lines, name)
		lines = append(lines, wrapWords(detail, 34)...)
	}
	lines = append(lines, shapeText(n.Shape(), n.Dtype()))
	attrs := DOTAttrs{"label": strings.Join(lines, "\n")}
	switch {
	case n.Op() != nil && len(children(n)) == 0: // a constant
		attrs["shape"], attrs["style"], attrs["fillcolor"], attrs["fontsize"] = "ellipse", "filled", "#ffffff", "9"
	case n.Op() != nil && fwd:
		attrs["fillcolor"] = "#cfe2f3"
	case n.Op() != nil:
		attrs["fillcolor"], attrs["color"] = "#f4cccc", "#cc4125"
	}
	return attrs
}

// splitOp splits an op's String form into its name, the text outside braces, and its
// parameters, the text inside them: "BatchNormTrain{eps:0.001}Backward{wrt:x}" is
// "BatchNormTrainBackward" with "eps:0.001 wrt:x".
func splitOp(s string) (name, detail string) {
	var out, in strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '{':
			if depth == 0 && in.Len() > 0 {
				in.WriteByte(' ')
			}
			if depth > 0 {
				in.WriteRune(r)
			}
			depth++
		case r == '}' && depth > 0:
			depth--
			if depth > 0 {
				in.WriteRune(r)
			}
		case depth > 0:
			in.WriteRune(r)
		default:
			out.WriteRune(r)
		}
	}
	name, detail = strings.TrimSpace(out.String()), strings.TrimSpace(in.String())
	if name == "" {
		name, detail = s, ""
	}
	return name, detail
}

// shapeText writes a shape as 32x1x28x28 (a scalar as "scalar"), with the element type.
func shapeText(s tensor.Shape, dt tensor.Dtype) string {
	var dims []string
	for _, d := range s {
		dims = append(dims, fmt.Sprint(d))
	}
	out := strings.Join(dims, "x")
	if s.IsScalar() || out == "" {
		out = "scalar"
	}
	if dt.Type != nil {
		out += " " + dt.String()
	}
	return out
}

// wrapWords breaks s at spaces into lines of at most width bytes (longer words stay
// whole).
func wrapWords(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
