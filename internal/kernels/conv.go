package kernels

import (
	"fmt"
)

// The convolutions below are per-image im2col plus one GEMM: the receptive fields of an
// image [C,H,W] are laid out as the columns of col [C*KH*KW, OH*OW], so that
//
//	y_img[F, OH*OW]  = w[F, C*KH*KW] × col                          (forward)
//	col              = wᵀ × dy_img, then col2im adds col back into dx (input gradient)
//	dw[F, C*KH*KW]  += dy_img × colᵀ                                 (kernel gradient)
//
// and every product lands in NCHW order with no transposes of activations. The batch is
// split over goroutines with [Parallel]; each worker has its own col buffer from the
// scratch pool. A 1x1 kernel with stride 1 and no padding skips im2col: the image
// [C, H*W] already is col. On the AVX-512 path, float32 convolutions with stride 1 skip it
// too: their products read shifted views of a padded copy of the image in place
// (conv_implicit.go).

// mustOut validates p for the kernel named op and returns the output height and width.
// It panics on values that no caller should produce: convgraph's nn package checks
// user-facing shapes before any kernel runs.
func (p Conv2DParams) mustOut(op string) (oh, ow int) {
	if p.N < 1 || p.C < 1 || p.H < 1 || p.W < 1 || p.F < 1 || p.KH < 1 || p.KW < 1 ||
		p.StrideH < 1 || p.StrideW < 1 || p.DilationH < 1 || p.DilationW < 1 ||
		p.PadTop < 0 || p.PadBottom < 0 || p.PadLeft < 0 || p.PadRight < 0 {
		panic(fmt.Sprintf("kernels: %s: invalid parameters %+v (sizes, strides and dilations must be >= 1, padding >= 0)", op, p))
	}
	oh, ow = p.OutH(), p.OutW()
	if oh < 1 || ow < 1 {
		panic(fmt.Sprintf("kernels: %s: dilated kernel %dx%d larger than padded input %dx%d",
			op, p.DilationH*(p.KH-1)+1, p.DilationW*(p.KW-1)+1, p.H+p.PadTop+p.PadBottom, p.W+p.PadLeft+p.PadRight))
	}
	return oh, ow
}

// pointwise reports whether im2col would be the identity, so the image itself can serve
// as the column matrix.
func (p Conv2DParams) pointwise() bool {
	return p.KH == 1 && p.KW == 1 && p.StrideH == 1 && p.StrideW == 1 &&
		p.PadTop == 0 && p.PadBottom == 0 && p.PadLeft == 0 && p.PadRight == 0
}

// mustLen panics unless s holds at least want elements.
func mustLen[T Float](op, name string, s []T, want int) {
	if len(s) < want {
		panic(fmt.Sprintf("kernels: %s: %s has %d elements, need %d", op, name, len(s), want))
	}
}

// Conv2D computes the cross-correlation (the "convolution" of deep learning) of x with w
// into y, without bias: x is NCHW [N,C,H,W], w is OIHW [F,C,KH,KW] and y, which is
// overwritten, is [N,F,OutH,OutW]. Stride, per-side zero padding and dilation come from p.
//
// It panics if a size, stride or dilation in p is below 1, a padding is negative, the
// dilated kernel does not fit the padded input, or a slice is shorter than p implies.
func Conv2D[T Float](p Conv2DParams, x, w, y []T) {
	const op = "Conv2D"
	oh, ow := p.mustOut(op)
	ohw, ckk, chw := oh*ow, p.C*p.KH*p.KW, p.C*p.H*p.W
	mustLen(op, "x", x, p.N*chw)
	mustLen(op, "w", w, p.F*ckk)
	mustLen(op, "y", y, p.N*p.F*ohw)
	if implicitConv[T](&p) {
		conv2DImplicit(&p, f32s(x), f32s(w), f32s(y))
		return
	}
	direct := p.pointwise()
	gemm := gemmFor[T](splitsBatch(p.N))
	Parallel(p.N, func(lo, hi int) {
		var col []T
		if !direct {
			buf := getScratch[T](ckk * ohw)
			defer putScratch(buf)
			col = *buf
		}
		for i := lo; i < hi; i++ {
			xi := x[i*chw : (i+1)*chw]
			if direct {
				col = xi
			} else {
				im2col(&p, oh, ow, xi, col)
			}
			gemm(false, false, p.F, ohw, ckk, 1, w, ckk, col, ohw, 0, y[i*p.F*ohw:(i+1)*p.F*ohw], ohw)
		}
	})
}

