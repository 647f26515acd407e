package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refPool visits every window of p in row-major order and calls cell for each of its
// cells that lies inside the input (flat index into x), straight from the definition.
func refPool(p Pool2DParams, visit func(out int, cells []int)) {
	oh, ow := p.OutH(), p.OutW()
	for nc := range p.N * p.C {
		for i := range oh {
			for j := range ow {
				var cells []int
				for kh := range p.KH {
					for kw := range p.KW {
						ih, iw := i*p.StrideH-p.PadTop+kh, j*p.StrideW-p.PadLeft+kw
						if ih >= 0 && ih < p.H && iw >= 0 && iw < p.W {
							cells = append(cells, (nc*p.H+ih)*p.W+iw)
						}
					}
				}
				visit((nc*oh+i)*ow+j, cells)
			}
		}
	}
}

// refMaxPool returns the window maxima and, for the backward pass, dx built by sending
// each dy to the first cell holding its window's maximum.
func refMaxPool(p Pool2DParams, x, dy []float64) (y, dx []float64) {
	y = make([]float64, p.N*p.C*p.OutH()*p.OutW())
	dx = make([]float64, len(x))
	refPool(p, func(out int, cells []int) {
		best, arg := math.Inf(-1), -1
		for _, c := range cells {
			if x[c] > best {
				best, arg = x[c], c
			}
		}
		y[out] = best
		if arg >= 0 {
			dx[arg] += dy[out]
		}
	})
	return y, dx
}

// refAvgPool returns the means over in-input cells and the matching gradient.
func refAvgPool(p Pool2DParams, x, dy []float64) (y, dx []float64) {
	y = make([]float64, p.N*p.C*p.OutH()*p.OutW())
	dx = make([]float64, len(x))
	refPool(p, func(out int, cells []int) {
		if len(cells) == 0 {
			return
		}
		for _, c := range cells {
			y[out] += x[c] / float64(len(cells))
			dx[c] += dy[out] / float64(len(cells))
		}
	})
	return y, dx
}

func pool(n, c, h, w, kh, kw, sh, sw int, pads ...int) Pool2DParams {
	p := Pool2DParams{N: n, C: c, H: h, W: w, KH: kh, KW: kw, StrideH: sh, StrideW: sw}
	if len(pads) == 4 {
		p.PadTop, p.PadBottom, p.PadLeft, p.PadRight = pads[0], pads[1], pads[2], pads[3]
	}
	return p
}

var poolCases = []struct {
	name string
	p    Pool2DParams
}{
	{"2x2/2", pool(1, 1, 8, 8, 2, 2, 2, 2)},
	{"2x2/2 odd sizes drop the edge", pool(3, 4, 7, 9, 2, 2, 2, 2)},
	{"2x2/2 same-like asymmetric pad", pool(3, 2, 7, 9, 2, 2, 2, 2, 0, 1, 0, 1)},
	{"3x3/1 overlapping pad 1", pool(3, 3, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1)},
	{"3x3/2 overlapping pad 1", pool(1, 2, 9, 7, 3, 3, 2, 2, 1, 1, 1, 1)},
	{"stride 3", pool(3, 2, 10, 11, 2, 2, 3, 3)},
	{"non-square window 2x3 stride 1x2", pool(3, 3, 7, 9, 2, 3, 1, 2, 1, 0, 0, 2)},
	{"explicit pad", pool(1, 3, 5, 6, 3, 2, 2, 1, 2, 1, 0, 1)},
	{"window equals padded input", pool(3, 2, 5, 4, 7, 6, 1, 1, 1, 1, 1, 1)},
	{"window wholly in padding", pool(1, 2, 3, 3, 2, 2, 2, 2, 2, 0, 2, 0)},
	{"1x1", pool(3, 2, 4, 5, 1, 1, 1, 1)},
}

