package nn_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
	"github.com/convgraph/convgraph/nn"
)

// mergeModel joins two convolution branches with each merge layer in turn.
func mergeModel(t *testing.T) *nn.Model {
	t.Helper()
	b := nn.NewBuilder("two-branch")
	x := b.Input(8, 8, 1)
	a := b.Apply(nn.Conv2D(4, 3, nn.Padding(nn.Same), nn.Name("left")), x)
	c := b.Apply(nn.Conv2D(4, 1, nn.Name("right")), x)
	cat := b.Apply(nn.Concatenate(), a, c)
	mul := b.Apply(nn.Conv2D(8, 1, nn.Name("mix")), cat)
	mul = b.Apply(nn.Multiply(), mul, cat)
	avg := b.Apply(nn.Average(), mul, cat)
	mx := b.Apply(nn.Maximum(), avg, cat, mul)
	sub := b.Apply(nn.Subtract(), mx, avg)
	y := b.Apply(nn.GlobalAvgPool2D(), sub)
	y = b.Apply(nn.Dense(3, nn.Activation(nn.Softmax)), y)
	m, err := b.Model(y)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMergeLayersSummaryDOTSpec(t *testing.T) {
	m := mergeModel(t)
	s := m.Summary()
	for _, want := range []string{
		"concatenate (Concatenate)",
		"multiply (Multiply)", "average (Average)", "maximum (Maximum)", "subtract (Subtract)",
		"average, concatenate, multiply", // Maximum's three inputs, in order
	} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	if !regexp.MustCompile(`concatenate \(Concatenate\) +\(None, 8, 8, 8\) +0 +- +left, right`).MatchString(s) {
		t.Errorf("summary lacks Concatenate's row:\n%s", s)
	}
	dot, err := m.DOT(nn.DOTConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Concatenate", "Multiply", "Average", "Maximum", "Subtract"} {
		if !bytes.Contains(dot, []byte(want)) {
			t.Errorf("layer DOT lacks %q", want)
		}
	}
	gr, err := m.Compile(2, nn.Train)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := gr.DOT(graph.DOTConfig{Grads: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Concat", "Multiply", "Maximum", "MaximumBackward", "MultiplyBackward", "Subtract", "ScaleBackward", "Slice"} {
		if !bytes.Contains(ops, []byte(want)) {
			t.Errorf("op DOT lacks %q", want)
		}
	}

	// The spec round trip rebuilds the same model, computing the same outputs.
	js, err := m.MarshalSpec()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := nn.UnmarshalSpec(js)
	if err != nil {
		t.Fatal(err)
	}
	js2, _ := m2.MarshalSpec()
	if !bytes.Equal(js, js2) {
		t.Errorf("spec changed on a round trip:\n%s\n%s", js, js2)
	}
	x, _ := randomBatch(tensor.Float32, 3, 2, 8, 8, 1)
	var outs [2][]float32
	for i, mm := range []*nn.Model{m, m2} {
		gr, err := mm.Compile(2, nn.Eval)
		if err != nil {
			t.Fatal(err)
		}
		if err := gr.Run(x, nil); err != nil {
			t.Fatal(err)
		}
		outs[i] = append([]float32(nil), gr.Output().Data().([]float32)...)
	}
	for i := range outs[0] {
		if outs[0][i] != outs[1][i] {
			t.Fatalf("rebuilt model's output %v; want %v", outs[1], outs[0])
		}
	}
}

func TestMergeLayerErrors(t *testing.T) {
	for _, c := range []struct {
		what  string
		build func(b *nn.Builder, img, small, vec nn.Tensor)
		want  string
	}{
		{"concat sizes", func(b *nn.Builder, img, small, vec nn.Tensor) { b.Apply(nn.Concatenate(), img, small) },
			`layer "concatenate" (Concatenate): input 1 has shape (None, 4, 4, 2), input 0 has (None, 8, 8, 2): only the last axis may differ`},
		{"concat ranks", func(b *nn.Builder, img, small, vec nn.Tensor) { b.Apply(nn.Concatenate(), vec, img) },
			"only the last axis may differ"},
		{"concat one", func(b *nn.Builder, img, small, vec nn.Tensor) { b.Apply(nn.Concatenate(), img) },
			"needs two or more inputs, got 1"},
		{"multiply", func(b *nn.Builder, img, small, vec nn.Tensor) { b.Apply(nn.Multiply(), img, small) },
			`layer "multiply" (Multiply): inputs have different shapes`},
		{"subtract three", func(b *nn.Builder, img, small, vec nn.Tensor) { b.Apply(nn.Subtract(), img, img, img) },
			`layer "subtract" (Subtract): needs 2 inputs, got 3`},
		{"average option", func(b *nn.Builder, img, small, vec nn.Tensor) { b.Apply(nn.Average(nn.Strides(2)), img, img) },
			"option Strides does not apply to Average"},
	} {
		b := nn.NewBuilder("m")
		x := b.Input(8, 8, 2)
		small := b.Apply(nn.MaxPool2D(2), x)
		vec := b.Apply(nn.GlobalAvgPool2D(), x)
		c.build(b, x, small, vec)
		if err := b.Err(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v; want %q", c.what, err, c.want)
		}
	}
}
