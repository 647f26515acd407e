package kernels

import "fmt"

// ResizeParams describes resizing NCHW images to any height and width (Keras's Resizing,
// PyTorch's F.interpolate(size=...), ONNX's Resize with sizes), nearest or bilinear.
type ResizeParams struct {
	N, C, H, W int // the input
	OH, OW     int // the output's height and width
	Bilinear   bool
}

func (p ResizeParams) must(op string) {
	if p.N < 1 || p.C < 1 || p.H < 1 || p.W < 1 || p.OH < 1 || p.OW < 1 {
		panic(fmt.Sprintf("kernels: %s: invalid parameters %+v (all sizes must be >= 1)", op, p))
	}
}

// resizeAxis is, for each output cell along an axis of in cells resized to out, the input
// cells it reads and the weight of the second. Nearest reads cell floor(o*in/out)
// (PyTorch's nearest; ONNX's asymmetric coordinates with floor), computed exactly in
// integers; bilinear reads around the half-pixel source (o+0.5)*in/out-0.5, clamped to
// the input (PyTorch's align_corners=False, ONNX's half_pixel, TensorFlow 2's resize).
func resizeAxis(in, out int, bilinear bool) lerpAxis {
	a := lerpAxis{make([]int, out), make([]int, out), make([]float64, out)}
	for o := range out {
		if !bilinear {
			i := o * in / out
			a.i0[o], a.i1[o] = i, i
			continue
		}
		src := (float64(o)+0.5)*float64(in)/float64(out) - 0.5
		if src < 0 {
			src = 0
		}
		i0 := min(int(src), in-1)
		a.i0[o], a.i1[o], a.w1[o] = i0, min(i0+1, in-1), src-float64(i0)
	}
	return a
}

// Resize2D writes into y [N,C,OH,OW] the input x [N,C,H,W] resized. Planes are split
// over the cores in order, so each core keeps its own images.
//
// It panics if p is invalid or a slice is shorter than p implies.
func Resize2D[T Float](p ResizeParams, x, y []T) {
	const op = "Resize2D"
	p.must(op)
	hw, ohw := p.H*p.W, p.OH*p.OW
	mustLen(op, "x", x, p.N*p.C*hw)
	mustLen(op, "y", y, p.N*p.C*ohw)
	rows, cols := resizeAxis(p.H, p.OH, p.Bilinear), resizeAxis(p.W, p.OW, p.Bilinear)
	Split(p.N*p.C, 4*ohw, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp, yp := x[pl*hw:(pl+1)*hw], y[pl*ohw:(pl+1)*ohw]
			for r := 0; r < p.OH; r++ {
				yr := yp[r*p.OW : (r+1)*p.OW]
				a, b := xp[rows.i0[r]*p.W:(rows.i0[r]+1)*p.W], xp[rows.i1[r]*p.W:(rows.i1[r]+1)*p.W]
				if !p.Bilinear {
					for c := range yr {
						yr[c] = a[cols.i0[c]]
					}
					continue
				}
				wh := rows.w1[r]
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

// Resize2DBackward writes into dx [N,C,H,W] the gradient of sum(Resize2D(x) * dy): each
// input cell gets the dy of the output cells that read it, times their weights, summed
// in float64 in output order. It splits and panics as [Resize2D].
func Resize2DBackward[T Float](p ResizeParams, dy, dx []T) {
	const op = "Resize2DBackward"
	p.must(op)
	hw, ohw := p.H*p.W, p.OH*p.OW
	mustLen(op, "dy", dy, p.N*p.C*ohw)
	mustLen(op, "dx", dx, p.N*p.C*hw)
	rows, cols := resizeAxis(p.H, p.OH, p.Bilinear), resizeAxis(p.W, p.OW, p.Bilinear)
	Split(p.N*p.C, 4*ohw, func(lo, hi int) {
		acc := getScratch[float64](hw)
		defer putScratch(acc)
		for pl := lo; pl < hi; pl++ {
			dyp, dxp := dy[pl*ohw:(pl+1)*ohw], dx[pl*hw:(pl+1)*hw]
			s := *acc
			clear(s)
			for r := 0; r < p.OH; r++ {
				dyr := dyp[r*p.OW : (r+1)*p.OW]
				a, b := s[rows.i0[r]*p.W:(rows.i0[r]+1)*p.W], s[rows.i1[r]*p.W:(rows.i1[r]+1)*p.W]
				if !p.Bilinear {
					for c, v := range dyr {
						a[cols.i0[c]] += float64(v)
					}
					continue
				}
				wh := rows.w1[r]
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
