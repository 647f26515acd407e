package kernels

import "math"

// Activation names an element-wise activation function.
type Activation int

// The element-wise activations.
const (
	ReLU      Activation = iota + 1
	LeakyReLU            // x for x > 0, alpha*x otherwise
	Sigmoid
	Tanh
)

// String is the Keras name of the activation.
func (a Activation) String() string {
	switch a {
	case ReLU:
		return "relu"
	case LeakyReLU:
		return "leaky_relu"
	case Sigmoid:
		return "sigmoid"
	case Tanh:
		return "tanh"
	}
	return "unknown"
}

// Activate computes y = act(x) element-wise; alpha is LeakyReLU's negative slope.
func Activate[T Float](act Activation, alpha T, x, y []T) {
	y = y[:len(x)]
	switch act {
	case ReLU:
		if len(x) > 0 && isF32[T]() && avx512Kernels() {
			reluForward32(&f32s(x)[0], &f32s(y)[0], len(x))
			return
		}
		for i, v := range x {
			y[i] = max(v, 0)
		}
	case LeakyReLU:
		for i, v := range x {
			if v > 0 {
				y[i] = v
			} else {
				y[i] = alpha * v
			}
		}
	case Sigmoid:
		for i, v := range x {
			// Split on the sign so exp never overflows.
			if v >= 0 {
				y[i] = T(1 / (1 + math.Exp(-float64(v))))
			} else {
				e := math.Exp(float64(v))
				y[i] = T(e / (1 + e))
			}
		}
	case Tanh:
		for i, v := range x {
			y[i] = T(math.Tanh(float64(v)))
		}
	default:
		panic("kernels: unknown activation")
	}
}

// ActivateBackward computes dx = dy * act'(x), using the forward output y where that is
// cheaper (sigmoid, tanh).
func ActivateBackward[T Float](act Activation, alpha T, x, y, dy, dx []T) {
	dx = dx[:len(dy)]
	switch act {
	case ReLU:
		for i, v := range x[:len(dy)] {
			if v > 0 {
				dx[i] = dy[i]
			} else {
				dx[i] = 0
			}
		}
	case LeakyReLU:
		for i, v := range x[:len(dy)] {
			if v > 0 {
				dx[i] = dy[i]
			} else {
				dx[i] = alpha * dy[i]
			}
		}
	case Sigmoid:
		for i, s := range y[:len(dy)] {
			dx[i] = dy[i] * s * (1 - s)
		}
	case Tanh:
		for i, t := range y[:len(dy)] {
			dx[i] = dy[i] * (1 - t*t)
		}
	default:
		panic("kernels: unknown activation")
	}
}

// BiasAdd computes y[n,c,i] = x[n,c,i] + b[c] for x laid out as [n, c, inner].
func BiasAdd[T Float](n, c, inner int, x, b, y []T) {
	_ = x[n*c*inner-1]
	_ = y[n*c*inner-1]
	for s := 0; s < n; s++ {
		for ch := 0; ch < c; ch++ {
			off := (s*c + ch) * inner
			bv := b[ch]
			xs, ys := x[off:off+inner], y[off:off+inner]
			for i, v := range xs {
				ys[i] = v + bv
			}
		}
	}
}
