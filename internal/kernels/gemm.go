package kernels

import (
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Gemm computes C = alpha*op(A)*op(B) + beta*C on row-major matrices, where op transposes
// its argument when the matching flag is set: op(A) is m×k, op(B) is k×n and C is m×n,
// with leading dimensions (row strides) lda, ldb and ldc. When beta is 0, C is overwritten
// and its old contents (even NaN) are ignored.
//
// It hands the work to gonum's pure-Go BLAS, which is row-major like convgraph, so no
// layout conversion is needed; gonum runs large products over several goroutines itself.
// It panics, as gonum does, if a dimension is negative, a leading dimension is too small
// or a slice is too short.
func Gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	tA, tB := blasTranspose(transA), blasTranspose(transB)
	switch c := any(c).(type) {
	case []float32:
		gonum.Implementation{}.Sgemm(tA, tB, m, n, k, float32(alpha), any(a).([]float32), lda, any(b).([]float32), ldb, float32(beta), c, ldc)
	case []float64:
		gonum.Implementation{}.Dgemm(tA, tB, m, n, k, float64(alpha), any(a).([]float64), lda, any(b).([]float64), ldb, float64(beta), c, ldc)
	default:
		// A defined type such as `type F float32` has its underlying type's memory
		// layout, so it can be handed to BLAS as that type.
		if unsafe.Sizeof(alpha) == 4 {
			Gemm(transA, transB, m, n, k, float32(alpha), reinterpret[float32](a), lda, reinterpret[float32](b), ldb, float32(beta), reinterpret[float32](any(c).([]T)), ldc)
		} else {
			Gemm(transA, transB, m, n, k, float64(alpha), reinterpret[float64](a), lda, reinterpret[float64](b), ldb, float64(beta), reinterpret[float64](any(c).([]T)), ldc)
		}
	}
}

func blasTranspose(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// reinterpret views s as a slice of U; callers guarantee T and U have the same size.
func reinterpret[U, T Float](s []T) []U {
	return unsafe.Slice((*U)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// Tiles of at most gemmTileM×gemmTileN keep gonum below its threshold for going
// parallel (4 blocks of 64×64), so that gemmSerial never starts goroutines.
const (
	gemmTileM = 64
	gemmTileN = 3 * 64
)

// gemmSerial is [Gemm] without gonum's internal goroutines, for workers that already own
// a share of the batch. It splits C into tiles small enough for gonum to stay serial.
func gemmSerial[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	for i := 0; i < m; i += gemmTileM {
		mi := min(gemmTileM, m-i)
		var ai []T
		if transA {
			ai = a[i:]
		} else {
			ai = a[i*lda:]
		}
		for j := 0; j < n; j += gemmTileN {
			nj := min(gemmTileN, n-j)
			var bj []T
			if transB {
				bj = b[j*ldb:]
			} else {
				bj = b[j:]
			}
			Gemm(transA, transB, mi, nj, k, alpha, ai, lda, bj, ldb, beta, c[i*ldc+j:], ldc)
		}
	}
}

// gemmFor picks serial GEMM inside batch workers that run side by side, and gonum's
// parallel GEMM when one goroutine has the whole batch.
func gemmFor[T Float](split bool) func(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if split {
		return gemmSerial[T]
	}
	return Gemm[T]
}