func TestPool2D(t *testing.T) {
	for _, tc := range poolCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, ties := range []bool{false, true} {
				t.Run(fmt.Sprintf("ties=%v", ties), func(t *testing.T) {
					t.Run("float32", func(t *testing.T) { testPool[float32](t, tc.p, ties, tol32) })
					t.Run("float64", func(t *testing.T) { testPool[float64](t, tc.p, ties, tol64) })
				})
			}
		})
	}
}

func testPool[T Float](t *testing.T, p Pool2DParams, ties bool, tol float64) {
	r := newRand()
	xs := randSlice(r, p.N*p.C*p.H*p.W)
	if ties {
		// A handful of values makes most windows hold several maxima, which tests
		// that the gradient goes to the first one only.
		for i := range xs {
			xs[i] = float64(r.IntN(3))
		}
	}
	x, x64 := roundTo[T](xs)
	dy, dy64 := roundTo[T](randSlice(r, p.N*p.C*p.OutH()*p.OutW()))

	wantY, wantDx := refMaxPool(p, x64, dy64)
	y := nanSlice[T](len(dy))
	MaxPool2D(p, x, y)
	assertClose(t, "MaxPool2D", y, wantY, 0) // a maximum is exact
	dx := nanSlice[T](len(x))
	MaxPool2DBackward(p, x, dy, dx)
	assertClose(t, "MaxPool2DBackward", dx, wantDx, tol)

	wantY, wantDx = refAvgPool(p, x64, dy64)
	y = nanSlice[T](len(dy))
	AvgPool2D(p, x, y)
	assertClose(t, "AvgPool2D", y, wantY, tol)
	dx = nanSlice[T](len(x))
	AvgPool2DBackward(p, dy, dx)
	assertClose(t, "AvgPool2DBackward", dx, wantDx, tol)
}

// TestPool2DAdjoint checks <dy, pool(x)> = <dx, x> where each pool is linear: average
// pooling always, max pooling once the arg max is fixed by x.
func TestPool2DAdjoint(t *testing.T) {
	for _, tc := range poolCases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			r := newRand()
			x := randSlice(r, p.N*p.C*p.H*p.W)
			dy := randSlice(r, p.N*p.C*p.OutH()*p.OutW())
			y, dx := make([]float64, len(dy)), make([]float64, len(x))
			AvgPool2D(p, x, y)
			AvgPool2DBackward(p, dy, dx)
			if a, b := dot(dy, y), dot(x, dx); math.Abs(a-b) > 1e-10*max(1, math.Abs(a)) {
				t.Errorf("avg: <dy,y> = %.17g, <x,dx> = %.17g", a, b)
			}
			MaxPool2D(p, x, y)
			MaxPool2DBackward(p, x, dy, dx)
			var a float64
			for i, v := range y {
				if !math.IsInf(v, -1) { // windows in the padding pass no gradient
					a += dy[i] * v
				}
			}
			if b := dot(x, dx); math.Abs(a-b) > 1e-10*max(1, math.Abs(a)) {
				t.Errorf("max: <dy,y> = %.17g, <x,dx> = %.17g", a, b)
			}
		})
	}
}

