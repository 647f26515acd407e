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
	fast := p.Is2x2()
	Split(p.N*p.C, hw+ohw*p.KH*p.KW, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp, yp := x[pl*hw:(pl+1)*hw], y[pl*ohw:(pl+1)*ohw]
			if fast {
				maxPool2x2Plane(p.W, oh, ow, xp, yp)
			} else {
				maxPoolPlane(&p, oh, ow, xp, yp, nil)
			}
		}
	})
}

// MaxPool2DIndices is [MaxPool2D] that also writes into idx [N,C,OutH,OutW] where each
// output's gradient goes: the index h*W+w, within the output's own input plane, of the
// cell that [MaxPool2DBackward] would pick, or -1 for a window that lies wholly in the
// padding. [MaxPool2DBackwardIndices] turns them into the gradient without a second look
// at x, which is what PyTorch's max_pool2d_with_indices does.
//
// It panics in the same cases as [MaxPool2D], if idx is shorter than y, or if a plane has
// more than 2^31-1 cells.
func MaxPool2DIndices[T Float](p Pool2DParams, x, y []T, idx []int32) {
	const op = "MaxPool2DIndices"
	oh, ow := p.mustOut(op)
	hw, ohw := p.H*p.W, oh*ow
	mustLen(op, "x", x, p.N*p.C*hw)
	mustLen(op, "y", y, p.N*p.C*ohw)
	mustLenIdx(op, idx, p.N*p.C*ohw)
	if hw > math.MaxInt32 {
		panic(fmt.Sprintf("kernels: %s: plane of %dx%d cells does not fit int32 indices", op, p.H, p.W))
	}
	Split(p.N*p.C, hw+2*ohw*p.KH*p.KW, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			maxPoolPlane(&p, oh, ow, x[pl*hw:(pl+1)*hw], y[pl*ohw:(pl+1)*ohw], idx[pl*ohw:(pl+1)*ohw])
		}
	})
}

// MaxPool2DBackward writes into dx [N,C,H,W] the gradient of sum(MaxPool2D(x) * dy) with
// respect to x, for dy [N,C,OutH,OutW]. Each dy goes to the first maximal cell of its
// window in row-major order (to the last NaN if the window holds NaN), the rule PyTorch
// uses, so ties are broken the same way in both frameworks; where windows overlap the
// contributions add up, in row-major order of the outputs. The arg max is recomputed from
// x; [MaxPool2DBackwardIndices] gives the same result from indices the forward pass kept.
//
// It panics in the same cases as [MaxPool2D].
func MaxPool2DBackward[T Float](p Pool2DParams, x, dy, dx []T) {
	const op = "MaxPool2DBackward"
	oh, ow := p.mustOut(op)
	hw, ohw := p.H*p.W, oh*ow
	mustLen(op, "x", x, p.N*p.C*hw)
	mustLen(op, "dy", dy, p.N*p.C*ohw)
	mustLen(op, "dx", dx, p.N*p.C*hw)
	if p.Is2x2() {
		Split(p.N*p.C, 2*hw+ohw*p.KH*p.KW, func(lo, hi int) {
			for pl := lo; pl < hi; pl++ {
				xp, dyp, dxp := x[pl*hw:(pl+1)*hw], dy[pl*ohw:(pl+1)*ohw], dx[pl*hw:(pl+1)*hw]
				if p.H%2 != 0 || p.W%2 != 0 {
					clear(dxp)
				}
				if unsafe.Sizeof(T(0)) == 4 {
					maxPool2x2BackwardPlane32(p.W, oh, ow, reinterpret[float32](xp), reinterpret[float32](dyp), reinterpret[float32](dxp))
				} else {
					maxPool2x2BackwardPlane64(p.W, oh, ow, reinterpret[float64](xp), reinterpret[float64](dyp), reinterpret[float64](dxp))
				}
			}
		})
		return
	}
	Split(p.N*p.C, 2*hw+2*ohw*p.KH*p.KW, func(lo, hi int) {
		// Each plane's winners go to a scratch plane, as MaxPool2DIndices finds them
		// (the maxima it writes too are dropped), and dy is scattered through them.
		yp, ip := make([]T, ohw), make([]int32, ohw)
		for pl := lo; pl < hi; pl++ {
			maxPoolPlane(&p, oh, ow, x[pl*hw:(pl+1)*hw], yp, ip)
			maxPoolScatter(ip, dy[pl*ohw:(pl+1)*ohw], dx[pl*hw:(pl+1)*hw])
		}
	})
}

