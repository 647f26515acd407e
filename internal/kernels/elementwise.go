package kernels

import "unsafe"

// avx512Kernels reports whether convgraph's own AVX-512 kernels beyond the GEMM run:
// implicit convolutions, ReLU and its gradient, batch normalization, bias gradients and
// 2x2 max-pool gradients (float32). Only on the go+asm path with its AVX-512 kernels, so
// that CONVGRAPH_BLAS=go (or openblas) keeps the Go loops and the tests, run on every
// path, check both. The element-wise kernels compute the same float64 operations in the
// same order as the Go loops, so their results are bit-identical
// (TestElementwiseAsmMatchesGo); the sums add in a different order (norm.go).
func avx512Kernels() bool {
	be := current()
	return be.name == PathAsm && asmISA == "avx512"
}

// isF32 reports whether T is float32 itself (not float64, nor a defined float type).
func isF32[T Float]() bool {
	var zero T
	_, ok := any(zero).(float32)
	return ok
}

// f32s returns s as a []float32; T must be float32 (isF32).
func f32s[T Float](s []T) []float32 {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&s[0])), len(s))
}
