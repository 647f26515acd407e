package kernels

import "fmt"

// Pad2DParams describes zero padding or cropping of an NCHW tensor: H and W are the
// larger (padded, uncropped) image's, and the four margins are cut from or added to it.
type Pad2DParams struct {
	N, C, H, W               int // the larger image
	Top, Bottom, Left, Right int
}

// InnerH is the smaller image's height.
func (p Pad2DParams) InnerH() int { return p.H - p.Top - p.Bottom }

// InnerW is the smaller image's width.
func (p Pad2DParams) InnerW() int { return p.W - p.Left - p.Right }

func (p Pad2DParams) must(op string) {
	if p.N < 1 || p.C < 1 || p.Top < 0 || p.Bottom < 0 || p.Left < 0 || p.Right < 0 ||
		p.InnerH() < 1 || p.InnerW() < 1 {
		panic(fmt.Sprintf("kernels: %s: invalid parameters %+v (margins >= 0 leaving at least one cell)", op, p))
	}
}

// Pad2D writes the small image x [N,C,InnerH,InnerW] into the middle of y [N,C,H,W] and
// zeroes the margins. Planes are split over the cores by image.
//
// It panics if p is invalid or a slice is shorter than p implies.
func Pad2D[T Float](p Pad2DParams, x, y []T) {
	const op = "Pad2D"
	p.must(op)
	ih, iw := p.InnerH(), p.InnerW()
	mustLen(op, "x", x, p.N*p.C*ih*iw)
	mustLen(op, "y", y, p.N*p.C*p.H*p.W)
	Split(p.N*p.C, p.H*p.W, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			yp, xp := y[pl*p.H*p.W:(pl+1)*p.H*p.W], x[pl*ih*iw:(pl+1)*ih*iw]
			clear(yp[:p.Top*p.W])
			for r := 0; r < ih; r++ {
				row := yp[(p.Top+r)*p.W : (p.Top+r+1)*p.W]
				clear(row[:p.Left])
				copy(row[p.Left:p.Left+iw], xp[r*iw:(r+1)*iw])
				clear(row[p.Left+iw:])
			}
			clear(yp[(p.Top+ih)*p.W:])
		}
	})
}

// Crop2D writes the middle of x [N,C,H,W] into y [N,C,InnerH,InnerW], dropping the
// margins. It splits and panics as [Pad2D].
func Crop2D[T Float](p Pad2DParams, x, y []T) {
	const op = "Crop2D"
	p.must(op)
	ih, iw := p.InnerH(), p.InnerW()
	mustLen(op, "x", x, p.N*p.C*p.H*p.W)
	mustLen(op, "y", y, p.N*p.C*ih*iw)
	Split(p.N*p.C, ih*iw, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp, yp := x[pl*p.H*p.W:(pl+1)*p.H*p.W], y[pl*ih*iw:(pl+1)*ih*iw]
			for r := 0; r < ih; r++ {
				copy(yp[r*iw:(r+1)*iw], xp[(p.Top+r)*p.W+p.Left:])
			}
		}
	})
}

// Copy copies src into dst over the cores (a reshape's copy), in contiguous halves.
func Copy[T Float](dst, src []T) {
	n := min(len(dst), len(src))
	Split(n, 1, func(lo, hi int) { copy(dst[lo:hi], src[lo:hi]) })
}
