package kernels

import "fmt"

// UpsampleParams describes 2-D upsampling of an NCHW input by integer factors, nearest
// or bilinear.
type UpsampleParams struct {
	N, C, H, W int // the input
	SH, SW     int // factors: the output is H*SH x W*SW
	Bilinear   bool
}

func (p UpsampleParams) must(op string) {
	if p.N < 1 || p.C < 1 || p.H < 1 || p.W < 1 || p.SH < 1 || p.SW < 1 {
		panic(fmt.Sprintf("kernels: %s: invalid parameters %+v (all sizes must be >= 1)", op, p))
	}
}

// lerpAxis is, for each output cell along an axis, the two input cells it reads and the
// weight of the second: half-pixel centres (source (o+0.5)/s-0.5, clamped to the input),
// as PyTorch's align_corners=False and TensorFlow 2's resize compute it.
type lerpAxis struct {
	i0, i1 []int
	w1     []float64
}

func newLerpAxis(in, s int) lerpAxis {
	n := in * s
	a := lerpAxis{make([]int, n), make([]int, n), make([]float64, n)}
	for o := range n {
		src := (float64(o)+0.5)/float64(s) - 0.5
		if src < 0 {
			src = 0
		}
		i0 := int(src)
		a.i0[o], a.i1[o], a.w1[o] = i0, min(i0+1, in-1), src-float64(i0)
	}
	return a
}

// Upsample2D writes into y [N,C,H*SH,W*SW] the input x [N,C,H,W] enlarged: each cell
// repeated SH x SW times (nearest), or interpolated bilinearly. Planes are split over
// the cores in order, so each core keeps its own images.
//
// It panics if p is invalid or a slice is shorter than p implies.
func Upsample2D[T Float](p UpsampleParams, x, y []T) {
	const op = "Upsample2D"
	p.must(op)
	hw, oh, ow := p.H*p.W, p.H*p.SH, p.W*p.SW
	mustLen(op, "x", x, p.N*p.C*hw)
	mustLen(op, "y", y, p.N*p.C*oh*ow)
	var rows, cols lerpAxis
	if p.Bilinear {
		rows, cols = newLerpAxis(p.H, p.SH), newLerpAxis(p.W, p.SW)
	}
	Split(p.N*p.C, 4*oh*ow, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp, yp := x[pl*hw:(pl+1)*hw], y[pl*oh*ow:(pl+1)*oh*ow]
			for r := 0; r < oh; r++ {
				yr := yp[r*ow : (r+1)*ow]
				if !p.Bilinear {
					xr := xp[(r/p.SH)*p.W : (r/p.SH+1)*p.W]
					for c := range yr {
						yr[c] = xr[c/p.SW]
					}
					continue
				}
				wh := rows.w1[r]
				a, b := xp[rows.i0[r]*p.W:(rows.i0[r]+1)*p.W], xp[rows.i1[r]*p.W:(rows.i1[r]+1)*p.W]
				for c := range yr {
					c0, c1, ww := cols.i0[c], cols.i1[c], cols.w1[c]
					top := (1-ww)*float64(a[c0]) + ww*float64(a[c1])
					bot := (1-ww)*float64(b[c0]) + ww*float64(b[c1])
					yr[c] = T((1-wh)*top + wh*bot)
				}
			}
		}
	})
}

// Upsample2DBackward writes into dx [N,C,H,W] the gradient of sum(Upsample2D(x) * dy):
// each input cell gets the dy of the output cells that read it, times their weights. It
// splits and panics as [Upsample2D].
func Upsample2DBackward[T Float](p UpsampleParams, dy, dx []T) {
	const op = "Upsample2DBackward"
	p.must(op)
	hw, oh, ow := p.H*p.W, p.H*p.SH, p.W*p.SW
	mustLen(op, "dy", dy, p.N*p.C*oh*ow)
	mustLen(op, "dx", dx, p.N*p.C*hw)
	var rows, cols lerpAxis
	if p.Bilinear {
		rows, cols = newLerpAxis(p.H, p.SH), newLerpAxis(p.W, p.SW)
	}
	Split(p.N*p.C, 4*oh*ow, func(lo, hi int) {
		acc := getScratch[float64](hw)
		defer putScratch(acc)
		for pl := lo; pl < hi; pl++ {
			dyp, dxp := dy[pl*oh*ow:(pl+1)*oh*ow], dx[pl*hw:(pl+1)*hw]
			s := *acc
			clear(s)
			for r := 0; r < oh; r++ {
				dyr := dyp[r*ow : (r+1)*ow]
				if !p.Bilinear {
					sr := s[(r/p.SH)*p.W : (r/p.SH+1)*p.W]
					for c, v := range dyr {
						sr[c/p.SW] += float64(v)
					}
					continue
				}
				wh := rows.w1[r]
				a, b := s[rows.i0[r]*p.W:(rows.i0[r]+1)*p.W], s[rows.i1[r]*p.W:(rows.i1[r]+1)*p.W]
				for c, v := range dyr {
					c0, c1, ww := cols.i0[c], cols.i1[c], cols.w1[c]
					g := float64(v)
					a[c0] += (1 - wh) * (1 - ww) * g
					a[c1] += (1 - wh) * ww * g
					b[c0] += wh * (1 - ww) * g
					b[c1] += wh * ww * g
				}
			}
			for i, v := range s {
				dxp[i] = T(v)
			}
		}
	})
}
