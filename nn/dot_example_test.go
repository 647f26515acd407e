package nn_test

import (
	"fmt"
	"strings"

	"github.com/convgraph/convgraph/graph"
	"github.com/convgraph/convgraph/nn"
)

// The layer view of a small network with a frozen first layer, as Keras's plot_model
// draws it (with show_trainable).
func ExampleModel_DOT() {
	m, err := nn.Sequential("small",
		nn.Input(28, 28, 1),
		nn.Conv2D(8, 3, nn.Activation(nn.ReLU)),
		nn.MaxPool2D(2),
		nn.Flatten(),
		nn.Dense(10, nn.Activation(nn.Softmax)))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := m.Freeze("conv2d"); err != nil {
		fmt.Println(err)
		return
	}
	src, err := m.DOT(nn.DOTConfig{RankDir: "LR", ShowTrainable: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(src))
	// Output:
	// digraph G {
	// 	graph [fontname="Helvetica", fontsize="14", label="small", labelloc="t", nodesep="0.3", rankdir="LR", ranksep="0.35"];
	// 	node [color="#444444", fillcolor="#ffffff", fontname="Helvetica", fontsize="11", margin="0.12,0.06", shape="box", style="rounded,filled"];
	// 	edge [arrowsize="0.7", color="#555555", fontname="Helvetica", fontsize="9"];
	// 	n0 [fillcolor="#fff2cc", label="input\nInputLayer\n(None, 28, 28, 1)"];
	// 	n1 [fillcolor="#d9d9d9", fontcolor="#444444", label="conv2d\nConv2D 3x3 relu\n(None, 26, 26, 8)\n80 params\nfrozen", style="rounded,filled,dashed"];
	// 	n2 [fillcolor="#ffffff", label="max_pooling2d\nMaxPooling2D 2x2\n(None, 13, 13, 8)"];
	// 	n3 [fillcolor="#ffffff", label="flatten\nFlatten\n(None, 1352)"];
	// 	n4 [fillcolor="#cfe2f3", label="dense\nDense softmax\n(None, 10)\n13,530 params\ntrainable", penwidth="2"];
	// 	n0 -> n1;
	// 	n1 -> n2;
	// 	n2 -> n3;
	// 	n3 -> n4;
	// }
}

// The op view of a compiled training graph, with its backward pass.
func ExampleGraph_DOT() {
	m, err := nn.Sequential("logreg",
		nn.Input(4),
		nn.Dense(3, nn.Activation(nn.Softmax)))
	if err != nil {
		fmt.Println(err)
		return
	}
	gr, err := m.Compile(8, nn.Train)
	if err != nil {
		fmt.Println(err)
		return
	}
	src, err := gr.DOT(graph.DOTConfig{Grads: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Print the nodes' labels.
	for _, line := range strings.Split(string(src), "\n") {
		if _, label, ok := strings.Cut(line, `label="`); ok && strings.HasPrefix(strings.TrimSpace(line), "n") {
			label, _, _ = strings.Cut(label, `"`)
			fmt.Println(strings.ReplaceAll(label, `\n`, " | "))
		}
	}
	// Output:
	// labels | 8 float32
	// SoftmaxCrossEntropy | 8x3 | scalar float32
	// const 1 | scalar float32
	// SoftmaxCrossEntropyBackward | 8x3 | 8x3 float32
	// input | 8x4 float32
	// dense/kernel | 4x3 float32
	// MatMul | tA:false tB:false | 8x3 float32
	// dense/bias | 3 float32
	// BiasAdd | (8, 3) | 8x3 float32
	// Softmax | 8x3 | 8x3 float32
	// MatMul | tA:true tB:false | 4x3 float32
	// BiasGrad | (8, 3) | 3 float32
}