// Conv2DBackwardInput computes dx, the gradient of sum(Conv2D(x, w) * dy) with respect to
// x, given w [F,C,KH,KW] and dy [N,F,OutH,OutW]; dx [N,C,H,W] is overwritten. Input cells
// that no window reads (possible with stride > kernel) get 0.
//
// It panics in the same cases as [Conv2D].
func Conv2DBackwardInput[T Float](p Conv2DParams, w, dy, dx []T) {
	const op = "Conv2DBackwardInput"
	oh, ow := p.mustOut(op)
	ohw, ckk, chw := oh*ow, p.C*p.KH*p.KW, p.C*p.H*p.W
	mustLen(op, "w", w, p.F*ckk)
	mustLen(op, "dy", dy, p.N*p.F*ohw)
	mustLen(op, "dx", dx, p.N*chw)
	direct := p.pointwise()
	if q, ok := p.transposed(implicitConv[T](&p)); ok && !direct {
		convTransposedInput(p, q, w, dy, dx)
		return
	}
	gemm := gemmFor[T](splitsBatch(p.N))
	// col = wᵀ × dy_img with wᵀ stored explicitly: gonum's untransposed kernel keeps each
	// row of col in L1 across the whole sum, while its transposed-A kernel sweeps all of
	// col once per filter. The transpose is F*C*KH*KW elements, once per call.
	wtBuf := getScratch[T](p.F * ckk)
	defer putScratch(wtBuf)
	wt := *wtBuf
	for f := range p.F {
		for j, v := range w[f*ckk : (f+1)*ckk] {
			wt[j*p.F+f] = v
		}
	}
	Parallel(p.N, func(lo, hi int) {
		var col []T
		if !direct {
			buf := getScratch[T](ckk * ohw)
			defer putScratch(buf)
			col = *buf
		}
		for i := lo; i < hi; i++ {
			dxi := dx[i*chw : (i+1)*chw]
			dyi := dy[i*p.F*ohw : (i+1)*p.F*ohw]
			if direct {
				gemm(false, false, ckk, ohw, p.F, 1, wt, p.F, dyi, ohw, 0, dxi, ohw)
				continue
			}
			gemm(false, false, ckk, ohw, p.F, 1, wt, p.F, dyi, ohw, 0, col, ohw)
			col2im(&p, oh, ow, col, dxi)
		}
	})
}

// transposed returns the parameters of the forward convolution that computes p's input
// gradient, when there is one: with stride 1, dx is the cross-correlation of dy with the
// kernel flipped in both axes and its F and C swapped, over dy padded by
// dilation*(K-1) minus p's own padding on each side. ok is false for strides above 1 and
// for padding wider than the dilated kernel (those take the col2im path). It is also
// false for fewer than 8 input channels, where the transposed product has too few rows (C)
// to run fast (1.0 ms instead of 0.19 for the course CNN's first layer at batch 32), and,
// unless the forward convolution is implicit (implicit true), for more filters than input
// channels, where col2im's product is no longer thin and the two paths measured the same
// (the course CNN's second layer: 1.40 and 1.45 ms with OpenBLAS; implicit, 0.97 -> 0.65).
func (p Conv2DParams) transposed(implicit bool) (q Conv2DParams, ok bool) {
	if p.StrideH != 1 || p.StrideW != 1 || p.C < 8 || (p.F > p.C && !implicit) {
		return q, false
	}
	eh, ew := p.DilationH*(p.KH-1), p.DilationW*(p.KW-1)
	q = Conv2DParams{N: p.N, C: p.F, H: p.OutH(), W: p.OutW(), F: p.C, KH: p.KH, KW: p.KW,
		StrideH: 1, StrideW: 1, DilationH: p.DilationH, DilationW: p.DilationW,
		PadTop: eh - p.PadTop, PadBottom: eh - p.PadBottom, PadLeft: ew - p.PadLeft, PadRight: ew - p.PadRight}
	if q.PadTop < 0 || q.PadBottom < 0 || q.PadLeft < 0 || q.PadRight < 0 {
		return q, false
	}
	return q, q.OutH() == p.H && q.OutW() == p.W
}

