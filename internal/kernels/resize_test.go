package kernels

import "testing"

// Resizing by whole factors is upsampling: the same values.
func TestResize2DMatchesUpsample(t *testing.T) {
	for _, bilinear := range []bool{false, true} {
		p := UpsampleParams{N: 2, C: 3, H: 4, W: 5, SH: 2, SW: 3, Bilinear: bilinear}
		q := ResizeParams{N: 2, C: 3, H: 4, W: 5, OH: 8, OW: 15, Bilinear: bilinear}
		r := newRand()
		x, _ := roundTo[float64](randSlice(r, 2*3*20))
		dy, _ := roundTo[float64](randSlice(r, 2*3*120))
		y1, y2 := make([]float64, len(dy)), make([]float64, len(dy))
		Upsample2D(p, x, y1)
		Resize2D(q, x, y2)
		assertClose(t, "y", y2, y1, 1e-12)
		dx1, dx2 := make([]float64, len(x)), make([]float64, len(x))
		Upsample2DBackward(p, dy, dx1)
		Resize2DBackward(q, dy, dx2)
		assertClose(t, "dx", dx2, dx1, 1e-12)
	}
}

// The backward pass is the adjoint of the forward one: <Resize(x), dy> = <x, dx>.
func TestResize2DAdjoint(t *testing.T) {
	for _, q := range []ResizeParams{
		{N: 2, C: 2, H: 5, W: 4, OH: 7, OW: 9, Bilinear: true},
		{N: 2, C: 2, H: 5, W: 4, OH: 7, OW: 9},
		{N: 1, C: 3, H: 9, W: 8, OH: 6, OW: 3, Bilinear: true},
		{N: 1, C: 3, H: 9, W: 8, OH: 6, OW: 3},
		{N: 1, C: 1, H: 1, W: 1, OH: 3, OW: 2, Bilinear: true},
	} {
		r := newRand()
		x := randSlice(r, q.N*q.C*q.H*q.W)
		dy := randSlice(r, q.N*q.C*q.OH*q.OW)
		y, dx := make([]float64, len(dy)), make([]float64, len(x))
		Resize2D(q, x, y)
		Resize2DBackward(q, dy, dx)
		if a, b := dot(y, dy), dot(x, dx); a-b > 1e-9 || b-a > 1e-9 {
			t.Errorf("%+v: <y, dy> = %v, <x, dx> = %v", q, a, b)
		}
	}
}
