package nn

import (
	"bytes"
	"sort"
	"testing"

	"gorgonia.org/tensor"
)

// specSeeds are model specs of every layer type and option, the fuzzer's starting points
// (testdata/fuzz/FuzzUnmarshalSpec holds the zoo's specs and hand-made bad ones).
func specSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	add := func(m *Model, err error) {
		if err != nil {
			tb.Fatal(err)
		}
		js, err := m.MarshalSpec()
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, js)
	}
	add(Sequential("cnn",
		Input(8, 8, 1),
		Conv2D(3, 3, Padding(Same), Activation(ReLU)),
		MaxPool2D(2),
		Conv2D(4, 2, Strides(1, 2), Dilation(2), Activation(LeakyReLU), Alpha(0.1)),
		AvgPool2D(2, Padding(Same), Strides(1)),
		Flatten(),
		Dense(6, Activation(Tanh), KernelInitializer(HeNormal), BiasInitializer(Ones)),
		Dropout(0.25),
		Dense(3, Activation(Softmax))))
	add(Sequential("mlp", Input(5), Dense(4, Activation(Sigmoid), UseBias(false)), BatchNorm(Momentum(0.5), Epsilon(1e-5)), Dense(2)))
	b := NewBuilder("res")
	x := b.Input(6, 6, 2)
	y := b.Apply(Conv2D(2, 3, ExplicitPadding(1, 1, 1, 1), Trainable(false)), x)
	blk := b.Block("stage1/block1")
	z := blk.Apply(BatchNorm(Name("bn")), y)
	z = blk.Apply(Activate(ReLU, Name("relu")), z)
	z = blk.Apply(Add(), x, z)
	z = b.Apply(GlobalAvgPool2D(), z)
	z = b.Apply(Dense(2, Activation(Softmax)), z)
	add(b.Model(z))
	add(modernSpecModel())
	return out
}

// FuzzUnmarshalSpec feeds arbitrary JSON to the model-spec decoder. A spec either is an
// error or builds a model that stays within the size limits, survives a round trip through
// MarshalSpec unchanged, and compiles and runs a training step without panicking.
//
//	go test -run '^$' -fuzz '^FuzzUnmarshalSpec$' -fuzztime 1m ./nn
func FuzzUnmarshalSpec(f *testing.F) {
	for _, s := range specSeeds(f) {
		f.Add(s)
	}
	// Keep the fuzzer fast: the real limits allow models of a gigabyte, and the fuzzer
	// would spend its time drawing their initial weights. The checks are the same code.
	defer setLimits(1<<20, 1<<18)()
	f.Fuzz(func(t *testing.T, js []byte) {
		m, err := UnmarshalSpec(js)
		if err != nil {
			return
		}
		checkBuiltModel(t, m)
	})
}

// checkBuiltModel checks what every model built from a spec must satisfy.
func checkBuiltModel(t *testing.T, m *Model) {
	t.Helper()
	total := 0
	for _, p := range m.Params() {
		total += p.Size()
	}
	if total > maxParams {
		t.Fatalf("model has %d parameters, over the limit of %d", total, maxParams)
	}
	for _, n := range m.nodes {
		if s := n.out.Size(); s <= 0 || s > maxExampleValues {
			t.Fatalf("%v: output %v of %d values is outside (0, %d]", n, n.out, s, maxExampleValues)
		}
	}
	js2, err := m.MarshalSpec()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := UnmarshalSpec(js2)
	if err != nil {
		t.Fatalf("a model's own spec does not decode: %v\n%s", err, js2)
	}
	js3, _ := m2.MarshalSpec()
	if !bytes.Equal(js2, js3) {
		t.Fatalf("spec changed on a round trip:\n%s\n%s", js2, js3)
	}
	if m.Summary() != m2.Summary() {
		t.Fatalf("summaries differ:\n%s\n%s", m.Summary(), m2.Summary())
	}
	// Compiling and running may fail (a frozen model cannot train, a feature extractor
	// has no loss) but must not panic.
	for _, mode := range []Mode{Eval, Train} {
		gr, err := m.Compile(2, mode)
		if err != nil {
			continue
		}
		x := tensor.New(tensor.WithShape(append(tensor.Shape{2}, m.InputShape()...)...), tensor.Of(tensor.Float32))
		var labels []int
		if out := m.OutputShape(); len(out) == 1 {
			labels = []int{0, out[0] - 1}
		}
		_ = gr.Run(x, labels)
	}
}

