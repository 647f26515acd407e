package kernels

// Float is the element type kernels compute in.
type Float interface{ ~float32 | ~float64 }

// Conv2DParams describes a 2-D convolution of an NCHW input with an OIHW kernel.
// Padding is explicit per side, so TensorFlow-style "same" padding with an odd total
// (more at the bottom and right) is expressible.
type Conv2DParams struct {
	N, C, H, W                           int // input batch, channels, height, width
	F, KH, KW                            int // filters (output channels), kernel height, width
	StrideH, StrideW                     int
	PadTop, PadBottom, PadLeft, PadRight int
	DilationH, DilationW                 int
}

// OutH is the output height.
func (p Conv2DParams) OutH() int {
	return (p.H+p.PadTop+p.PadBottom-(p.DilationH*(p.KH-1)+1))/p.StrideH + 1
}

// OutW is the output width.
func (p Conv2DParams) OutW() int {
	return (p.W+p.PadLeft+p.PadRight-(p.DilationW*(p.KW-1)+1))/p.StrideW + 1
}

// Pool2DParams describes a 2-D pooling window over an NCHW input.
type Pool2DParams struct {
	N, C, H, W                           int
	KH, KW                               int
	StrideH, StrideW                     int
	PadTop, PadBottom, PadLeft, PadRight int
}

// OutH is the output height.
func (p Pool2DParams) OutH() int { return (p.H+p.PadTop+p.PadBottom-p.KH)/p.StrideH + 1 }

// OutW is the output width.
func (p Pool2DParams) OutW() int { return (p.W+p.PadLeft+p.PadRight-p.KW)/p.StrideW + 1 }
