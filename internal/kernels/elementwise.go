package kernels

import "unsafe"

// avx512Elementwise reports whether the element-wise kernels of float32 ReLU, its gradient,
// batch normalization and its input gradient run in AVX-512 assembly: on the go+asm path
// with its AVX-512 kernels, so that CONVGRAPH_BLAS=go (or openblas) keeps the Go loops and
// the tests, run on every path, check both. The assembly computes the same float64
// operations in the same order, so the results are bit-identical
// (TestElementwiseAsmMatchesGo); resnet-small spent 19% of a training step in these loops.
func avx512Elementwise() bool {
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
