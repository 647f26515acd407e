package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The general max pool's loops as they were before the unclipped inner loops and the
// recorded indices (commit ba8204c), kept as the reference the new ones must match bit
// for bit: same maxima, same NaN, same winners, same order of the additions where windows
// overlap.

func oldMaxPool2D[T Float](p Pool2DParams, x, y []T) {
	oh, ow := p.OutH(), p.OutW()
	hw, ohw := p.H*p.W, oh*ow
	for pl := range p.N * p.C {
		oldMaxPoolPlane(&p, oh, ow, x[pl*hw:(pl+1)*hw], y[pl*ohw:(pl+1)*ohw])
	}
}

func oldMaxPool2DBackward[T Float](p Pool2DParams, x, dy, dx []T) {
	oh, ow := p.OutH(), p.OutW()
	hw, ohw := p.H*p.W, oh*ow
	for pl := range p.N * p.C {
		dxp := dx[pl*hw : (pl+1)*hw]
		clear(dxp)
		oldMaxPoolBackwardPlane(&p, oh, ow, x[pl*hw:(pl+1)*hw], dy[pl*ohw:(pl+1)*ohw], dxp)
	}
}

func oldMaxPoolPlane[T Float](p *Pool2DParams, oh, ow int, xp, yp []T) {
	negInf := T(math.Inf(-1))
	width, sw, pl, kw := p.W, p.StrideW, p.PadLeft, p.KW
	for i := range oh {
		h0, h1 := window(i, p.StrideH, p.PadTop, p.KH, p.H)
		yr := yp[i*ow:][:ow]
		for j := range yr {
			w0, w1 := window(j, sw, pl, kw, width)
			best := negInf
			for h := h0; h < h1; h++ {
				for _, v := range xp[h*width+w0 : h*width+w1] {
					best = max(best, v)
				}
			}
			yr[j] = best
		}
	}
}

func oldMaxPoolBackwardPlane[T Float](p *Pool2DParams, oh, ow int, xp, dyp, dxp []T) {
	negInf := T(math.Inf(-1))
	width, sw, pl, kw := p.W, p.StrideW, p.PadLeft, p.KW
	for i := range oh {
		h0, h1 := window(i, p.StrideH, p.PadTop, p.KH, p.H)
		for j, g := range dyp[i*ow:][:ow] {
			w0, w1 := window(j, sw, pl, kw, width)
			if h0 >= h1 || w0 >= w1 {
				continue
			}
			best := negInf
			for h := h0; h < h1; h++ {
				for _, v := range xp[h*width+w0 : h*width+w1] {
					best = max(best, v)
				}
			}
			dxp[oldWindowArg(xp, width, h0, h1, w0, w1, best)] += g
		}
	}
}

func oldWindowArg[T Float](xp []T, width, h0, h1, w0, w1 int, best T) int {
	if best != best {
		for h := h1 - 1; h >= h0; h-- {
			for w := w1 - 1; w >= w0; w-- {
				if v := xp[h*width+w]; v != v {
					return h*width + w
				}
			}
		}
	}
	for h := h0; h < h1; h++ {
		for w := w0; w < w1; w++ {
			if xp[h*width+w] == best {
				return h*width + w
			}
		}
	}
	panic("unreachable")
}

// oldMaxPoolIndices is where the old backward sent each dy (-1: nowhere).
func oldMaxPoolIndices[T Float](p Pool2DParams, x []T) []int32 {
	oh, ow := p.OutH(), p.OutW()
	hw := p.H * p.W
	idx := make([]int32, 0, p.N*p.C*oh*ow)
	for pl := range p.N * p.C {
		xp := x[pl*hw : (pl+1)*hw]
		for i := range oh {
			h0, h1 := window(i, p.StrideH, p.PadTop, p.KH, p.H)
			for j := range ow {
				w0, w1 := window(j, p.StrideW, p.PadLeft, p.KW, p.W)
				if h0 >= h1 || w0 >= w1 {
					idx = append(idx, -1)
					continue
				}
				best := T(math.Inf(-1))
				for h := h0; h < h1; h++ {
					for _, v := range xp[h*p.W+w0 : h*p.W+w1] {
						best = max(best, v)
					}
				}
				idx = append(idx, int32(oldWindowArg(xp, p.W, h0, h1, w0, w1, best)))
			}
		}
	}
	return idx
}

