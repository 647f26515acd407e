package nn

import (
	"fmt"
	"strconv"
	"strings"
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

// Summary returns a Keras-style table of the model: each layer's name and type, output
// shape, parameter count and whether it trains, then the totals. Models that are not a
// plain stack also get Keras's "Connected to" column.
func (m *Model) Summary() string {
	sequential := true
	for i, n := range m.nodes[1:] {
		if len(n.inputs) != 1 || n.inputs[0] != m.nodes[i] {
			sequential = false
		}
	}
	type row struct{ layer, shape, params, train, conn string }
	rows := []row{}
	nodes := m.nodes
	if sequential {
		nodes = nodes[1:] // Keras leaves the input out of a Sequential model's summary
	}
	for _, n := range nodes {
		r := row{layer: fmt.Sprintf("%s (%s)", n.name, n.layer.kind), shape: n.out.String()}
		count := 0
		for _, p := range n.params {
			count += p.Size()
		}
		r.params = commas(count)
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
			conns = append(conns, in.name)
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
	fmt.Fprintf(&b, "Total params: %s\n", commas(total))
	fmt.Fprintf(&b, "Trainable params: %s\n", commas(trainable))
	fmt.Fprintf(&b, "Non-trainable params: %s\n", commas(non))
	b.WriteString(strings.Repeat("_", width) + "\n")
	return b.String()
}

// commas formats n with thousands separators, as Keras prints counts.
func commas(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + commas(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
