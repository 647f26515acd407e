package kernels

import (
	"math"
	"unsafe"
)

// Activation names an element-wise activation function.
type Activation int

// The element-wise activations.
const (
	ReLU      Activation = iota + 1
	LeakyReLU            // x for x > 0, alpha*x otherwise
	Sigmoid
	Tanh
	ReLU6 // min(max(x, 0), 6), MobileNet's activation
	ELU   // x for x > 0, alpha*(exp(x)-1) otherwise
	GELU  // x*Φ(x) with the exact normal CDF (Keras's and PyTorch's default)
	Swish // x*sigmoid(x), also called SiLU
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
	case ReLU6:
		return "relu6"
	case ELU:
		return "elu"
	case GELU:
		return "gelu"
	case Swish:
		return "swish"
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
			y[i] = T(sigmoid(float64(v)))
		}
	case Tanh:
		for i, v := range x {
			y[i] = T(math.Tanh(float64(v)))
		}
	case ReLU6:
		for i, v := range x {
			y[i] = min(max(v, 0), 6)
		}
	case ELU:
		for i, v := range x {
			if v > 0 {
				y[i] = v
			} else {
				y[i] = T(float64(alpha) * math.Expm1(float64(v)))
			}
		}
	case GELU:
		for i, v := range x {
			f := float64(v)
			y[i] = T(0.5 * f * math.Erfc(-f/math.Sqrt2))
		}
	case Swish:
		for i, v := range x {
			y[i] = T(float64(v) * sigmoid(float64(v)))
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
	case ReLU6:
		relu6Backward(x[:len(dy)], dy, dx)
	case ELU:
		for i, v := range x[:len(dy)] {
			if v > 0 {
				dx[i] = dy[i]
			} else {
				dx[i] = T(float64(dy[i]) * float64(alpha) * math.Exp(float64(v)))
			}
		}
	case GELU:
		for i, v := range x[:len(dy)] {
			f := float64(v)
			cdf := 0.5 * math.Erfc(-f/math.Sqrt2)
			pdf := math.Exp(-0.5*f*f) / math.Sqrt(2*math.Pi)
			dx[i] = T(float64(dy[i]) * (cdf + f*pdf))
		}
	case Swish:
		for i, v := range x[:len(dy)] {
			f := float64(v)
			s := sigmoid(f)
			dx[i] = T(float64(dy[i]) * s * (1 + f*(1-s)))
		}
	default:
		panic("kernels: unknown activation")
	}
}

// relu6Backward is dx = dy where 0 < x < 6 and 0 elsewhere (PyTorch's hardtanh gives 0 at
// both kinks too), by masking dy's bits: branches on the sign of random inputs mispredict
// half the time.
func relu6Backward[T Float](x, dy, dx []T) {
	if unsafe.Sizeof(T(0)) == 4 {
		x32, dy32, dx32 := reinterpret[float32](x), reinterpret[float32](dy), reinterpret[float32](dx)
		dy32, dx32 = dy32[:len(x32)], dx32[:len(x32)]
		for i, v := range x32 {
			dx32[i] = math.Float32frombits(math.Float32bits(dy32[i]) & -(b2u32(v > 0) & b2u32(v < 6)))
		}
		return
	}
	x64, dy64, dx64 := reinterpret[float64](x), reinterpret[float64](dy), reinterpret[float64](dx)
	dy64, dx64 = dy64[:len(x64)], dx64[:len(x64)]
	for i, v := range x64 {
		dx64[i] = math.Float64frombits(math.Float64bits(dy64[i]) & -(b2u64(v > 0) & b2u64(v < 6)))
	}
}

// sigmoid is 1/(1+exp(-v)), split on the sign so exp never overflows.
func sigmoid(v float64) float64 {
	if v >= 0 {
		return 1 / (1 + math.Exp(-v))
	}
	e := math.Exp(v)
	return e / (1 + e)
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
