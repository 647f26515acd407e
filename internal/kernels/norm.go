package kernels

import "math"

// The normalisation kernels split their work over goroutines by channel (the Go sums), by
// fixed chunks of images (the AVX-512 sums, see normChunk) or by [sample, channel] row
// (element-wise passes), never in a way that depends on the thread count: each sum runs in
// the same order, in float64, on any number of threads, so every result is the same bit
// for bit whatever GOMAXPROCS is. A sum is a chain of dependent additions, so a
// worker runs the chains of two or four neighbouring channels side by side to keep the
// FPU busy; that changes the interleaving of independent chains, never a chain's order.

// Moments computes each channel's mean and biased variance of x laid out as
// [n, c, inner], accumulating in float64.
func Moments[T Float](n, c, inner int, x []T, mean, variance []float64) {
	if inner > 0 && isF32[T]() && avx512Kernels() {
		momentsAsm(n, c, inner, f32s(x), mean, variance)
		return
	}
	Split(c, 2*n*inner, func(c0, c1 int) {
		ch := c0
		for ; ch+4 <= c1; ch += 4 {
			moments4(n, c, inner, ch, x, mean, variance)
		}
		for ; ch < c1; ch++ {
			moments1(n, c, inner, ch, x, mean, variance)
		}
	})
}

// The AVX-512 moments and gradient sums split the batch, not the channels: the
// convolution before a batch normalisation writes each worker's images into that core's
// cache, and a split by channel made each core read half of its rows from the other's.
// The images are cut into fixed chunks of normChunk; a worker sums its chunks' rows of
// every channel (eight float64 lanes per row, then the lanes, rows in image order) into a
// partial per chunk and channel, and the partials are added in chunk order. The order of
// the additions differs from moments1's and sums1's, so the results may differ in the last
// bits; they are the same on any number of threads.
const normChunk = 8

// chunkSums runs row(smp, ch, acc) over every image and channel, accumulating in
// parts[k] the sums of chunk k (width values per channel), with the chunks split over
// the cores, and then adds the chunks' parts in order into out (width values per channel).
func chunkSums(n, c, inner, width int, out []float64, row func(smp, ch int, acc []float64)) {
	chunks := (n + normChunk - 1) / normChunk
	buf := getScratch[float64](chunks * c * width)
	defer putScratch(buf)
	parts := *buf
	clear(parts)
	Split(chunks, normChunk*c*inner, func(k0, k1 int) {
		for k := k0; k < k1; k++ {
			part := parts[k*c*width : (k+1)*c*width]
			for smp := k * normChunk; smp < min((k+1)*normChunk, n); smp++ {
				for ch := range c {
					row(smp, ch, part[ch*width:(ch+1)*width])
				}
			}
		}
	})
	clear(out[:c*width])
	for k := range chunks {
		for j, v := range parts[k*c*width : (k+1)*c*width] {
			out[j] += v
		}
	}
}

// momentsAsm is Moments on the AVX-512 kernels, split by image (see normChunk).
func momentsAsm(n, c, inner int, x []float32, mean, variance []float64) {
	m := float64(n * inner)
	chunkSums(n, c, inner, 1, mean, func(smp, ch int, acc []float64) {
		acc[0] += rowSum32(&x[(smp*c+ch)*inner:][:inner][0], inner)
	})
	for ch := range c {
		mean[ch] /= m
	}
	chunkSums(n, c, inner, 1, variance, func(smp, ch int, acc []float64) {
		acc[0] += rowSqDev32(&x[(smp*c+ch)*inner:][:inner][0], inner, mean[ch])
	})
	for ch := range c {
		variance[ch] /= m
	}
}

// sumsAsm is NormalizeSums on the AVX-512 kernels, split by image (see normChunk).
func sumsAsm(n, c, inner int, x []float32, mean, variance []float64, eps float64, dy []float32, sdy, sdyx []float64) {
	buf := getScratch[float64](2 * c)
	defer putScratch(buf)
	both := *buf
	chunkSums(n, c, inner, 2, both, func(smp, ch int, acc []float64) {
		off := (smp*c + ch) * inner
		rs, rsx := rowGradSums32(&x[off:][:inner][0], &dy[off:][:inner][0], inner, mean[ch], 1/math.Sqrt(variance[ch]+eps))
		acc[0] += rs
		acc[1] += rsx
	})
	for ch := range c {
		sdy[ch], sdyx[ch] = both[2*ch], both[2*ch+1]
	}
}

