//go:build (linux || darwin || freebsd) && (amd64 || arm64)

package kernels

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
	"golang.org/x/sys/cpu"
)

// OpenBLAS is loaded at run time with purego's dlopen, without cgo, so a plain `go build`
// needs no C toolchain or library and the binary runs where OpenBLAS is absent (on the
// pure-Go path). Calls go through the Fortran interface (sgemm_, dgemm_), whose arguments
// are all pointers: purego.SyscallN passes integers only.

// OpenBLASEnv names an OpenBLAS shared library to load instead of searching the usual
// places.
const OpenBLASEnv = "CONVGRAPH_OPENBLAS"

// openBLASCandidates are tried in order: Debian's single-threaded build first, then its
// pthread build (which is told to use one thread), then whatever the loader finds.
var openBLASCandidates = []string{
	"/usr/lib/x86_64-linux-gnu/openblas-serial/libopenblas.so.0",
	"/usr/lib/aarch64-linux-gnu/openblas-serial/libopenblas.so.0",
	"/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
	"/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
	"libopenblas.so.0",
	"libopenblas.so",
	"libopenblas.dylib",
	"/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
	"/usr/local/opt/openblas/lib/libopenblas.dylib",
}

var (
	openBLASOnce sync.Once
	openBLASErr  = errors.New("not loaded")
	openBLASPath string
)

// OpenBLASLibrary returns the path of the loaded OpenBLAS library, or "" if none is.
func OpenBLASLibrary() string {
	loadOpenBLAS()
	return openBLASPath
}

func loadOpenBLAS() {
	openBLASOnce.Do(func() {
		preferAVX512Kernels()
		// The pthread build starts a pool of worker threads when it loads, and with
		// openblas_set_num_threads(1) called afterwards they stay and poll: 13% of a core
		// in a single-threaded training profile. Asked for one thread up front, it starts
		// none. (os.Setenv reaches the C environment, with cgo and with purego's fakecgo.)
		if os.Getenv("OPENBLAS_NUM_THREADS") != "1" {
			os.Setenv("OPENBLAS_NUM_THREADS", "1") //nolint:errcheck // best effort
		}
		candidates := openBLASCandidates
		if p := os.Getenv(OpenBLASEnv); p != "" {
			candidates = []string{p}
		}
		var errs []string
		for _, path := range candidates {
			if strings.HasPrefix(path, "/") {
				if _, err := os.Stat(path); err != nil {
					errs = append(errs, path+": not found")
					continue
				}
			}
			if err := openBLASFrom(path); err != nil {
				errs = append(errs, path+": "+err.Error())
				continue
			}
			openBLASPath, openBLASErr = path, nil
			return
		}
		openBLASErr = errors.New("no OpenBLAS library found (install Debian's libopenblas0-pthread or libopenblas0-serial, or set " +
			OpenBLASEnv + "); tried " + strings.Join(errs, "; "))
	})
}

// preferAVX512Kernels asks a DYNAMIC_ARCH OpenBLAS for its AVX-512 (SkylakeX) kernels on
// CPUs that have AVX-512 F, CD, BW, DQ and VL, unless OPENBLAS_CORETYPE is already set.
// OpenBLAS 0.3.21 (Debian 12) does not know AMD Zen 4 and 5 and falls back to its AVX2
// (Haswell) kernels there; on this project's Zen 5 machines the SkylakeX SGEMM ran the
// course CNN's convolution products 1.6-2x faster. Later OpenBLAS releases make the same
// choice for these CPUs themselves. The variable must be set before the library loads.
func preferAVX512Kernels() {
	if _, set := os.LookupEnv("OPENBLAS_CORETYPE"); set || !cpu.X86.HasAVX512F || !cpu.X86.HasAVX512CD ||
		!cpu.X86.HasAVX512BW || !cpu.X86.HasAVX512DQ || !cpu.X86.HasAVX512VL {
		return
	}
	os.Setenv("OPENBLAS_CORETYPE", "SkylakeX") //nolint:errcheck // best effort
}

// OpenBLASCore names the kernels the loaded OpenBLAS uses ("SkylakeX", "Haswell", ...),
// or "" if none is loaded or it cannot say.
func OpenBLASCore() string {
	loadOpenBLAS()
	return openBLASCore
}

