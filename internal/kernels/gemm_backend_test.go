package kernels

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// Large products go parallel over fixed tiles of C; the result must match the
// definition and must not change with the number of threads.
func TestGemmParallelTiles(t *testing.T) {
	for _, size := range [][3]int{{32, 100, 3136}, {3136, 100, 32}, {32, 3136, 100}, {300, 301, 70}} {
		for _, trans := range [][2]bool{{false, false}, {true, false}, {false, true}} {
			t.Run(fmt.Sprintf("%dx%dx%d/trans=%v", size[0], size[1], size[2], trans), func(t *testing.T) {
				testGemm(t, Gemm[float32], size, trans, [2]float64{1, 0.5}, 1e-4)
				var first []float32
				for _, procs := range []int{1, 2, 3} {
					prev := runtime.GOMAXPROCS(procs)
					c := gemmOnThreads(size, trans)
					runtime.GOMAXPROCS(prev)
					if first == nil {
						first = c
					} else if !slices.Equal(first, c) {
						t.Fatalf("GOMAXPROCS=%d changed the product", procs)
					}
				}
			})
		}
	}
}

func gemmOnThreads(size [3]int, trans [2]bool) []float32 {
	m, n, k := size[0], size[1], size[2]
	r := newRand()
	a, _ := roundTo[float32](randSlice(r, m*k))
	b, _ := roundTo[float32](randSlice(r, k*n))
	c := make([]float32, m*n)
	lda, ldb := k, n
	if trans[0] {
		lda = m
	}
	if trans[1] {
		ldb = k
	}
	Gemm(trans[0], trans[1], m, n, k, 1, a, lda, b, ldb, 0, c, n)
	return c
}

// Backends other than gonum hand slices to foreign code: bad sizes must panic first.
func TestGemmChecksSizes(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		m, n, k, la, lb, lc, lda int
	}{
		{"short a", 4, 4, 4, 15, 16, 16, 4},
		{"short b", 4, 4, 4, 16, 15, 16, 4},
		{"short c", 4, 4, 4, 16, 16, 15, 4},
		{"small lda", 4, 4, 4, 16, 16, 16, 3},
		{"negative", -1, 4, 4, 16, 16, 16, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			gemmSerial(false, false, tc.m, tc.n, tc.k, float32(1), make([]float32, tc.la), tc.lda,
				make([]float32, tc.lb), 4, 0, make([]float32, tc.lc), 4)
		})
	}
}

// A serial GEMM inside a batch worker allocates nothing (on the gonum path, gonum's
// own buffers aside).
func TestGemmSerialAllocs(t *testing.T) {
	if Backend() == PathGo {
		t.Skip("gonum allocates its packing buffers")
	}
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop buffers")
	}
	a, b, c := make([]float32, 64*288), make([]float32, 288*196), make([]float32, 64*196)
	allocs := testing.AllocsPerRun(20, func() {
		gemmSerial(false, false, 64, 196, 288, 1, a, 288, b, 196, 0, c, 196)
	})
	if allocs > 0 {
		t.Errorf("%v allocations per call", allocs)
	}
}

func TestSetBackend(t *testing.T) {
	defer SetBackend(Backend()) //nolint:errcheck
	for _, p := range Backends() {
		if err := SetBackend(p); err != nil || Backend() != p {
			t.Errorf("SetBackend(%q): %v, now %q", p, err, Backend())
		}
	}
	if err := SetBackend("cuda"); err == nil || !strings.Contains(err.Error(), "unknown compute path") {
		t.Errorf("SetBackend(cuda): %v", err)
	}
	if got := Backends(); got[len(got)-1] != PathGo {
		t.Errorf("Backends() = %v; the pure-Go path must always be there", got)
	}
}

// Without OpenBLAS the process falls back to a pure-Go path and says why when asked
// for OpenBLAS. The check runs in a child process: the library is looked for once.
func TestNoOpenBLASFallsBack(t *testing.T) {
	if os.Getenv("CONVGRAPH_TEST_CHILD") == "1" {
		if Backend() == PathOpenBLAS {
			t.Fatal("OpenBLAS in use with " + OpenBLASEnv + " pointing nowhere")
		}
		err := SetBackend(PathOpenBLAS)
		if err == nil || !strings.Contains(err.Error(), "no OpenBLAS library found") {
			t.Fatalf("SetBackend(openblas): %v", err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoOpenBLASFallsBack$", "-test.count=1")
	cmd.Env = append(os.Environ(), "CONVGRAPH_TEST_CHILD=1", OpenBLASEnv+"=/nonexistent/libopenblas.so.0", BlasEnv+"=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// BenchmarkSgemm times one single-threaded SGEMM on the current path at the shapes of
// resnet-small's convolutions per image (filters × output positions × taps): the forward
// product and the input gradient's (untransposed B), and the kernel gradient's A×Bᵀ; plus
// a square product for the path's peak.
func BenchmarkSgemm(b *testing.B) {
	for _, c := range []struct {
		name    string
		m, n, k int
		transB  bool
	}{
		{"square/512x512x512", 512, 512, 512, false},
		{"forward/16x784x144", 16, 784, 144, false},
		{"forward/32x196x288", 32, 196, 288, false},
		{"forward/64x49x576", 64, 49, 576, false},
		{"kernelgrad/16x144x784", 16, 144, 784, true},
		{"kernelgrad/32x288x196", 32, 288, 196, true},
		{"kernelgrad/64x576x49", 64, 576, 49, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			m, n, k := c.m, c.n, c.k
			r := newRand()
			// Nonzero data: gonum skips the multiplications by a zero in A.
			a, _ := roundTo[float32](randSlice(r, m*k))
			bm, _ := roundTo[float32](randSlice(r, k*n))
			cm := make([]float32, m*n)
			ldb := n
			if c.transB {
				ldb = k
			}
			for range b.N {
				gemmSerial(false, c.transB, m, n, k, 1, a, k, bm, ldb, 0, cm, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