func moments1[T Float](n, c, inner, ch int, x []T, mean, variance []float64) {
	m := float64(n * inner)
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

// moments4 is moments1 for channels ch..ch+3 at once.
func moments4[T Float](n, c, inner, ch int, x []T, mean, variance []float64) {
	m := float64(n * inner)
	var s0, s1, s2, s3 float64
	for smp := 0; smp < n; smp++ {
		x0, x1, x2, x3 := rows4(x, (smp*c+ch)*inner, inner)
		for i, v := range x0 {
			s0 += float64(v)
			s1 += float64(x1[i])
			s2 += float64(x2[i])
			s3 += float64(x3[i])
		}
	}
	mu0, mu1, mu2, mu3 := s0/m, s1/m, s2/m, s3/m
	var q0, q1, q2, q3 float64
	for smp := 0; smp < n; smp++ {
		x0, x1, x2, x3 := rows4(x, (smp*c+ch)*inner, inner)
		for i, v := range x0 {
			d0 := float64(v) - mu0
			q0 += d0 * d0
			d1 := float64(x1[i]) - mu1
			q1 += d1 * d1
			d2 := float64(x2[i]) - mu2
			q2 += d2 * d2
			d3 := float64(x3[i]) - mu3
			q3 += d3 * d3
		}
	}
	mean[ch], mean[ch+1], mean[ch+2], mean[ch+3] = mu0, mu1, mu2, mu3
	variance[ch], variance[ch+1], variance[ch+2], variance[ch+3] = q0/m, q1/m, q2/m, q3/m
}

// rows4 returns the four consecutive rows of length inner that start at off, each with the
// first one's length so that indexing them by its index needs no bounds checks.
func rows4[T Float](x []T, off, inner int) (r0, r1, r2, r3 []T) {
	r0 = x[off : off+inner]
	r1 = x[off+inner : off+2*inner][:len(r0)]
	r2 = x[off+2*inner : off+3*inner][:len(r0)]
	r3 = x[off+3*inner : off+4*inner][:len(r0)]
	return
}

// Normalize computes y = (x - mean[c]) / sqrt(variance[c] + eps) * gamma[c] + beta[c].
func Normalize[T Float](n, c, inner int, x []T, mean, variance []float64, eps float64, gamma, beta, y []T) {
	asm := inner > 0 && isF32[T]() && avx512Kernels()
	Split(n*c, inner, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			ch := r % c
			inv := 1 / math.Sqrt(variance[ch]+eps)
			scale := float64(gamma[ch]) * inv
			shift := float64(beta[ch]) - mean[ch]*scale
			off := r * inner
			ys := y[off : off+inner]
			if asm {
				normalize32(&f32s(x)[off], &f32s(ys)[0], inner, scale, shift)
				continue
			}
			for i, v := range x[off : off+inner] {
				ys[i] = T(float64(v)*scale + shift)
			}
		}
	})
}

// NormalizeSums computes, per channel, sdy[c] = sum(dy) and sdyx[c] = sum(dy * xhat),
// where xhat = (x - mean) / sqrt(variance + eps): the sums that the gradients of
// [Normalize] need (they are dbeta and dgamma, and [NormalizeInputGrad] reads both).
func NormalizeSums[T Float](n, c, inner int, x []T, mean, variance []float64, eps float64, dy []T, sdy, sdyx []float64) {
	if inner > 0 && isF32[T]() && avx512Kernels() {
		sumsAsm(n, c, inner, f32s(x), mean, variance, eps, f32s(dy), sdy, sdyx)
		return
	}
	Split(c, 2*n*inner, func(c0, c1 int) {
		ch := c0
		for ; ch+2 <= c1; ch += 2 {
			sums2(n, c, inner, ch, x, mean, variance, eps, dy, sdy, sdyx)
		}
		for ; ch < c1; ch++ {
			sums1(n, c, inner, ch, x, mean, variance, eps, dy, sdy, sdyx)
		}
	})
}

func sums1[T Float](n, c, inner, ch int, x []T, mean, variance []float64, eps float64, dy []T, sdy, sdyx []float64) {
	inv := 1 / math.Sqrt(variance[ch]+eps)
	mu := mean[ch]
	var s, sx float64
	for smp := 0; smp < n; smp++ {
		off := (smp*c + ch) * inner
		xs := x[off : off+inner]
		ds := dy[off : off+inner][:len(xs)]
		for i, v := range xs {
			s += float64(ds[i])
			sx += float64(ds[i]) * (float64(v) - mu) * inv
		}
	}
	sdy[ch], sdyx[ch] = s, sx
}

