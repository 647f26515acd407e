package kernels

import (
	"math"
	"runtime"
	"testing"
)

// Padding wider than the input, found by nn's FuzzLayerConfig: a "same" 3x37 kernel on an
// 8x8 image pads 18 columns on each side, so some kernel taps meet only padding and their
// range of valid outputs is empty. im2col and col2im sliced the image at a negative
// offset for such taps and panicked.
func TestConv2DPaddingWiderThanInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Conv2DParams
	}{
		{"same 3x37 on 8x8", conv(2, 1, 8, 8, 2, 3, 37, pad(1, 1, 18, 18))},
		{"same 37x3 on 8x8", conv(2, 1, 8, 8, 2, 37, 3, pad(18, 18, 1, 1))},
		{"padding only, stride 2", conv(1, 2, 3, 3, 2, 9, 9, pad(4, 4, 4, 4), stride(2, 2))},
		{"padding only, dilation 2", conv(1, 1, 2, 2, 1, 5, 5, pad(5, 5, 5, 5), dilation(2, 2))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Run("float32", func(t *testing.T) { testConv[float32](t, tc.p, tol32) })
			t.Run("float64", func(t *testing.T) { testConv[float64](t, tc.p, tol64) })
		})
	}
}

// The same convolution gives the same bits on any number of threads: forward, input
// gradient and kernel gradient, at the course CNN's second convolution (whose kernel
// gradient is large enough for gonum to block it), for a full batch and a ragged one.
func TestConv2DBitIdenticalOnAnyThreads(t *testing.T) {
	for _, n := range []int{32, 13, 2} {
		p := conv(n, 32, 14, 14, 64, 3, 3, pad(1, 1, 1, 1))
		r := newRand()
		oh, ow := p.OutH(), p.OutW()
		x, _ := roundTo[float32](randSlice(r, p.N*p.C*p.H*p.W))
		w, _ := roundTo[float32](randSlice(r, p.F*p.C*p.KH*p.KW))
		dy, _ := roundTo[float32](randSlice(r, p.N*p.F*oh*ow))
		run := func(procs int) (y, dx, dw []float32) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			y, dx, dw = make([]float32, len(dy)), make([]float32, len(x)), make([]float32, len(w))
			Conv2D(p, x, w, y)
			Conv2DBackwardInput(p, w, dy, dx)
			Conv2DBackwardKernel(p, x, dy, dw)
			return y, dx, dw
		}
		y1, dx1, dw1 := run(1)
		for _, procs := range []int{2, 3, 8} {
			y, dx, dw := run(procs)
			for _, c := range []struct {
				name string
				a, b []float32
			}{{"Conv2D", y1, y}, {"Conv2DBackwardInput", dx1, dx}, {"Conv2DBackwardKernel", dw1, dw}} {
				for i := range c.a {
					if math.Float32bits(c.a[i]) != math.Float32bits(c.b[i]) {
						t.Errorf("batch %d, %s: element %d is %v on 1 thread, %v on %d", n, c.name, i, c.a[i], c.b[i], procs)
						break
					}
				}
			}
		}
	}
}
