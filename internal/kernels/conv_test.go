package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// Tolerances relative to the largest reference magnitude: float32 GEMM sums hundreds of
// products in a different order than the float64 reference.
const (
	tol32 = 1e-5
	tol64 = 1e-12
)

func newRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

func randSlice(r *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = 2*r.Float64() - 1
	}
	return s
}

// roundTo rounds s to T and returns both the T slice and its exact float64 image, so the
// float64 reference sees exactly the inputs the kernel sees.
func roundTo[T Float](s []float64) ([]T, []float64) {
	t := make([]T, len(s))
	back := make([]float64, len(s))
	for i, v := range s {
		t[i] = T(v)
		back[i] = float64(t[i])
	}
	return t, back
}

func nanSlice[T Float](n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T(math.NaN())
	}
	return s
}

// assertClose fails unless got matches want to within tol times the largest |want|
// (at least 1), and reports the first bad element.
func assertClose[T Float](t *testing.T, name string, got []T, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", name, len(got), len(want))
	}
	scale := 1.0
	for _, v := range want {
		if !math.IsInf(v, 0) {
			scale = max(scale, math.Abs(v))
		}
	}
	for i, v := range want {
		if float64(got[i]) == v {
			continue // also covers the -Inf of a max pool over padding alone
		}
		if d := math.Abs(float64(got[i]) - v); !(d <= tol*scale) {
			t.Fatalf("%s: element %d = %v, want %v (|diff| %.3g > %.3g)", name, i, got[i], v, d, tol*scale)
		}
	}
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// refConv2D is the definition of Conv2D: y[n,f,i,j] = sum over c,kh,kw of
// x[n,c,i*sh-pt+kh*dh, j*sw-pl+kw*dw] * w[f,c,kh,kw], with zeros outside x.
func refConv2D(p Conv2DParams, x, w []float64) []float64 {
	oh, ow := p.OutH(), p.OutW()
	y := make([]float64, p.N*p.F*oh*ow)
	for n := range p.N {
		for f := range p.F {
			for i := range oh {
				for j := range ow {
					var s float64
					for c := range p.C {
						for kh := range p.KH {
							for kw := range p.KW {
								ih := i*p.StrideH - p.PadTop + kh*p.DilationH
								iw := j*p.StrideW - p.PadLeft + kw*p.DilationW
								if ih < 0 || ih >= p.H || iw < 0 || iw >= p.W {
									continue
								}
								s += x[((n*p.C+c)*p.H+ih)*p.W+iw] * w[((f*p.C+c)*p.KH+kh)*p.KW+kw]
							}
						}
					}
					y[((n*p.F+f)*oh+i)*ow+j] = s
				}
			}
		}
	}
	return y
}

// refConv2DGrads differentiates the same sum term by term: every product x*w that feeds
// y[n,f,i,j] sends dy[n,f,i,j]*w to dx and dy[n,f,i,j]*x to dw.
func refConv2DGrads(p Conv2DParams, x, w, dy []float64) (dx, dw []float64) {
	oh, ow := p.OutH(), p.OutW()
	dx = make([]float64, p.N*p.C*p.H*p.W)
	dw = make([]float64, p.F*p.C*p.KH*p.KW)
	for n := range p.N {
		for f := range p.F {
			for i := range oh {
				for j := range ow {
					g := dy[((n*p.F+f)*oh+i)*ow+j]
					for c := range p.C {
						for kh := range p.KH {
							for kw := range p.KW {
								ih := i*p.StrideH - p.PadTop + kh*p.DilationH
								iw := j*p.StrideW - p.PadLeft + kw*p.DilationW
								if ih < 0 || ih >= p.H || iw < 0 || iw >= p.W {
									continue
								}
								xi := ((n*p.C+c)*p.H+ih)*p.W + iw
								wi := ((f*p.C+c)*p.KH+kh)*p.KW + kw
								if x != nil {
									dw[wi] += g * x[xi]
								}
								dx[xi] += g * w[wi]
							}
						}
					}
				}
			}
		}
	}
	return dx, dw
}

// conv builds Conv2DParams with stride and dilation 1 unless set by the options.
func conv(n, c, h, w, f, kh, kw int, opts ...func(*Conv2DParams)) Conv2DParams {
	p := Conv2DParams{N: n, C: c, H: h, W: w, F: f, KH: kh, KW: kw, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1}
	for _, o := range opts {
		o(&p)
	}
	return p
}

func stride(h, w int) func(*Conv2DParams) {
	return func(p *Conv2DParams) { p.StrideH, p.StrideW = h, w }
}

func pad(top, bottom, left, right int) func(*Conv2DParams) {
	return func(p *Conv2DParams) { p.PadTop, p.PadBottom, p.PadLeft, p.PadRight = top, bottom, left, right }
}

