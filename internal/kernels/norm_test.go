package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// The reference kernels below are the single-threaded loops the normalisation kernels
// replaced. The kernels must match them bit for bit on any number of threads: training
// runs are reproducible across machines and thread counts only if every sum keeps its
// order.

func refMoments[T Float](n, c, inner int, x []T, mean, variance []float64) {
	m := float64(n * inner)
	for ch := 0; ch < c; ch++ {
		var s float64
		for smp := 0; smp < n; smp++ {
			off := (smp*c + ch) * inner
			for _, v := range x[off : off+inner] {
				s += float64(v)
			}
		}
		mu := s / m
		var ss float64
		for smp := 0; smp < n; smp++ {
			off := (smp*c + ch) * inner
			for _, v := range x[off : off+inner] {
				d := float64(v) - mu
				ss += d * d
			}
		}
		mean[ch], variance[ch] = mu, ss/m
	}
}

func refNormalize[T Float](n, c, inner int, x []T, mean, variance []float64, eps float64, gamma, beta, y []T) {
	for ch := 0; ch < c; ch++ {
		inv := 1 / math.Sqrt(variance[ch]+eps)
		scale := float64(gamma[ch]) * inv
		shift := float64(beta[ch]) - mean[ch]*scale
		for smp := 0; smp < n; smp++ {
			off := (smp*c + ch) * inner
			ys := y[off : off+inner]
			for i, v := range x[off : off+inner] {
				ys[i] = T(float64(v)*scale + shift)
			}
		}
	}
}

func refNormalizeGradParams[T Float](n, c, inner int, x []T, mean, variance []float64, eps float64, dy, dgamma, dbeta []T) {
	for ch := 0; ch < c; ch++ {
		inv := 1 / math.Sqrt(variance[ch]+eps)
		var sdy, sdyx float64
		for smp := 0; smp < n; smp++ {
			off := (smp*c + ch) * inner
			ds := dy[off : off+inner]
			for i, v := range x[off : off+inner] {
				sdy += float64(ds[i])
				sdyx += float64(ds[i]) * (float64(v) - mean[ch]) * inv
			}
		}
		dgamma[ch], dbeta[ch] = T(sdyx), T(sdy)
	}
}

func refNormalizeBackward[T Float](n, c, inner int, x []T, mean, variance []float64, eps float64, gamma, dy, dx []T, batch bool) {
	m := float64(n * inner)
	for ch := 0; ch < c; ch++ {
		inv := 1 / math.Sqrt(variance[ch]+eps)
		g := float64(gamma[ch]) * inv
		if !batch {
			for smp := 0; smp < n; smp++ {
				off := (smp*c + ch) * inner
				dxs := dx[off : off+inner]
				for i, v := range dy[off : off+inner] {
					dxs[i] = T(float64(v) * g)
				}
			}
			continue
		}
		var sdy, sdyx float64
		for smp := 0; smp < n; smp++ {
			off := (smp*c + ch) * inner
			ds := dy[off : off+inner]
			for i, v := range x[off : off+inner] {
				sdy += float64(ds[i])
				sdyx += float64(ds[i]) * (float64(v) - mean[ch]) * inv
			}
		}
		for smp := 0; smp < n; smp++ {
			off := (smp*c + ch) * inner
			ds, dxs := dy[off:off+inner], dx[off:off+inner]
			for i, v := range x[off : off+inner] {
				xhat := (float64(v) - mean[ch]) * inv
				dxs[i] = T(g / m * (m*float64(ds[i]) - sdy - xhat*sdyx))
			}
		}
	}
}

// normShapes are [n, c, inner] layouts: channel counts that are and are not multiples of
// the kernels' 2- and 4-channel groups, 2-D inputs (inner 1), and sizes large enough to
// be split over goroutines (resnet-small's 16-, 32- and 64-channel layers at batch 32).
var normShapes = [][3]int{
	{2, 3, 9}, {3, 5, 7}, {6, 4, 1}, {64, 10, 1}, {8, 7, 300},
	{32, 16, 28 * 28}, {32, 32, 14 * 14}, {32, 64, 7 * 7}, {5, 13, 1000},
}