// FuzzLayerConfig builds one layer of every type from fuzzed numbers, as a spec would
// carry them (no options to check them first), on a fuzzed input, followed by a small
// classifier, and checks the model as [FuzzUnmarshalSpec] does. Byte mutations of JSON
// rarely reach the numbers; this goes straight at them.
//
//	go test -run '^$' -fuzz '^FuzzLayerConfig$' -fuzztime 1m ./nn
func FuzzLayerConfig(f *testing.F) {
	kindNames := make([]string, 0, len(kinds))
	for k := range kinds {
		if k != "InputLayer" {
			kindNames = append(kindNames, k)
		}
	}
	sort.Strings(kindNames)
	pads := []PaddingMode{"", Valid, Same, Explicit, "reflect"}
	acts := []ActivationFn{"", Linear, ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, "mish", ReLU6, ELU, GELU, Swish}
	//      kind, h, w, c, image, k0, k1, s0, s1, d0, d1, pad, p0, p1, p2, p3, units, act, rate
	f.Add(uint8(1), 8, 8, 1, true, 3, 3, 1, 1, 1, 1, uint8(2), 0, 0, 0, 0, 4, uint8(2), 0.0)
	f.Add(uint8(4), 7, 5, 2, true, 2, 3, 2, 1, 1, 1, uint8(3), 1, 0, 1, 2, 0, uint8(0), 0.0)
	f.Add(uint8(3), 9, 1, 1, false, 0, 0, 0, 0, 0, 0, uint8(0), 0, 0, 0, 0, 1000000000, uint8(6), 0.5)
	f.Add(uint8(0), 1, 1, 1, true, 1, 1, 0, 0, 1, 1, uint8(4), -1, 0, 0, 0, 0, uint8(7), -1.0)
	defer setLimits(1<<20, 1<<18)()
	f.Fuzz(func(t *testing.T, kind uint8, h, w, c int, image bool, k0, k1, s0, s1, d0, d1 int,
		pad uint8, p0, p1, p2, p3, units int, act uint8, rate float64) {
		shape := []int{h}
		if image {
			shape = []int{h, w, c}
		}
		cfg := Config{Units: units, Filters: units, KernelSize: []int{k0, k1}, PoolSize: []int{k0, k1},
			Strides: []int{s0, s1}, Dilation: []int{d0, d1}, Padding: pads[int(pad)%len(pads)],
			Activation: acts[int(act)%len(acts)], Rate: rate, Momentum: rate, Epsilon: rate, Alpha: rate,
			Axis: s0, Cropping: []int{p0, p1, p2, p3}, TargetShape: []int{k0, k1, units}}
		if cfg.Padding == Explicit || pad >= 128 {
			cfg.Pads = []int{p0, p1, p2, p3}
		}
		if s0 == 0 && s1 == 0 {
			cfg.Strides = nil
		}
		if d0 == 0 && d1 == 0 {
			cfg.Dilation = nil
		}
		layers := []LayerSpec{
			{Kind: "InputLayer", Name: "input", Config: Config{Shape: shape}},
			{Kind: kindNames[int(kind)%len(kindNames)], Name: "layer", Config: cfg, Inputs: []string{"input"}},
		}
		if layers[1].Kind == "Add" {
			layers[1].Inputs = []string{"input", "input"}
		}
		m, err := FromSpec(Spec{Name: "fuzz", Layers: layers, Output: "layer"})
		if err != nil {
			return
		}
		checkBuiltModel(t, m)
		// The same layer under a classifier, so that a training step runs through it.
		layers = append(layers, LayerSpec{Kind: "Flatten", Name: "flatten", Inputs: []string{"layer"}},
			LayerSpec{Kind: "Dense", Name: "head", Config: Config{Units: 3, Activation: Softmax}, Inputs: []string{"flatten"}})
		if m, err = FromSpec(Spec{Name: "fuzz", Layers: layers, Output: "head"}); err == nil {
			checkBuiltModel(t, m)
		}
	})
}

// setLimits lowers the model size limits for a test and returns the function that
// restores them.
func setLimits(params, example int) func() {
	p, e := maxParams, maxExampleValues
	maxParams, maxExampleValues = params, example
	return func() { maxParams, maxExampleValues = p, e }
}