func dilation(h, w int) func(*Conv2DParams) {
	return func(p *Conv2DParams) { p.DilationH, p.DilationW = h, w }
}

var convCases = []struct {
	name string
	p    Conv2DParams
}{
	{"3x3 valid", conv(1, 1, 5, 5, 1, 3, 3)},
	{"3x3 same pad 1", conv(3, 2, 7, 9, 4, 3, 3, pad(1, 1, 1, 1))},
	{"stride 2", conv(3, 3, 7, 9, 5, 3, 3, stride(2, 2))},
	{"stride 3 padded", conv(1, 2, 10, 11, 3, 3, 3, stride(3, 3), pad(1, 1, 1, 1))},
	{"stride 2x3 mixed", conv(3, 2, 9, 10, 2, 3, 2, stride(2, 3), pad(1, 0, 0, 2))},
	{"same-like asymmetric pad", conv(3, 3, 7, 9, 4, 2, 2, stride(2, 2), pad(0, 1, 0, 1))},
	{"explicit pad", conv(1, 2, 6, 5, 3, 3, 3, pad(2, 3, 1, 2))},
	{"dilation 2", conv(3, 2, 9, 9, 3, 3, 3, dilation(2, 2), pad(2, 2, 2, 2))},
	{"dilation 2x1 stride 2", conv(1, 3, 11, 8, 2, 2, 3, dilation(2, 1), stride(2, 1))},
	{"non-square kernel 2x3", conv(3, 4, 7, 9, 5, 2, 3)},
	{"odd sizes 7x9 padded 2x3", conv(3, 3, 7, 9, 6, 2, 3, pad(0, 1, 1, 1))},
	{"1x1 pointwise", conv(3, 5, 7, 9, 4, 1, 1)},
	{"1x1 stride 2", conv(3, 4, 7, 9, 3, 1, 1, stride(2, 2))},
	{"1x1 padded", conv(1, 2, 4, 5, 3, 1, 1, pad(1, 0, 0, 1))},
	{"kernel equals padded input", conv(3, 2, 5, 4, 3, 7, 6, pad(1, 1, 1, 1))},
	{"kernel equals input", conv(1, 3, 4, 6, 2, 4, 6)},
	{"kernel wider than stride skips cells", conv(1, 1, 9, 9, 2, 2, 2, stride(3, 3))},
	{"1 channel many filters", conv(3, 1, 12, 12, 16, 3, 3, pad(1, 1, 1, 1))},
	{"wide GEMM tiles", conv(2, 70, 17, 15, 70, 3, 3, pad(1, 1, 1, 1))},
	// Stride 1 with at least 8 channels and no more filters: the input gradient is a
	// forward convolution of dy with the flipped kernel (TestConv2DTransposedPath).
	{"transposed 3x3 same", conv(3, 8, 7, 9, 8, 3, 3, pad(1, 1, 1, 1))},
	{"transposed 3x3 valid", conv(2, 9, 6, 7, 5, 3, 3)},
	{"transposed asymmetric 2x3", conv(2, 8, 7, 9, 4, 2, 3, pad(0, 1, 1, 1))},
	{"transposed dilation 2", conv(2, 8, 9, 9, 6, 3, 3, dilation(2, 2), pad(2, 2, 2, 2))},
	{"pad wider than kernel", conv(1, 8, 6, 5, 3, 3, 3, pad(2, 3, 1, 2))},
	// More filters than channels: the transposed input gradient only with implicit
	// convolutions (the AVX-512 path), col2im otherwise.
	{"more filters than channels", conv(2, 8, 6, 7, 12, 3, 3, pad(1, 1, 1, 1))},
}

// The cases meant for the transposed input gradient take it, and the others do not, so
// TestConv2D checks both paths.
func TestConv2DTransposedPath(t *testing.T) {
	for _, tc := range convCases {
		_, ok := tc.p.transposed(false)
		want := strings.HasPrefix(tc.name, "transposed") || tc.name == "wide GEMM tiles"
		if ok != want {
			t.Errorf("%s: transposed() ok = %v, want %v", tc.name, ok, want)
		}
	}
}

func TestConv2D(t *testing.T) {
	for _, tc := range convCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Run("float32", func(t *testing.T) { testConv[float32](t, tc.p, tol32) })
			t.Run("float64", func(t *testing.T) { testConv[float64](t, tc.p, tol64) })
		})
	}
}

