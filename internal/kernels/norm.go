package kernels

import "math"

// Moments computes each channel's mean and biased variance of x laid out as
// [n, c, inner], accumulating in float64.
func Moments[T Float](n, c, inner int, x []T, mean, variance []float64) {
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

// Normalize computes y = (x - mean[c]) / sqrt(variance[c] + eps) * gamma[c] + beta[c].
func Normalize[T Float](n, c, inner int, x []T, mean, variance []float64, eps float64, gamma, beta, y []T) {
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

// NormalizeGradParams computes dgamma[c] = sum(dy * xhat) and dbeta[c] = sum(dy), where
// xhat = (x - mean) / sqrt(variance + eps). Either output may be nil.
func NormalizeGradParams[T Float](n, c, inner int, x []T, mean, variance []float64, eps float64, dy, dgamma, dbeta []T) {
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
		if dgamma != nil {
			dgamma[ch] = T(sdyx)
		}
		if dbeta != nil {
			dbeta[ch] = T(sdy)
		}
	}
}

// NormalizeBackward computes dx for y = Normalize(x, mean, variance, ...). With batch set,
// mean and variance are x's own batch moments and the gradient flows through them too
// (training); otherwise they are constants (inference) and dx = dy * gamma / sqrt(var+eps).
func NormalizeBackward[T Float](n, c, inner int, x []T, mean, variance []float64, eps float64, gamma, dy, dx []T, batch bool) {
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
