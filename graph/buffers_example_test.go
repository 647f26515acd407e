package graph_test

import (
	"fmt"
	"slices"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
)

// Ops whose values are never alive at the same time write into the same memory. In the
// chain x -> a -> b -> c -> out, a is dead once b has read it, so c reuses a's buffer; out
// is kept, so it has a tensor of its own and holds its value until the next run. A value
// read from an intermediate node is valid only until the next op that reuses its buffer:
// after the run, a's value is c's.
func ExampleShareBuffers() {
	g := G.NewGraph()
	x := constant(g, "x", []float64{-2, -1, 0, 1, 2}, 5)
	a, _ := graph.ReLU(x)
	b, _ := graph.Tanh(a)
	c, _ := graph.Sigmoid(b)
	out, _ := graph.LeakyReLU(c, 0.1)
	m, err := graph.NewMachine(g, graph.ShareBuffers(out))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	if err := m.Run(); err != nil {
		fmt.Println(err)
		return
	}
	st := m.Buffers()
	fmt.Printf("%d ops share %d buffers; %d keeps its own\n", st.Shared, st.Buffers, st.Own)
	fmt.Printf("out %.3f\n", out.Value().(*tensor.Dense).Data())
	values := func(n *G.Node) []float64 { return n.Value().(*tensor.Dense).Float64s() }
	fmt.Println("a now holds c's values:", slices.Equal(values(a), values(c)))
	// Output:
	// 3 ops share 2 buffers; 1 keeps its own
	// out [0.500 0.500 0.500 0.682 0.724]
	// a now holds c's values: true
}
