package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
)

// bufferModel uses every kind of layer: convolutions, both poolings, batch normalisation,
// dropout, every activation, a residual join and two heads added together.
func bufferModel(t *testing.T) *Model {
	t.Helper()
	b := NewBuilder("buffers")
	x := b.Input(8, 8, 3)
	y := b.Apply(Conv2D(4, 3, Padding(Same), Activation(ReLU)), x)
	y = b.Apply(MaxPool2D(2), y)
	z := b.Apply(Conv2D(4, 3, Padding(Same), UseBias(false)), y)
	z = b.Apply(BatchNorm(), z)
	z = b.Apply(Activate(LeakyReLU), z)
	z = b.Apply(Add(), z, y)
	z = b.Apply(Activate(Tanh), z)
	a := b.Apply(AvgPool2D(2, Padding(Same)), z)
	g := b.Apply(GlobalAvgPool2D(), a)
	f := b.Apply(Flatten(), a)
	f = b.Apply(Dense(6, Activation(Sigmoid)), f)
	f = b.Apply(Dropout(0.5), f)
	f = b.Apply(Dense(4), f)
	g = b.Apply(Dense(4), g)
	out := b.Apply(Add(), f, g)
	out = b.Apply(Activate(Softmax), out)
	m, err := b.Model(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Initialize(1); err != nil {
		t.Fatal(err)
	}
	return m
}

// Ops write into the output tensors of the previous run (graph's baseOp.output). Poisoning
// every computed value with NaN between two identical runs proves that each op overwrites
// its whole output: the second run must reproduce the first bit for bit.
func TestReusedBuffersAreOverwritten(t *testing.T) {
	m := bufferModel(t)
	for _, mode := range []Mode{Train, Eval} {
		t.Run(mode.String(), func(t *testing.T) {
			const batch = 3
			gr, err := m.Compile(batch, mode)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 1))
			xs := make([]float32, batch*8*8*3)
			for i := range xs {
				xs[i] = rng.Float32()
			}
			in := tensor.New(tensor.WithShape(batch, 8, 8, 3), tensor.WithBacking(xs))
			labels := []int{0, 3, 1}
			run := func() (loss float64, vals [][]float32) {
				gr.SetStep(7)
				if err := gr.Run(in, labels); err != nil {
					t.Fatal(err)
				}
				vals = append(vals, slices.Clone(gr.Output().Data().([]float32)))
				for _, p := range gr.GradParams() {
					vals = append(vals, slices.Clone(gr.Grad(p.Name).Data().([]float32)))
				}
				return gr.Loss(), vals
			}
			loss1, vals1 := run()
			bound := map[any]bool{gr.inVal: true, gr.labVal: true}
			for _, pn := range gr.params { // the graph's own headers over the parameters
				bound[pn.Value()] = true
			}
			poisoned := 0
			for _, n := range gr.g.AllNodes() {
				d, ok := n.Value().(*tensor.Dense)
				if !ok || bound[d] {
					continue
				}
				if s, ok := d.Data().([]float32); ok {
					for i := range s {
						s[i] = float32(math.NaN())
					}
					poisoned++
				}
			}
			if poisoned < 10 {
				t.Fatalf("only %d values poisoned", poisoned)
			}
			loss2, vals2 := run()
			if loss1 != loss2 {
				t.Errorf("loss %v, then %v after poisoning", loss1, loss2)
			}
			for i := range vals1 {
				if !slices.Equal(vals1[i], vals2[i]) {
					t.Errorf("value %d differs after poisoning the reused buffers:\n%v\n%v", i, vals1[i], vals2[i])
				}
			}
		})
	}
}

// Every layer kind's ops share buffers in both modes, leaving what the accessors read to
// themselves, and the values are those of a machine that shares nothing on the same graph.
func TestSharedBuffersMatchOwnBuffers(t *testing.T) {
	m := bufferModel(t)
	for _, mode := range []Mode{Train, Eval} {
		for _, batch := range []int{1, 7} {
			gr, err := m.Compile(batch, mode)
			if err != nil {
				t.Fatal(err)
			}
			st := gr.Buffers()
			if st.Disabled != "" || st.Shared == 0 || st.Buffers >= st.Shared {
				t.Fatalf("%v batch %d: %+v", mode, batch, st)
			}
			if most := 3 + len(gr.grads); st.Own > most {
				t.Errorf("%v batch %d: %d ops keep their output; want at most %d (output, logits, loss, gradients)", mode, batch, st.Own, most)
			}
			own, err := graph.NewMachine(gr.g)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(uint64(batch), 2))
			xs := make([]float32, batch*8*8*3)
			labels := make([]int, batch)
			in := tensor.New(tensor.WithShape(batch, 8, 8, 3), tensor.WithBacking(xs))
			snapshot := func() (vals [][]float32) {
				vals = append(vals, slices.Clone(gr.Output().Data().([]float32)), slices.Clone(gr.Logits().Data().([]float32)),
					[]float32{float32(gr.Loss())})
				for _, p := range gr.GradParams() {
					vals = append(vals, slices.Clone(gr.Grad(p.Name).Data().([]float32)))
				}
				return vals
			}
			for run := range 3 {
				for i := range xs {
					xs[i] = rng.Float32()
				}
				for i := range labels {
					labels[i] = rng.IntN(4)
				}
				gr.SetStep(uint64(run))
				if err := gr.Run(in, labels); err != nil {
					t.Fatal(err)
				}
				shared := snapshot()
				gr.SetStep(uint64(run)) // the run advanced it; the other machine must draw the same masks
				if err := own.Run(); err != nil {
					t.Fatal(err)
				}
				for i, v := range snapshot() {
					if !slices.Equal(shared[i], v) {
						t.Errorf("%v batch %d run %d: value %d differs with shared buffers:\n%v\n%v", mode, batch, run, i, shared[i], v)
					}
				}
			}
		}
	}
}
