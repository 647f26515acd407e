package kernels

import (
	"math"
	"runtime"
	"slices"
	"testing"
)

// biasGradChannels over any cut of the channels gives the whole call's bits.
func TestBiasGradChannels(t *testing.T) {
	const n, c, inner = 3, 7, 50
	r := newRand()
	dy, _ := roundTo[float32](randSlice(r, n*c*inner))
	want := make([]float32, c)
	biasGradChannels(n, c, inner, 0, c, dy, want)
	got := make([]float32, c)
	for _, cut := range [][2]int{{0, 3}, {3, 4}, {4, 7}} {
		biasGradChannels(n, c, inner, cut[0], cut[1], dy, got)
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// BiasGrad is within rounding of a float64 sum and the same bit for bit on any number of
// threads, with batches that do not fill the last chunk of images.
func TestBiasGradIndependentOfThreads(t *testing.T) {
	for _, n := range []int{1, 13, 32} {
		const c, inner = 5, 1000
		r := newRand()
		dy, dy64 := roundTo[float32](randSlice(r, n*c*inner))
		var first []float32
		for _, procs := range []int{1, 2, 3} {
			old := runtime.GOMAXPROCS(procs)
			db := make([]float32, c)
			BiasGrad(n, c, inner, dy, db)
			runtime.GOMAXPROCS(old)
			for ch := range c {
				var want float64
				for smp := range n {
					for _, v := range dy64[(smp*c+ch)*inner:][:inner] {
						want += v
					}
				}
				if d := math.Abs(float64(db[ch]) - want); d > 1e-6*float64(n*inner) {
					t.Fatalf("n %d, GOMAXPROCS=%d: db[%d] = %v, want %v", n, procs, ch, db[ch], want)
				}
			}
			if first == nil {
				first = db
			} else if !slices.Equal(db, first) {
				t.Fatalf("n %d, GOMAXPROCS=%d: %v, with 1 thread %v", n, procs, db, first)
			}
		}
	}
}
