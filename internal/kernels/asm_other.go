//go:build !amd64 || purego

package kernels

// Without the assembly (another architecture, or the purego build tag) there is no go+asm
// path: initAsm registers nothing and avx512Kernels is false, so no caller reaches the
// kernels below. They are the Go twins (twins.go), so that the code that would call them
// compiles unchanged and any call still computes the right result.

func initAsm() {}

var asmISA string

func sgemmKernel6x16(k int, a, b, c *float32, ldc int) { sgemmKernel6x16Go(k, a, b, c, ldc) }

func sgemmKernel8x32(k int, a, b, c *float32, ldc int) { sgemmKernel8x32Go(k, a, b, c, ldc) }

func sgemmKernelNT4x4(k, nseg int, as **float32, lda int, bs **float32, boffs *int, c *float32, ldc int, acc bool) {
	sgemmKernelNT4x4Go(k, nseg, as, lda, bs, boffs, c, ldc, acc)
}

func sgemmKernel8x32si(k int, a *float32, lda int, b *float32, offs *int, c *float32, ldc int, mask uint32, acc bool) {
	sgemmKernel8x32siGo(k, a, lda, b, offs, c, ldc, mask, acc)
}

func reluForward32(x, y *float32, n int) { reluForward32Go(x, y, n) }

func reluBackward32AVX512(x, dy, dx *float32, n int) { reluBackward32AVX512Go(x, dy, dx, n) }

func normalize32(x, y *float32, n int, scale, shift float64) { normalize32Go(x, y, n, scale, shift) }

func normInputGrad32(x, dy, dx *float32, n int, mu, inv, m, s, sx, gm float64) {
	normInputGrad32Go(x, dy, dx, n, mu, inv, m, s, sx, gm)
}

func rowSum32(x *float32, n int) float64 { return rowSum32Go(x, n) }

func rowSqDev32(x *float32, n int, mu float64) float64 { return rowSqDev32Go(x, n, mu) }

func rowGradSums32(x, dy *float32, n int, mu, inv float64) (s, sx float64) {
	return rowGradSums32Go(x, dy, n, mu, inv)
}

func maxPool2x2BackwardRow32(r0, r1, dy, d0, d1 *float32, ow int) bool {
	return maxPool2x2BackwardRow32Go(r0, r1, dy, d0, d1, ow)
}

func add32(a, b, y *float32, n int) { add32Go(a, b, y, n) }

func copyRows32(dst, src *float32, rows, n, dstStride, srcStride int) {
	copyRows32Go(dst, src, rows, n, dstStride, srcStride)
}
