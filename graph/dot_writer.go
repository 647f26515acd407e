package graph

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// DOTAttrs are the attributes of a DOT node, edge or cluster: name to value. Values are
// plain text; [Diagram] quotes and escapes them when it writes the file, so any string
// (quotes, backslashes, newlines, <>{}|, any Unicode) is safe. A newline in a value is a
// line break in a label.
type DOTAttrs map[string]string

// Diagram assembles a DOT digraph that is the same, byte for byte, every time it is built
// in the same order: nodes are numbered n0, n1, ... as they are added, clusters c0, c1, ...
// as they are first used, and attributes are written sorted by name. Nodes may be placed
// in nested clusters named by a slash-separated path ("stage1/block1"), one cluster per
// path prefix. Make one with [NewDiagram]; [DOT] and the nn package's DOT methods use it.
type Diagram struct {
	rankdir  string
	attrs    DOTAttrs // graph attributes
	node     DOTAttrs // node defaults
	edge     DOTAttrs // edge defaults
	root     *dotCluster
	clusters map[string]*dotCluster
	nodes    []DOTAttrs
	edges    []dotEdge
	ncluster int
}

type dotCluster struct {
	path     string
	id       int
	attrs    DOTAttrs
	children []*dotCluster
	nodes    []int
}

type dotEdge struct {
	from, to int
	attrs    DOTAttrs
}

// NewDiagram starts a diagram titled title ("" for none) laid out in direction rankdir:
// "TB" (top to bottom, the default when rankdir is "") or "LR" (left to right). Any other
// direction is an error.
func NewDiagram(title, rankdir string) (*Diagram, error) {
	switch rankdir {
	case "":
		rankdir = "TB"
	case "TB", "LR":
	default:
		return nil, errors.Errorf("graph: rankdir %q is not TB or LR", rankdir)
	}
	d := &Diagram{
		rankdir:  rankdir,
		attrs:    DOTAttrs{"fontname": "Helvetica", "fontsize": "12", "nodesep": "0.3", "ranksep": "0.35"},
		node:     DOTAttrs{"fontname": "Helvetica", "fontsize": "11", "shape": "box", "style": "rounded,filled", "fillcolor": "#ffffff", "color": "#444444", "margin": "0.12,0.06"},
		edge:     DOTAttrs{"fontname": "Helvetica", "fontsize": "9", "color": "#555555", "arrowsize": "0.7"},
		root:     &dotCluster{},
		clusters: map[string]*dotCluster{},
	}
	if title != "" {
		d.attrs["label"] = title
		d.attrs["labelloc"] = "t"
		d.attrs["fontsize"] = "14"
	}
	return d, nil
}

// GraphAttrs returns the graph's attributes, to change in place.
func (d *Diagram) GraphAttrs() DOTAttrs { return d.attrs }

// NodeDefaults returns the attributes every node gets unless it sets its own.
func (d *Diagram) NodeDefaults() DOTAttrs { return d.node }

// EdgeDefaults returns the attributes every edge gets unless it sets its own.
func (d *Diagram) EdgeDefaults() DOTAttrs { return d.edge }

// AddNode adds a node inside the cluster named by path ("" for none) and returns its
// number, for [Diagram.AddEdge].
func (d *Diagram) AddNode(cluster string, attrs DOTAttrs) int {
	id := len(d.nodes)
	d.nodes = append(d.nodes, attrs)
	c := d.cluster(cluster)
	c.nodes = append(c.nodes, id)
	return id
}

// AddEdge draws an edge from node from to node to. It panics if either is not a node
// number that [Diagram.AddNode] returned.
func (d *Diagram) AddEdge(from, to int, attrs DOTAttrs) {
	if from < 0 || from >= len(d.nodes) || to < 0 || to >= len(d.nodes) {
		panic(fmt.Sprintf("graph: Diagram.AddEdge(%d, %d) with %d nodes", from, to, len(d.nodes)))
	}
	d.edges = append(d.edges, dotEdge{from, to, attrs})
}

// ClusterAttrs returns the attributes of the cluster named by path, to change in place,
// creating it (and its parents) if need be. A cluster is a grey rounded box labelled with
// its path at the top left unless its attributes say otherwise.
func (d *Diagram) ClusterAttrs(path string) DOTAttrs { return d.cluster(path).attrs }

// cluster finds or makes the cluster for a path; "" is the top level.
func (d *Diagram) cluster(path string) *dotCluster {
	path = strings.Trim(path, "/")
	if path == "" {
		return d.root
	}
	if c, ok := d.clusters[path]; ok {
		return c
	}
	parent := d.root
	if i := strings.LastIndex(path, "/"); i >= 0 {
		parent = d.cluster(path[:i])
	}
	c := &dotCluster{path: path, id: d.ncluster, attrs: DOTAttrs{"label": path, "labeljust": "l",
		"style": "rounded", "color": "#999999", "fontcolor": "#444444", "fontsize": "11"}}
	d.ncluster++
	d.clusters[path] = c
	parent.children = append(parent.children, c)
	return c
}

// DOT writes the diagram as DOT source.
func (d *Diagram) DOT() []byte {
	var b bytes.Buffer
	b.WriteString("digraph G {\n")
	ga := DOTAttrs{"rankdir": d.rankdir}
	for k, v := range d.attrs {
		ga[k] = v
	}
	writeStmt(&b, "\t", "graph", ga)
	writeStmt(&b, "\t", "node", d.node)
	writeStmt(&b, "\t", "edge", d.edge)
	d.writeCluster(&b, d.root, "\t")
	for _, e := range d.edges {
		writeStmt(&b, "\t", fmt.Sprintf("n%d -> n%d", e.from, e.to), e.attrs)
	}
	b.WriteString("}\n")
	return b.Bytes()
}

func (d *Diagram) writeCluster(b *bytes.Buffer, c *dotCluster, indent string) {
	for _, id := range c.nodes {
		writeStmt(b, indent, fmt.Sprintf("n%d", id), d.nodes[id])
	}
	for _, sub := range c.children {
		fmt.Fprintf(b, "%ssubgraph cluster_c%d {\n", indent, sub.id)
		writeStmt(b, indent+"\t", "graph", sub.attrs)
		d.writeCluster(b, sub, indent+"\t")
		fmt.Fprintf(b, "%s}\n", indent)
	}
}

// writeStmt writes "head [k=v, ...];" with attributes sorted by name, or "head;" when
// there are none.
func writeStmt(b *bytes.Buffer, indent, head string, attrs DOTAttrs) {
	b.WriteString(indent)
	b.WriteString(head)
	if len(attrs) > 0 {
		keys := make([]string, 0, len(attrs))
		for k := range attrs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(" [")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(DOTID(k))
			b.WriteByte('=')
			b.WriteString(DOTQuote(attrs[k]))
		}
		b.WriteByte(']')
	}
	b.WriteString(";\n")
}

// DOTID returns s as a DOT identifier: as it is when it is a plain ASCII name, quoted
// otherwise.
func DOTID(s string) string {
	plain := s != ""
	for i, r := range s {
		if !(r == '_' || r < utf8.RuneSelf && unicode.IsLetter(r) || i > 0 && r >= '0' && r <= '9') {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return DOTQuote(s)
}

// DOTQuote returns s as a double-quoted DOT string that Graphviz displays as s: quotes
// and backslashes are escaped (so no escString sequence such as \N or \l can form), '&' is
// written as an entity, a newline becomes a centred line break, and any other control
// character or invalid UTF-8 byte is shown as a visible \xNN.
func DOTQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\\x%02x`, s[i])
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '&':
			b.WriteString("&amp;")
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, `\\x%02x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}
