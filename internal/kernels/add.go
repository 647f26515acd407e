package kernels

// Add writes y = a + b element by element, split over the cores for large tensors. y may
// be a or b. It is the residual join of a ResNet block and the sum of the gradients
// reaching a tensor that feeds two ops; both were single-threaded Go loops, and while one
// ran the helper goroutine parked, so the next op paid to wake it (see [helperSpin]).
func Add[T Float](a, b, y []T) {
	n := len(y)
	a, b = a[:n], b[:n]
	Split(n, 1, func(lo, hi int) { add(a[lo:hi], b[lo:hi], y[lo:hi]) })
}

func add[T Float](a, b, y []T) {
	if len(y) > 0 && isF32[T]() && avx512Kernels() {
		add32(&f32s(a)[0], &f32s(b)[0], &f32s(y)[0], len(y))
		return
	}
	for i := range y {
		y[i] = a[i] + b[i]
	}
}