// convTransposedInput computes p's input gradient as the forward convolution q of dy
// with the flipped kernel (see [Conv2DParams.transposed]). It replaces a GEMM with only
// F terms per sum plus a col2im scatter by the forward path's GEMM over F*KH*KW terms and
// its im2col copies. At batch 32 on 2 cores (OpenBLAS), resnet-small's 3x3 layers went
// from 1.15-1.26 ms to 0.79 (16 channels), 0.92-0.96 to 0.72 (32) and 0.85-1.08 to 0.74 (64).
func convTransposedInput[T Float](p, q Conv2DParams, w, dy, dx []T) {
	kk := p.KH * p.KW
	buf := getScratch[T](p.F * p.C * kk)
	defer putScratch(buf)
	wf := *buf
	Split(p.F, p.C*kk, func(lo, hi int) {
		for f := lo; f < hi; f++ {
			for c := range p.C {
				src := w[(f*p.C+c)*kk : (f*p.C+c+1)*kk]
				dst := wf[(c*p.F+f)*kk : (c*p.F+f+1)*kk]
				for t, v := range src {
					dst[kk-1-t] = v
				}
			}
		}
	})
	Conv2D(q, dy, wf, dx)
}

// Conv2DBackwardKernel computes dw, the gradient of sum(Conv2D(x, w) * dy) with respect
// to w, given x [N,C,H,W] and dy [N,F,OutH,OutW]; dw [F,C,KH,KW] is overwritten.
//
// Each worker sums its images into a private partial gradient, and the partials are
// added into dw at the end, so workers never contend on dw while they compute.
//
// It panics in the same cases as [Conv2D].
func Conv2DBackwardKernel[T Float](p Conv2DParams, x, dy, dw []T) {
	const op = "Conv2DBackwardKernel"
	oh, ow := p.mustOut(op)
	ohw, ckk, chw := oh*ow, p.C*p.KH*p.KW, p.C*p.H*p.W
	fckk := p.F * ckk
	mustLen(op, "x", x, p.N*chw)
	mustLen(op, "dy", dy, p.N*p.F*ohw)
	mustLen(op, "dw", dw, fckk)
	dw = dw[:fckk]
	direct := p.pointwise()
	// The batch is cut into fixed chunks whose partial gradients are added in chunk order,
	// so dw does not depend on the number of threads or on which finishes first: the same
	// seed trains to the same weights on 1 core or 8.
	chunks := (p.N + kernelGradChunk - 1) / kernelGradChunk
	var g *implicitGeom
	if implicitConv[T](&p) {
		g = geomFor(&p)
	}
	if chunks == 1 {
		if g != nil {
			conv2DKernelGradImplicit(&p, g, f32s(x), f32s(dy), f32s(dw), 0, p.N)
			return
		}
		conv2DKernelGrad(&p, oh, ow, direct, Gemm[T], x, dy, dw, 0, p.N)
		return
	}
	gemm := gemmFor[T](splitsBatch(chunks))
	parts := make([]*[]T, chunks)
	Parallel(chunks, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			buf := getScratch[T](fckk)
			first, last := c*kernelGradChunk, min((c+1)*kernelGradChunk, p.N)
			if g != nil {
				conv2DKernelGradImplicit(&p, g, f32s(x), f32s(dy), f32s(*buf), first, last)
			} else {
				conv2DKernelGrad(&p, oh, ow, direct, gemm, x, dy, *buf, first, last)
			}
			parts[c] = buf
		}
	})
	// Split over the elements, each still summed in chunk order: done serially, this
	// took long enough (64x64x3x3 kernels) for the helper goroutine to park.
	Split(fckk, chunks, func(lo, hi int) {
		copy(dw[lo:hi], (*parts[0])[lo:hi])
		for _, part := range parts[1:] {
			add(dw[lo:hi], (*part)[lo:hi], dw[lo:hi])
		}
	})
	for _, part := range parts {
		putScratch(part)
	}
}

// kernelGradChunk is the number of images whose kernel gradients one partial sum holds.
const kernelGradChunk = 8

// conv2DKernelGrad overwrites dw [F, C*KH*KW] with the kernel gradient of images lo..hi-1.
func conv2DKernelGrad[T Float](p *Conv2DParams, oh, ow int, direct bool,
	gemm func(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int),
	x, dy, dw []T, lo, hi int) {
	ohw, ckk, chw := oh*ow, p.C*p.KH*p.KW, p.C*p.H*p.W
	var col []T
	if !direct {
		buf := getScratch[T](ckk * ohw)
		defer putScratch(buf)
		col = *buf
	}
	var beta T // the first image overwrites dw, the others add to it
	for i := lo; i < hi; i++ {
		xi := x[i*chw : (i+1)*chw]
		if direct {
			col = xi
		} else {
			im2col(p, oh, ow, xi, col)
		}
		gemm(false, true, p.F, ckk, ohw, 1, dy[i*p.F*ohw:(i+1)*p.F*ohw], ohw, col, ohw, beta, dw, ckk)
		beta = 1
	}
}