var openBLASCore string

func openBLASFrom(path string) error {
	lib, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return err
	}
	sgemm, err := purego.Dlsym(lib, "sgemm_")
	if err != nil {
		return err
	}
	dgemm, err := purego.Dlsym(lib, "dgemm_")
	if err != nil {
		return err
	}
	// One thread per call: convgraph splits the batch over the cores itself, and nested
	// thread pools only fight over the same cores.
	if setThreads, err := purego.Dlsym(lib, "openblas_set_num_threads"); err == nil {
		purego.SyscallN(setThreads, 1)
	}
	if corename, err := purego.Dlsym(lib, "openblas_get_corename"); err == nil {
		if p, _, _ := purego.SyscallN(corename); p != 0 {
			openBLASCore = cString(p)
		}
	}
	backends[PathOpenBLAS] = &gemmBackend{
		name: PathOpenBLAS,
		sgemm: func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
			fortranGemm(sgemm, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		},
		dgemm: func(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
			fortranGemm(dgemm, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		},
	}
	return nil
}

// fortranArgs holds the scalars the Fortran interface takes by reference, and the
// argument list. They live on the heap, pooled so that a call allocates nothing.
type fortranArgs[T Float] struct {
	transA, transB byte
	m, n, k        int32
	lda, ldb, ldc  int32
	alpha, beta    T
	args           [13]uintptr
}

var (
	fortranArgs32 = sync.Pool{New: func() any { return new(fortranArgs[float32]) }}
	fortranArgs64 = sync.Pool{New: func() any { return new(fortranArgs[float64]) }}
)

// fortranGemm computes the row-major C = alpha*op(A)*op(B) + beta*C as the column-major
// Cᵀ = alpha*op(B)ᵀ*op(A)ᵀ + beta*Cᵀ, which is the same memory.
func fortranGemm[T Float](fn uintptr, transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	pool := &fortranArgs32
	if unsafe.Sizeof(alpha) == 8 {
		pool = &fortranArgs64
	}
	p := pool.Get().(*fortranArgs[T])
	p.transA, p.transB = blasChar(transA), blasChar(transB)
	p.m, p.n, p.k = int32(m), int32(n), int32(k)
	p.lda, p.ldb, p.ldc = int32(lda), int32(ldb), int32(ldc)
	p.alpha, p.beta = alpha, beta
	// k == 0 leaves A and B unread; hand BLAS a valid address anyway.
	pa, pb := unsafe.Pointer(unsafe.SliceData(a)), unsafe.Pointer(unsafe.SliceData(b))
	if k == 0 {
		pa, pb = unsafe.Pointer(unsafe.SliceData(c)), unsafe.Pointer(unsafe.SliceData(c))
	}
	// The arguments go in as a slice the pooled block owns: a variadic list would be
	// allocated on every call. Everything they point to is on Go's heap, which does not
	// move, and is kept alive until the call returns.
	p.args = [13]uintptr{
		uintptr(unsafe.Pointer(&p.transB)), uintptr(unsafe.Pointer(&p.transA)),
		uintptr(unsafe.Pointer(&p.n)), uintptr(unsafe.Pointer(&p.m)), uintptr(unsafe.Pointer(&p.k)),
		uintptr(unsafe.Pointer(&p.alpha)),
		uintptr(pb), uintptr(unsafe.Pointer(&p.ldb)),
		uintptr(pa), uintptr(unsafe.Pointer(&p.lda)),
		uintptr(unsafe.Pointer(&p.beta)),
		uintptr(unsafe.Pointer(unsafe.SliceData(c))), uintptr(unsafe.Pointer(&p.ldc)),
	}
	purego.SyscallN(fn, p.args[:]...)
	runtime.KeepAlive(p)
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
	pool.Put(p)
}

func blasChar(trans bool) byte {
	if trans {
		return 'T'
	}
	return 'N'
}

// cString copies the NUL-terminated C string at p (at most 64 bytes: a core name).
func cString(p uintptr) string {
	// p points into the C library's static data, which Go's GC neither moves nor frees.
	b := unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&p))), 64)
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
