package kernels

import (
	"sync"

	"golang.org/x/sys/cpu"
)

// sgemmKernel6x16 adds the product of a packed 6-row strip of A and a packed 16-column
// strip of B, k steps deep, into the 6x16 block of C at c (row stride ldc). k >= 1.
//
//go:noescape
func sgemmKernel6x16(k int, a, b, c *float32, ldc int)

var asmOnce sync.Once

// initAsm registers the assembly SGEMM (AVX2 and FMA) when the CPU has both. Float64
// stays on gonum: only gradient checks compute in float64.
func initAsm() {
	asmOnce.Do(func() {
		if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
			return
		}
		backends[PathAsm] = &gemmBackend{name: PathAsm, sgemm: sgemmAsm, dgemm: gonumDgemm}
	})
}
