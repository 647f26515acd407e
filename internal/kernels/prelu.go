package kernels

import "fmt"

// PReLU (He et al.; PyTorch's nn.PReLU, Keras's PReLU) is max(x, 0) + alpha*min(x, 0)
// with a learned alpha per channel, or one alpha for every channel. x is [n, c, inner]
// (an image batch [N,C,H,W] with inner = H*W, or vectors [N,F] with inner = 1) and alpha
// holds c values, or 1 (shared). The element-wise passes split the rows in order (each core
// keeps its images); alpha's gradient sums each channel in fixed chunks of 8 images, as
// the batch-norm sums do, so it is the same on any number of threads.

func mustPReLU(op string, n, c, inner, alphas int) {
	if n < 0 || c < 1 || inner < 0 || alphas != c && alphas != 1 {
		panic(fmt.Sprintf("kernels: %s: %d alphas for %d channels (want %d or 1)", op, alphas, c, c))
	}
}

// alphaOf is the alpha of row r (image r/c, channel r%c).
func alphaOf[T Float](alpha []T, c, r int) T {
	if len(alpha) == 1 {
		return alpha[0]
	}
	return alpha[r%c]
}

// PReLU writes y = x where x > 0, alpha*x elsewhere.
//
// It panics if alpha has neither c values nor one, or a slice is shorter than n*c*inner.
func PReLU[T Float](n, c, inner int, x, alpha, y []T) {
	const op = "PReLU"
	mustPReLU(op, n, c, inner, len(alpha))
	mustLen(op, "x", x, n*c*inner)
	mustLen(op, "y", y, n*c*inner)
	Split(n*c, inner, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			a := alphaOf(alpha, c, r)
			ys := y[r*inner : (r+1)*inner]
			for i, v := range x[r*inner : (r+1)*inner] {
				if v > 0 {
					ys[i] = v
				} else {
					ys[i] = a * v
				}
			}
		}
	})
}

// PReLUBackwardInput writes dx = dy where x > 0, alpha*dy elsewhere.
//
// It panics in the same cases as [PReLU].
func PReLUBackwardInput[T Float](n, c, inner int, x, alpha, dy, dx []T) {
	const op = "PReLUBackwardInput"
	mustPReLU(op, n, c, inner, len(alpha))
	for _, s := range []struct {
		name string
		v    []T
	}{{"x", x}, {"dy", dy}, {"dx", dx}} {
		mustLen(op, s.name, s.v, n*c*inner)
	}
	Split(n*c, inner, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			a := alphaOf(alpha, c, r)
			xs, ds := x[r*inner:(r+1)*inner], dx[r*inner:(r+1)*inner]
			for i, g := range dy[r*inner : (r+1)*inner] {
				if xs[i] > 0 {
					ds[i] = g
				} else {
					ds[i] = a * g
				}
			}
		}
	})
}

// PReLUBackwardAlpha writes into dalpha (c values, or 1 for a shared alpha) the sum of
// dy*x over the cells where x <= 0: of each channel, or of all of them in channel order.
//
// It panics in the same cases as [PReLU].
func PReLUBackwardAlpha[T Float](n, c, inner int, x, dy, dalpha []T) {
	const op = "PReLUBackwardAlpha"
	mustPReLU(op, n, c, inner, len(dalpha))
	mustLen(op, "x", x, n*c*inner)
	mustLen(op, "dy", dy, n*c*inner)
	buf := getScratch[float64](c)
	defer putScratch(buf)
	sums := *buf
	chunkSums(n, c, inner, 1, sums, func(smp, ch int, acc []float64) {
		off := (smp*c + ch) * inner
		xs := x[off : off+inner]
		var s float64
		for i, g := range dy[off : off+inner] {
			if xs[i] <= 0 {
				s += float64(g) * float64(xs[i])
			}
		}
		acc[0] += s
	})
	if len(dalpha) == 1 {
		var s float64
		for _, v := range sums[:c] {
			s += v
		}
		dalpha[0] = T(s)
		return
	}
	for ch, s := range sums[:c] {
		dalpha[ch] = T(s)
	}
}
