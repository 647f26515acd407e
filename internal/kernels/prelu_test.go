package kernels

import (
	"runtime"
	"testing"
)

// refPReLU is the definition, with alpha's gradient summed in float64.
func refPReLU(n, c, inner int, x, alpha, dy []float64) (y, dx, dalpha []float64) {
	y, dx, dalpha = make([]float64, len(x)), make([]float64, len(x)), make([]float64, len(alpha))
	for r := range n * c {
		k := 0
		if len(alpha) > 1 {
			k = r % c
		}
		for i := r * inner; i < (r+1)*inner; i++ {
			if x[i] > 0 {
				y[i], dx[i] = x[i], dy[i]
			} else {
				y[i], dx[i] = alpha[k]*x[i], alpha[k]*dy[i]
				dalpha[k] += dy[i] * x[i]
			}
		}
	}
	return y, dx, dalpha
}

func TestPReLU(t *testing.T) {
	for _, s := range []struct{ n, c, inner, alphas int }{
		{3, 4, 25, 4}, {3, 4, 25, 1}, {17, 5, 1, 5}, {2, 3, 0, 3}, {20, 2, 9, 1},
	} {
		r := newRand()
		size := s.n * s.c * s.inner
		x32, x := roundTo[float32](randSlice(r, size))
		a32, a := roundTo[float32](randSlice(r, s.alphas))
		dy32, dy := roundTo[float32](randSlice(r, size))
		y, dx, da := refPReLU(s.n, s.c, s.inner, x, a, dy)
		gy, gdx, gda := nanSlice[float32](size), nanSlice[float32](size), nanSlice[float32](s.alphas)
		PReLU(s.n, s.c, s.inner, x32, a32, gy)
		PReLUBackwardInput(s.n, s.c, s.inner, x32, a32, dy32, gdx)
		PReLUBackwardAlpha(s.n, s.c, s.inner, x32, dy32, gda)
		assertClose(t, "y", gy, y, 1e-6)
		assertClose(t, "dx", gdx, dx, 1e-6)
		assertClose(t, "dalpha", gda, da, 1e-6)
		var first []float32
		for _, procs := range []int{1, 2, 3} {
			old := runtime.GOMAXPROCS(procs)
			got := make([]float32, s.alphas)
			PReLUBackwardAlpha(s.n, s.c, s.inner, x32, dy32, got)
			runtime.GOMAXPROCS(old)
			if first == nil {
				first = got
			}
			for i := range got {
				if got[i] != first[i] {
					t.Fatalf("%+v: GOMAXPROCS=%d: dalpha[%d] = %v, with 1 thread %v", s, procs, i, got[i], first[i])
				}
			}
		}
	}
}
