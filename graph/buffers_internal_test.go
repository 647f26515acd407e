package graph

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// shareNet is a small network that mixes convgraph's ops with Gorgonia's own: an
// addition that may write over an input, and the additions that Grad inserts to sum the
// gradients of a value read three times.
type shareNet struct {
	g                *G.ExprGraph
	x, labels        *G.Node
	xVal, labVal     *tensor.Dense
	logits, loss     *G.Node
	grads, roots     G.Nodes
	params, allInput []*tensor.Dense
}

func newShareNet(t *testing.T, batch int) *shareNet {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	randT := func(shape ...int) *tensor.Dense {
		d := newDense(tensor.Float64, shape...)
		for i := range f64(d) {
			f64(d)[i] = rng.Float64() - 0.5
		}
		return d
	}
	n := &shareNet{g: G.NewGraph()}
	g := n.g
	n.xVal = randT(batch, 3, 6, 6)
	n.labVal = newDense(tensor.Float64, batch)
	for i := range f64(n.labVal) {
		f64(n.labVal)[i] = float64(i % 5)
	}
	param := func(name string, shape ...int) *G.Node {
		v := randT(shape...)
		n.params = append(n.params, v)
		return G.NewTensor(g, tensor.Float64, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(v))
	}
	n.x = G.NewTensor(g, tensor.Float64, 4, G.WithShape(batch, 3, 6, 6), G.WithName("x"), G.WithValue(n.xVal))
	n.labels = G.NewVector(g, tensor.Float64, G.WithShape(batch), G.WithName("labels"), G.WithValue(n.labVal))
	w1, w2, wd, bd := param("w1", 4, 3, 3, 3), param("w2", 4, 4, 3, 3), param("wd", 4*6*6, 5), param("bd", 5)
	must := func(n *G.Node, err error) *G.Node {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	pad := Conv2DConfig{Pad: Pad{1, 1, 1, 1}}
	r1 := must(ReLU(must(Conv2D(n.x, w1, pad))))
	t2 := must(Tanh(must(Conv2D(r1, w2, pad))))
	s := must(G.Add(t2, r1)) // Gorgonia's own op
	a := must(Add(must(Sigmoid(s)), r1))
	n.logits = must(BiasAdd(must(MatMul(must(Flatten(a)), wd)), bd))
	n.loss = must(SoftmaxCrossEntropy(n.logits, n.labels))
	var err error
	if n.grads, err = G.Grad(n.loss, n.x, w1, w2, wd, bd); err != nil {
		t.Fatal(err)
	}
	n.roots = append(G.Nodes{n.logits, n.loss}, n.grads...)
	return n
}

// values copies the loss, the logits and every gradient after a run.
func (n *shareNet) values(t *testing.T) [][]float64 {
	t.Helper()
	var out [][]float64
	for _, r := range n.roots {
		switch v := r.Value().(type) {
		case *tensor.Dense:
			out = append(out, slices.Clone(f64(v)))
		case *G.F64:
			out = append(out, []float64{float64(*v)})
		default:
			t.Fatalf("%v holds %T", r, v)
		}
	}
	return out
}

// Shared buffers change no value: a machine that shares and one that does not, on the
// same graph (and so the same ops, which each machine claims before it runs), agree bit
// for bit, run after run, whichever ran last.
func TestShareBuffersChangesNoValue(t *testing.T) {
	for _, batch := range []int{1, 3} {
		n := newShareNet(t, batch)
		sub := n.g.SubgraphRoots(n.roots...)
		shared, err := NewMachine(sub, ShareBuffers(n.roots...))
		if err != nil {
			t.Fatal(err)
		}
		own, err := NewMachine(sub)
		if err != nil {
			t.Fatal(err)
		}
		st := shared.Buffers()
		t.Logf("batch %d: %+v", batch, st)
		if st.Disabled != "" || st.Shared == 0 || st.Buffers >= st.Shared {
			t.Fatalf("batch %d: nothing shared: %+v", batch, st)
		}
		if own.Buffers() != (BufferStats{}) {
			t.Errorf("a machine without ShareBuffers has a plan: %+v", own.Buffers())
		}
		if !slices.ContainsFunc(shared.Instructions(), func(s string) bool { return strings.HasPrefix(strings.Fields(s)[1], "+") }) {
			t.Error("no Gorgonia addition in the program: the aliasing rules are not exercised")
		}
		rng := rand.New(rand.NewPCG(9, 9))
		for run := range 4 {
			for i := range f64(n.xVal) {
				f64(n.xVal)[i] = rng.Float64() - 0.5
			}
			first, second := shared, own
			if run%2 == 1 {
				first, second = own, shared
			}
			if err := first.Run(); err != nil {
				t.Fatal(err)
			}
			a := n.values(t)
			if err := second.Run(); err != nil {
				t.Fatal(err)
			}
			b := n.values(t)
			for i := range a {
				if !slices.Equal(a[i], b[i]) {
					t.Errorf("batch %d, run %d: %v differs:\n%v\n%v", batch, run, n.roots[i], a[i], b[i])
				}
			}
		}
	}
}

// A plan belongs to its machine: a forward-only machine's plan lets activations die
// early, and a machine that runs the same ops with their gradients afterwards must not
// follow it (gradient checks run such machines on a model's graph).
func TestShareBuffersBelongToTheirMachine(t *testing.T) {
	n, ref := newShareNet(t, 2), newShareNet(t, 2)
	fwd, err := NewMachine(n.g.SubgraphRoots(n.loss), ShareBuffers(n.loss))
	if err != nil {
		t.Fatal(err)
	}
	if st := fwd.Buffers(); st.Disabled != "" || st.Shared == 0 {
		t.Fatalf("forward machine shares nothing: %+v", st)
	}
	full, err := NewMachine(n.g.SubgraphRoots(n.roots...))
	if err != nil {
		t.Fatal(err)
	}
	refm, err := NewMachine(ref.g.SubgraphRoots(ref.roots...))
	if err != nil {
		t.Fatal(err)
	}
	if err := refm.Run(); err != nil {
		t.Fatal(err)
	}
	want := ref.values(t)
	for run := range 2 {
		for _, m := range []*Machine{fwd, full} {
			if err := m.Run(); err != nil {
				t.Fatal(err)
			}
		}
		got := n.values(t)
		for i := range want {
			if !slices.Equal(got[i], want[i]) {
				t.Errorf("run %d: %v differs after the forward machine ran:\n%v\n%v", run, n.roots[i], got[i], want[i])
			}
		}
	}
}

// Replaying a plan over its program: no op writes a buffer that a value still to be read
// lives in, and none writes the buffer of one of its own inputs.
func TestSharePlanKeepsValuesAlive(t *testing.T) {
	n := newShareNet(t, 2)
	sub := n.g.SubgraphRoots(n.roots...)
	m, err := NewMachine(sub)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := program(m.tm, sub)
	if err != nil {
		t.Fatal(err)
	}
	replayPlan(t, steps, n.roots)
}

// A Gorgonia op's value may be memory of ours: its input's (UnsafeDo) or its register's
// earlier value (UsePreallocDo, which the gradient sums use). Programs written by hand
// put the next op of ours where it would take that buffer if the planner forgot.
func TestSharePlanFollowsGorgoniaAliases(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 2, G.WithShape(4, 8), G.WithName("x"), G.WithValue(newDense(tensor.Float32, 4, 8)))
	var ours []*G.Node
	for _, f := range []func(*G.Node) (*G.Node, error){ReLU, Tanh, Sigmoid, Softmax} {
		n, err := f(x)
		if err != nil {
			t.Fatal(err)
		}
		ours = append(ours, n)
	}
	a, b, c, d := ours[0], ours[1], ours[2], ours[3]
	gadd := G.Must(G.Add(a, x))
	const rx, ra, rb, rc, rd, rf = 0, 1, 2, 3, 4, 5
	load := step{kind: stepLoad, node: x, writes: rx}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"writing over its input", []step{load,
			{kind: stepExec, node: a, reads: []int{rx}, writes: ra},
			{kind: stepExec, node: gadd, reads: []int{ra, rx}, writes: ra},
			{kind: stepExec, node: b, reads: []int{rx}, writes: rb},
			{kind: stepExec, node: c, reads: []int{ra, rb}, writes: rc},
		}},
		{"returning its input", []step{load,
			{kind: stepExec, node: a, reads: []int{rx}, writes: ra},
			{kind: stepExec, node: gadd, reads: []int{ra, rx}, writes: rf},
			{kind: stepExec, node: b, reads: []int{rx}, writes: rb},
			{kind: stepExec, node: c, reads: []int{rf, rb}, writes: rc},
		}},
		{"writing over its register's earlier value", []step{load,
			{kind: stepExec, node: a, reads: []int{rx}, writes: ra},
			{kind: stepExec, node: b, reads: []int{ra}, writes: rb},
			{kind: stepExec, node: gadd, reads: []int{rx}, writes: ra},
			{kind: stepExec, node: c, reads: []int{rx}, writes: rc},
			{kind: stepExec, node: d, reads: []int{ra, rb, rc}, writes: rd},
		}},
	} {
		bufs, st := plan(tc.steps, nil)
		if st.Disabled != "" {
			t.Fatalf("%s: %s", tc.name, st.Disabled)
		}
		ba := bufs[opBase(a)]
		if ba == nil {
			t.Fatalf("%s: a shares nothing", tc.name)
		}
		for _, n := range []*G.Node{b, c, d} {
			if bufs[opBase(n)] == ba {
				t.Errorf("%s: %v takes a's buffer, which the Gorgonia op's value lives in", tc.name, n)
			}
		}
		replayPlan(t, tc.steps, nil)
	}
}

