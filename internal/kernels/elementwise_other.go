//go:build !amd64

package kernels

// No assembly element-wise kernels off amd64; avx512Kernels is always false there.

func reluForward32(x, y *float32, n int) { panic("kernels: no assembly kernels on this architecture") }

func reluBackward32AVX512(x, dy, dx *float32, n int) {
	panic("kernels: no assembly kernels on this architecture")
}

func normalize32(x, y *float32, n int, scale, shift float64) {
	panic("kernels: no assembly kernels on this architecture")
}

func normInputGrad32(x, dy, dx *float32, n int, mu, inv, m, s, sx, gm float64) {
	panic("kernels: no assembly kernels on this architecture")
}

func rowSum32(x *float32, n int) float64 { panic("kernels: no assembly kernels on this architecture") }

func rowSqDev32(x *float32, n int, mu float64) float64 {
	panic("kernels: no assembly kernels on this architecture")
}

func rowGradSums32(x, dy *float32, n int, mu, inv float64) (s, sx float64) {
	panic("kernels: no assembly kernels on this architecture")
}

func maxPool2x2BackwardRow32(r0, r1, dy, d0, d1 *float32, ow int) bool {
	panic("kernels: no assembly kernels on this architecture")
}

func add32(a, b, y *float32, n int) { panic("kernels: no assembly kernels on this architecture") }

func copyRows32(dst, src *float32, rows, n, dstStride, srcStride int) {
	panic("kernels: no assembly kernels on this architecture")
}
