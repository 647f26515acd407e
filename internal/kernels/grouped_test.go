package kernels

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

// blockDiagonal expands a grouped kernel [F, C/G, KH, KW] into the full kernel [F, C, KH,
// KW] it equals: filter f of group g has group g's taps and zeros elsewhere.
func blockDiagonal(p Conv2DParams, groups int, w []float64) []float64 {
	cg, fg, kk := p.C/groups, p.F/groups, p.KH*p.KW
	full := make([]float64, p.F*p.C*kk)
	for f := range p.F {
		g := f / fg
		copy(full[(f*p.C+g*cg)*kk:(f*p.C+(g+1)*cg)*kk], w[f*cg*kk:(f+1)*cg*kk])
	}
	return full
}

// groupedBlocks is the inverse of blockDiagonal: the taps of a full kernel that a grouped
// kernel has.
func groupedBlocks(p Conv2DParams, groups int, full []float64) []float64 {
	cg, fg, kk := p.C/groups, p.F/groups, p.KH*p.KW
	w := make([]float64, p.F*cg*kk)
	for f := range p.F {
		g := f / fg
		copy(w[f*cg*kk:(f+1)*cg*kk], full[(f*p.C+g*cg)*kk:(f*p.C+(g+1)*cg)*kk])
	}
	return w
}

type groupedCase struct {
	name   string
	p      Conv2DParams
	groups int
}

func groupedCases() []groupedCase {
	return []groupedCase{
		{"g2/same/s1", conv(3, 4, 7, 7, 6, 3, 3, pad(1, 1, 1, 1)), 2},
		{"g4/valid/s2/odd", conv(2, 8, 9, 7, 8, 3, 3, stride(2, 2)), 4},
		{"g2/dilation2/rect", conv(2, 6, 9, 8, 4, 2, 3, dilation(2, 2), pad(1, 0, 2, 1)), 2},
		{"g3/1x1", conv(2, 6, 5, 5, 9, 1, 1), 3},
		{"g2/batch17/chunks", conv(17, 4, 5, 5, 4, 3, 3, pad(1, 1, 1, 1)), 2},
		{"g8/depthwise", conv(2, 8, 6, 6, 16, 3, 3, pad(1, 1, 1, 1)), 8},
	}
}

// TestGroupedConv2D compares the three grouped kernels with the full convolution by the
// block-diagonal kernel they stand for, in float64 and float32.
func TestGroupedConv2D(t *testing.T) {
	for _, c := range groupedCases() {
		t.Run(c.name, func(t *testing.T) {
			testGrouped[float64](t, c, 1e-12)
			testGrouped[float32](t, c, 2e-5)
		})
	}
}

func testGrouped[T Float](t *testing.T, c groupedCase, tol float64) {
	p, g := c.p, c.groups
	r := newRand()
	x, x64 := roundTo[T](randSlice(r, p.N*p.C*p.H*p.W))
	w, w64 := roundTo[T](randSlice(r, p.F*p.C/g*p.KH*p.KW))
	dy, dy64 := roundTo[T](randSlice(r, p.N*p.F*p.OutH()*p.OutW()))
	full := blockDiagonal(p, g, w64)
	y := nanSlice[T](len(dy))
	GroupedConv2D(p, g, x, w, y)
	assertClose(t, "y", y, refConv2D(p, x64, full), tol)
	wantDx, wantFullDw := refConv2DGrads(p, x64, full, dy64)
	dx := nanSlice[T](len(x))
	GroupedConv2DBackwardInput(p, g, w, dy, dx)
	assertClose(t, "dx", dx, wantDx, tol)
	dw := nanSlice[T](len(w))
	GroupedConv2DBackwardKernel(p, g, x, dy, dw)
	assertClose(t, "dw", dw, groupedBlocks(p, g, wantFullDw), tol)
}

func TestGroupedConv2DIndependentOfThreads(t *testing.T) {
	p, g := conv(19, 8, 9, 9, 8, 3, 3, pad(1, 1, 1, 1)), 4
	rng := rand.New(rand.NewPCG(5, 6))
	rnd := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = rng.Float32()*2 - 1
		}
		return s
	}
	x, w, dy := rnd(p.N*p.C*p.H*p.W), rnd(p.F*p.C/g*9), rnd(p.N*p.F*p.OutH()*p.OutW())
	var first [3][]float32
	for _, procs := range []int{1, 2, 3, 8} {
		old := runtime.GOMAXPROCS(procs)
		out := [3][]float32{make([]float32, len(dy)), make([]float32, len(x)), make([]float32, len(w))}
		GroupedConv2D(p, g, x, w, out[0])
		GroupedConv2DBackwardInput(p, g, w, dy, out[1])
		GroupedConv2DBackwardKernel(p, g, x, dy, out[2])
		runtime.GOMAXPROCS(old)
		if first[0] == nil {
			first = out
			continue
		}
		for k := range out {
			for i := range out[k] {
				if out[k][i] != first[k][i] {
					t.Fatalf("GOMAXPROCS=%d: output %d [%d] = %v, with 1 thread %v", procs, k, i, out[k][i], first[k][i])
				}
			}
		}
	}
}

func TestGroupedConv2DPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("3 groups of 4 channels did not panic")
		}
	}()
	p := conv(1, 4, 5, 5, 6, 3, 3)
	GroupedConv2D(p, 3, make([]float32, 100), make([]float32, 100), make([]float32, 100))
}

// BenchmarkGroupedConv2D is a ResNeXt block's 3x3 grouped convolution (32 groups of 4
// channels at 14x14, 128 channels) at batch 32, forward and both gradients.
func BenchmarkGroupedConv2D(b *testing.B) {
	p, g := conv(32, 128, 14, 14, 128, 3, 3, pad(1, 1, 1, 1)), 32
	rng := rand.New(rand.NewPCG(1, 1))
	rnd := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = rng.Float32()*2 - 1
		}
		return s
	}
	x, w, dy := rnd(p.N*p.C*p.H*p.W), rnd(p.F*p.C/g*9), rnd(p.N*p.F*p.OutH()*p.OutW())
	y, dx, dw := make([]float32, len(dy)), make([]float32, len(x)), make([]float32, len(w))
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			GroupedConv2D(p, g, x, w, y)
		}
	})
	b.Run("input", func(b *testing.B) {
		for b.Loop() {
			GroupedConv2DBackwardInput(p, g, w, dy, dx)
		}
	})
	b.Run("kernel", func(b *testing.B) {
		for b.Loop() {
			GroupedConv2DBackwardKernel(p, g, x, dy, dw)
		}
	})
}
