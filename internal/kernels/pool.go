package kernels

import (
	"fmt"
	"math"
	"unsafe"
)

// Pooling works plane by plane (one channel of one image): windows never cross planes, so
// planes are split over goroutines with no shared writes, even in the backward passes
// where overlapping windows add into the same input cell.

// mustOut validates p for the kernel named op and returns the output height and width.
// It panics on values that no caller should produce.
func (p Pool2DParams) mustOut(op string) (oh, ow int) {
	if p.N < 1 || p.C < 1 || p.H < 1 || p.W < 1 || p.KH < 1 || p.KW < 1 ||
		p.StrideH < 1 || p.StrideW < 1 ||
		p.PadTop < 0 || p.PadBottom < 0 || p.PadLeft < 0 || p.PadRight < 0 {
		panic(fmt.Sprintf("kernels: %s: invalid parameters %+v (sizes and strides must be >= 1, padding >= 0)", op, p))
	}
	oh, ow = p.OutH(), p.OutW()
	if oh < 1 || ow < 1 {
		panic(fmt.Sprintf("kernels: %s: window %dx%d larger than padded input %dx%d",
			op, p.KH, p.KW, p.H+p.PadTop+p.PadBottom, p.W+p.PadLeft+p.PadRight))
	}
	return oh, ow
}

// window returns the input range [lo,hi) covered by output o along an axis, clipped to
// the input: padded cells are not part of any window's arithmetic.
func window(o, stride, pad, k, size int) (lo, hi int) {
	lo = o*stride - pad
	hi = min(lo+k, size)
	return max(lo, 0), hi
}

// MaxPool2D writes into y [N,C,OutH,OutW] the maximum of each window of x [N,C,H,W].
// Padded cells never win, as if they held -Inf; a window that lies wholly in the padding
// yields -Inf. NaN propagates, as in PyTorch.
//
// It panics if a size or stride in p is below 1, a padding is negative, the window does
// not fit the padded input, or a slice is shorter than p implies.
func MaxPool2D[T Float](p Pool2DParams, x, y []T) {
	const op = "MaxPool2D"
	oh, ow := p.mustOut(op)
	hw, ohw := p.H*p.W, oh*ow
	mustLen(op, "x", x, p.N*p.C*hw)
	mustLen(op, "y", y, p.N*p.C*ohw)
	fast := p.is2x2()
	parallelWork(p.N*p.C, hw+ohw*p.KH*p.KW, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp, yp := x[pl*hw:(pl+1)*hw], y[pl*ohw:(pl+1)*ohw]
			if fast {
				maxPool2x2Plane(p.W, oh, ow, xp, yp)
			} else {
				maxPoolPlane(&p, oh, ow, xp, yp)
			}
		}
	})
}

// MaxPool2DBackward writes into dx [N,C,H,W] the gradient of sum(MaxPool2D(x) * dy) with
// respect to x, for dy [N,C,OutH,OutW]. Each dy goes to the first maximal cell of its
// window in row-major order (to the last NaN if the window holds NaN), the rule PyTorch
// uses, so ties are broken the same way in both frameworks; where windows overlap the
// contributions add up. The arg max is recomputed from x rather than stored by the
// forward pass, which keeps the forward output a plain tensor.
//
// It panics in the same cases as [MaxPool2D].
func MaxPool2DBackward[T Float](p Pool2DParams, x, dy, dx []T) {
	const op = "MaxPool2DBackward"
	oh, ow := p.mustOut(op)
	hw, ohw := p.H*p.W, oh*ow
	mustLen(op, "x", x, p.N*p.C*hw)
	mustLen(op, "dy", dy, p.N*p.C*ohw)
	mustLen(op, "dx", dx, p.N*p.C*hw)
	fast := p.is2x2()
	parallelWork(p.N*p.C, 2*hw+ohw*p.KH*p.KW, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp, dyp, dxp := x[pl*hw:(pl+1)*hw], dy[pl*ohw:(pl+1)*ohw], dx[pl*hw:(pl+1)*hw]
			if fast {
				if p.H%2 != 0 || p.W%2 != 0 {
					clear(dxp)
				}
				if unsafe.Sizeof(T(0)) == 4 {
					maxPool2x2BackwardPlane32(p.W, oh, ow, reinterpret[float32](xp), reinterpret[float32](dyp), reinterpret[float32](dxp))
				} else {
					maxPool2x2BackwardPlane64(p.W, oh, ow, reinterpret[float64](xp), reinterpret[float64](dyp), reinterpret[float64](dxp))
				}
			} else {
				clear(dxp)
				maxPoolBackwardPlane(&p, oh, ow, xp, dyp, dxp)
			}
		}
	})
}