// validRange returns the outputs [lo,hi) of a length-out axis whose input coordinate
// o*stride+off lies in [0,size), so the inner loops need no bounds tests.
func validRange(off, stride, size, out int) (lo, hi int) {
	if off < 0 {
		lo = (-off + stride - 1) / stride
	}
	if last := size - 1 - off; last >= 0 {
		hi = last/stride + 1
	}
	hi = min(hi, out)
	lo = min(lo, hi)
	return lo, hi
}

// im2col writes the receptive fields of one image x [C,H,W] as the columns of
// col [C*KH*KW, oh*ow]: row (c,kh,kw) holds, for every output position, the input value
// that kernel tap meets there, or 0 in the padding.
//
// With stride 1 and an output as wide as the input (a "same" convolution), a tap's rows
// are the image shifted by a constant offset, so they are copied in one piece and the
// cells that the shift wrapped into the padding are zeroed after: one copy per tap instead
// of one per row (a 16x28x28 image of resnet-small took 22 µs with the 28-float copies,
// 8.5 µs this way).
func im2col[T Float](p *Conv2DParams, oh, ow int, x, col []T) {
	hw, ohw := p.H*p.W, oh*ow
	shifted := p.StrideH == 1 && p.StrideW == 1 && ow == p.W
	row := 0
	for c := 0; c < p.C; c++ {
		xc := x[c*hw : (c+1)*hw]
		for kh := 0; kh < p.KH; kh++ {
			hOff := kh*p.DilationH - p.PadTop
			hLo, hHi := validRange(hOff, p.StrideH, p.H, oh)
			for kw := 0; kw < p.KW; kw++ {
				wOff := kw*p.DilationW - p.PadLeft
				wLo, wHi := validRange(wOff, p.StrideW, p.W, ow)
				dst := col[row*ohw : (row+1)*ohw]
				row++
				clear(dst[:hLo*ow])
				clear(dst[hHi*ow:])
				if shifted && hLo < hHi && wLo < wHi {
					// dst[j] = xc[j+shift] for every j of rows hLo..hHi-1 inside
					// [wLo, wHi); the copy also writes the cells outside it.
					lo, hi, shift := hLo*ow+wLo, (hHi-1)*ow+wHi, hOff*p.W+wOff
					copy(dst[lo:hi], xc[lo+shift:hi+shift])
					for y := hLo; y < hHi; y++ {
						d := dst[y*ow : (y+1)*ow]
						for o := range wLo {
							d[o] = 0
						}
						for o := wHi; o < len(d); o++ {
							d[o] = 0
						}
					}
					continue
				}
				for y := hLo; y < hHi; y++ {
					d := dst[y*ow : (y+1)*ow]
					src := xc[(y*p.StrideH+hOff)*p.W:][:p.W]
					clear(d[:wLo])
					clear(d[wHi:])
					if p.StrideW == 1 {
						if wLo < wHi { // empty when this tap meets only padding
							copy(d[wLo:wHi], src[wLo+wOff:wHi+wOff])
						}
						continue
					}
					for o, ix := wLo, wLo*p.StrideW+wOff; o < wHi; o, ix = o+1, ix+p.StrideW {
						d[o] = src[ix]
					}
				}
			}
		}
	}
}

// col2im is the adjoint of im2col: it overwrites x [C,H,W] with the sum, over all kernel
// taps, of the column entries that read each input cell. Padding entries are dropped.
func col2im[T Float](p *Conv2DParams, oh, ow int, col, x []T) {
	hw, ohw := p.H*p.W, oh*ow
	clear(x[:p.C*hw])
	row := 0
	for c := 0; c < p.C; c++ {
		xc := x[c*hw : (c+1)*hw]
		for kh := 0; kh < p.KH; kh++ {
			hOff := kh*p.DilationH - p.PadTop
			hLo, hHi := validRange(hOff, p.StrideH, p.H, oh)
			for kw := 0; kw < p.KW; kw++ {
				wOff := kw*p.DilationW - p.PadLeft
				wLo, wHi := validRange(wOff, p.StrideW, p.W, ow)
				src := col[row*ohw : (row+1)*ohw]
				row++
				for y := hLo; y < hHi; y++ {
					s := src[y*ow : (y+1)*ow]
					dst := xc[(y*p.StrideH+hOff)*p.W:][:p.W]
					if p.StrideW == 1 {
						if wLo >= wHi { // this tap meets only padding
							continue
						}
						d := dst[wLo+wOff : wHi+wOff]
						for o, v := range s[wLo:wHi] {
							d[o] += v
						}
						continue
					}
					for o, ix := wLo, wLo*p.StrideW+wOff; o < wHi; o, ix = o+1, ix+p.StrideW {
						dst[ix] += s[o]
					}
				}
			}
		}
	}
}
