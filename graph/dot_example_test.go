package graph_test

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
)

// A dense layer's operations, clustered by layer.
func ExampleDOT() {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(4, 3), G.WithName("x"))
	w := G.NewMatrix(g, tensor.Float32, G.WithShape(3, 2), G.WithName("dense/kernel"))
	y, err := graph.MatMul(x, w)
	if err != nil {
		fmt.Println(err)
		return
	}
	layer := map[*G.Node]string{w: "dense", y: "dense"}
	src, err := graph.DOT(g, graph.DOTConfig{
		Inputs: []*G.Node{x},
		Layer:  func(n *G.Node) string { return layer[n] },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(src))
	// Output:
	// digraph G {
	// 	graph [fontname="Helvetica", fontsize="12", nodesep="0.3", rankdir="TB", ranksep="0.35"];
	// 	node [color="#444444", fillcolor="#ffffff", fontname="Helvetica", fontsize="11", margin="0.12,0.06", shape="box", style="rounded,filled"];
	// 	edge [arrowsize="0.7", color="#555555", fontname="Helvetica", fontsize="9"];
	// 	n0 [fillcolor="#fff2cc", label="x\n4x3 float32", shape="parallelogram", style="filled"];
	// 	subgraph cluster_c0 {
	// 		graph [color="#999999", fontcolor="#444444", fontsize="11", label="dense", labeljust="l", style="rounded"];
	// 		n1 [fillcolor="#d9ead3", label="dense/kernel\n3x2 float32", shape="box", style="filled"];
	// 		n2 [fillcolor="#cfe2f3", label="MatMul\ntA:false tB:false\n4x2 float32", penwidth="2"];
	// 	}
	// 	n0 -> n2;
	// 	n1 -> n2;
	// }
}

// A Diagram escapes every label, so any text is safe.
func ExampleDiagram() {
	d, err := graph.NewDiagram("", "LR")
	if err != nil {
		fmt.Println(err)
		return
	}
	a := d.AddNode("", graph.DOTAttrs{"label": `say "hi"`})
	b := d.AddNode("stage1/block1", graph.DOTAttrs{"label": "two\nlines {|<>}"})
	d.AddEdge(a, b, graph.DOTAttrs{"color": "red"})
	fmt.Print(string(d.DOT()))
	// Output:
	// digraph G {
	// 	graph [fontname="Helvetica", fontsize="12", nodesep="0.3", rankdir="LR", ranksep="0.35"];
	// 	node [color="#444444", fillcolor="#ffffff", fontname="Helvetica", fontsize="11", margin="0.12,0.06", shape="box", style="rounded,filled"];
	// 	edge [arrowsize="0.7", color="#555555", fontname="Helvetica", fontsize="9"];
	// 	n0 [label="say \"hi\""];
	// 	subgraph cluster_c0 {
	// 		graph [color="#999999", fontcolor="#444444", fontsize="11", label="stage1", labeljust="l", style="rounded"];
	// 		subgraph cluster_c1 {
	// 			graph [color="#999999", fontcolor="#444444", fontsize="11", label="stage1/block1", labeljust="l", style="rounded"];
	// 			n1 [label="two\nlines {|<>}"];
	// 		}
	// 	}
	// 	n0 -> n1 [color="red"];
	// }
}