// The max-pool loops take maxima with the builtin max, which compiles to branch-free
// code: on real activations "is this cell larger?" is a coin flip, and the mispredicted
// branches made a branchy loop five times slower. The builtin also propagates NaN. It
// differs from PyTorch's running comparison only in the sign of a maximum where -0 and
// +0 tie, which no arithmetic can tell apart.

// is2x2 reports whether p is the unpadded 2x2 window with stride 2 that most CNNs use
// after each convolution block, which has a loop with no window arithmetic.
func (p Pool2DParams) is2x2() bool {
	return p.KH == 2 && p.KW == 2 && p.StrideH == 2 && p.StrideW == 2 &&
		p.PadTop == 0 && p.PadBottom == 0 && p.PadLeft == 0 && p.PadRight == 0
}

func maxPool2x2Plane[T Float](w, oh, ow int, xp, yp []T) {
	for i := range oh {
		r0, r1 := xp[2*i*w:][:2*ow], xp[(2*i+1)*w:][:2*ow]
		yr := yp[i*ow:][:ow]
		for j := range yr {
			yr[j] = max(r0[2*j], r0[2*j+1], r1[2*j], r1[2*j+1])
		}
	}
}

// lastNaN4 returns the position of the last NaN among a, b, c, d (0 if none).
func lastNaN4[T Float](a, b, c, d T) int {
	switch {
	case d != d:
		return 3
	case c != c:
		return 2
	case b != b:
		return 1
	}
	return 0
}

// The 2x2 backward pass finds the first maximal cell with comparisons turned into bit
// masks and writes all four cells as dy AND mask: a branch on the arg max of real
// activations mispredicts about every other window (a switch on it ran 2-3 times
// slower), and unlike multiplying dy by 0 or 1, a mask keeps an infinite or NaN dy out
// of the losing cells. The masks need the bits of the element type, hence one function
// per width. Windows tile the plane without overlap, so each covered cell is either its
// window's winner or 0; cells beyond the last full window (odd H or W) are left to the
// caller.

func mask32(b bool) uint32 {
	if b {
		return ^uint32(0)
	}
	return 0
}

func mask64(b bool) uint64 {
	if b {
		return ^uint64(0)
	}
	return 0
}

func maxPool2x2BackwardPlane32(w, oh, ow int, xp, dyp, dxp []float32) {
	for i := range oh {
		r0, r1 := xp[2*i*w:][:2*ow], xp[(2*i+1)*w:][:2*ow]
		d0, d1 := dxp[2*i*w:][:2*ow], dxp[(2*i+1)*w:][:2*ow]
		for j, g := range dyp[i*ow:][:ow] {
			a, b, c, d := r0[2*j], r0[2*j+1], r1[2*j], r1[2*j+1]
			m := max(a, b, c, d)
			if m != m {
				maxPool2x2NaN(a, b, c, d, g, d0[2*j:2*j+2], d1[2*j:2*j+2])
				continue
			}
			ea := mask32(a == m)
			eb := mask32(b == m) &^ ea
			ec := mask32(c == m) &^ (ea | eb)
			ed := ^(ea | eb | ec)
			gb := math.Float32bits(g)
			d0[2*j], d0[2*j+1] = math.Float32frombits(gb&ea), math.Float32frombits(gb&eb)
			d1[2*j], d1[2*j+1] = math.Float32frombits(gb&ec), math.Float32frombits(gb&ed)
		}
	}
}

