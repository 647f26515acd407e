package kernels

import (
	"math"
	"testing"
)

// The bit-masked ReLU6 gradient passes dy exactly where 0 < x < 6: not at either kink,
// not for NaN or the infinities.
func TestReLU6BackwardMask(t *testing.T) {
	x := []float32{-1, 0, float32(math.Copysign(0, -1)), 1e-30, 3, 5.9999995, 6, 6.5, float32(math.NaN()),
		float32(math.Inf(1)), float32(math.Inf(-1))}
	dy := make([]float32, len(x))
	for i := range dy {
		dy[i] = float32(i) + 0.5
	}
	dx := make([]float32, len(x))
	ActivateBackward(ReLU6, 0, x, nil, dy, dx)
	x64, dy64, dx64 := make([]float64, len(x)), make([]float64, len(x)), make([]float64, len(x))
	for i := range x {
		x64[i], dy64[i] = float64(x[i]), float64(dy[i])
	}
	ActivateBackward(ReLU6, 0, x64, nil, dy64, dx64)
	for i, v := range x {
		want := float32(0)
		if v > 0 && v < 6 {
			want = dy[i]
		}
		if dx[i] != want || float32(dx64[i]) != want {
			t.Errorf("x %v: dx %v (float64 %v); want %v", v, dx[i], dx64[i], want)
		}
	}
}