// MaxPool2DBackwardIndices writes into dx [N,C,H,W] the gradient of sum(MaxPool2D(x) * dy)
// for dy [N,C,OutH,OutW], given the indices [MaxPool2DIndices] wrote for the same x: the
// result of [MaxPool2DBackward](p, x, dy, dx), bit for bit, except that for the 2x2/2
// window ([Pool2DParams.Is2x2]), whose own kernel passes a dy of -0 on unchanged, a -0
// lands here as +0, the sum 0 + (-0).
//
// It panics in the same cases as [MaxPool2D], if idx is shorter than dy, or if an index
// lies outside its plane.
func MaxPool2DBackwardIndices[T Float](p Pool2DParams, idx []int32, dy, dx []T) {
	const op = "MaxPool2DBackwardIndices"
	oh, ow := p.mustOut(op)
	hw, ohw := p.H*p.W, oh*ow
	mustLenIdx(op, idx, p.N*p.C*ohw)
	mustLen(op, "dy", dy, p.N*p.C*ohw)
	mustLen(op, "dx", dx, p.N*p.C*hw)
	Split(p.N*p.C, hw+ohw, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			maxPoolScatter(idx[pl*ohw:(pl+1)*ohw], dy[pl*ohw:(pl+1)*ohw], dx[pl*hw:(pl+1)*hw])
		}
	})
}

// mustLenIdx is mustLen for an index slice.
func mustLenIdx(op string, idx []int32, want int) {
	if len(idx) < want {
		panic(fmt.Sprintf("kernels: %s: idx has %d elements, need %d", op, len(idx), want))
	}
}

// maxPoolScatter sets one plane's gradient dxp to the sum of the dy sent to each cell, in
// output order; index -1 sends nothing.
func maxPoolScatter[T Float](ip []int32, dyp, dxp []T) {
	clear(dxp)
	ip = ip[:len(dyp)]
	for o, g := range dyp {
		if k := ip[o]; k >= 0 {
			dxp[k] += g
		}
	}
}

// The max-pool loops take maxima with the builtin max, which compiles to branch-free
// code: on real activations "is this cell larger?" is a coin flip, and the mispredicted
// branches made a branchy loop five times slower. The builtin also propagates NaN. It
// differs from PyTorch's running comparison only in the sign of a maximum where -0 and
// +0 tie, which no arithmetic can tell apart.

