package kernels

import (
	"math"
	"slices"
	"testing"
)

func TestReLUBackward(t *testing.T) {
	r := newRand()
	x64 := randSlice(r, 1000)
	x64 = append(x64, 0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 1e-45, -1e-45)
	dy64 := randSlice(r, len(x64))
	t.Run("float32", func(t *testing.T) {
		x, _ := roundTo[float32](x64)
		dy, _ := roundTo[float32](dy64)
		want, got := make([]float32, len(x)), make([]float32, len(x))
		ActivateBackward(ReLU, 0, x, nil, dy, want)
		ReLUBackward(x, dy, got)
		if !slices.Equal(got, want) {
			t.Errorf("got %v\nwant %v", got, want)
		}
	})
	t.Run("float64", func(t *testing.T) {
		want, got := make([]float64, len(x64)), make([]float64, len(x64))
		ActivateBackward(ReLU, 0, x64, nil, dy64, want)
		ReLUBackward(x64, dy64, got)
		if !slices.Equal(got, want) {
			t.Errorf("got %v\nwant %v", got, want)
		}
	})
}

func BenchmarkReLUBackward(b *testing.B) {
	r := newRand()
	x, _ := roundTo[float32](randSlice(r, 32*32*28*28))
	dy, _ := roundTo[float32](randSlice(r, len(x)))
	dx := make([]float32, len(x))
	b.Run("branchy", func(b *testing.B) {
		for b.Loop() {
			ActivateBackward(ReLU, 0, x, nil, dy, dx)
		}
	})
	b.Run("masked", func(b *testing.B) {
		for b.Loop() {
			ReLUBackward(x, dy, dx)
		}
	})
}
