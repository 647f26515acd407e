package kernels

import "fmt"

// Depthwise convolution (MobileNet's): every input channel c is convolved with its own
// M filters, giving output channels c*M .. c*M+M-1, PyTorch's groups=C with M = F/C and
// Keras's DepthwiseConv2D with depth_multiplier M. The kernels are plain Go loops over
// rows: a depthwise layer does KH*KW multiply-adds per output, so it is memory-bound and
// a GEMM (one per channel, of one row) would only add overhead.
//
// p is a [Conv2DParams] whose F is C*M; the kernel w is [F, 1, KH, KW].

func (p Conv2DParams) mustDepthwise(op string) (oh, ow, m int) {
	oh, ow = p.mustOut(op)
	if p.F%p.C != 0 {
		panic(fmt.Sprintf("kernels: %s: %d output channels are not a multiple of %d input channels", op, p.F, p.C))
	}
	return oh, ow, p.F / p.C
}

// span is the range [lo, hi) of outputs o whose input o*stride+off lies in [0, size).
func span(off, stride, size, outs int) (lo, hi int) {
	if off < 0 {
		lo = (-off + stride - 1) / stride
	}
	if size-1-off < 0 {
		return lo, lo
	}
	hi = min(outs, (size-1-off)/stride+1)
	return lo, max(hi, lo)
}

// DepthwiseConv2D writes into y [N,F,OutH,OutW] the depthwise convolution of x [N,C,H,W]
// with w [F,1,KH,KW], without bias. Output planes are split over the cores in order, so
// each core keeps its own images.
//
// It panics if p is invalid (as [Conv2D]), F is not a multiple of C, or a slice is
// shorter than p implies.
func DepthwiseConv2D[T Float](p Conv2DParams, x, w, y []T) {
	const op = "DepthwiseConv2D"
	oh, ow, m := p.mustDepthwise(op)
	hw, ohw, kk := p.H*p.W, oh*ow, p.KH*p.KW
	mustLen(op, "x", x, p.N*p.C*hw)
	mustLen(op, "w", w, p.F*kk)
	mustLen(op, "y", y, p.N*p.F*ohw)
	Split(p.N*p.F, ohw*kk, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			n, f := pl/p.F, pl%p.F
			xp := x[(n*p.C+f/m)*hw : (n*p.C+f/m+1)*hw]
			yp := y[pl*ohw : (pl+1)*ohw]
			wf := w[f*kk : (f+1)*kk]
			clear(yp)
			for r := 0; r < oh; r++ {
				yr := yp[r*ow : (r+1)*ow]
				for kh := 0; kh < p.KH; kh++ {
					ih := r*p.StrideH - p.PadTop + kh*p.DilationH
					if ih < 0 || ih >= p.H {
						continue
					}
					xr := xp[ih*p.W : (ih+1)*p.W]
					for kw := 0; kw < p.KW; kw++ {
						wv := wf[kh*p.KW+kw]
						off := kw*p.DilationW - p.PadLeft
						a, b := span(off, p.StrideW, p.W, ow)
						if p.StrideW == 1 {
							src := xr[a+off : b+off]
							dst := yr[a:b]
							for i, v := range src {
								dst[i] += wv * v
							}
							continue
						}
						for o := a; o < b; o++ {
							yr[o] += wv * xr[o*p.StrideW+off]
						}
					}
				}
			}
		}
	})
}

// DepthwiseConv2DBackwardInput writes into dx [N,C,H,W] the gradient of
// sum(DepthwiseConv2D(x, w) * dy) with respect to x. Input planes are split over the
// cores in order. It panics as [DepthwiseConv2D].
func DepthwiseConv2DBackwardInput[T Float](p Conv2DParams, w, dy, dx []T) {
	const op = "DepthwiseConv2DBackwardInput"
	oh, ow, m := p.mustDepthwise(op)
	hw, ohw, kk := p.H*p.W, oh*ow, p.KH*p.KW
	mustLen(op, "w", w, p.F*kk)
	mustLen(op, "dy", dy, p.N*p.F*ohw)
	mustLen(op, "dx", dx, p.N*p.C*hw)
	Split(p.N*p.C, m*ohw*kk, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			n, c := pl/p.C, pl%p.C
			dxp := dx[pl*hw : (pl+1)*hw]
			clear(dxp)
			for j := 0; j < m; j++ {
				f := c*m + j
				dyp := dy[(n*p.F+f)*ohw : (n*p.F+f+1)*ohw]
				wf := w[f*kk : (f+1)*kk]
				for r := 0; r < oh; r++ {
					dyr := dyp[r*ow : (r+1)*ow]
					for kh := 0; kh < p.KH; kh++ {
						ih := r*p.StrideH - p.PadTop + kh*p.DilationH
						if ih < 0 || ih >= p.H {
							continue
						}
						dxr := dxp[ih*p.W : (ih+1)*p.W]
						for kw := 0; kw < p.KW; kw++ {
							wv := wf[kh*p.KW+kw]
							off := kw*p.DilationW - p.PadLeft
							a, b := span(off, p.StrideW, p.W, ow)
							if p.StrideW == 1 {
								dst := dxr[a+off : b+off]
								for i, v := range dyr[a:b] {
									dst[i] += wv * v
								}
								continue
							}
							for o := a; o < b; o++ {
								dxr[o*p.StrideW+off] += wv * dyr[o]
							}
						}
					}
				}
			}
		}
	})
}