// TestMaxPool2DNonFinite follows PyTorch where NaN or infinities meet max pooling: NaN
// wins its window and takes the gradient (the last NaN if several), an infinite dy
// reaches only the winner. It covers the 2x2 fast path and the general loop.
func TestMaxPool2DNonFinite(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		name   string
		p      Pool2DParams
		x      []float64
		dy     float64
		wantY  float64
		wantDx []float64
	}{
		{"2x2 one NaN", pool(1, 1, 2, 2, 2, 2, 2, 2), []float64{1, nan, 3, 2}, 5, nan, []float64{0, 5, 0, 0}},
		{"2x2 two NaN", pool(1, 1, 2, 2, 2, 2, 2, 2), []float64{nan, 1, nan, 2}, 5, nan, []float64{0, 0, 5, 0}},
		{"2x2 infinite dy", pool(1, 1, 2, 2, 2, 2, 2, 2), []float64{1, 4, 3, 4}, inf, 4, []float64{0, inf, 0, 0}},
		{"2x2 all -Inf", pool(1, 1, 2, 2, 2, 2, 2, 2), []float64{-inf, -inf, -inf, -inf}, 5, -inf, []float64{5, 0, 0, 0}},
		{"2x3 one NaN", pool(1, 1, 2, 3, 2, 3, 1, 1), []float64{1, 9, nan, 3, 2, 0}, 5, nan, []float64{0, 0, 5, 0, 0, 0}},
		{"2x3 two NaN", pool(1, 1, 2, 3, 2, 3, 1, 1), []float64{nan, 9, 1, 3, nan, 0}, 5, nan, []float64{0, 0, 0, 0, 5, 0}},
		{"2x3 infinite dy", pool(1, 1, 2, 3, 2, 3, 1, 1), []float64{1, 9, 2, 9, 2, 0}, -inf, 9, []float64{0, -inf, 0, 0, 0, 0}},
		{"2x3 all -Inf", pool(1, 1, 2, 3, 2, 3, 1, 1), []float64{-inf, -inf, -inf, -inf, -inf, -inf}, 5, -inf, []float64{5, 0, 0, 0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Run("float32", func(t *testing.T) { testMaxPoolNonFinite[float32](t, tc.p, tc.x, tc.dy, tc.wantY, tc.wantDx) })
			t.Run("float64", func(t *testing.T) { testMaxPoolNonFinite[float64](t, tc.p, tc.x, tc.dy, tc.wantY, tc.wantDx) })
		})
	}
}

func testMaxPoolNonFinite[T Float](t *testing.T, p Pool2DParams, x64 []float64, dy, wantY float64, wantDx []float64) {
	x, _ := roundTo[T](x64)
	y := make([]T, 1)
	MaxPool2D(p, x, y)
	if got := float64(y[0]); got != wantY && !(math.IsNaN(got) && math.IsNaN(wantY)) {
		t.Errorf("max = %v, want %v", got, wantY)
	}
	dx := nanSlice[T](len(x))
	MaxPool2DBackward(p, x, []T{T(dy)}, dx)
	if fmt.Sprint(dx) != fmt.Sprint(wantDx) {
		t.Errorf("gradient %v, want %v", dx, wantDx)
	}
}

func TestGlobalAvgPool2D(t *testing.T) {
	for _, s := range [][3]int{{1, 1, 1}, {1, 3, 49}, {3, 5, 63}, {32, 64, 196}} {
		t.Run(fmt.Sprint(s), func(t *testing.T) {
			t.Run("float32", func(t *testing.T) { testGlobalAvgPool[float32](t, s[0], s[1], s[2], tol32) })
			t.Run("float64", func(t *testing.T) { testGlobalAvgPool[float64](t, s[0], s[1], s[2], tol64) })
		})
	}
}

func testGlobalAvgPool[T Float](t *testing.T, n, c, hw int, tol float64) {
	r := newRand()
	x, x64 := roundTo[T](randSlice(r, n*c*hw))
	dy, dy64 := roundTo[T](randSlice(r, n*c))
	wantY, wantDx := make([]float64, n*c), make([]float64, n*c*hw)
	for i := range n * c {
		for k := range hw {
			wantY[i] += x64[i*hw+k] / float64(hw)
			wantDx[i*hw+k] = dy64[i] / float64(hw)
		}
	}
	y := nanSlice[T](n * c)
	GlobalAvgPool2D(n, c, hw, x, y)
	assertClose(t, "GlobalAvgPool2D", y, wantY, tol)
	dx := nanSlice[T](n * c * hw)
	GlobalAvgPool2DBackward(n, c, hw, dy, dx)
	assertClose(t, "GlobalAvgPool2DBackward", dx, wantDx, tol)
}