func testConv[T Float](t *testing.T, p Conv2DParams, tol float64) {
	r := newRand()
	oh, ow := p.OutH(), p.OutW()
	x, x64 := roundTo[T](randSlice(r, p.N*p.C*p.H*p.W))
	w, w64 := roundTo[T](randSlice(r, p.F*p.C*p.KH*p.KW))
	dy, dy64 := roundTo[T](randSlice(r, p.N*p.F*oh*ow))
	wantDx, wantDw := refConv2DGrads(p, x64, w64, dy64)

	// NaN-filled outputs prove that every element is overwritten.
	y := nanSlice[T](p.N * p.F * oh * ow)
	Conv2D(p, x, w, y)
	assertClose(t, "Conv2D", y, refConv2D(p, x64, w64), tol)

	dx := nanSlice[T](len(x))
	Conv2DBackwardInput(p, w, dy, dx)
	assertClose(t, "Conv2DBackwardInput", dx, wantDx, tol)

	dw := nanSlice[T](len(w))
	Conv2DBackwardKernel(p, x, dy, dw)
	assertClose(t, "Conv2DBackwardKernel", dw, wantDw, tol)
}

// TestConv2DAdjoint checks that the backward kernels are the exact adjoints of the
// forward one: <dy, conv(x,w)> = <x, dconv/dx(w,dy)> = <w, dconv/dw(x,dy)>.
func TestConv2DAdjoint(t *testing.T) {
	for _, tc := range convCases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			r := newRand()
			oh, ow := p.OutH(), p.OutW()
			x := randSlice(r, p.N*p.C*p.H*p.W)
			w := randSlice(r, p.F*p.C*p.KH*p.KW)
			dy := randSlice(r, p.N*p.F*oh*ow)
			y := make([]float64, len(dy))
			dx := make([]float64, len(x))
			dw := make([]float64, len(w))
			Conv2D(p, x, w, y)
			Conv2DBackwardInput(p, w, dy, dx)
			Conv2DBackwardKernel(p, x, dy, dw)
			fwd, in, kern := dot(dy, y), dot(x, dx), dot(w, dw)
			scale := max(1, math.Abs(fwd))
			if math.Abs(fwd-in) > 1e-10*scale || math.Abs(fwd-kern) > 1e-10*scale {
				t.Errorf("<dy,y> = %.17g, <x,dx> = %.17g, <w,dw> = %.17g", fwd, in, kern)
			}
		})
	}
}

// TestConv2DProcs runs the kernels on one and on many goroutines, covering both the
// inline path and the per-worker partial kernel gradients.
func TestConv2DProcs(t *testing.T) {
	p := conv(5, 3, 9, 8, 4, 3, 3, pad(1, 1, 1, 1), stride(2, 1))
	for _, procs := range []int{1, 2, 3, 8} {
		t.Run(fmt.Sprintf("GOMAXPROCS=%d", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			testConv[float64](t, p, tol64)
		})
	}
}

// namedFloat checks that defined float types reach BLAS through the reinterpreting path.
type namedFloat float32

func TestConv2DNamedType(t *testing.T) {
	testConv[namedFloat](t, conv(3, 2, 6, 7, 3, 3, 2, pad(1, 0, 1, 0)), tol32)
}

func TestConv2DPanics(t *testing.T) {
	p := conv(2, 3, 6, 6, 4, 3, 3)
	x, w, y := make([]float64, 2*3*36), make([]float64, 4*3*9), make([]float64, 2*4*16)
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"short x", func() { Conv2D(p, x[:len(x)-1], w, y) }},
		{"short w", func() { Conv2D(p, x, w[:len(w)-1], y) }},
		{"short y", func() { Conv2D(p, x, w, y[:len(y)-1]) }},
		{"short dx", func() { Conv2DBackwardInput(p, w, y, x[:1]) }},
		{"short dw", func() { Conv2DBackwardKernel(p, x, y, w[:1]) }},
		{"zero stride", func() { Conv2D(conv(2, 3, 6, 6, 4, 3, 3, stride(0, 1)), x, w, y) }},
		{"zero dilation", func() { Conv2D(conv(2, 3, 6, 6, 4, 3, 3, dilation(1, 0)), x, w, y) }},
		{"kernel too large", func() { Conv2D(conv(2, 3, 6, 6, 4, 7, 3), x, w, y) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tc.fn()
		})
	}
}

func TestValidRange(t *testing.T) {
	for _, off := range []int{-5, -3, -1, 0, 1, 2, 7} {
		for stride := 1; stride <= 3; stride++ {
			for size := 1; size <= 6; size++ {
				for out := 1; out <= 6; out++ {
					lo, hi := validRange(off, stride, size, out)
					for o := range out {
						in := o*stride + off
						want := in >= 0 && in < size
						if got := o >= lo && o < hi; got != want {
							t.Fatalf("validRange(%d,%d,%d,%d) = [%d,%d): output %d (input %d) inside = %v", off, stride, size, out, lo, hi, o, in, got)
						}
					}
				}
			}
		}
	}
}

// Benchmarks at the sizes of the course CNN (MNIST, 28x28, two 3x3 "same" conv layers).