// sums2 is sums1 for channels ch and ch+1 at once.
func sums2[T Float](n, c, inner, ch int, x []T, mean, variance []float64, eps float64, dy []T, sdy, sdyx []float64) {
	inv0, inv1 := 1/math.Sqrt(variance[ch]+eps), 1/math.Sqrt(variance[ch+1]+eps)
	mu0, mu1 := mean[ch], mean[ch+1]
	var s0, s1, sx0, sx1 float64
	for smp := 0; smp < n; smp++ {
		off := (smp*c + ch) * inner
		x0 := x[off : off+inner]
		x1 := x[off+inner : off+2*inner][:len(x0)]
		d0 := dy[off : off+inner][:len(x0)]
		d1 := dy[off+inner : off+2*inner][:len(x0)]
		for i, v := range x0 {
			s0 += float64(d0[i])
			sx0 += float64(d0[i]) * (float64(v) - mu0) * inv0
			s1 += float64(d1[i])
			sx1 += float64(d1[i]) * (float64(x1[i]) - mu1) * inv1
		}
	}
	sdy[ch], sdyx[ch] = s0, sx0
	sdy[ch+1], sdyx[ch+1] = s1, sx1
}

// NormalizeGradParams computes dgamma[c] = sum(dy * xhat) and dbeta[c] = sum(dy), where
// xhat = (x - mean) / sqrt(variance + eps). Either output may be nil.
func NormalizeGradParams[T Float](n, c, inner int, x []T, mean, variance []float64, eps float64, dy, dgamma, dbeta []T) {
	sdy, sdyx := make([]float64, c), make([]float64, c)
	NormalizeSums(n, c, inner, x, mean, variance, eps, dy, sdy, sdyx)
	for ch := range c {
		if dgamma != nil {
			dgamma[ch] = T(sdyx[ch])
		}
		if dbeta != nil {
			dbeta[ch] = T(sdy[ch])
		}
	}
}

// NormalizeBackward computes dx for y = Normalize(x, mean, variance, ...). With batch set,
// mean and variance are x's own batch moments and the gradient flows through them too
// (training); otherwise they are constants (inference) and dx = dy * gamma / sqrt(var+eps).
func NormalizeBackward[T Float](n, c, inner int, x []T, mean, variance []float64, eps float64, gamma, dy, dx []T, batch bool) {
	if batch {
		sdy, sdyx := make([]float64, c), make([]float64, c)
		NormalizeSums(n, c, inner, x, mean, variance, eps, dy, sdy, sdyx)
		NormalizeInputGrad(n, c, inner, x, mean, variance, eps, gamma, dy, sdy, sdyx, dx)
		return
	}
	Split(n*c, inner, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			ch := r % c
			inv := 1 / math.Sqrt(variance[ch]+eps)
			g := float64(gamma[ch]) * inv
			off := r * inner
			dxs := dx[off : off+inner]
			for i, v := range dy[off : off+inner] {
				dxs[i] = T(float64(v) * g)
			}
		}
	})
}

// NormalizeInputGrad is [NormalizeBackward] in training form given the channel sums sdy
// and sdyx of [NormalizeSums], so that a caller that also wants dgamma and dbeta sums once.
func NormalizeInputGrad[T Float](n, c, inner int, x []T, mean, variance []float64, eps float64, gamma, dy []T, sdy, sdyx []float64, dx []T) {
	m := float64(n * inner)
	asm := inner > 0 && isF32[T]() && avx512Kernels()
	Split(n*c, inner, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			ch := r % c
			inv := 1 / math.Sqrt(variance[ch]+eps)
			gm := float64(gamma[ch]) * inv / m
			mu, s, sx := mean[ch], sdy[ch], sdyx[ch]
			off := r * inner
			xs := x[off : off+inner]
			ds, dxs := dy[off : off+inner][:len(xs)], dx[off : off+inner][:len(xs)]
			if asm {
				normInputGrad32(&f32s(xs)[0], &f32s(ds)[0], &f32s(dxs)[0], inner, mu, inv, m, s, sx, gm)
				continue
			}
			for i, v := range xs {
				xhat := (float64(v) - mu) * inv
				dxs[i] = T(gm * (m*float64(ds[i]) - s - xhat*sx))
			}
		}
	})
}
