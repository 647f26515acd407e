//go:build !amd64

package kernels

// initAsm does nothing: the assembly SGEMM exists for amd64 only.
func initAsm() {}

func sgemmKernel6x16(k int, a, b, c *float32, ldc int) {
	panic("kernels: no assembly SGEMM on this architecture")
}

func sgemmKernel8x32(k int, a, b, c *float32, ldc int) {
	panic("kernels: no assembly SGEMM on this architecture")
}

func sgemmKernelNT4x4(k, nseg int, as **float32, lda int, bs **float32, boffs *int, c *float32, ldc int, acc bool) {
	panic("kernels: no assembly SGEMM on this architecture")
}

func sgemmKernel8x32si(k int, a *float32, lda int, b *float32, offs *int, c *float32, ldc int, mask uint32, acc bool) {
	panic("kernels: no assembly SGEMM on this architecture")
}

var asmISA string
