package kernels

import (
	"slices"
	"testing"
)

func TestBiasGradChannels(t *testing.T) {
	const n, c, inner = 3, 7, 50
	r := newRand()
	dy, _ := roundTo[float32](randSlice(r, n*c*inner))
	want := make([]float32, c)
	BiasGrad(n, c, inner, dy, want)
	got := make([]float32, c)
	for _, cut := range [][2]int{{0, 3}, {3, 4}, {4, 7}} {
		BiasGradChannels(n, c, inner, cut[0], cut[1], dy, got)
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
