package kernels

import "sync"

// Implicit-GEMM convolutions (stride 1, float32, the AVX-512 path). im2col copies every
// input value KH*KW times before a product reads them once; here the product reads the
// image itself. The image [C,H,W] is first copied once into a zero-padded image
// [C,Hp,Wp]. On that image, the window of the output at (r, q) starts at r*Wp+q, and kernel
// tap (kh, kw) of channel c adds c*Hp*Wp + kh*dh*Wp + kw*dw. So if the outputs are numbered
// on a grid as wide as the padded image, p = r*Wp + q (the last Wp-OW columns of each row
// are computed and thrown away), row (c, kh, kw) of the column matrix is the padded image
// shifted by that offset: the assembly kernels read those rows in place through a table of
// offsets. The forward product writes the wide grid and the valid columns are copied out;
// the kernel gradient multiplies dy, spread onto the wide grid with zeros in the extra
// columns, by the same shifted rows.
//
// resnet-small's training step spent 22% of its time in im2col on this path; the pad, the
// copy out and the spread cost about a fifth of that.

// implicitGeom is the padded layout of one image for an implicit convolution.
type implicitGeom struct {
	hp, wp, plane int // padded height, width, hp*wp
	oh, ow        int // output height and width
	nw            int // outputs on the wide grid, oh*wp
	size          int // padded image plus the slack the last row's extra columns read
	offs          []int
}

// implicitConv reports whether p's products run as implicit GEMMs: float32 on the AVX-512
// assembly path, stride 1, and not a 1x1 kernel without padding (whose image already is
// its column matrix).
func implicitConv[T Float](p *Conv2DParams) bool {
	return isF32[T]() && avx512Kernels() && p.StrideH == 1 && p.StrideW == 1 && !p.pointwise()
}

// implicitGeoms caches each layer shape's geometry (keyed by the parameters with N = 0),
// so that a training step does not allocate the offset tables again (130 KB a step for
// resnet-small). The number of entries is the number of distinct layer shapes.
var implicitGeoms sync.Map

// geomFor returns the cached geometry of p's shape.
func geomFor(p *Conv2DParams) *implicitGeom {
	key := *p
	key.N = 0
	if g, ok := implicitGeoms.Load(key); ok {
		return g.(*implicitGeom)
	}
	g := newImplicitGeom(p)
	actual, _ := implicitGeoms.LoadOrStore(key, &g)
	return actual.(*implicitGeom)
}

func newImplicitGeom(p *Conv2DParams) implicitGeom {
	g := implicitGeom{hp: p.H + p.PadTop + p.PadBottom, wp: p.W + p.PadLeft + p.PadRight,
		oh: p.OutH(), ow: p.OutW()}
	g.plane = g.hp * g.wp
	g.nw = g.oh * g.wp
	// The last row's extra columns of the last tap read up to (KW-1)*dw past the end.
	g.size = p.C*g.plane + (p.KW-1)*p.DilationW
	g.offs = make([]int, 0, p.C*p.KH*p.KW)
	for c := range p.C {
		for kh := range p.KH {
			for kw := range p.KW {
				g.offs = append(g.offs, c*g.plane+kh*p.DilationH*g.wp+kw*p.DilationW)
			}
		}
	}
	return g
}

// pad writes image x [C,H,W] into the interior of xp (g.size elements). The zeros around
// it and in the slack are written by clear(xp) once per buffer: pad leaves them alone, so
// one buffer serves every image of a batch.
func (g *implicitGeom) pad(p *Conv2DParams, x, xp []float32) {
	hw := p.H * p.W
	if p.PadLeft == 0 && p.PadRight == 0 {
		for c := range p.C {
			copy(xp[c*g.plane+p.PadTop*g.wp:][:hw], x[c*hw:][:hw])
		}
		return
	}
	for c := range p.C {
		copyRows(xp[c*g.plane+p.PadTop*g.wp+p.PadLeft:], x[c*hw:][:hw], p.H, p.W, g.wp, p.W)
	}
}

