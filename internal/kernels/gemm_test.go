package kernels

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// refGemm is the definition: C = alpha*op(A)*op(B) + beta*C, element by element.
func refGemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) []float64 {
	out := append([]float64(nil), c...)
	for i := range m {
		for j := range n {
			var s float64
			for l := range k {
				ai, bi := i*lda+l, l*ldb+j
				if transA {
					ai = l*lda + i
				}
				if transB {
					bi = j*ldb + l
				}
				av, bv := a[ai], b[bi]
				s += av * bv
			}
			out[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
		}
	}
	return out
}

type gemmFunc[T Float] func(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

func TestGemm(t *testing.T) {
	// Beyond the small and odd sizes: exact 8x32 blocks, and depths past one 256-step block
	// (the assembly path then adds the second block's sums to the first's).
	for _, size := range [][3]int{{1, 1, 1}, {3, 5, 4}, {7, 9, 2}, {65, 200, 30}, {130, 400, 70}, {16, 64, 300}, {17, 49, 577}} {
		for _, trans := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			for _, ab := range [][2]float64{{1, 0}, {1, 1}, {0.5, 1}, {-2, 0.25}} {
				name := fmt.Sprintf("%dx%dx%d/trans=%v/alpha=%g,beta=%g", size[0], size[1], size[2], trans, ab[0], ab[1])
				t.Run(name, func(t *testing.T) {
					t.Run("float32", func(t *testing.T) { testGemm(t, Gemm[float32], size, trans, ab, tol32) })
					t.Run("float64", func(t *testing.T) { testGemm(t, Gemm[float64], size, trans, ab, tol64) })
					t.Run("serial float32", func(t *testing.T) { testGemm(t, gemmSerial[float32], size, trans, ab, tol32) })
					t.Run("serial float64", func(t *testing.T) { testGemm(t, gemmSerial[float64], size, trans, ab, tol64) })
				})
			}
		}
	}
}

// With beta 0, C is written and never read, as in BLAS: NaNs already in C do not leak into
// the result.
func TestGemmBetaZeroIgnoresC(t *testing.T) {
	for _, size := range [][3]int{{8, 32, 5}, {9, 49, 300}} {
		m, n, k := size[0], size[1], size[2]
		a, b := make([]float32, m*k), make([]float32, k*n)
		for i := range a {
			a[i] = 1
		}
		for i := range b {
			b[i] = 2
		}
		c := nanSlice[float32](m * n)
		Gemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
		for i, v := range c {
			if v != float32(2*k) {
				t.Fatalf("%s %v: c[%d] = %v, want %d", Backend(), size, i, v, 2*k)
			}
		}
	}
}

func testGemm[T Float](t *testing.T, gemm gemmFunc[T], size [3]int, trans [2]bool, ab [2]float64, tol float64) {
	m, n, k := size[0], size[1], size[2]
	r := newRand()
	// Leading dimensions wider than the rows check that strides are honoured.
	ra, ca := m, k
	if trans[0] {
		ra, ca = k, m
	}
	rb, cb := k, n
	if trans[1] {
		rb, cb = n, k
	}
	lda, ldb, ldc := ca+3, cb+1, n+2
	a, a64 := roundTo[T](randSlice(r, ra*lda))
	b, b64 := roundTo[T](randSlice(r, rb*ldb))
	c, c64 := roundTo[T](randSlice(r, m*ldc))
	want := refGemm(trans[0], trans[1], m, n, k, ab[0], a64, lda, b64, ldb, ab[1], c64, ldc)
	gemm(trans[0], trans[1], m, n, k, T(ab[0]), a, lda, b, ldb, T(ab[1]), c, ldc)
	assertClose(t, "Gemm", c, want, tol)
}

func TestParallel(t *testing.T) {
	for _, procs := range []int{1, 2, 3, 8} {
		for _, n := range []int{0, 1, 2, 3, 7, 100} {
			t.Run(fmt.Sprintf("procs=%d/n=%d", procs, n), func(t *testing.T) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				hits := make([]atomic.Int32, n)
				var calls atomic.Int32
				Parallel(n, func(lo, hi int) {
					calls.Add(1)
					if lo >= hi {
						t.Errorf("empty chunk [%d,%d)", lo, hi)
					}
					for i := lo; i < hi; i++ {
						hits[i].Add(1)
					}
				})
				for i := range hits {
					if h := hits[i].Load(); h != 1 {
						t.Errorf("index %d visited %d times", i, h)
					}
				}
				if c := int(calls.Load()); c > procs || (n > 0 && c < min(n, procs)) {
					t.Errorf("%d chunks for n=%d on %d procs", c, n, procs)
				}
			})
		}
	}
}

func TestParallelPanic(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("recovered %v, want boom", r)
		}
	}()
	Parallel(8, func(lo, hi int) {
		if lo > 0 {
			panic("boom")
		}
	})
}

// Parallel's helper pool: calls nested in a chunk and calls from many goroutines at once
// (which cannot all have the pool, and start goroutines instead) cover every index once;
// a panic in a helper's chunk reaches the caller and leaves the pool working; helpers that
// parked after a pause are woken.
func TestParallelPool(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	cover := func(n int, inner bool) {
		hits := make([]atomic.Int32, n)
		Parallel(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				if inner {
					var sub atomic.Int32
					Parallel(5, func(lo, hi int) { sub.Add(int32(hi - lo)) })
					if sub.Load() != 5 {
						t.Errorf("nested Parallel covered %d of 5", sub.Load())
					}
				}
				hits[i].Add(1)
			}
		})
		for i := range hits {
			if h := hits[i].Load(); h != 1 {
				t.Fatalf("n=%d: index %d visited %d times", n, i, h)
			}
		}
	}
	cover(7, true)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 200 {
				cover(n%9, false)
			}
		}()
	}
	wg.Wait()
	func() {
		defer func() {
			if r := recover(); r != "helper" {
				t.Errorf("recovered %v, want the helper's panic", r)
			}
		}()
		Parallel(3, func(lo, hi int) {
			if lo == 2 {
				panic("helper")
			}
		})
	}()
	cover(3, false)
	time.Sleep(3 * helperSpin) // the helpers park
	cover(3, false)
}

func TestScratch(t *testing.T) {
	for _, n := range []int{1, 2, 3, 1000, 1024, 1025} {
		p := getScratch[float32](n)
		if len(*p) != n || cap(*p) < n {
			t.Fatalf("getScratch(%d): len %d cap %d", n, len(*p), cap(*p))
		}
		putScratch(p)
		q := getScratch[float64](n)
		if len(*q) != n {
			t.Fatalf("getScratch(%d): len %d", n, len(*q))
		}
		putScratch(q)
	}
}