func TestPool2DPanics(t *testing.T) {
	p := pool(2, 3, 6, 6, 2, 2, 2, 2)
	x, y := make([]float32, 2*3*36), make([]float32, 2*3*9)
	outside := make([]int32, len(y))
	outside[4] = 36
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"short x", func() { MaxPool2D(p, x[:len(x)-1], y) }},
		{"short y", func() { AvgPool2D(p, x, y[:len(y)-1]) }},
		{"short dx", func() { MaxPool2DBackward(p, x, y, x[:3]) }},
		{"short avg dx", func() { AvgPool2DBackward(p, y, x[:3]) }},
		{"short idx", func() { MaxPool2DIndices(p, x, y, make([]int32, len(y)-1)) }},
		{"index outside its plane", func() { MaxPool2DBackwardIndices(p, outside, y, x) }},
		{"zero stride", func() { MaxPool2D(pool(2, 3, 6, 6, 2, 2, 0, 2), x, y) }},
		{"window too large", func() { MaxPool2D(pool(2, 3, 6, 6, 7, 2, 1, 1), x, y) }},
		{"global short y", func() { GlobalAvgPool2D(2, 3, 36, x, y[:5]) }},
		{"global zero hw", func() { GlobalAvgPool2D(2, 3, 0, x, y) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tc.fn()
		})
	}
}

func benchPool(b *testing.B, run func(p Pool2DParams, x, y, dx []float32) []float32) {
	for _, s := range [][5]int{{32, 32, 28, 28, 2}, {32, 64, 14, 14, 2}, {32, 32, 28, 28, 3}, {32, 64, 14, 14, 3}} {
		// 2x2/2, the course CNN's pool, and alexnet-small's overlapping 3x3/2 with "same" padding.
		p := pool(s[0], s[1], s[2], s[3], s[4], s[4], 2, 2)
		name := fmt.Sprintf("%dx%dx%d", s[1], s[2], s[3])
		if s[4] == 3 {
			p.PadBottom, p.PadRight = 1, 1
			name += "/3x3s2"
		}
		b.Run(name, func(b *testing.B) {
			b.Run(fmt.Sprintf("batch=%d", p.N), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				x, _ := roundTo[float32](randSlice(r, p.N*p.C*p.H*p.W))
				y, _ := roundTo[float32](randSlice(r, p.N*p.C*p.OutH()*p.OutW()))
				dx := make([]float32, len(x))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					sink32 = run(p, x, y, dx)
				}
			})
		})
	}
}

func BenchmarkMaxPool2D(b *testing.B) {
	benchPool(b, func(p Pool2DParams, x, y, _ []float32) []float32 {
		MaxPool2D(p, x, y)
		return y
	})
}

// BenchmarkMaxPool2DBackward uses y as dy: only its shape matters.
func BenchmarkMaxPool2DBackward(b *testing.B) {
	benchPool(b, func(p Pool2DParams, x, dy, dx []float32) []float32 {
		MaxPool2DBackward(p, x, dy, dx)
		return dx
	})
}

// BenchmarkMaxPool2DIndices is the forward pass of a training step, which keeps the
// winners for the backward pass.
func BenchmarkMaxPool2DIndices(b *testing.B) {
	var idx []int32
	benchPool(b, func(p Pool2DParams, x, y, _ []float32) []float32 {
		if len(idx) != len(y) {
			idx = make([]int32, len(y))
		}
		MaxPool2DIndices(p, x, y, idx)
		return y
	})
}

// BenchmarkMaxPool2DBackwardIndices scatters dy through the winners MaxPool2DIndices kept.
func BenchmarkMaxPool2DBackwardIndices(b *testing.B) {
	var idx []int32
	var of Pool2DParams
	benchPool(b, func(p Pool2DParams, x, dy, dx []float32) []float32 {
		if p != of {
			idx, of = make([]int32, len(dy)), p
			MaxPool2DIndices(p, x, make([]float32, len(dy)), idx)
		}
		MaxPool2DBackwardIndices(p, idx, dy, dx)
		return dx
	})
}