// TestMaxPool2DMatchesOld compares MaxPool2D, MaxPool2DBackward, MaxPool2DIndices and
// MaxPool2DBackwardIndices with the old loops bit for bit, on inputs full of ties (a few
// distinct values, both zeros), infinities and NaN (several in some windows), over
// windows, strides and paddings that exercise the unrolled 3x3 loop, the general
// unclipped loop and the border.
func TestMaxPool2DMatchesOld(t *testing.T) {
	cases := []struct {
		name string
		p    Pool2DParams
	}{
		{"3x3/2 same even (alexnet-small pool1)", pool(3, 4, 28, 28, 3, 3, 2, 2, 0, 1, 0, 1)},
		{"3x3/2 same 14x14", pool(2, 5, 14, 14, 3, 3, 2, 2, 0, 1, 0, 1)},
		{"3x3/2 same odd 7x7", pool(3, 4, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1)},
		{"3x3/2 valid", pool(2, 3, 9, 11, 3, 3, 2, 2)},
		{"3x3/1 same", pool(2, 3, 8, 9, 3, 3, 1, 1, 1, 1, 1, 1)},
		{"3x3/3", pool(2, 3, 9, 10, 3, 3, 3, 3)},
		{"3x3/2x1 left pad only", pool(2, 2, 6, 7, 3, 3, 2, 1, 0, 0, 2, 0)},
		{"3x3 wider than input", pool(2, 2, 5, 2, 3, 3, 2, 2, 1, 1, 1, 1)},
		{"3x3 window equals padded input", pool(2, 2, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1)},
		{"3x3/4 stride beyond window", pool(2, 2, 13, 13, 3, 3, 4, 4, 1, 1, 1, 1)},
		{"2x2/2 (fast path)", pool(2, 3, 8, 10, 2, 2, 2, 2)},
		{"2x2/2 padded", pool(2, 3, 7, 9, 2, 2, 2, 2, 0, 1, 0, 1)},
		// The AVX-512 row kernel: 16 windows at a time, a shorter last group, odd widths.
		{"2x2/2 28x28 (course CNN pool1)", pool(2, 3, 28, 28, 2, 2, 2, 2)},
		{"2x2/2 wide rows", pool(2, 2, 6, 70, 2, 2, 2, 2)},
		{"2x2/2 wide odd rows", pool(2, 2, 7, 67, 2, 2, 2, 2)},
		{"2x2/2 exactly 16 windows", pool(1, 2, 4, 32, 2, 2, 2, 2)},
		{"2x3/1x2", pool(2, 3, 7, 9, 2, 3, 1, 2, 1, 0, 0, 2)},
		{"5x5/2 same", pool(2, 3, 11, 12, 5, 5, 2, 2, 2, 2, 1, 2)},
		{"4x1/3x1", pool(2, 2, 13, 5, 4, 1, 3, 1, 1, 2, 0, 0)},
		{"window wholly in padding", pool(1, 2, 3, 3, 2, 2, 2, 2, 2, 0, 2, 0)},
		{"1x1", pool(2, 2, 4, 5, 1, 1, 1, 1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(4) {
				t.Run(fmt.Sprintf("seed=%d/float32", seed), func(t *testing.T) { testMaxPoolMatchesOld[float32](t, tc.p, seed) })
				t.Run(fmt.Sprintf("seed=%d/float64", seed), func(t *testing.T) { testMaxPoolMatchesOld[float64](t, tc.p, seed) })
			}
		})
	}
}

// oldTestInput draws n values: mostly ties among a few integers and both zeros, with
// some infinities and NaN; seed 0 has no NaN, seed 1 many.
func oldTestInput[T Float](r *rand.Rand, n int, seed uint64) []T {
	nanRate := []float64{0, 0.3, 0.05, 0.01}[seed%4]
	negZero := T(math.Copysign(0, -1))
	x := make([]T, n)
	for i := range x {
		switch u := r.Float64(); {
		case u < nanRate:
			x[i] = T(math.NaN())
		case u < nanRate+0.03:
			x[i] = T(math.Inf(1 - 2*r.IntN(2)))
		case u < nanRate+0.15:
			x[i] = negZero
		case u < 0.7:
			x[i] = T(r.IntN(4) - 2)
		default:
			x[i] = T(r.NormFloat64())
		}
	}
	return x
}

func testMaxPoolMatchesOld[T Float](t *testing.T, p Pool2DParams, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 7))
	ny := p.N * p.C * p.OutH() * p.OutW()
	x := oldTestInput[T](r, p.N*p.C*p.H*p.W, seed)
	dy := oldTestInput[T](r, ny, seed)

	wantY, wantDx := make([]T, ny), make([]T, len(x))
	oldMaxPool2D(p, x, wantY)
	oldMaxPool2DBackward(p, x, dy, wantDx)
	wantIdx := oldMaxPoolIndices(p, x)

	y := nanSlice[T](ny)
	MaxPool2D(p, x, y)
	assertBits(t, "MaxPool2D", y, wantY)
	if !p.Is2x2() {
		// The 2x2/2 fast path, unchanged, passes a dy of -0 on as -0 where the old
		// general loop added it to +0.
		dx := nanSlice[T](len(x))
		MaxPool2DBackward(p, x, dy, dx)
		assertBits(t, "MaxPool2DBackward", dx, wantDx)
	}

	y, idx := nanSlice[T](ny), make([]int32, ny)
	for i := range idx {
		idx[i] = -7
	}
	MaxPool2DIndices(p, x, y, idx)
	assertBits(t, "MaxPool2DIndices y", y, wantY)
	for i := range idx {
		if idx[i] != wantIdx[i] {
			t.Fatalf("MaxPool2DIndices: index %d is %d, want %d", i, idx[i], wantIdx[i])
		}
	}
	dx := nanSlice[T](len(x))
	MaxPool2DBackwardIndices(p, idx, dy, dx)
	assertBits(t, "MaxPool2DBackwardIndices", dx, wantDx)
}

// assertBits fails unless got and want hold the same bit patterns.
func assertBits[T Float](t *testing.T, what string, got, want []T) {
	t.Helper()
	for i := range want {
		if g, w := bitsOf(got[i]), bitsOf(want[i]); g != w {
			t.Fatalf("%s: element %d is %v (%#x), want %v (%#x)", what, i, got[i], g, want[i], w)
		}
	}
}

func bitsOf[T Float](v T) uint64 {
	switch v := any(v).(type) {
	case float32:
		return uint64(math.Float32bits(v))
	case float64:
		return math.Float64bits(v)
	}
	panic(fmt.Sprintf("bitsOf %T", v))
}
