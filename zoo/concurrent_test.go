package zoo_test

import (
	"fmt"
	"sync"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/internal/kernels"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

// images returns n test images of the bundled sample, normalised as in training, as one
// NHWC slice.
func sampleImages(t testing.TB, n int) []float32 {
	t.Helper()
	s, err := data.Sample("fashion-mnist")
	if err != nil {
		t.Fatal(err)
	}
	size := s.Test.ImageSize()
	x := make([]float32, n*size)
	for i := 0; i < n; i++ {
		data.Normalization{}.Apply(x[i*size:(i+1)*size], s.Test.Image(i), 1)
	}
	return x
}

func batchOf(x []float32, size, lo, hi int) *tensor.Dense {
	return tensor.New(tensor.WithShape(hi-lo, 28, 28, 1), tensor.WithBacking(x[lo*size:hi*size]))
}

// An image's result does not depend on the batch it runs in: batch 1 and batch 64 agree
// bit for bit, on the go+asm and gonum compute paths (OpenBLAS picks different kernels
// for different matrix shapes, so its last bits may differ). Serving leans on it:
// micro-batching puts a request's images in batches with other clients' images.
func TestPredictIndependentOfBatch(t *testing.T) {
	if kernels.Backend() == kernels.PathOpenBLAS {
		t.Skip("OpenBLAS's results depend on the matrix shapes")
	}
	for _, name := range []string{"fashion-cnn", "resnet-small"} {
		m, _, err := zoo.Pretrained(name)
		if err != nil {
			t.Fatal(err)
		}
		const n = 64
		x := sampleImages(t, n)
		all, err := m.Predict(batchOf(x, 784, 0, n))
		if err != nil {
			t.Fatal(err)
		}
		k := all.Shape()[1]
		for i := 0; i < n; i++ {
			one, err := m.Predict(batchOf(x, 784, i, i+1))
			if err != nil {
				t.Fatal(err)
			}
			got, want := one.Float32s(), all.Float32s()[i*k:(i+1)*k]
			for c := range got {
				if got[c] != want[c] {
					t.Fatalf("%s: image %d class %d: %v alone, %v in a batch of %d", name, i, c, got[c], want[c], n)
				}
			}
		}
	}
}

// callsPerGoroutine is how many predictions each goroutine makes.
func callsPerGoroutine() int {
	if testing.Short() {
		return 100
	}
	return 1000
}

// Eight goroutines share one pretrained model and make 1,000 predictions each (100 with
// -short) through every inference entry point (train.Predict, Model.Predict, graphs lent
// by Model.Acquire, a Predictor), while two more compile graphs; every result equals,
// bit for bit, the same call made serially beforehand. Under -race (CI), this is also
// the proof that no state is shared unguarded between concurrent runs: graph buffers,
// the kernels' scratch and helper pool, the tensor engine, the compile cache.
func TestConcurrentPredictMatchesSerial(t *testing.T) {
	for _, name := range []string{"fashion-cnn", "resnet-small"} {
		t.Run(name, func(t *testing.T) { checkConcurrentPredict(t, name) })
	}
}

// call is one prediction: images [lo, lo+n) of the sample through entry point way.
type call struct{ way, lo, n int }

func (c call) String() string {
	return fmt.Sprintf("%s on images %d..%d", [...]string{"train.Predict", "Model.Predict", "Acquire+Run", "Predictor"}[c.way], c.lo, c.lo+c.n-1)
}

func checkConcurrentPredict(t *testing.T, name string) {
	m, _, err := zoo.Pretrained(name)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := nn.NewPredictor(m)
	if err != nil {
		t.Fatal(err)
	}
	const images = 24
	x := sampleImages(t, images)
	run := func(c call) ([]float32, error) {
		b := batchOf(x, 784, c.lo, c.lo+c.n)
		switch c.way {
		case 0:
			ps, err := train.Predict(m, x[c.lo*784:(c.lo+c.n)*784], c.n)
			if err != nil {
				return nil, err
			}
			var out []float32
			for _, p := range ps {
				for _, v := range p.Probs {
					out = append(out, float32(v))
				}
			}
			return out, nil
		case 1:
			out, err := m.Predict(b)
			if err != nil {
				return nil, err
			}
			return out.Float32s(), nil
		case 2:
			gr, err := m.Acquire(c.n)
			if err != nil {
				return nil, err
			}
			defer m.Release(gr)
			if err := gr.Run(b, nil); err != nil {
				return nil, err
			}
			return append([]float32(nil), gr.Output().Float32s()...), nil
		default:
			out, err := pr.Predict(b)
			if err != nil {
				return nil, err
			}
			return out.Float32s(), nil
		}
	}
	// Each goroutine cycles through its own list of calls: batches of 1 to 3 images, every
	// entry point.
	const goroutines = 8
	plan := make([][]call, goroutines)
	want := map[call][]float32{}
	for g := range plan {
		for j := 0; j < 6; j++ {
			c := call{way: (g + j) % 4, n: 1 + (g*7+j)%3}
			c.lo = (g*5 + j*3) % (images - c.n + 1)
			plan[g] = append(plan[g], c)
			if _, ok := want[c]; !ok {
				out, err := run(c)
				if err != nil {
					t.Fatal(err)
				}
				want[c] = out
			}
		}
	}
	calls := callsPerGoroutine()
	var wg sync.WaitGroup
	// Two more goroutines compile graphs meanwhile: new batch sizes in both modes, and
	// cached ones.
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 1; b <= 6; b++ {
				for _, mode := range []nn.Mode{nn.Eval, nn.Train} {
					if _, err := m.Compile(b, mode); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	var work sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		work.Add(1)
		go func() {
			defer work.Done()
			for i := 0; i < calls; i++ {
				c := plan[g][i%len(plan[g])]
				got, err := run(c)
				if err != nil {
					t.Errorf("goroutine %d, call %d (%v): %v", g, i, c, err)
					return
				}
				if !equalBits(got, want[c]) {
					t.Errorf("goroutine %d, call %d (%v): %v; serially %v", g, i, c, got, want[c])
					return
				}
			}
		}()
	}
	work.Wait()
	wg.Wait()
}

func equalBits(a, b []float32) bool {
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