type convBench struct {
	name string
	p    Conv2DParams
}

var convBenches = []convBench{
	{"conv1", conv(32, 1, 28, 28, 32, 3, 3, pad(1, 1, 1, 1))},
	{"conv2", conv(32, 32, 14, 14, 64, 3, 3, pad(1, 1, 1, 1))},
	// resnet-small's three stages: 16, 32 and 64 channels at 28x28, 14x14 and 7x7.
	{"res16", conv(32, 16, 28, 28, 16, 3, 3, pad(1, 1, 1, 1))},
	{"res32", conv(32, 32, 14, 14, 32, 3, 3, pad(1, 1, 1, 1))},
	{"res64", conv(32, 64, 7, 7, 64, 3, 3, pad(1, 1, 1, 1))},
}

// sink32 keeps benchmark results alive so the compiler cannot drop the work.
var sink32 []float32

func benchConv(b *testing.B, run func(p Conv2DParams, x, w, y, dy, dx, dw []float32) []float32) {
	for _, bc := range convBenches {
		b.Run(bc.name, func(b *testing.B) {
			b.Run(fmt.Sprintf("batch=%d", bc.p.N), func(b *testing.B) {
				p := bc.p
				r := newRand()
				x, _ := roundTo[float32](randSlice(r, p.N*p.C*p.H*p.W))
				w, _ := roundTo[float32](randSlice(r, p.F*p.C*p.KH*p.KW))
				dy, _ := roundTo[float32](randSlice(r, p.N*p.F*p.OutH()*p.OutW()))
				y := make([]float32, len(dy))
				dx, dw := make([]float32, len(x)), make([]float32, len(w))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					sink32 = run(p, x, w, y, dy, dx, dw)
				}
				macs := p.N * p.F * p.OutH() * p.OutW() * p.C * p.KH * p.KW
				b.ReportMetric(2*float64(macs)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		})
	}
}

func BenchmarkConv2D(b *testing.B) {
	benchConv(b, func(p Conv2DParams, x, w, y, _, _, _ []float32) []float32 {
		Conv2D(p, x, w, y)
		return y
	})
}

func BenchmarkConv2DBackwardInput(b *testing.B) {
	benchConv(b, func(p Conv2DParams, _, w, _, dy, dx, _ []float32) []float32 {
		Conv2DBackwardInput(p, w, dy, dx)
		return dx
	})
}

func BenchmarkConv2DBackwardKernel(b *testing.B) {
	benchConv(b, func(p Conv2DParams, x, _, _, dy, _, dw []float32) []float32 {
		Conv2DBackwardKernel(p, x, dy, dw)
		return dw
	})
}

// The kernel gradient is the same, bit for bit, whatever the number of threads.
func TestConv2DBackwardKernelIndependentOfThreads(t *testing.T) {
	p := Conv2DParams{N: 32, C: 3, H: 9, W: 9, F: 4, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
		PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1, DilationH: 1, DilationW: 1}
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, p.N*p.C*p.H*p.W)
	dy := make([]float32, p.N*p.F*p.OutH()*p.OutW())
	for i := range x {
		x[i] = rng.Float32()*2 - 1
	}
	for i := range dy {
		dy[i] = rng.Float32()*2 - 1
	}
	var first []float32
	for _, procs := range []int{1, 2, 3, 8} {
		old := runtime.GOMAXPROCS(procs)
		dw := make([]float32, p.F*p.C*p.KH*p.KW)
		Conv2DBackwardKernel(p, x, dy, dw)
		runtime.GOMAXPROCS(old)
		if first == nil {
			first = dw
			continue
		}
		for i := range dw {
			if dw[i] != first[i] {
				t.Fatalf("GOMAXPROCS=%d: dw[%d] = %v, with 1 thread %v", procs, i, dw[i], first[i])
			}
		}
	}
}

// On the AVX-512 path, float32 convolutions with stride 1 run as implicit GEMMs (no
// im2col), so TestConv2D's stride-1 cases check that path there; float64, strided and
// unpadded 1x1 convolutions keep im2col.
func TestConv2DImplicitPath(t *testing.T) {
	if Backend() != PathAsm || AsmISA() != "avx512" {
		t.Skipf("compute path %s: no implicit convolutions", Backend())
	}
	for _, tc := range convCases {
		p := tc.p
		want := p.StrideH == 1 && p.StrideW == 1 && !p.pointwise()
		if got := implicitConv[float32](&p); got != want {
			t.Errorf("%s: implicitConv[float32] = %v, want %v", tc.name, got, want)
		}
		if implicitConv[float64](&p) || implicitConv[namedFloat](&p) {
			t.Errorf("%s: implicit convolution for float64 or a named type", tc.name)
		}
	}
}
