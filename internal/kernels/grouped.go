package kernels

import "fmt"

// Grouped convolution (ResNeXt's and ShuffleNet's; PyTorch's groups=G, Keras's
// Conv2D(groups=G)): the C input channels and F filters are cut into G equal groups, and
// group g's F/G filters see only group g's C/G channels. p is a [Conv2DParams] whose C and
// F are the totals; the kernel w is [F, C/G, KH, KW].
//
// In NCHW a group's channels are one contiguous run of each image, and its filters one
// contiguous run of the output, so each group is an ordinary im2col convolution of that
// run: per image, G products of F/G x (C/G)·KH·KW by (C/G)·KH·KW x OH·OW. The batch is
// split over the cores as [Conv2D]'s is (each core keeps its images), every worker runs
// the groups of its images in order with a serial GEMM, and the kernel gradient sums fixed
// chunks of 8 images in chunk order, so results are the same bits on any number of threads.

// mustGrouped validates p and groups for op and returns the per-group parameters (C and
// F of one group) and the output size.
func (p Conv2DParams) mustGrouped(op string, groups int) (q Conv2DParams, oh, ow int) {
	oh, ow = p.mustOut(op)
	if groups < 1 || p.C%groups != 0 || p.F%groups != 0 {
		panic(fmt.Sprintf("kernels: %s: %d groups do not divide %d input channels and %d filters", op, groups, p.C, p.F))
	}
	q = p
	q.C, q.F = p.C/groups, p.F/groups
	return q, oh, ow
}

// GroupedConv2D writes into y [N,F,OutH,OutW] the convolution of x [N,C,H,W] with w
// [F,C/groups,KH,KW] in groups groups, without bias.
//
// It panics if p is invalid (as [Conv2D]), groups does not divide C and F, or a slice is
// shorter than p implies.
func GroupedConv2D[T Float](p Conv2DParams, groups int, x, w, y []T) {
	const op = "GroupedConv2D"
	q, oh, ow := p.mustGrouped(op, groups)
	ohw, ckk, chw, cghw := oh*ow, q.C*p.KH*p.KW, p.C*p.H*p.W, q.C*p.H*p.W
	mustLen(op, "x", x, p.N*chw)
	mustLen(op, "w", w, p.F*ckk)
	mustLen(op, "y", y, p.N*p.F*ohw)
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
			for g := range groups {
				xg := x[i*chw+g*cghw:][:cghw]
				if direct {
					col = xg
				} else {
					im2col(&q, oh, ow, xg, col)
				}
				gemm(false, false, q.F, ohw, ckk, 1, w[g*q.F*ckk:], ckk, col, ohw, 0, y[(i*p.F+g*q.F)*ohw:][:q.F*ohw], ohw)
			}
		}
	})
}

// GroupedConv2DBackwardInput computes dx [N,C,H,W], the gradient of
// sum(GroupedConv2D(x, w) * dy) with respect to x, from w [F,C/groups,KH,KW] and dy
// [N,F,OutH,OutW]; dx is overwritten.
//
// It panics in the same cases as [GroupedConv2D].
func GroupedConv2DBackwardInput[T Float](p Conv2DParams, groups int, w, dy, dx []T) {
	const op = "GroupedConv2DBackwardInput"
	q, oh, ow := p.mustGrouped(op, groups)
	ohw, ckk, chw, cghw := oh*ow, q.C*p.KH*p.KW, p.C*p.H*p.W, q.C*p.H*p.W
	mustLen(op, "w", w, p.F*ckk)
	mustLen(op, "dy", dy, p.N*p.F*ohw)
	mustLen(op, "dx", dx, p.N*chw)
	direct := p.pointwise()
	// Each group's kernel transposed to [C/G·KH·KW, F/G], as Conv2DBackwardInput stores
	// it (an untransposed GEMM keeps each row of col in cache), split over the cores.
	wtBuf := getScratch[T](p.F * ckk)
	defer putScratch(wtBuf)
	wt := *wtBuf
	Split(p.F, ckk, func(lo, hi int) {
		for f := lo; f < hi; f++ {
			g, fl := f/q.F, f%q.F
			wg := wt[g*q.F*ckk:]
			for j, v := range w[f*ckk : (f+1)*ckk] {
				wg[j*q.F+fl] = v
			}
		}
	})
	gemm := gemmFor[T](splitsBatch(p.N))
	Parallel(p.N, func(lo, hi int) {
		var col []T
		if !direct {
			buf := getScratch[T](ckk * ohw)
			defer putScratch(buf)
			col = *buf
		}
		for i := lo; i < hi; i++ {
			for g := range groups {
				dxg := dx[i*chw+g*cghw:][:cghw]
				dyg := dy[(i*p.F+g*q.F)*ohw:][:q.F*ohw]
				wg := wt[g*q.F*ckk:][:q.F*ckk]
				if direct {
					gemm(false, false, ckk, ohw, q.F, 1, wg, q.F, dyg, ohw, 0, dxg, ohw)
					continue
				}
				gemm(false, false, ckk, ohw, q.F, 1, wg, q.F, dyg, ohw, 0, col, ohw)
				col2im(&q, oh, ow, col, dxg)
			}
		}
	})
}