// DepthwiseConv2DBackwardKernel writes into dw [F,1,KH,KW] the gradient of
// sum(DepthwiseConv2D(x, w) * dy) with respect to w. As for [Conv2DBackwardKernel], the
// batch is cut into fixed chunks of images, each core sums its own chunks, and the
// chunks' partial gradients are added in chunk order: the same bits on any number of
// cores. It panics as [DepthwiseConv2D].
func DepthwiseConv2DBackwardKernel[T Float](p Conv2DParams, x, dy, dw []T) {
	const op = "DepthwiseConv2DBackwardKernel"
	_, _, _ = p.mustDepthwise(op)
	oh, ow := p.OutH(), p.OutW()
	hw, ohw, kk := p.H*p.W, oh*ow, p.KH*p.KW
	fkk := p.F * kk
	mustLen(op, "x", x, p.N*p.C*hw)
	mustLen(op, "dy", dy, p.N*p.F*ohw)
	mustLen(op, "dw", dw, fkk)
	dw = dw[:fkk]
	chunks := (p.N + kernelGradChunk - 1) / kernelGradChunk
	if chunks == 1 {
		depthwiseKernelGrad(&p, x, dy, dw, 0, p.N)
		return
	}
	parts := make([]*[]T, chunks)
	Parallel(chunks, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			buf := getScratch[T](fkk)
			depthwiseKernelGrad(&p, x, dy, *buf, c*kernelGradChunk, min((c+1)*kernelGradChunk, p.N))
			parts[c] = buf
		}
	})
	Split(fkk, chunks, func(lo, hi int) {
		copy(dw[lo:hi], (*parts[0])[lo:hi])
		for _, part := range parts[1:] {
			add(dw[lo:hi], (*part)[lo:hi], dw[lo:hi])
		}
	})
	for _, part := range parts {
		putScratch(part)
	}
}

// depthwiseKernelGrad overwrites dw [F, KH*KW] with the kernel gradient of images
// first..last-1, each weight's sum accumulated in float64.
func depthwiseKernelGrad[T Float](p *Conv2DParams, x, dy, dw []T, first, last int) {
	oh, ow := p.OutH(), p.OutW()
	hw, ohw, kk, m := p.H*p.W, oh*ow, p.KH*p.KW, p.F/p.C
	for f := 0; f < p.F; f++ {
		c := f / m
		for kh := 0; kh < p.KH; kh++ {
			for kw := 0; kw < p.KW; kw++ {
				off := kw*p.DilationW - p.PadLeft
				a, b := span(off, p.StrideW, p.W, ow)
				var sum float64
				for n := first; n < last; n++ {
					xp := x[(n*p.C+c)*hw : (n*p.C+c+1)*hw]
					dyp := dy[(n*p.F+f)*ohw : (n*p.F+f+1)*ohw]
					for r := 0; r < oh; r++ {
						ih := r*p.StrideH - p.PadTop + kh*p.DilationH
						if ih < 0 || ih >= p.H {
							continue
						}
						xr, dyr := xp[ih*p.W:(ih+1)*p.W], dyp[r*ow:(r+1)*ow]
						var s T
						if p.StrideW == 1 {
							for i, v := range dyr[a:b] {
								s += v * xr[a+off+i]
							}
						} else {
							for o := a; o < b; o++ {
								s += dyr[o] * xr[o*p.StrideW+off]
							}
						}
						sum += float64(s)
					}
				}
				dw[f*kk+kh*p.KW+kw] = T(sum)
			}
		}
	}
}
