package nn

import (
	"fmt"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
)

// groupedModel is a ResNeXt-style block: a 1x1 convolution, a 3x3 convolution in 4
// groups, batch norm, and a 1x1 convolution in 2 groups.
func groupedModel(t *testing.T) *Model {
	t.Helper()
	m, err := Sequential("grouped",
		Input(6, 6, 4),
		Conv2D(8, 1, Name("reduce"), Activation(ReLU)),
		Conv2D(8, 3, Groups(4), Padding(Same), Strides(2), Name("grouped"), Activation(ReLU)),
		BatchNorm(),
		Conv2D(6, 1, Groups(2), UseBias(false), Name("expand")),
		GlobalAvgPool2D(),
		Dense(3, Activation(Softmax)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Initialize(4); err != nil {
		t.Fatal(err)
	}
	// Biases away from zero: with zero biases, a group whose input channels the ReLU
	// before zeroed everywhere gives pre-activations of exactly 0, on ReLU's kink, where
	// central differences see half the slope.
	for _, p := range m.Params() {
		if strings.HasSuffix(p.Name, "/bias") {
			for i, d := 0, p.Value.Data().([]float32); i < len(d); i++ {
				d[i] = 0.1 + 0.05*float32(i%3)
			}
		}
	}
	return m
}

func TestGroupedConv2DShapes(t *testing.T) {
	for _, c := range []modernLayersCase{
		{"conv2d/groups4", Shape{6, 6, 8}, Conv2D(12, 3, Groups(4)), Shape{4, 4, 12}, ""},
		{"conv2d/groups1", Shape{6, 6, 8}, Conv2D(12, 3, Groups(1)), Shape{4, 4, 12}, ""},
		{"conv2d/groups-channels", Shape{6, 6, 6}, Conv2D(8, 3, Groups(4)), nil, `layer "conv2d" (Conv2D): 4 groups do not divide the input's 6 channels and 8 filters`},
		{"conv2d/groups-filters", Shape{6, 6, 8}, Conv2D(6, 3, Groups(4)), nil, `4 groups do not divide the input's 8 channels and 6 filters`},
		{"conv2d/groups0", Shape{6, 6, 8}, Conv2D(8, 3, Groups(0)), nil, `groups 0 must be positive`},
		{"depthwise/groups", Shape{6, 6, 8}, DepthwiseConv2D(3, Groups(2)), nil, `option Groups does not apply to DepthwiseConv2D`},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := NewBuilder("m")
			m, err := b.Model(b.Apply(c.layer, b.Input(c.input...)))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v; want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := m.OutputShape(); !got.equal(c.want) {
				t.Fatalf("output %v; want %v", got, c.want)
			}
			if _, err := m.Compile(2, Eval); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A grouped model's gradients, whole-model, against central differences in float64.
func TestGradCheckGroupedConv2D(t *testing.T) {
	gradCheckModel(t, groupedModel(t), 2, 30)
}

// The grouped layers have their kernels' shapes and counts in the summary, their groups in
// the layer diagram, the grouped ops in the op diagram, and survive a spec round trip.
func TestGroupedConv2DSummaryDOTSpec(t *testing.T) {
	m := groupedModel(t)
	if s := fmt.Sprint(m.Param("grouped/kernel").Shape()); s != "[8 2 3 3]" {
		t.Errorf("grouped kernel shape %s, want [8 2 3 3]", s)
	}
	sum := m.Summary()
	flat := strings.Join(strings.Fields(sum), " ")
	for _, row := range []string{
		"grouped (Conv2D) (None, 3, 3, 8) 152 Y", // 8*2*3*3 + 8
		"expand (Conv2D) (None, 3, 3, 6) 24 Y",   // 6*4*1*1
	} {
		if !strings.Contains(flat, row) {
			t.Errorf("summary has no row %q:\n%s", row, sum)
		}
	}
	layers, err := m.DOT(DOTConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, label := range []string{"Conv2D 3x3 g4 /2 relu", "Conv2D 1x1 g2"} {
		if !strings.Contains(string(layers), label) {
			t.Errorf("layer diagram has no %q", label)
		}
	}
	gr, err := m.Compile(2, Train)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := gr.DOT(graph.DOTConfig{Grads: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"GroupedConv2D", "GroupedConv2DBackwardInput", "GroupedConv2DBackwardKernel", "g:4"} {
		if !strings.Contains(string(ops), op) {
			t.Errorf("op diagram has no %q", op)
		}
	}
	js, err := m.MarshalSpec()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"groups":4`) {
		t.Errorf("spec has no groups:\n%s", js)
	}
	m2, err := UnmarshalSpec(js)
	if err != nil {
		t.Fatal(err)
	}
	if m2.Summary() != sum {
		t.Fatalf("summary changed on a spec round trip:\n%s\n%s", sum, m2.Summary())
	}
	checkBuiltModel(t, m)
}

// One channel per group is a depthwise convolution: Conv2D(8, 3, Groups(4)) on 4
// channels runs the depthwise op and gives DepthwiseConv2D's bits for the same kernel.
func TestGroupsOfOneChannelAreDepthwise(t *testing.T) {
	g, err := Sequential("g", Input(7, 7, 4), Conv2D(8, 3, Groups(4), Name("conv")))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Sequential("d", Input(7, 7, 4), DepthwiseConv2D(3, DepthMultiplier(2), Name("conv")))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Initialize(1); err != nil {
		t.Fatal(err)
	}
	copy(d.Param("conv/depthwise_kernel").Value.Data().([]float32), g.Param("conv/kernel").Value.Data().([]float32))
	copy(d.Param("conv/bias").Value.Data().([]float32), g.Param("conv/bias").Value.Data().([]float32))
	x := make([]float32, 2*7*7*4)
	for i := range x {
		x[i] = float32(i%13) / 13
	}
	var outs [2][]float32
	for i, m := range []*Model{g, d} {
		gr, err := m.Compile(2, Eval)
		if err != nil {
			t.Fatal(err)
		}
		if err := gr.Run(tensor.New(tensor.WithShape(2, 7, 7, 4), tensor.WithBacking(append([]float32(nil), x...))), nil); err != nil {
			t.Fatal(err)
		}
		outs[i] = append([]float32(nil), gr.Output().Data().([]float32)...)
	}
	for i := range outs[0] {
		if outs[0][i] != outs[1][i] {
			t.Fatalf("value %d: %v grouped, %v depthwise", i, outs[0][i], outs[1][i])
		}
	}
}
