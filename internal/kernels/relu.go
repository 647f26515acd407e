package kernels

import (
	"math"
	"unsafe"
)

// ReLUBackward computes dx = dy where x > 0 and 0 elsewhere (NaN included), as
// [ActivateBackward] does for [ReLU], but without a branch per element: on real
// activations the sign is a coin flip, and the mispredicted branches made the branchy loop
// the largest non-GEMM cost of a training step (13% of the course CNN's, single-threaded).
// The mask is built with a compare that compiles to SETcc, not a jump.
func ReLUBackward[T Float](x, dy, dx []T) {
	n := len(dy)
	x, dx = x[:n], dx[:n]
	if unsafe.Sizeof(T(0)) == 4 {
		reluBackward32(reinterpret[float32](x), reinterpret[float32](dy), reinterpret[float32](dx))
		return
	}
	reluBackward64(reinterpret[float64](x), reinterpret[float64](dy), reinterpret[float64](dx))
}

func reluBackward32(x, dy, dx []float32) {
	dy, dx = dy[:len(x)], dx[:len(x)]
	if len(x) > 0 && avx512Kernels() {
		reluBackward32AVX512(&x[0], &dy[0], &dx[0], len(x))
		return
	}
	for i, v := range x {
		dx[i] = math.Float32frombits(math.Float32bits(dy[i]) & -b2u32(v > 0))
	}
}

func reluBackward64(x, dy, dx []float64) {
	dy, dx = dy[:len(x)], dx[:len(x)]
	for i, v := range x {
		dx[i] = math.Float64frombits(math.Float64bits(dy[i]) & -b2u64(v > 0))
	}
}

// b2u32 and b2u64 are 1 for true and 0 for false; the compiler turns them into SETcc.
func b2u32(b bool) uint32 {
	var u uint32
	if b {
		u = 1
	}
	return u
}

func b2u64(b bool) uint64 {
	var u uint64
	if b {
		u = 1
	}
	return u
}