func maxPool2x2BackwardPlane64(w, oh, ow int, xp, dyp, dxp []float64) {
	for i := range oh {
		r0, r1 := xp[2*i*w:][:2*ow], xp[(2*i+1)*w:][:2*ow]
		d0, d1 := dxp[2*i*w:][:2*ow], dxp[(2*i+1)*w:][:2*ow]
		for j, g := range dyp[i*ow:][:ow] {
			a, b, c, d := r0[2*j], r0[2*j+1], r1[2*j], r1[2*j+1]
			m := max(a, b, c, d)
			if m != m {
				maxPool2x2NaN(a, b, c, d, g, d0[2*j:2*j+2], d1[2*j:2*j+2])
				continue
			}
			ea := mask64(a == m)
			eb := mask64(b == m) &^ ea
			ec := mask64(c == m) &^ (ea | eb)
			ed := ^(ea | eb | ec)
			gb := math.Float64bits(g)
			d0[2*j], d0[2*j+1] = math.Float64frombits(gb&ea), math.Float64frombits(gb&eb)
			d1[2*j], d1[2*j+1] = math.Float64frombits(gb&ec), math.Float64frombits(gb&ed)
		}
	}
}

// maxPool2x2NaN sends g to the last NaN of a window, PyTorch's choice, off the hot path.
func maxPool2x2NaN[T Float](a, b, c, d, g T, d0, d1 []T) {
	d0[0], d0[1], d1[0], d1[1] = 0, 0, 0, 0
	switch {
	case d != d:
		d1[1] = g
	case c != c:
		d1[0] = g
	case b != b:
		d0[1] = g
	default:
		d0[0] = g
	}
}

// maxPoolPlane pools one plane [H,W] into yp [oh,ow].
func maxPoolPlane[T Float](p *Pool2DParams, oh, ow int, xp, yp []T) {
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

// maxPoolBackwardPlane adds each dy of one plane into the cell that won its window.
func maxPoolBackwardPlane[T Float](p *Pool2DParams, oh, ow int, xp, dyp, dxp []T) {
	negInf := T(math.Inf(-1))
	width, sw, pl, kw := p.W, p.StrideW, p.PadLeft, p.KW
	for i := range oh {
		h0, h1 := window(i, p.StrideH, p.PadTop, p.KH, p.H)
		for j, g := range dyp[i*ow:][:ow] {
			w0, w1 := window(j, sw, pl, kw, width)
			if h0 >= h1 || w0 >= w1 {
				continue // the window lies in the padding and passes nothing back
			}
			best := negInf
			for h := h0; h < h1; h++ {
				for _, v := range xp[h*width+w0 : h*width+w1] {
					best = max(best, v)
				}
			}
			dxp[windowArg(xp, width, h0, h1, w0, w1, best)] += g
		}
	}
}

// windowArg returns the index in xp of the first cell of the window equal to best, or
// of the last NaN when best is NaN.
func windowArg[T Float](xp []T, width, h0, h1, w0, w1 int, best T) int {
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
	panic("kernels: max pool: maximum not found in its window") // unreachable
}

// AvgPool2D writes into y [N,C,OutH,OutW] the mean of each window of x [N,C,H,W] over the
// window's cells that lie inside the input: padding is not counted, as in Keras and
// PyTorch's count_include_pad=False, so border outputs are not dragged towards zero.
// A window wholly in the padding yields 0.
//
// It panics in the same cases as [MaxPool2D].
func AvgPool2D[T Float](p Pool2DParams, x, y []T) {
	const op = "AvgPool2D"
	oh, ow := p.mustOut(op)
	hw, ohw := p.H*p.W, oh*ow
	mustLen(op, "x", x, p.N*p.C*hw)
	mustLen(op, "y", y, p.N*p.C*ohw)
	parallelWork(p.N*p.C, hw+ohw*p.KH*p.KW, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp, yp := x[pl*hw:(pl+1)*hw], y[pl*ohw:(pl+1)*ohw]
			for i := range oh {
				h0, h1 := window(i, p.StrideH, p.PadTop, p.KH, p.H)
				yr := yp[i*ow : (i+1)*ow]
				for j := range yr {
					w0, w1 := window(j, p.StrideW, p.PadLeft, p.KW, p.W)
					var sum T
					for h := h0; h < h1; h++ {
						for _, v := range xp[h*p.W+w0 : h*p.W+w1] {
							sum += v
						}
					}
					if n := (h1 - h0) * (w1 - w0); n > 0 {
						sum /= T(n)
					}
					yr[j] = sum
				}
			}
		}
	})
}

