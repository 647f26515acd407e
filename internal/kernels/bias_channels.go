package kernels

// BiasGradChannels is [BiasGrad] for the channels [c0, c1) only, each summed in the same
// order as BiasGrad sums it, so that callers can split the channels over goroutines and
// get BiasGrad's result bit for bit.
func BiasGradChannels[T Float](n, c, inner, c0, c1 int, dy, db []T) {
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