func opBase(n *G.Node) *baseOp { return n.Op().(interface{ base() *baseOp }).base() }

// replayPlan plans steps and replays the program, tracking which value each buffer holds:
// every value read must still hold its buffers, and no op may write a buffer it reads.
// A Gorgonia op's value is taken to live in every buffer of the values it read and of its
// register's earlier value.
func replayPlan(t *testing.T, steps []step, keep []*G.Node) {
	t.Helper()
	bufs, st := plan(steps, keep)
	if st.Disabled != "" || st.Shared == 0 {
		t.Fatalf("nothing shared: %+v", st)
	}
	type holder = map[*buffer]*baseOp
	holds := holder{}
	in := map[int]holder{} // register -> the buffers its value lives in, with their owners
	for t0, s := range steps {
		switch s.kind {
		case stepLoad, stepAlloc:
			in[s.writes] = holder{}
			continue
		case stepNone:
			continue
		}
		lives := holder{}
		for _, r := range s.reads {
			for b, op := range in[r] {
				if holds[b] != op {
					t.Errorf("step %d (%v) reads a value whose buffer another op has overwritten", t0, s.node)
				}
				lives[b] = op
			}
		}
		bo, ours := s.node.Op().(interface{ base() *baseOp })
		if !ours {
			for b, op := range in[s.writes] {
				lives[b] = op
			}
			in[s.writes] = lives
			continue
		}
		b := bufs[bo.base()]
		if b == nil {
			in[s.writes] = holder{}
			continue
		}
		if _, reads := lives[b]; reads {
			t.Errorf("step %d (%v) writes the buffer of one of its inputs", t0, s.node)
		}
		holds[b] = bo.base()
		in[s.writes] = holder{b: bo.base()}
	}
}

// The planner refuses what it does not know instead of guessing.
func TestSharePlanRefusesUnknownPrograms(t *testing.T) {
	_, st := plan([]step{{kind: stepExec, node: G.NewScalar(G.NewGraph(), tensor.Float64, G.WithName("a")), reads: []int{7}, writes: 0}}, nil)
	if st.Disabled == "" {
		t.Error("a read of a register nothing wrote was planned")
	}
}
