//go:build !purego

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// Every assembly kernel gives the same bits as its Go twin (twins.go), which builds
// without the assembly run instead: random and special operands, every tail length, both
// accumulate modes. A NaN matches any NaN: which NaN an invalid operation on NaN operands
// returns (sign, payload) follows the hardware's operand order, not the arithmetic.
func TestAsmKernelsMatchGoTwins(t *testing.T) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("no AVX2/FMA on this CPU: no assembly kernel runs here")
	}
	avx512 := cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL
	r := rand.New(rand.NewPCG(1, 2))
	special := []float32{float32(math.NaN()), 0, float32(math.Copysign(0, -1)), float32(math.Inf(1)),
		float32(math.Inf(-1)), 1e-40, -1e-40, math.MaxFloat32, -math.MaxFloat32, 1, 1}
	vals := func(n int, withSpecial bool) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.NormFloat64())
			if withSpecial && r.IntN(6) == 0 {
				s[i] = special[r.IntN(len(special))]
			}
		}
		return s
	}
	same32 := func(name string, got, want []float32) {
		t.Helper()
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
				t.Fatalf("%s: element %d: asm %v (%#x), Go twin %v (%#x)", name, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			}
		}
	}
	same64 := func(name string, got, want float64) {
		t.Helper()
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%s: asm %v, Go twin %v", name, got, want)
		}
	}
	clone := func(s []float32) []float32 { return append([]float32(nil), s...) }

	t.Run("fma32", func(t *testing.T) {
		// The AVX2 kernel at depth 2, with a[0] = c and b[0] = 1, computes fma(a, b, c)
		// in the hardware for 6x16 pairs a call: fma32 must agree, cancellations included.
		for range 2000 {
			a, b, c := make([]float32, 12), make([]float32, 32), make([]float32, 6*16)
			for i := range 6 {
				a[i], a[6+i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			}
			for j := range 16 {
				b[j], b[16+j] = 1, float32(r.NormFloat64())
				if j%3 == 0 {
					b[16+j] = -a[j%6] / a[6+j%6] // a*b close to -c: cancellation
				}
			}
			sgemmKernel6x16(2, &a[0], &b[0], &c[0], 16)
			for i := range 6 {
				for j := range 16 {
					want := c[i*16+j]
					got := fma32(a[6+i], b[16+j], a[i])
					if got == 0 {
						got = 0 // the kernel adds its sum to a zero C: -0 becomes +0
					}
					if math.Float32bits(got) != math.Float32bits(want) {
						t.Fatalf("fma32(%v, %v, %v) = %v, hardware %v", a[6+i], b[16+j], a[i], got, want)
					}
				}
			}
		}
	})

	for _, k := range []int{1, 2, 7, 16, 33, 256} {
		for _, mk := range []microKernel{kernel6x16, kernel8x32} {
			if mk.nr == 32 && !avx512 {
				continue
			}
			a, b := vals(k*mk.mr, false), vals(k*mk.nr, false)
			ldc := mk.nr + 3
			c := vals((mk.mr-1)*ldc+mk.nr, false)
			got, want := clone(c), clone(c)
			if mk.nr == 32 {
				sgemmKernel8x32(k, &a[0], &b[0], &got[0], ldc)
				sgemmKernel8x32Go(k, &a[0], &b[0], &want[0], ldc)
			} else {
				sgemmKernel6x16(k, &a[0], &b[0], &got[0], ldc)
				sgemmKernel6x16Go(k, &a[0], &b[0], &want[0], ldc)
			}
			same32("packed kernel", got, want)
		}
	}
	if !avx512 {
		t.Log("no AVX-512: only the AVX2 kernel compared")
		return
	}

	for _, k := range []int{1, 3, 16, 17, 100} {
		for _, mask := range []uint32{1, 0x7fff, 0xffff, 0x1ffff, 0xffffffff, r.Uint32()} {
			for _, acc := range []bool{false, true} {
				lda := k + r.IntN(4)
				a := vals(7*lda+k, true)
				b := vals(4096, true)
				offs := make([]int, k)
				for p := range offs {
					offs[p] = r.IntN(len(b) - 32)
				}
				ldc := 40
				c := vals(7*ldc+32, false)
				got, want := clone(c), clone(c)
				sgemmKernel8x32si(k, &a[0], lda, &b[0], &offs[0], &got[0], ldc, mask, acc)
				sgemmKernel8x32siGo(k, &a[0], lda, &b[0], &offs[0], &want[0], ldc, mask, acc)
				same32("8x32si", got, want)
			}
		}
	}

	for _, k := range []int{1, 15, 16, 17, 49, 200} {
		for _, nseg := range []int{1, 3} {
			for _, acc := range []bool{false, true} {
				lda := k + r.IntN(3)
				var ap, bp [maxSegments]*float32
				for s := range nseg {
					ap[s] = &vals(3*lda+k, false)[0]
					bp[s] = &vals(2048, false)[0]
				}
				offs := [4]int{}
				for j := range offs {
					offs[j] = r.IntN(2048 - k)
				}
				ldc := 6
				c := vals(3*ldc+4, false)
				got, want := clone(c), clone(c)
				sgemmKernelNT4x4(k, nseg, &ap[0], lda, &bp[0], &offs[0], &got[0], ldc, acc)
				sgemmKernelNT4x4Go(k, nseg, &ap[0], lda, &bp[0], &offs[0], &want[0], ldc, acc)
				same32("NT4x4", got, want)
			}
		}
	}

	lengths := []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 64, 100, 1000}
	for _, n := range lengths {
		x, dy := vals(n+1, true), vals(n+1, true)
		got, want := make([]float32, n+1), make([]float32, n+1)
		reluForward32(&x[0], &got[0], n)
		reluForward32Go(&x[0], &want[0], n)
		same32("reluForward32", got, want)
		reluBackward32AVX512(&x[0], &dy[0], &got[0], n)
		reluBackward32AVX512Go(&x[0], &dy[0], &want[0], n)
		same32("reluBackward32AVX512", got, want)
		add32(&x[0], &dy[0], &got[0], n)
		add32Go(&x[0], &dy[0], &want[0], n)
		same32("add32", got, want)
		normalize32(&x[0], &got[0], n, 1.7, -0.3)
		normalize32Go(&x[0], &want[0], n, 1.7, -0.3)
		same32("normalize32", got, want)
		normInputGrad32(&x[0], &dy[0], &got[0], n, 0.2, 1.3, 64, 0.7, -1.1, 0.02)
		normInputGrad32Go(&x[0], &dy[0], &want[0], n, 0.2, 1.3, 64, 0.7, -1.1, 0.02)
		same32("normInputGrad32", got, want)

		// The sums, on finite data (special values would make both NaN or Inf).
		xf, df := vals(n+1, false), vals(n+1, false)
		same64("rowSum32", rowSum32(&xf[0], n), rowSum32Go(&xf[0], n))
		same64("rowSqDev32", rowSqDev32(&xf[0], n, 0.3), rowSqDev32Go(&xf[0], n, 0.3))
		s, sx := rowGradSums32(&xf[0], &df[0], n, 0.3, 1.7)
		gs, gsx := rowGradSums32Go(&xf[0], &df[0], n, 0.3, 1.7)
		same64("rowGradSums32 s", s, gs)
		same64("rowGradSums32 sx", sx, gsx)

		rows, dstStride, srcStride := 3, n+5, n+2
		src := vals(rows*srcStride+1, true)
		dg, dw := vals(rows*dstStride+1, false), []float32(nil)
		dw = clone(dg)
		copyRows32(&dg[0], &src[0], rows, n, dstStride, srcStride)
		copyRows32Go(&dw[0], &src[0], rows, n, dstStride, srcStride)
		same32("copyRows32", dg, dw)
	}

	for _, ow := range []int{0, 1, 5, 16, 17, 40} {
		for _, withNaN := range []bool{false, true} {
			r0, r1 := vals(2*ow+1, false), vals(2*ow+1, false)
			for i := range r0 { // ties and signed zeros
				switch r.IntN(8) {
				case 0:
					r1[i] = r0[i]
				case 1:
					r0[i], r1[i] = 0, float32(math.Copysign(0, -1))
				}
			}
			if withNaN && ow > 0 {
				r1[2*(ow-1)] = float32(math.NaN())
			}
			dy := vals(ow+1, false)
			g0, g1 := vals(2*ow+1, false), vals(2*ow+1, false)
			w0, w1 := clone(g0), clone(g1)
			okAsm := maxPool2x2BackwardRow32(&r0[0], &r1[0], &dy[0], &g0[0], &g1[0], ow)
			okGo := maxPool2x2BackwardRow32Go(&r0[0], &r1[0], &dy[0], &w0[0], &w1[0], ow)
			if okAsm != okGo {
				t.Fatalf("maxPool2x2BackwardRow32 ow %d: asm %v, Go twin %v", ow, okAsm, okGo)
			}
			same32("maxPool2x2BackwardRow32 d0", g0, w0)
			same32("maxPool2x2BackwardRow32 d1", g1, w1)
		}
	}
}
