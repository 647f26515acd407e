package kernels

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// A gemmBackend computes single-threaded row-major GEMMs with BLAS semantics (beta 0
// overwrites C, NaN included). Convolution workers call it side by side, one product each,
// so it must be safe for concurrent use and must not start threads of its own.
type gemmBackend struct {
	name  string
	sgemm func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	dgemm func(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int)
	// tiled marks a backend that goes parallel on large products unless they are cut
	// into tiles (gonum's), see gemmSerial.
	tiled bool
}

// The compute paths, by the names [Backend] reports and CONVGRAPH_BLAS accepts.
const (
	PathGo       = "go"       // gonum's pure-Go BLAS
	PathAsm      = "go+asm"   // convgraph's assembly SGEMM (AVX2/FMA or AVX-512), gonum for float64
	PathOpenBLAS = "openblas" // OpenBLAS loaded at run time, when the library is installed
)

var (
	backends = map[string]*gemmBackend{
		PathGo: {
			name: PathGo,
			sgemm: func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
				gonum.Implementation{}.Sgemm(blasTranspose(transA), blasTranspose(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
			},
			dgemm: gonumDgemm,
			tiled: true,
		},
	}
	backend     atomic.Pointer[gemmBackend]
	backendOnce sync.Once
)

func gonumDgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	gonum.Implementation{}.Dgemm(blasTranspose(transA), blasTranspose(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// BlasEnv is the environment variable that picks the compute path: go, asm (go+asm) or
// openblas; unset or auto takes the fastest one available.
const BlasEnv = "CONVGRAPH_BLAS"

// current returns the backend in use, choosing it on first use from CONVGRAPH_BLAS.
func current() *gemmBackend {
	backendOnce.Do(func() {
		if backend.Load() != nil {
			return // SetBackend ran first
		}
		if err := SetBackend(os.Getenv(BlasEnv)); err != nil {
			SetBackend("") //nolint:errcheck // auto never fails
		}
	})
	return backend.Load()
}

// Backend names the compute path in use: "openblas", "go+asm" or "go".
func Backend() string { return current().name }

// Backends lists the compute paths this process can use, fastest first: go+asm on CPUs
// with AVX-512, where its kernels read the operands of a convolution's products in place
// and ran resnet-small's training 1.25x and the course CNN's 1.15x faster than OpenBLAS
// 0.3.21 (whose SGEMM reached 110 GFLOP/s a core against go+asm's 230-256); then OpenBLAS
// (faster than the AVX2 kernel); then gonum.
func Backends() []string {
	order := []string{PathOpenBLAS, PathAsm, PathGo}
	if _, ok := lookupBackend(PathAsm); ok && asmISA == "avx512" {
		order = []string{PathAsm, PathOpenBLAS, PathGo}
	}
	var out []string
	for _, name := range order {
		if _, ok := lookupBackend(name); ok {
			out = append(out, name)
		}
	}
	return out
}

var loadBackendsOnce sync.Once

// lookupBackend returns the backend called name if this process can use it. The first
// call loads them all (OpenBLAS, if installed, and the assembly SGEMM, if the CPU has it),
// so that the map is never written after it is read.
func lookupBackend(name string) (*gemmBackend, bool) {
	loadBackendsOnce.Do(func() {
		loadOpenBLAS()
		initAsm()
	})
	b, ok := backends[name]
	return b, ok
}

// SetBackend switches the compute path: "go", "asm" or "go+asm", "openblas", or "" or
// "auto" for the fastest available. It returns an error, and changes nothing, if the path
// is unknown or not available here (OpenBLAS not installed, no AVX2). It must not be
// called while kernels run.
func SetBackend(name string) error {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "asm" {
		name = PathAsm
	}
	if name == "" || name == "auto" {
		name = Backends()[0]
	}
	b, ok := lookupBackend(name)
	if !ok {
		switch name {
		case PathOpenBLAS:
			return fmt.Errorf("kernels: compute path openblas: %v", openBLASErr)
		case PathAsm:
			return fmt.Errorf("kernels: compute path go+asm: this CPU lacks AVX2 and FMA")
		}
		return fmt.Errorf("kernels: unknown compute path %q (want go, asm or openblas)", name)
	}
	backend.Store(b)
	return nil
}

// Gemm computes C = alpha*op(A)*op(B) + beta*C on row-major matrices, where op transposes
// its argument when the matching flag is set: op(A) is m×k, op(B) is k×n and C is m×n,
// with leading dimensions (row strides) lda, ldb and ldc. When beta is 0, C is overwritten
// and its old contents (even NaN) are ignored.
//
// Large products run over several goroutines. C is cut into the same tiles as
// [gemmSerial] cuts it, each computed by one backend call, so the result is bit for bit
// the same on any number of threads and in or out of a batch worker. It panics, as BLAS
// does, if a dimension is negative, a leading dimension is too small or a slice is too
// short.
func Gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	be := current()
	tm, tn := gemmTiles(be, m, n, k)
	tilesM, tilesN := (m+tm-1)/tm, (n+tn-1)/tn
	if tilesM*tilesN <= 1 || m*n*k < minParallelGemm {
		gemmTiled(be, tm, tn, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	Parallel(tilesM*tilesN, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			i, j := (t/tilesN)*tm, (t%tilesN)*tn
			gemmTile(be, transA, transB, i, j, min(tm, m-i), min(tn, n-j), k, alpha, a, lda, b, ldb, beta, c, ldc)
		}
	})
}

// minParallelGemm is the number of multiply-adds below which [Gemm] stays on one goroutine.
const minParallelGemm = 1 << 18

// gemmTiles returns the tile of C that [Gemm] and [gemmSerial] compute with one backend
// call. It depends only on the backend and the product's shape: gonum's tiles keep it
// below its own threshold for going parallel (see gemmTileM); the other backends take
// products under about 8 million multiply-adds whole (every convolution product of the
// zoo's models) and cut larger ones into up to 8 tiles along the longer side of C, no
// thinner than 16 rows or 64 columns, for [Gemm] to spread over the cores.
func gemmTiles(be *gemmBackend, m, n, k int) (tm, tn int) {
	switch {
	case be.tiled:
		return gemmTileM, gemmTileN
	case m*n*k < 1<<23:
		return max(m, 1), max(n, 1)
	case m >= n:
		return max(16, (m+7)/8), max(n, 1)
	}
	return max(m, 1), max(64, (n+7)/8)
}

// gemmTiled computes the product tile by tile on the calling goroutine.
func gemmTiled[T Float](be *gemmBackend, tm, tn int, transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if tm >= m && tn >= n {
		gemmOne(be, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	for i := 0; i < m; i += tm {
		for j := 0; j < n; j += tn {
			gemmTile(be, transA, transB, i, j, min(tm, m-i), min(tn, n-j), k, alpha, a, lda, b, ldb, beta, c, ldc)
		}
	}
}

// gemmTile computes the mi×nj tile of C at row i, column j.
func gemmTile[T Float](be *gemmBackend, transA, transB bool, i, j, mi, nj, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	var ai, bj []T
	if transA {
		ai = a[i:]
	} else {
		ai = a[i*lda:]
	}
	if transB {
		bj = b[j*ldb:]
	} else {
		bj = b[j:]
	}
	gemmOne(be, transA, transB, mi, nj, k, alpha, ai, lda, bj, ldb, beta, c[i*ldc+j:], ldc)
}

// gemmOne hands one product to the backend, converting defined float types.
func gemmOne[T Float](be *gemmBackend, transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	// A defined type such as `type F float32` has its underlying type's memory layout, so
	// it can be handed to BLAS as that type.
	if unsafe.Sizeof(alpha) == 4 {
		be.sgemm(transA, transB, m, n, k, float32(alpha), reinterpret[float32](a), lda, reinterpret[float32](b), ldb, float32(beta), reinterpret[float32](c), ldc)
	} else {
		be.dgemm(transA, transB, m, n, k, float64(alpha), reinterpret[float64](a), lda, reinterpret[float64](b), ldb, float64(beta), reinterpret[float64](c), ldc)
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

// gemmSerial is [Gemm] on the calling goroutine alone, for workers that already own a
// share of the batch; it computes the same tiles as Gemm, so the same values.
func gemmSerial[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	be := current()
	tm, tn := gemmTiles(be, m, n, k)
	gemmTiled(be, tm, tn, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmFor picks serial GEMM inside batch workers that run side by side, and the parallel
// [Gemm] when one goroutine has the whole batch.
func gemmFor[T Float](split bool) func(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if split {
		return gemmSerial[T]
	}
	return Gemm[T]
}

// checkGemm panics, as gonum does, when a GEMM's dimensions or slices do not fit; the
// backends that hand slices to foreign code call it first, since that code would read
// or write out of bounds instead.
func checkGemm(transA, transB bool, m, n, k, lenA, lda, lenB, ldb, lenC, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels: gemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	if lda < max(1, colsA) || ldb < max(1, colsB) || ldc < max(1, n) {
		panic(fmt.Sprintf("kernels: gemm: leading dimensions lda=%d ldb=%d ldc=%d too small for %dx%d, %dx%d, %dx%d", lda, ldb, ldc, rowsA, colsA, rowsB, colsB, m, n))
	}
	need := func(rows, cols, ld int) int {
		if rows == 0 || cols == 0 {
			return 0
		}
		return (rows-1)*ld + cols
	}
	if lenA < need(rowsA, colsA, lda) || lenB < need(rowsB, colsB, ldb) || lenC < need(m, n, ldc) {
		panic(fmt.Sprintf("kernels: gemm: slices too short: len(a)=%d len(b)=%d len(c)=%d for m=%d n=%d k=%d lda=%d ldb=%d ldc=%d", lenA, lenB, lenC, m, n, k, lda, ldb, ldc))
	}
}

// RunOnEveryBackend calls run once per available compute path, fastest first, with that
// path selected, and returns the first non-zero result: a TestMain runs its package's
// tests on every path with `os.Exit(kernels.RunOnEveryBackend(m.Run))`. When
// CONVGRAPH_BLAS is set, it runs only that path (and fails if it is unavailable).
func RunOnEveryBackend(run func() int) int {
	paths := Backends()
	if env := os.Getenv(BlasEnv); env != "" && env != "auto" {
		if err := SetBackend(env); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		paths = []string{Backend()}
	}
	code := 0
	for _, p := range paths {
		if err := SetBackend(p); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "compute path %s\n", p)
		if c := run(); c != 0 && code == 0 {
			code = c
		}
	}
	return code
}

// AsmISA names the instruction set of the go+asm path's micro-kernel ("avx512" or
// "avx2"), or "" where there is none.
func AsmISA() string {
	lookupBackend(PathAsm)
	return asmISA
}