// copyRows copies rows rows of n elements from src, one every srcStride elements, to
// dst, one every dstStride. The implicit convolutions move images in and out of their
// padded and wide layouts row by row, and rows are short (7 to 28 elements for
// resnet-small): a copy call per row cost more than the copying (memmove was 8% of a
// training step), so AVX-512 copies them in one call. Only the implicit convolutions call
// it, and they run only on the AVX-512 path.
func copyRows(dst, src []float32, rows, n, dstStride, srcStride int) {
	if rows <= 0 || n <= 0 {
		return
	}
	// Bounds: the last row ends inside both slices.
	_ = dst[(rows-1)*dstStride+n-1]
	_ = src[(rows-1)*srcStride+n-1]
	copyRows32(&dst[0], &src[0], rows, n, dstStride, srcStride)
}

// conv2DImplicit is Conv2D's implicit form (see implicitConv).
func conv2DImplicit(p *Conv2DParams, x, w, y []float32) {
	g := geomFor(p)
	ckk, chw, ohw := p.C*p.KH*p.KW, p.C*p.H*p.W, g.oh*g.ow
	Parallel(p.N, func(lo, hi int) {
		xpBuf, ywBuf := getScratch[float32](g.size), getScratch[float32](p.F*g.nw)
		defer putScratch(xpBuf)
		defer putScratch(ywBuf)
		xp, yw := *xpBuf, *ywBuf
		clear(xp)
		for i := lo; i < hi; i++ {
			g.pad(p, x[i*chw:(i+1)*chw], xp)
			sgemmIndirect(p.F, g.nw, ckk, w, ckk, xp, g.offs, 0, false, yw, g.nw)
			// Row (f, r) of the wide grid starts at (f*oh + r)*wp, of y at (f*oh + r)*ow.
			copyRows(y[i*p.F*ohw:(i+1)*p.F*ohw], yw, p.F*g.oh, g.ow, g.ow, g.wp)
		}
	})
}

// conv2DKernelGradImplicit overwrites dw [F, C*KH*KW] with the kernel gradient of images
// lo..hi-1 (at most maxSegments), as conv2DKernelGrad does, without im2col: a group of
// images is padded, each into its own buffer, dy spread onto their wide grids, and one
// sgemmNTRows call sums the group's products before reducing them. Summing many images
// at once helps short rows (7x7 outputs: 0.80 -> 0.61 ms for resnet-small's 64-channel
// layers) but pushes a long row's block of A out of L1 (28x28: 0.34 -> 0.44 ms), so a
// group holds about 512 positions' worth of images.
func conv2DKernelGradImplicit(p *Conv2DParams, g *implicitGeom, x, dy, dw []float32, lo, hi int) {
	ckk, chw, ohw := p.C*p.KH*p.KW, p.C*p.H*p.W, g.oh*g.ow
	per := min(max(1, 512/g.nw), hi-lo)
	fnw := p.F * g.nw
	xpBuf, dywBuf := getScratch[float32](per*g.size), getScratch[float32](per*fnw)
	defer putScratch(xpBuf)
	defer putScratch(dywBuf)
	clear(*xpBuf)
	clear(*dywBuf) // the extra columns of the wide grids; only the valid ones are written

	var as, bs [maxSegments][]float32
	for first := lo; first < hi; first += per {
		n := min(per, hi-first)
		for s := range n {
			i := first + s
			xp := (*xpBuf)[s*g.size:][:g.size]
			dyw := (*dywBuf)[s*fnw:][:fnw]
			g.pad(p, x[i*chw:(i+1)*chw], xp)
			copyRows(dyw, dy[i*p.F*ohw:(i+1)*p.F*ohw], p.F*g.oh, g.ow, g.wp, g.ow)
			as[s], bs[s] = dyw, xp
		}
		sgemmNTRows(p.F, ckk, g.nw, as[:n], g.nw, bs[:n], g.offs, 0, first > lo, dw, ckk)
	}
}