// AvgPool2DBackward writes into dx [N,C,H,W] the gradient of sum(AvgPool2D(x) * dy) with
// respect to x, for dy [N,C,OutH,OutW]: each dy is shared equally among its window's
// cells inside the input, and overlapping windows add up.
//
// It panics in the same cases as [MaxPool2D].
func AvgPool2DBackward[T Float](p Pool2DParams, dy, dx []T) {
	const op = "AvgPool2DBackward"
	oh, ow := p.mustOut(op)
	hw, ohw := p.H*p.W, oh*ow
	mustLen(op, "dy", dy, p.N*p.C*ohw)
	mustLen(op, "dx", dx, p.N*p.C*hw)
	parallelWork(p.N*p.C, hw+ohw*p.KH*p.KW, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			dyp, dxp := dy[pl*ohw:(pl+1)*ohw], dx[pl*hw:(pl+1)*hw]
			clear(dxp)
			for i := range oh {
				h0, h1 := window(i, p.StrideH, p.PadTop, p.KH, p.H)
				dyr := dyp[i*ow : (i+1)*ow]
				for j, g := range dyr {
					w0, w1 := window(j, p.StrideW, p.PadLeft, p.KW, p.W)
					n := (h1 - h0) * (w1 - w0)
					if n <= 0 {
						continue
					}
					g /= T(n)
					for h := h0; h < h1; h++ {
						d := dxp[h*p.W+w0 : h*p.W+w1]
						for k := range d {
							d[k] += g
						}
					}
				}
			}
		}
	})
}

// GlobalAvgPool2D writes into y [N,C] the mean of each hw-cell plane of x [N,C,H,W]
// (hw = H*W), the usual head of a fully convolutional classifier.
//
// It panics if n, c or hw is below 1 or a slice is shorter than they imply.
func GlobalAvgPool2D[T Float](n, c, hw int, x, y []T) {
	const op = "GlobalAvgPool2D"
	mustGlobal(op, n, c, hw)
	mustLen(op, "x", x, n*c*hw)
	mustLen(op, "y", y, n*c)
	scale := 1 / T(hw)
	parallelWork(n*c, hw, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			var sum T
			for _, v := range x[pl*hw : (pl+1)*hw] {
				sum += v
			}
			y[pl] = sum * scale
		}
	})
}

// GlobalAvgPool2DBackward writes into dx [N,C,H,W] the gradient of
// sum(GlobalAvgPool2D(x) * dy) with respect to x, for dy [N,C]: each dy spread evenly
// over its plane.
//
// It panics in the same cases as [GlobalAvgPool2D].
func GlobalAvgPool2DBackward[T Float](n, c, hw int, dy, dx []T) {
	const op = "GlobalAvgPool2DBackward"
	mustGlobal(op, n, c, hw)
	mustLen(op, "dy", dy, n*c)
	mustLen(op, "dx", dx, n*c*hw)
	scale := 1 / T(hw)
	parallelWork(n*c, hw, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			g := dy[pl] * scale
			d := dx[pl*hw : (pl+1)*hw]
			for k := range d {
				d[k] = g
			}
		}
	})
}

func mustGlobal(op string, n, c, hw int) {
	if n < 1 || c < 1 || hw < 1 {
		panic(fmt.Sprintf("kernels: %s: invalid sizes n=%d c=%d hw=%d (all must be >= 1)", op, n, c, hw))
	}
}