// normData fills a slice with values whose sums round differently in every order: an
// offset so that the variance pass cancels, and spread magnitudes.
func normData[T Float](rng *rand.Rand, size int, offset float64) []T {
	s := make([]T, size)
	for i := range s {
		s[i] = T(offset + rng.NormFloat64()*math.Exp(rng.NormFloat64()))
	}
	return s
}

func sameBits[T Float](t *testing.T, what string, got, want []T) {
	t.Helper()
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.Float64bits(g) != math.Float64bits(w) {
			t.Fatalf("%s[%d] = %v, reference %v (%d values)", what, i, g, w, len(want))
		}
	}
}

// closeVals fails unless got is within rel of want (relative to max(1, |want|)).
func closeVals[T Float](t *testing.T, what string, got, want []T, rel float64) {
	t.Helper()
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if !(math.Abs(g-w) <= rel*max(1, math.Abs(w))) {
			t.Fatalf("%s[%d] = %v, reference %v (%d values)", what, i, g, w, len(want))
		}
	}
}

// testNormBits checks the kernels against the reference loops: bit for bit where they
// sum in the reference order, and on the AVX-512 path (whose moments and gradient sums add
// eight lanes at a time) within rounding of it and bit for bit across thread counts.
func testNormBits[T Float](t *testing.T) {
	exact := !(isF32[T]() && avx512Kernels())
	// check compares with the reference (exactly, or within rel) and, on the AVX-512 path,
	// with what the first thread count gave.
	first := map[string][]float64{}
	check := func(t *testing.T, key, what string, got, want []float64, rel float64) {
		t.Helper()
		if exact {
			sameBits(t, what, got, want)
			return
		}
		closeVals(t, what, got, want, rel)
		if prev, ok := first[key]; ok {
			sameBits(t, what+" (against 1 thread)", got, prev)
		} else {
			first[key] = append([]float64(nil), got...)
		}
	}
	asF64 := func(s []T) []float64 {
		out := make([]float64, len(s))
		for i, v := range s {
			out[i] = float64(v)
		}
		return out
	}
	for si, sh := range normShapes {
		n, c, inner := sh[0], sh[1], sh[2]
		rng := rand.New(rand.NewPCG(uint64(si), 7))
		x, dy := normData[T](rng, n*c*inner, 3), normData[T](rng, n*c*inner, 0.1)
		gamma, beta := normData[T](rng, c, 1), normData[T](rng, c, 0)
		const eps = 1e-3

		wantMean, wantVar := make([]float64, c), make([]float64, c)
		refMoments(n, c, inner, x, wantMean, wantVar)
		wantY := make([]T, len(x))
		refNormalize(n, c, inner, x, wantMean, wantVar, eps, gamma, beta, wantY)
		wantDg, wantDb := make([]T, c), make([]T, c)
		refNormalizeGradParams(n, c, inner, x, wantMean, wantVar, eps, dy, wantDg, wantDb)
		wantDx, wantDxInfer := make([]T, len(x)), make([]T, len(x))
		refNormalizeBackward(n, c, inner, x, wantMean, wantVar, eps, gamma, dy, wantDx, true)
		refNormalizeBackward(n, c, inner, x, wantMean, wantVar, eps, gamma, dy, wantDxInfer, false)

		for _, procs := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("%dx%dx%d/GOMAXPROCS=%d", n, c, inner, procs), func(t *testing.T) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				mean, variance := make([]float64, c), make([]float64, c)
				key := fmt.Sprint(sh)
				Moments(n, c, inner, x, mean, variance)
				check(t, key+"mean", "mean", mean, wantMean, 1e-12)
				check(t, key+"var", "variance", variance, wantVar, 1e-12)

				y := make([]T, len(x))
				Normalize(n, c, inner, x, mean, variance, eps, gamma, beta, y)
				check(t, key+"y", "y", asF64(y), asF64(wantY), 1e-6)

				dg, db := make([]T, c), make([]T, c)
				NormalizeGradParams(n, c, inner, x, mean, variance, eps, dy, dg, db)
				check(t, key+"dg", "dgamma", asF64(dg), asF64(wantDg), 1e-5)
				check(t, key+"db", "dbeta", asF64(db), asF64(wantDb), 1e-5)

				// The training graph's path: sums once, then dx from them; dbeta is
				// also what BiasGrad gives.
				sdy, sdyx := make([]float64, c), make([]float64, c)
				NormalizeSums(n, c, inner, x, mean, variance, eps, dy, sdy, sdyx)
				for ch := range c {
					dg[ch], db[ch] = T(sdyx[ch]), T(sdy[ch])
				}
				check(t, key+"dgs", "dgamma from sums", asF64(dg), asF64(wantDg), 1e-5)
				check(t, key+"dbs", "dbeta from sums", asF64(db), asF64(wantDb), 1e-5)
				BiasGrad(n, c, inner, dy, db)
				check(t, key+"bgc", "BiasGrad", asF64(db), asF64(wantDb), 1e-5)

				// dx subtracts nearly equal terms, so compare it against a scale: the
				// largest |dx| of the reference.
				dx := make([]T, len(x))
				NormalizeInputGrad(n, c, inner, x, mean, variance, eps, gamma, dy, sdy, sdyx, dx)
				dxTol := 1e-5 * maxAbs(wantDx)
				check(t, key+"dxs", "dx from sums", asF64(dx), asF64(wantDx), dxTol)
				clear(dx)
				NormalizeBackward(n, c, inner, x, mean, variance, eps, gamma, dy, dx, true)
				check(t, key+"dx", "dx", asF64(dx), asF64(wantDx), dxTol)
				NormalizeBackward(n, c, inner, x, mean, variance, eps, gamma, dy, dx, false)
				check(t, key+"dxi", "dx (inference)", asF64(dx), asF64(wantDxInfer), dxTol)
			})
		}
	}
}

