//go:build !purego

package kernels

import (
	"os"
	"sync"

	"golang.org/x/sys/cpu"
)

// sgemmKernel6x16 adds the product of a packed 6-row strip of A and a packed 16-column
// strip of B, k steps deep, into the 6x16 block of C at c (row stride ldc). k >= 1.
//
//go:noescape
func sgemmKernel6x16(k int, a, b, c *float32, ldc int)

// sgemmKernel8x32 is sgemmKernel6x16 for an 8-row strip of A and a 32-column strip of B,
// with AVX-512.
//
//go:noescape
func sgemmKernel8x32(k int, a, b, c *float32, ldc int)

// sgemmKernelNT4x4 computes a 4x4 block of A×Bᵀ summed over nseg pairs (as[s], bs[s]):
// four rows of A (row stride lda) against four rows of B at bs[s]+boffs[0..3], read in
// place, overwriting the block of C (acc false) or adding to it (acc true). It needs
// AVX-512.
//
//go:noescape
func sgemmKernelNT4x4(k, nseg int, as **float32, lda int, bs **float32, boffs *int, c *float32, ldc int, acc bool)

// sgemmKernel8x32si is sgemmKernel8x32 reading 8 rows of A in place (row stride lda) and
// row p of B at b+offs[p] under a column mask, overwriting the block of C (acc false) or
// adding to it (acc true). It needs AVX-512.
//
//go:noescape
func sgemmKernel8x32si(k int, a *float32, lda int, b *float32, offs *int, c *float32, ldc int, mask uint32, acc bool)

var asmOnce sync.Once

// initAsm registers the assembly SGEMM when the CPU has AVX2 and FMA: the AVX-512 kernels
// when it also has AVX-512 F and VL (and CONVGRAPH_ASM is not "avx2"), else the AVX2 one.
// Float64 stays on gonum: only gradient checks compute in float64.
func initAsm() {
	asmOnce.Do(func() {
		if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
			return
		}
		mk, isa := kernel6x16, "avx2"
		// The AVX-512 kernels also use EVEX-encoded XMM and YMM registers and masks
		// (AVX-512 VL), which every AVX-512 CPU since Skylake-SP has.
		if cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && os.Getenv("CONVGRAPH_ASM") != "avx2" {
			mk, isa = kernel8x32, "avx512"
		}
		asmISA = isa
		backends[PathAsm] = &gemmBackend{name: PathAsm, sgemm: sgemmWith(mk), dgemm: gonumDgemm}
	})
}

// asmISA is the instruction set of the assembly SGEMM in use: "avx512" or "avx2".
var asmISA string
