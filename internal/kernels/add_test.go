package kernels

import (
	"math"
	"testing"
)

// Add matches a plain loop bit for bit (TestMain runs it on every compute path), at lengths that split over
// the cores and end in a masked tail, and when it writes over one of its inputs.
func TestAdd(t *testing.T) {
	r := newRand()
	for _, n := range []int{0, 1, 15, 17, MinSplit*3 + 5} {
		a, _ := roundTo[float32](randSlice(r, n))
		b, _ := roundTo[float32](randSlice(r, n))
		want := make([]float32, n)
		for i := range want {
			want[i] = a[i] + b[i]
		}
		y := make([]float32, n)
		Add(a, b, y)
		Add(a, b, a) // in place
		for i := range want {
			if math.Float32bits(y[i]) != math.Float32bits(want[i]) || math.Float32bits(a[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n %d: element %d = %v (in place %v), want %v", n, i, y[i], a[i], want[i])
			}
		}
		a64, _ := roundTo[float64](randSlice(r, n))
		y64 := make([]float64, n)
		Add(a64, a64, y64)
		for i := range y64 {
			if y64[i] != 2*a64[i] {
				t.Fatalf("float64, n %d: element %d = %v, want %v", n, i, y64[i], 2*a64[i])
			}
		}
	}
}