// TestNormBitIdenticalAcrossThreads checks every normalisation kernel against the
// single-threaded reference loops, bit for bit, at 1, 2 and 3 threads.
func TestNormBitIdenticalAcrossThreads(t *testing.T) {
	t.Run("float32", testNormBits[float32])
	t.Run("float64", testNormBits[float64])
}

func maxAbs[T Float](s []T) float64 {
	m := 0.0
	for _, v := range s {
		m = max(m, math.Abs(float64(v)))
	}
	return m
}

var normSink []float64

// BenchmarkNorm times the batch-normalisation kernels at resnet-small's layer sizes, batch
// 32, float32: the training forward (Moments and Normalize) and backward (NormalizeSums
// and NormalizeInputGrad).
func BenchmarkNorm(b *testing.B) {
	for _, sh := range [][3]int{{32, 16, 28 * 28}, {32, 32, 14 * 14}, {32, 64, 7 * 7}} {
		n, c, inner := sh[0], sh[1], sh[2]
		rng := rand.New(rand.NewPCG(1, 2))
		x, dy := normData[float32](rng, n*c*inner, 3), normData[float32](rng, n*c*inner, 0.1)
		gamma, beta := normData[float32](rng, c, 1), normData[float32](rng, c, 0)
		y := make([]float32, len(x))
		mean, variance := make([]float64, c), make([]float64, c)
		sdy, sdyx := make([]float64, c), make([]float64, c)
		name := fmt.Sprintf("c=%d/hw=%d/batch=%d", c, inner, n)
		b.Run(name+"/forward", func(b *testing.B) {
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				Moments(n, c, inner, x, mean, variance)
				Normalize(n, c, inner, x, mean, variance, 1e-3, gamma, beta, y)
			}
			normSink = mean
		})
		b.Run(name+"/backward", func(b *testing.B) {
			Moments(n, c, inner, x, mean, variance)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				NormalizeSums(n, c, inner, x, mean, variance, 1e-3, dy, sdy, sdyx)
				NormalizeInputGrad(n, c, inner, x, mean, variance, 1e-3, gamma, dy, sdy, sdyx, y)
			}
			normSink = sdyx
		})
	}
}
