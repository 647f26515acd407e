package kernels

// BiasGrad computes db[c] = sum over n and inner of dy[n,c,inner], in float64, split over
// the cores. On the AVX-512 path (float32) it splits the batch, as the batch-norm sums do
// (see normChunk): each image's row is summed in float64 lanes, the rows of a chunk of 8
// images in image order, and the chunks in order, so each core sums the rows it wrote
// and the result is the same on any number of threads. Elsewhere each channel is summed
// whole, in image order, by one goroutine (biasGradChannels).
func BiasGrad[T Float](n, c, inner int, dy, db []T) {
	if inner > 0 && isF32[T]() && avx512Kernels() {
		buf := getScratch[float64](c)
		defer putScratch(buf)
		sums, ds := *buf, f32s(dy)
		chunkSums(n, c, inner, 1, sums, func(smp, ch int, acc []float64) {
			acc[0] += rowSum32(&ds[(smp*c+ch)*inner:][:inner][0], inner)
		})
		for ch, s := range sums[:c] {
			db[ch] = T(s)
		}
		return
	}
	Split(c, n*inner, func(c0, c1 int) { biasGradChannels(n, c, inner, c0, c1, dy, db) })
}

// biasGradChannels is BiasGrad's Go loop for the channels [c0, c1) only: each channel's
// sum runs in the same order whichever channels a call gets.
func biasGradChannels[T Float](n, c, inner, c0, c1 int, dy, db []T) {
	for ch := c0; ch < c1; ch++ {
		var s float64
		for smp := 0; smp < n; smp++ {
			off := (smp*c + ch) * inner
			for _, v := range dy[off : off+inner] {
				s += float64(v)
			}
		}
		db[ch] = T(s)
	}
}
