package kernels

import (
	"fmt"
	"math"
	"testing"
)

// refIm2col is im2col written from its definition, one element at a time.
func refIm2col(p *Conv2DParams, oh, ow int, x, col []float64) {
	row := 0
	for c := range p.C {
		for kh := range p.KH {
			for kw := range p.KW {
				for y := range oh {
					for o := range ow {
						ih := y*p.StrideH + kh*p.DilationH - p.PadTop
						iw := o*p.StrideW + kw*p.DilationW - p.PadLeft
						v := 0.0
						if ih >= 0 && ih < p.H && iw >= 0 && iw < p.W {
							v = x[(c*p.H+ih)*p.W+iw]
						}
						col[row*oh*ow+y*ow+o] = v
					}
				}
				row++
			}
		}
	}
}

// refCol2im is col2im written from its definition: each cell's terms added in tap order.
func refCol2im(p *Conv2DParams, oh, ow int, col, x []float64) {
	clear(x)
	row := 0
	for c := range p.C {
		for kh := range p.KH {
			for kw := range p.KW {
				for y := range oh {
					for o := range ow {
						ih := y*p.StrideH + kh*p.DilationH - p.PadTop
						iw := o*p.StrideW + kw*p.DilationW - p.PadLeft
						if ih >= 0 && ih < p.H && iw >= 0 && iw < p.W {
							x[(c*p.H+ih)*p.W+iw] += col[row*oh*ow+y*ow+o]
						}
					}
				}
				row++
			}
		}
	}
}

// im2colCases cover im2col's shifted-copy path ("same" convolutions with stride 1,
// including taps and rows that meet only padding) and the general one.
var im2colCases = []Conv2DParams{
	conv(1, 16, 28, 28, 16, 3, 3, pad(1, 1, 1, 1)),
	conv(1, 3, 7, 9, 4, 3, 3, pad(1, 1, 1, 1)),
	conv(1, 2, 6, 5, 2, 5, 5, pad(2, 2, 2, 2)),
	conv(1, 2, 6, 5, 2, 3, 3, pad(2, 2, 1, 1), dilation(2, 2)),
	conv(1, 2, 4, 4, 2, 7, 3, pad(6, 0, 1, 1)), // rows that meet only padding
	conv(1, 2, 3, 4, 2, 1, 5, pad(0, 0, 4, 4)), // wider output than input
	conv(1, 2, 5, 3, 2, 3, 7, pad(1, 1, 3, 3)), // taps that meet only padding
	conv(1, 3, 8, 8, 2, 3, 3, stride(2, 2), pad(1, 1, 1, 1)),
	conv(1, 3, 8, 8, 2, 3, 3, stride(1, 2), pad(1, 1, 1, 1)),
	conv(1, 3, 8, 8, 2, 3, 3),
	conv(1, 2, 5, 5, 2, 1, 1),
}

// TestIm2colExact checks im2col and col2im against their definitions, bit for bit. Columns
// and images start as NaN, so every element must be written.
func TestIm2colExact(t *testing.T) {
	for _, p := range im2colCases {
		t.Run(fmt.Sprintf("%dx%dx%d/k%dx%d/s%dx%d/d%dx%d/pad%d,%d,%d,%d", p.C, p.H, p.W, p.KH, p.KW,
			p.StrideH, p.StrideW, p.DilationH, p.DilationW, p.PadTop, p.PadBottom, p.PadLeft, p.PadRight), func(t *testing.T) {
			oh, ow := p.mustOut("test")
			x := randSlice(newRand(), p.C*p.H*p.W)
			want := make([]float64, p.C*p.KH*p.KW*oh*ow)
			refIm2col(&p, oh, ow, x, want)
			got := nanSlice[float64](len(want))
			im2col(&p, oh, ow, x, got)
			for i := range want {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
					t.Fatalf("im2col: col[%d] = %v, want %v", i, got[i], want[i])
				}
			}
			// Values of every magnitude, so that a term added out of order or twice
			// changes the bits.
			r := newRand()
			for i := range got {
				got[i] = r.NormFloat64() * math.Exp(4*r.NormFloat64())
			}
			wantX := make([]float64, len(x))
			refCol2im(&p, oh, ow, got, wantX)
			gotX := nanSlice[float64](len(x))
			col2im(&p, oh, ow, got, gotX)
			for i := range wantX {
				if math.Float64bits(gotX[i]) != math.Float64bits(wantX[i]) {
					t.Fatalf("col2im: x[%d] = %v, want %v", i, gotX[i], wantX[i])
				}
			}
		})
	}
}
