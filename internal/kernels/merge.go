package kernels

// The element-wise passes of the merge layers (Multiply, Subtract, Average, Maximum) and
// the copies of Concatenate. Like Add, each splits its elements (or, for the copies, its
// images) into contiguous pieces, so the calling goroutine keeps the first half of the
// batch and a helper the second, as every other op does.

// Mul writes a*b into y.
func Mul[T Float](a, b, y []T) {
	n := len(y)
	a, b = a[:n], b[:n]
	Split(n, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			y[i] = a[i] * b[i]
		}
	})
}

// Sub writes a-b into y.
func Sub[T Float](a, b, y []T) {
	n := len(y)
	a, b = a[:n], b[:n]
	Split(n, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			y[i] = a[i] - b[i]
		}
	})
}

// Scale writes c*x into y.
func Scale[T Float](c T, x, y []T) {
	n := len(y)
	x = x[:n]
	Split(n, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			y[i] = c * x[i]
		}
	})
}

// Maximum writes max(a, b) into y, element by element.
func Maximum[T Float](a, b, y []T) {
	n := len(y)
	a, b = a[:n], b[:n]
	Split(n, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			y[i] = max(a[i], b[i])
		}
	})
}

// MaximumGrad writes the gradient of max(a, b) for a (first) or b (!first) given the
// output gradient dy: dy where that input is the larger, 0 where it is the smaller, and
// dy/2 where they tie (PyTorch's rule for torch.maximum).
func MaximumGrad[T Float](first bool, a, b, dy, dx []T) {
	n := len(dx)
	a, b, dy = a[:n], b[:n], dy[:n]
	if !first {
		a, b = b, a
	}
	Split(n, 1, func(lo, hi int) {
		// Weights from 0/1 integers, not a switch: the compiler turns the comparisons into
		// SETcc, while branches on random inputs mispredict half the time (ten times slower).
		for i := lo; i < hi; i++ {
			x, y := a[i], b[i]
			dx[i] = dy[i] * (T(b2i(x > y)) + T(b2i(x == y))/2)
		}
	})
}

// ConcatRows writes n images into y, each the concatenation of every input's image:
// input i holds n rows of sizes[i] values, and y holds n rows of sum(sizes) values. On
// [N, C, H, W] tensors with sizes C_i·H·W this joins the channels.
func ConcatRows[T Float](n int, xs [][]T, sizes []int, y []T) {
	total := 0
	for _, s := range sizes {
		total += s
	}
	Split(n, total, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			off := r * total
			for i, x := range xs {
				s := sizes[i]
				copy(y[off:off+s], x[r*s:(r+1)*s])
				off += s
			}
		}
	})
}

// SliceRows is ConcatRows's inverse for one input: it copies values [lo, lo+size) of
// each of the n rows of x, rows of total values, into y.
func SliceRows[T Float](n, total, lo, size int, x, y []T) {
	Split(n, size, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			copy(y[r*size:(r+1)*size], x[r*total+lo:r*total+lo+size])
		}
	})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
