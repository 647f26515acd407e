package kernels

// BiasGradChannels is [BiasGrad] for the channels [c0, c1) only, each summed in the same
// order as BiasGrad sums it (BiasGrad is BiasGradChannels over every channel), so that
// callers can split the channels over goroutines and get BiasGrad's result bit for bit.
// On the AVX-512 path (float32), each image's row is summed in float64 lanes and the rows
// are added in image order, as the batch-norm sums are: a different order than the Go
// loop's, the same on any split; the sequential sum was 10% of the course CNN's training
// step.
func BiasGradChannels[T Float](n, c, inner, c0, c1 int, dy, db []T) {
	if inner > 0 && isF32[T]() && avx512Kernels() {
		ds := f32s(dy)
		for ch := c0; ch < c1; ch++ {
			var s float64
			for smp := range n {
				s += rowSum32(&ds[(smp*c+ch)*inner:][:inner][0], inner)
			}
			db[ch] = T(s)
		}
		return
	}
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
