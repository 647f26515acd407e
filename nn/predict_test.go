package nn_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
)

// Compile called from many goroutines at once builds one graph per key: every caller of a
// key gets the same *Graph, and different keys build side by side (under -race in CI).
func TestConcurrentCompileBuildsOncePerKey(t *testing.T) {
	m := courseCNN(t)
	type key struct {
		batch int
		mode  nn.Mode
	}
	const goroutines = 12
	got := make([]map[key]*nn.Graph, goroutines)
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[g] = map[key]*nn.Graph{}
			for i := 0; i < 6; i++ {
				k := key{1 + (g+i)%3, nn.Mode((g + i) % 2)}
				gr, err := m.Compile(k.batch, k.mode)
				if err != nil {
					t.Error(err)
					return
				}
				got[g][k] = gr
			}
		}()
	}
	wg.Wait()
	seen := map[key]*nn.Graph{}
	for _, gs := range got {
		for k, gr := range gs {
			if first, ok := seen[k]; ok && first != gr {
				t.Errorf("batch %d, %v: two graphs for one key", k.batch, k.mode)
			}
			seen[k] = gr
		}
	}
	if len(seen) != 6 {
		t.Errorf("%d keys compiled; want 6", len(seen))
	}
	// The cache keeps serving them.
	for k, gr := range seen {
		if again, _ := m.Compile(k.batch, k.mode); again != gr {
			t.Errorf("batch %d, %v: recompiled", k.batch, k.mode)
		}
	}
}

// Acquire lends a graph to one caller at a time, never the one Compile caches, and takes
// it back for the next caller.
func TestAcquireLendsGraphsOfItsOwn(t *testing.T) {
	m := courseCNN(t)
	cached, err := m.Compile(2, nn.Eval)
	if err != nil {
		t.Fatal(err)
	}
	a, err := m.Acquire(2)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Acquire(2)
	if err != nil {
		t.Fatal(err)
	}
	if a == cached || b == cached || a == b {
		t.Fatal("Acquire lent a graph someone else holds")
	}
	if a.Mode() != nn.Eval || a.Batch() != 2 {
		t.Fatalf("Acquire(2) gave a %v graph of batch %d", a.Mode(), a.Batch())
	}
	m.Release(a)
	c, err := m.Acquire(2)
	if err != nil {
		t.Fatal(err)
	}
	if c != a {
		t.Error("a released graph was not reused")
	}
	m.Release(b)
	m.Release(c)
	m.Release(cached) // not lent: ignored
	if _, err := m.Acquire(0); err == nil {
		t.Error("Acquire(0) succeeded")
	}
}

// Predict splits any batch into runs of at most DefaultMaxBatch, and an example's result
// is what a graph run of its own gives.
func TestPredictMatchesGraphRuns(t *testing.T) {
	m := courseCNN(t)
	const n = 70 // 64 + 4 + 2
	x, _ := randomBatch(tensor.Float32, 3, n, 28, 28, 1)
	out, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Shape().Eq(tensor.Shape{n, 10}) {
		t.Fatalf("shape %v", out.Shape())
	}
	gr, err := m.Compile(n, nn.Eval)
	if err != nil {
		t.Fatal(err)
	}
	if err := gr.Run(x, nil); err != nil {
		t.Fatal(err)
	}
	want, got := gr.Output().Float32s(), out.Float32s()
	for i := range want {
		if d := want[i] - got[i]; d > 1e-6 || d < -1e-6 {
			t.Fatalf("value %d: %v; one batch of %d gives %v", i, got[i], n, want[i])
		}
	}
	// The caller owns the result: another call does not touch it.
	keep := append([]float32(nil), got...)
	if _, err := m.Predict(x); err != nil {
		t.Fatal(err)
	}
	for i := range keep {
		if keep[i] != got[i] {
			t.Fatal("a later Predict changed an earlier result")
		}
	}
}

func TestPredictChecksItsInput(t *testing.T) {
	m := courseCNN(t)
	for _, tc := range []struct {
		x    tensor.Tensor
		want string
	}{
		{nil, "no input"},
		{tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(1, 28, 28, 3)), "want (n, 28, 28, 1)"},
		{tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(28, 28, 1)), "want (n, 28, 28, 1)"},
		{tensor.New(tensor.Of(tensor.Int), tensor.WithShape(1, 28, 28, 1)), "not float32 or float64"},
	} {
		_, err := m.Predict(tc.x)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"fashion-cnn"`) {
			t.Errorf("Predict(%v): %v; want an error naming the model and saying %q", tc.x, err, tc.want)
		}
	}
}

// A Predictor serves a snapshot: changing the model afterwards does not reach it.
func TestPredictorIsASnapshot(t *testing.T) {
	m := courseCNN(t)
	x, _ := randomBatch(tensor.Float32, 5, 3, 28, 28, 1)
	before, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	p, err := nn.NewPredictor(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Initialize(99); err != nil {
		t.Fatal(err)
	}
	after, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := p.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if equal32(after.Float32s(), before.Float32s()) {
		t.Fatal("re-initializing did not change the model's predictions")
	}
	if !equal32(snap.Float32s(), before.Float32s()) {
		t.Error("the Predictor saw the model change")
	}
	if p.Name() != "fashion-cnn" || fmt.Sprint(p.InputShape()) != "(None, 28, 28, 1)" || fmt.Sprint(p.OutputShape()) != "(None, 10)" {
		t.Errorf("predictor %q: %v -> %v", p.Name(), p.InputShape(), p.OutputShape())
	}
}

// OutputLayer gives a layer's feature maps in Keras's order (n, height, width, channels).
func TestPredictorOutputLayer(t *testing.T) {
	m := courseCNN(t)
	p, err := nn.NewPredictor(m, nn.OutputLayer("conv2d"))
	if err != nil {
		t.Fatal(err)
	}
	x, _ := randomBatch(tensor.Float32, 7, 2, 28, 28, 1)
	out, err := p.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Shape().Eq(tensor.Shape{2, 28, 28, 32}) {
		t.Fatalf("feature maps of shape %v", out.Shape())
	}
	// Against the graph's own NCHW output.
	spec := m.Spec()
	spec.Output = "conv2d"
	fm, err := nn.FromSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range fm.Params() {
		if err := tensor.Copy(q.Value, m.Param(q.Name).Value); err != nil {
			t.Fatal(err)
		}
	}
	gr, err := fm.Compile(2, nn.Eval)
	if err != nil {
		t.Fatal(err)
	}
	if err := gr.Run(x, nil); err != nil {
		t.Fatal(err)
	}
	nchw, nhwc := gr.Output().Float32s(), out.Float32s()
	for i := 0; i < 2; i++ {
		for c := 0; c < 32; c++ {
			for pix := 0; pix < 28*28; pix++ {
				if a, b := nchw[(i*32+c)*784+pix], nhwc[(i*784+pix)*32+c]; a != b {
					t.Fatalf("image %d channel %d pixel %d: %v, graph %v", i, c, pix, b, a)
				}
			}
		}
	}
	if _, err := nn.NewPredictor(m, nn.OutputLayer("nope")); err == nil || !strings.Contains(err.Error(), `no layer "nope"`) {
		t.Errorf("unknown output layer: %v", err)
	}
	if _, err := nn.NewPredictor(m, nn.MaxBatch(-1)); err == nil {
		t.Error("MaxBatch(-1) accepted")
	}
}

func equal32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