// Is2x2 reports whether p is the unpadded 2x2 window with stride 2 that most CNNs use
// after each convolution block, which has loops of its own with no window arithmetic.
// Its backward pass finds the winners again faster than [MaxPool2DIndices] records them.
func (p Pool2DParams) Is2x2() bool {
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
	asm := ow > 0 && avx512Kernels()
	for i := range oh {
		r0, r1 := xp[2*i*w:][:2*ow], xp[(2*i+1)*w:][:2*ow]
		d0, d1 := dxp[2*i*w:][:2*ow], dxp[(2*i+1)*w:][:2*ow]
		gs := dyp[i*ow:][:ow]
		// The AVX-512 row kernel gives the same values; a row with a NaN is left to
		// the loop below.
		if asm && maxPool2x2BackwardRow32(&r0[0], &r1[0], &gs[0], &d0[0], &d1[0], ow) {
			continue
		}
		for j, g := range gs {
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

// The general max pool (any window, stride and padding) splits each output row in two:
// windows that lie wholly inside the input, whose cells are found with no clipping (an
// unrolled loop for the common 3x3 window), and those at the border, which go through
// window(). Both pick the same winner: the first cell in row-major order equal to the
// window's maximum, or the last NaN when the window holds NaN.

// inside returns the range [lo,hi) of outputs along an axis whose windows lie wholly
// inside the input, hi = lo when there are none.
func inside(out, stride, pad, k, size int) (lo, hi int) {
	lo = (pad + stride - 1) / stride
	if last := size - k + pad; last >= 0 {
		hi = min(out, last/stride+1)
	}
	return lo, max(lo, hi)
}

// maxPoolPlane pools one plane [H,W] into yp [oh,ow] and, when ip is not nil, writes into
// ip each output's winner as [MaxPool2DIndices] describes.
func maxPoolPlane[T Float](p *Pool2DParams, oh, ow int, xp, yp []T, ip []int32) {
	negInf := T(math.Inf(-1))
	width, sw, pl, kw := p.W, p.StrideW, p.PadLeft, p.KW
	jlo, jhi := inside(ow, sw, pl, kw, width)
	for i := range oh {
		h0, h1 := window(i, p.StrideH, p.PadTop, p.KH, p.H)
		yr := yp[i*ow:][:ow]
		var ir []int32
		if ip != nil {
			ir = ip[i*ow:][:ow]
		}
		lo, hi := 0, 0 // the outputs done without window()
		if h1-h0 == p.KH && jlo < jhi {
			lo, hi = jlo, jhi
			rows, c0 := xp[h0*width:h1*width], lo*sw-pl
			var irs []int32
			if ir != nil {
				irs = ir[lo:hi]
			}
			switch {
			case p.KH == 3 && kw == 3 && ir == nil:
				max3x3Row(rows, width, sw, c0, yr[lo:hi])
			case p.KH == 3 && kw == 3 && sw == 2:
				maxArg3x3s2Row(rows, width, c0, h0*width, yr[lo:hi], irs)
			default:
				maxArgRow(rows, width, p.KH, kw, sw, c0, h0*width, yr[lo:hi], irs)
			}
		}
		for j := range ow {
			if j >= lo && j < hi {
				continue
			}
			w0, w1 := window(j, sw, pl, kw, width)
			best := negInf
			for h := h0; h < h1; h++ {
				for _, v := range xp[h*width+w0 : h*width+w1] {
					best = max(best, v)
				}
			}
			yr[j] = best
			if ir != nil {
				ir[j] = -1 // a window in the padding passes nothing back
				if h0 < h1 && w0 < w1 {
					ir[j] = int32(windowArg(xp, width, h0, h1, w0, w1, best))
				}
			}
		}
	}
}

// The 3x3 loops take each maximum as a tree of builtin max calls rather than the chain
// of eight that max(a[0], ..., d[2]) compiles to: a float max is two MINSS plus the fixes
// for NaN and -0, some 9 cycles from input to result, and that chain, more than the
// arithmetic, set the speed. A maximum's value does not depend on the order of its
// operands, except for which NaN bits come out when a window holds NaN (the fix ORs the
// operands together); such windows are redone in row-major order, as the kernels have
// always computed them, so that not even a NaN payload changes.

// max3x3Row writes into yr the maxima of 3x3 windows over the three input rows in rows
// (each width long), the first window at column c0 and the next ones stride sw apart.
// At stride 2, neighbouring windows share a column, whose maximum is carried over.
func max3x3Row[T Float](rows []T, width, sw, c0 int, yr []T) {
	r0, r1, r2 := rows[:width], rows[width:2*width], rows[2*width:3*width]
	if sw != 2 {
		for j, c := 0, c0; j < len(yr); j, c = j+1, c+sw {
			a, b, d := r0[c:c+3:c+3], r1[c:c+3:c+3], r2[c:c+3:c+3]
			m := max(max(a[0], a[1], a[2]), max(b[0], b[1], b[2]), max(d[0], d[1], d[2]))
			if m != m {
				m = max(a[0], a[1], a[2], b[0], b[1], b[2], d[0], d[1], d[2])
			}
			yr[j] = m
		}
		return
	}
	if len(yr) == 0 {
		return
	}
	// Columns c..c+2n of the three rows, for n windows.
	n := len(yr)
	r0, r1, r2 = r0[c0:c0+2*n+1], r1[c0:c0+2*n+1], r2[c0:c0+2*n+1]
	left := max(r0[0], r1[0], r2[0])
	for j := range yr {
		c := 2 * j
		a, b, d := r0[c:c+3:c+3], r1[c:c+3:c+3], r2[c:c+3:c+3]
		mid, right := max(a[1], b[1], d[1]), max(a[2], b[2], d[2])
		m := max(left, mid, right)
		left = right
		if m != m {
			m = max(a[0], a[1], a[2], b[0], b[1], b[2], d[0], d[1], d[2])
		}
		yr[j] = m
	}
}

// maxArg3x3s2Row is max3x3Row at stride 2 that also writes into ir each window's winner
// as an index into the plane, whose first row in rows is at index base. The winner is the
// first cell in row-major order that is >= the maximum m: no cell is greater, so it is
// the first equal to m, -0 and +0 alike, and >= is one CPU flag where == is two. The
// conditional assignments, in reverse order, compile to conditional moves: a branch on
// where the maximum lies mispredicts on real activations. (They are written out here
// because a function holding them is over the inlining budget, and the call cost more
// than the choice.)
func maxArg3x3s2Row[T Float](rows []T, width, c0, base int, yr []T, ir []int32) {
	n := len(yr)
	if n == 0 {
		return
	}
	ir = ir[:n]
	r0, r1, r2 := rows[c0:c0+2*n+1], rows[width+c0:width+c0+2*n+1], rows[2*width+c0:2*width+c0+2*n+1]
	w1, w2 := int32(width), int32(2*width)
	left := max(r0[0], r1[0], r2[0])
	nan := false
	for j := range yr {
		c := 2 * j
		a, b, d := (*[3]T)(r0[c:c+3]), (*[3]T)(r1[c:c+3]), (*[3]T)(r2[c:c+3])
		// Neighbouring windows share a column, whose maximum is carried over.
		mid, right := max(a[1], b[1], d[1]), max(a[2], b[2], d[2])
		m := max(left, mid, right)
		left = right
		yr[j] = m
		if m != m {
			nan = true // redone after the loop, which keeps windowArg's call out of it
			continue
		}
		k := w2 + 2
		if d[1] >= m {
			k = w2 + 1
		}
		if d[0] >= m {
			k = w2
		}
		if b[2] >= m {
			k = w1 + 2
		}
		if b[1] >= m {
			k = w1 + 1
		}
		if b[0] >= m {
			k = w1
		}
		if a[2] >= m {
			k = 2
		}
		if a[1] >= m {
			k = 1
		}
		if a[0] >= m {
			k = 0
		}
		ir[j] = int32(base+c0+c) + k
	}
	if !nan {
		return
	}
	for j, m := range yr {
		if m == m {
			continue
		}
		c := c0 + 2*j
		a, b, d := rows[c:c+3], rows[width+c:width+c+3], rows[2*width+c:2*width+c+3]
		m = max(a[0], a[1], a[2], b[0], b[1], b[2], d[0], d[1], d[2])
		yr[j] = m
		ir[j] = int32(base + windowArg(rows, width, 0, 3, c, c+3, m))
	}
}

// maxArgRow is maxArg3x3s2Row for any kh x kw window and stride; ir may be nil.
func maxArgRow[T Float](rows []T, width, kh, kw, sw, c0, base int, yr []T, ir []int32) {
	for j, c := 0, c0; j < len(yr); j, c = j+1, c+sw {
		m := rows[c]
		for h := range kh {
			for _, v := range rows[h*width+c : h*width+c+kw] {
				m = max(m, v)
			}
		}
		yr[j] = m
		if ir == nil {
			continue
		}
		ir[j] = int32(base + windowArg(rows, width, 0, kh, c, c+kw, m))
	}
}

// windowArg returns the index in xp of the first cell of the window [h0,h1)x[w0,w1) equal
// to best, its maximum, or of the last NaN when best is NaN. Without NaN it scans the whole
// window backwards keeping the last cell >= best (the first in row-major order): with no
// exit, the choice compiles to a conditional move instead of a branch that mispredicts on
// real activations.
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
	k := -1
	for h := h1 - 1; h >= h0; h-- {
		r := xp[h*width+w0 : h*width+w1]
		for w := len(r) - 1; w >= 0; w-- {
			if r[w] >= best {
				k = h*width + w0 + w
			}
		}
	}
	if k < 0 {
		panic("kernels: max pool: maximum not found in its window") // unreachable
	}
	return k
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
	Split(p.N*p.C, hw+ohw*p.KH*p.KW, func(lo, hi int) {
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
	Split(p.N*p.C, hw+ohw*p.KH*p.KW, func(lo, hi int) {
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
	Split(n*c, hw, func(lo, hi int) {
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
	Split(n*c, hw, func(lo, hi int) {
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

// GlobalMaxPool2D writes into y [N,C] the maximum of each plane of x [N,C,H*W] (NaN
// propagates). Planes are split over the cores by image.
//
// It panics if a size is below 1 or a slice is shorter than the sizes imply.
func GlobalMaxPool2D[T Float](n, c, hw int, x, y []T) {
	const op = "GlobalMaxPool2D"
	mustGlobal(op, n, c, hw)
	mustLen(op, "x", x, n*c*hw)
	mustLen(op, "y", y, n*c)
	Split(n*c, hw, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp := x[pl*hw : (pl+1)*hw]
			m := xp[0]
			for _, v := range xp[1:] {
				m = max(m, v)
			}
			y[pl] = m
		}
	})
}

// GlobalMaxPool2DBackward writes into dx [N,C,H,W] the gradient of
// sum(GlobalMaxPool2D(x) * dy): each plane's dy goes to its first maximum (its first
// NaN, if it has one), the cell PyTorch's adaptive_max_pool2d records; every other cell
// gets 0. It panics as [GlobalMaxPool2D].
func GlobalMaxPool2DBackward[T Float](n, c, hw int, x, dy, dx []T) {
	const op = "GlobalMaxPool2DBackward"
	mustGlobal(op, n, c, hw)
	mustLen(op, "x", x, n*c*hw)
	mustLen(op, "dy", dy, n*c)
	mustLen(op, "dx", dx, n*c*hw)
	Split(n*c, 2*hw, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp, dp := x[pl*hw:(pl+1)*hw], dx[pl*hw:(pl+1)*hw]
			best := 0
			for i, v := range xp {
				if v != v {
					best = i
					break
				}
				if v > xp[best] {
					best = i
				}
			}
			clear(dp)
			dp[best] = dy[pl]
		}
	})
}