// GroupedConv2DBackwardKernel computes dw [F,C/groups,KH,KW], the gradient of
// sum(GroupedConv2D(x, w) * dy) with respect to w, from x [N,C,H,W] and dy
// [N,F,OutH,OutW]; dw is overwritten. Images are summed in fixed chunks of 8, the chunks'
// partial gradients then added in chunk order, so dw does not depend on the number of
// threads.
//
// It panics in the same cases as [GroupedConv2D].
func GroupedConv2DBackwardKernel[T Float](p Conv2DParams, groups int, x, dy, dw []T) {
	const op = "GroupedConv2DBackwardKernel"
	q, oh, ow := p.mustGrouped(op, groups)
	ohw, ckk, chw := oh*ow, q.C*p.KH*p.KW, p.C*p.H*p.W
	size := p.F * ckk
	mustLen(op, "x", x, p.N*chw)
	mustLen(op, "dy", dy, p.N*p.F*ohw)
	mustLen(op, "dw", dw, size)
	dw = dw[:size]
	chunks := (p.N + kernelGradChunk - 1) / kernelGradChunk
	if chunks == 1 {
		groupedKernelGrad(&p, &q, groups, oh, ow, Gemm[T], x, dy, dw, 0, p.N)
		return
	}
	gemm := gemmFor[T](splitsBatch(chunks))
	parts := make([]*[]T, chunks)
	Parallel(chunks, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			buf := getScratch[T](size)
			groupedKernelGrad(&p, &q, groups, oh, ow, gemm, x, dy, *buf, c*kernelGradChunk, min((c+1)*kernelGradChunk, p.N))
			parts[c] = buf
		}
	})
	Split(size, chunks, func(lo, hi int) {
		copy(dw[lo:hi], (*parts[0])[lo:hi])
		for _, part := range parts[1:] {
			add(dw[lo:hi], (*part)[lo:hi], dw[lo:hi])
		}
	})
	for _, part := range parts {
		putScratch(part)
	}
}

// groupedKernelGrad overwrites dw [F, C/G·KH·KW] with the kernel gradient of images
// lo..hi-1; q holds one group's C and F.
func groupedKernelGrad[T Float](p, q *Conv2DParams, groups, oh, ow int,
	gemm func(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int),
	x, dy, dw []T, lo, hi int) {
	ohw, ckk, chw, cghw := oh*ow, q.C*p.KH*p.KW, p.C*p.H*p.W, q.C*p.H*p.W
	direct := p.pointwise()
	var col []T
	if !direct {
		buf := getScratch[T](ckk * ohw)
		defer putScratch(buf)
		col = *buf
	}
	var beta T // the first image overwrites dw, the others add to it
	for i := lo; i < hi; i++ {
		for g := range groups {
			xg := x[i*chw+g*cghw:][:cghw]
			if direct {
				col = xg
			} else {
				im2col(q, oh, ow, xg, col)
			}
			gemm(false, true, q.F, ckk, ohw, 1, dy[(i*p.F+g*q.F)*ohw:][:q.F*ohw], ohw, col, ohw, beta, dw[g*q.F*ckk:][:q.F*ckk], ckk)
		}
		beta = 1
	}
}
