package kernels

import (
	"math"
	"testing"
)

// The AVX-512 element-wise kernels give the same bits as the Go loops, at every length
// (full vectors and masked tails) and on special values: NaN, ±0, ±Inf, subnormals.
func TestElementwiseAsmMatchesGo(t *testing.T) {
	old := Backend()
	if SetBackend(PathAsm) != nil || !avx512Kernels() {
		t.Skip("no AVX-512 go+asm path on this machine")
	}
	defer SetBackend(old) //nolint:errcheck // it was in use
	r := newRand()
	special := []float32{float32(math.NaN()), 0, float32(math.Copysign(0, -1)), float32(math.Inf(1)),
		float32(math.Inf(-1)), 1e-40, -1e-40, math.MaxFloat32, -math.MaxFloat32}
	data := func(n int) []float32 {
		s, _ := roundTo[float32](randSlice(r, n))
		for i := range s {
			if i%5 == 0 {
				s[i] = special[(i/5)%len(special)]
			}
		}
		return s
	}
	// run computes every kernel's outputs on the path named by path.
	run := func(path string, n, c, inner int, x, dy []float32) [][]float32 {
		if err := SetBackend(path); err != nil {
			t.Fatal(err)
		}
		y := make([]float32, len(x))
		Activate(ReLU, 0, x, y)
		dx := make([]float32, len(x))
		ReLUBackward(x, dy, dx)
		mean, variance := []float64{0.25, -1, 3}[:c], []float64{2, 0.5, 1e-3}[:c]
		gamma, beta := []float32{1.5, -0.5, 2}[:c], []float32{0.1, 0, -3}[:c]
		yn := make([]float32, len(x))
		Normalize(n, c, inner, x, mean, variance, 1e-3, gamma, beta, yn)
		sdy, sdyx := []float64{3, -2, 0.5}[:c], []float64{-1, 4, 2}[:c]
		dxn := make([]float32, len(x))
		NormalizeInputGrad(n, c, inner, x, mean, variance, 1e-3, gamma, dy, sdy, sdyx, dxn)
		sum := make([]float32, len(x))
		Add(x, dy, sum)
		return [][]float32{y, dx, yn, dxn, sum}
	}
	names := []string{"ReLU", "ReLUBackward", "Normalize", "NormalizeInputGrad", "Add"}
	for _, inner := range []int{1, 7, 8, 9, 15, 16, 17, 33, 49} {
		n, c := 2, 3
		x, dy := data(n*c*inner), data(n*c*inner)
		want := run(PathGo, n, c, inner, x, dy)
		got := run(PathAsm, n, c, inner, x, dy)
		for k := range want {
			for i := range want[k] {
				if math.Float32bits(got[k][i]) != math.Float32bits(want[k][i]) {
					t.Fatalf("%s, inner %d: element %d (x %v, dy %v) = %v on go+asm, %v in Go",
						names[k], inner, i, x[i], dy[i], got[k][i], want[k][i])
				}
			}
		}
	}
}

// copyRows copies exactly the rows asked for, full vectors and masked tails, and touches
// nothing between or after them.
func TestCopyRows(t *testing.T) {
	if !avx512Kernels() {
		t.Skip("no AVX-512 go+asm path on this compute path")
	}
	for _, n := range []int{1, 7, 15, 16, 17, 28, 33} {
		for _, rows := range []int{0, 1, 3} {
			srcStride, dstStride := n+2, n+5
			src := make([]float32, rows*srcStride+1)
			for i := range src {
				src[i] = float32(i + 1)
			}
			dst := make([]float32, rows*dstStride+1)
			for i := range dst {
				dst[i] = -1
			}
			copyRows(dst, src, rows, n, dstStride, srcStride)
			for i, v := range dst {
				r, c := i/dstStride, i%dstStride
				want := float32(-1)
				if r < rows && c < n {
					want = src[r*srcStride+c]
				}
				if v != want {
					t.Fatalf("n %d, rows %d: dst[%d] = %v, want %v", n, rows, i, v, want)
				}
			}
		}
	}
}
