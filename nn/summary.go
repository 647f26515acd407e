package nn

import (
	"fmt"
	"strings"

	"github.com/convgraph/convgraph/internal/console"
)

// ParamCounts returns the numbers of all, trainable and non-trainable parameter values.
func (m *Model) ParamCounts() (total, trainable, nonTrainable int) {
	for _, p := range m.params {
		total += p.Size()
		if p.Trainable {
			trainable += p.Size()
		}
	}
	return total, trainable, total - trainable
}

// SummaryOption changes what [Model.Summary] shows.
type SummaryOption struct{ expand bool }

// ExpandNested lists the layers of nested models ([Builder.Call]) one by one, as Keras's
// summary(expand_nested=True) does, instead of one row per nested model.
func ExpandNested() SummaryOption { return SummaryOption{expand: true} }

// Summary returns a Keras-style table of the model: each layer's name and type, output
// shape, parameter count and whether it trains, then the totals. Models that are not a
// plain stack also get Keras's "Connected to" column. A nested model ([Builder.Call]) is
// one row, "resnet-small (Model)", trainable Y, N or "partly", unless [ExpandNested].
func (m *Model) Summary(opts ...SummaryOption) string {
	expand := false
	for _, o := range opts {
		expand = expand || o.expand
	}
	sequential := true
	for i, n := range m.nodes[1:] {
		if len(n.inputs) != 1 || n.inputs[0] != m.nodes[i] {
			sequential = false
		}
	}
	// group names the row a layer is shown in: its own name, or its nested model's.
	group := func(n *node) string {
		if !expand {
			if p := m.nestedOf(n); p != "" {
				return p
			}
		}
		return n.name
	}
	type row struct{ layer, shape, params, train, conn string }
	rows := []row{}
	nodes := m.nodes
	if sequential {
		nodes = nodes[1:] // Keras leaves the input out of a Sequential model's summary
	}
	done := map[string]bool{}
	for _, n := range nodes {
		g := group(n)
		if done[g] {
			continue
		}
		done[g] = true
		if g != n.name {
			rows = append(rows, m.nestedRow(g, group))
			continue
		}
		r := row{layer: fmt.Sprintf("%s (%s)", n.name, n.layer.kind), shape: n.out.String()}
		count := 0
		for _, p := range n.params {
			count += p.Size()
		}
		r.params = console.Commas(count)
		switch {
		case len(n.params) == 0:
			r.train = "-"
		case n.frozen():
			r.train = "N"
		default:
			r.train = "Y"
		}
		var conns []string
		for _, in := range n.inputs {
			conns = append(conns, group(in))
		}
		r.conn = strings.Join(conns, ", ")
		rows = append(rows, r)
	}
	head := row{"Layer (type)", "Output Shape", "Param #", "Trainable", "Connected to"}
	w := [4]int{len(head.layer), len(head.shape), len(head.params), len(head.train)}
	for _, r := range rows {
		w[0] = max(w[0], len(r.layer))
		w[1] = max(w[1], len(r.shape))
		w[2] = max(w[2], len(r.params))
	}
	line := func(r row) string {
		s := fmt.Sprintf(" %-*s  %-*s  %*s  %-*s", w[0], r.layer, w[1], r.shape, w[2], r.params, w[3], r.train)
		if !sequential {
			s += "  " + r.conn
		}
		return strings.TrimRight(s, " ")
	}
	width := len(line(head))
	for _, r := range rows {
		width = max(width, len(line(r)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Model: %q\n", m.name)
	b.WriteString(strings.Repeat("_", width) + "\n")
	b.WriteString(line(head) + "\n")
	b.WriteString(strings.Repeat("=", width) + "\n")
	for i, r := range rows {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(line(r) + "\n")
	}
	b.WriteString(strings.Repeat("=", width) + "\n")
	total, trainable, non := m.ParamCounts()
	fmt.Fprintf(&b, "Total params: %s\n", console.Commas(total))
	fmt.Fprintf(&b, "Trainable params: %s\n", console.Commas(trainable))
	fmt.Fprintf(&b, "Non-trainable params: %s\n", console.Commas(non))
	b.WriteString(strings.Repeat("_", width) + "\n")
	return b.String()
}

// summaryRow is one row of a summary.
type summaryRow = struct{ layer, shape, params, train, conn string }

// nestedRow summarises the nested model under prefix p as one row: its outputs' shapes,
// its parameters, whether they train, and the layers outside it that feed it.
func (m *Model) nestedRow(p string, group func(*node) string) summaryRow {
	inside := map[*node]bool{}
	for _, n := range m.nodes {
		if m.nestedOf(n) == p {
			inside[n] = true
		}
	}
	var conns []string
	seenConn := map[string]bool{}
	exits := map[*node]bool{} // the group's nodes read from outside it, or model outputs
	count, frozen, trainable := 0, 0, 0
	for _, n := range m.nodes {
		if !inside[n] {
			for _, in := range n.inputs {
				exits[in] = exits[in] || inside[in]
			}
			continue
		}
		exits[n] = exits[n] || m.isOutput(n)
		for _, in := range n.inputs {
			if g := group(in); !inside[in] && !seenConn[g] {
				seenConn[g] = true
				conns = append(conns, g)
			}
		}
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
	var shapes []string
	for _, n := range m.nodes {
		if exits[n] {
			shapes = append(shapes, n.out.String())
		}
	}
	r := summaryRow{layer: p + " (Model)", shape: strings.Join(shapes, ", "), params: console.Commas(count), conn: strings.Join(conns, ", ")}
	switch {
	case frozen == 0 && trainable == 0:
		r.train = "-"
	case trainable == 0:
		r.train = "N"
	case frozen == 0:
		r.train = "Y"
	default:
		r.train = "partly"
	}
	return r
}
