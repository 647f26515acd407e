//go:build !purego

package kernels

// AVX-512 element-wise kernels (elementwise_amd64.s); callers check avx512Kernels.

//go:noescape
func reluForward32(x, y *float32, n int)

//go:noescape
func reluBackward32AVX512(x, dy, dx *float32, n int)

//go:noescape
func normalize32(x, y *float32, n int, scale, shift float64)

//go:noescape
func normInputGrad32(x, dy, dx *float32, n int, mu, inv, m, s, sx, gm float64)

//go:noescape
func rowSum32(x *float32, n int) float64

//go:noescape
func rowSqDev32(x *float32, n int, mu float64) float64

//go:noescape
func rowGradSums32(x, dy *float32, n int, mu, inv float64) (s, sx float64)

//go:noescape
func maxPool2x2BackwardRow32(r0, r1, dy, d0, d1 *float32, ow int) bool

//go:noescape
func add32(a, b, y *float32, n int)

//go:noescape
func copyRows32(dst, src *float32, rows, n, dstStride, srcStride int)

// Index vectors for VPERMT2PS over a pair of ZMM registers (indices 16-31 pick the
// second), read by maxPool2x2BackwardRow32: the even and the odd lanes of the pair, and
// the low and high halves of the two interleaved.
var poolIdxEven, poolIdxOdd, poolIdxLo, poolIdxHi [16]uint32

func init() {
	for i := range uint32(16) {
		poolIdxEven[i], poolIdxOdd[i] = 2*i, 2*i+1
		poolIdxLo[i], poolIdxHi[i] = i/2+16*(i%2), 8+i/2+16*(i%2)
	}
}
