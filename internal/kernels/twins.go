package kernels

import (
	"math"
	"unsafe"
)

// The Go twins of the assembly kernels (gemm_asm_amd64.s, gen_elementwise_amd64.s): the same
// signatures and the same results to the bit, each float32 multiply-add fused as the
// assembly's FMA instructions are, and every sum in the assembly's order (lanes, masked
// tails, the lane reduction). Builds without the assembly (other architectures, or the
// purego build tag) call them under the assembly's names (twins_other.go), and on amd64
// TestAsmKernelsMatchGoTwins compares each kernel with its twin. Float operations that
// must round separately go through explicit conversions, which keep the compiler from
// fusing them (it may on arm64).

// fma32 is float32's fused multiply-add, a*b+c rounded once. The product of two float32s
// is exact in float64; the sum is rounded to odd in float64 (round to nearest, then, if
// that was inexact, the neighbour toward zero with an odd last bit), and rounding to odd
// at 53 bits and then to nearest at 24 bits is rounding a*b+c to nearest once.
func fma32(a, b, c float32) float32 {
	p := float64(float64(a) * float64(b))
	q := float64(c)
	s := float64(p + q)
	if math.IsInf(s, 0) || math.IsNaN(s) || s == 0 {
		return float32(s)
	}
	// TwoSum: err is exactly (p+q) - s.
	bv := float64(s - p)
	err := float64(float64(p-float64(s-bv)) + float64(q-bv))
	if err == 0 {
		return float32(s)
	}
	bits := math.Float64bits(s)
	if (err > 0) != (s > 0) {
		bits-- // s was rounded away from zero: step back toward it
	}
	return float32(math.Float64frombits(bits | 1))
}

// reduce16 adds sixteen float64 lanes as the assembly does: the upper eight onto the
// lower, then (REDUCE8) the upper four onto the lower, the upper two, the last pair.
func reduce16(v *[16]float64) float64 {
	var z [8]float64
	for l := range z {
		z[l] = float64(v[l] + v[l+8])
	}
	return float64(float64(z[0]+z[4])+float64(z[2]+z[6])) + float64(float64(z[1]+z[5])+float64(z[3]+z[7]))
}

func sgemmKernel6x16Go(k int, a, b, c *float32, ldc int) { sgemmKernelPackedGo(6, 16, k, a, b, c, ldc) }

func sgemmKernel8x32Go(k int, a, b, c *float32, ldc int) { sgemmKernelPackedGo(8, 32, k, a, b, c, ldc) }

// sgemmKernelPackedGo is the packed micro-kernels' twin: c[i*ldc+j] += the sum over p of
// a[p*mr+i]*b[p*nr+j], summed from zero in depth order with fused multiply-adds.
func sgemmKernelPackedGo(mr, nr, k int, a, b, c *float32, ldc int) {
	as, bs := unsafe.Slice(a, k*mr), unsafe.Slice(b, k*nr)
	cs := unsafe.Slice(c, (mr-1)*ldc+nr)
	for i := range mr {
		for j := range nr {
			var acc float32
			for p := range k {
				acc = fma32(as[p*mr+i], bs[p*nr+j], acc)
			}
			cs[i*ldc+j] = float32(cs[i*ldc+j] + acc)
		}
	}
}

// sgemmKernel8x32siGo is sgemmKernel8x32si's twin: rows of A in place, row p of B at
// b+offs[p], columns under mask; acc false overwrites C's block, true adds to it.
func sgemmKernel8x32siGo(k int, a *float32, lda int, b *float32, offs *int, c *float32, ldc int, mask uint32, acc bool) {
	as := unsafe.Slice(a, 7*lda+k)
	os := unsafe.Slice(offs, k)
	cs := unsafe.Slice(c, 7*ldc+32)
	for j := range 32 {
		if mask&(1<<j) == 0 {
			continue
		}
		for i := range 8 {
			var sum float32
			for p := range k {
				bv := *(*float32)(unsafe.Add(unsafe.Pointer(b), (os[p]+j)*4))
				sum = fma32(as[i*lda+p], bv, sum)
			}
			if acc {
				sum = float32(cs[i*ldc+j] + sum)
			}
			cs[i*ldc+j] = sum
		}
	}
}

// sgemmKernelNT4x4Go is sgemmKernelNT4x4's twin: element (i, j) of the 4x4 block sums
// as[s][i*lda+p] * bs[s][boffs[j]+p] over the segments s and the depth p in sixteen lanes
// (lane p%16, fused multiply-adds, segments in order), then reduces the lanes as the
// assembly's shuffles do.
func sgemmKernelNT4x4Go(k, nseg int, as **float32, lda int, bs **float32, boffs *int, c *float32, ldc int, acc bool) {
	aps, bps := unsafe.Slice(as, nseg), unsafe.Slice(bs, nseg)
	bo := unsafe.Slice(boffs, 4)
	cs := unsafe.Slice(c, 3*ldc+4)
	for i := range 4 {
		for j := range 4 {
			var lanes [16]float32
			for s := range nseg {
				ar := unsafe.Slice((*float32)(unsafe.Add(unsafe.Pointer(aps[s]), i*lda*4)), k)
				br := unsafe.Slice((*float32)(unsafe.Add(unsafe.Pointer(bps[s]), bo[j]*4)), k)
				for p := range k {
					lanes[p%16] = fma32(ar[p], br[p], lanes[p%16])
				}
			}
			var x [4]float32
			for l := range x {
				x[l] = float32(float32(lanes[l]+lanes[8+l]) + float32(lanes[4+l]+lanes[12+l]))
			}
			v := float32(float32(x[0]+x[2]) + float32(x[1]+x[3]))
			if acc {
				v = float32(cs[i*ldc+j] + v)
			}
			cs[i*ldc+j] = v
		}
	}
}

// reluForward32Go: y = x where !(x <= 0) (so NaN passes), else +0.
func reluForward32Go(x, y *float32, n int) {
	xs, ys := unsafe.Slice(x, n), unsafe.Slice(y, n)
	for i, v := range xs {
		if !(v <= 0) {
			ys[i] = v
		} else {
			ys[i] = 0
		}
	}
}

// reluBackward32AVX512Go: dx = dy where x > 0 (false for NaN), else +0.
func reluBackward32AVX512Go(x, dy, dx *float32, n int) {
	xs, dys, dxs := unsafe.Slice(x, n), unsafe.Slice(dy, n), unsafe.Slice(dx, n)
	for i, v := range xs {
		if v > 0 {
			dxs[i] = dys[i]
		} else {
			dxs[i] = 0
		}
	}
}

func normalize32Go(x, y *float32, n int, scale, shift float64) {
	xs, ys := unsafe.Slice(x, n), unsafe.Slice(y, n)
	for i, v := range xs {
		ys[i] = float32(float64(float64(v)*scale) + shift)
	}
}

func normInputGrad32Go(x, dy, dx *float32, n int, mu, inv, m, s, sx, gm float64) {
	xs, dys, dxs := unsafe.Slice(x, n), unsafe.Slice(dy, n), unsafe.Slice(dx, n)
	for i := range xs {
		xhat := float64(float64(float64(xs[i])-mu) * inv)
		v := float64(float64(float64(m*float64(dys[i]))-s) - float64(xhat*sx))
		dxs[i] = float32(gm * v)
	}
}

func rowSum32Go(x *float32, n int) float64 {
	var lanes [16]float64
	for i, v := range unsafe.Slice(x, n) {
		lanes[i%16] += float64(v)
	}
	return reduce16(&lanes)
}

func rowSqDev32Go(x *float32, n int, mu float64) float64 {
	var lanes [16]float64
	for i, v := range unsafe.Slice(x, n) {
		d := float64(float64(v) - mu)
		lanes[i%16] += float64(d * d)
	}
	return reduce16(&lanes)
}

// rowGradSums32Go: the tail's masked lanes compute with x = dy = 0 as the assembly does
// (adding (0-mu)*0*inv, which is ±0 for a finite mu and inv).
func rowGradSums32Go(x, dy *float32, n int, mu, inv float64) (s, sx float64) {
	var ls, lsx [16]float64
	xs, dys := unsafe.Slice(x, n), unsafe.Slice(dy, n)
	for i0 := 0; i0 < n; i0 += 16 {
		for l := range 16 {
			var xv, dv float64
			if i0+l < n {
				xv, dv = float64(xs[i0+l]), float64(dys[i0+l])
			}
			ls[l] += dv
			lsx[l] += float64(float64(dv*float64(xv-mu)) * inv)
		}
	}
	return reduce16(&ls), reduce16(&lsx)
}

// maxPool2x2BackwardRow32Go: sixteen windows a group; at the first group holding a NaN it
// returns false, having written the groups before it.
func maxPool2x2BackwardRow32Go(r0, r1, dy, d0, d1 *float32, ow int) bool {
	a0, a1 := unsafe.Slice(r0, 2*ow), unsafe.Slice(r1, 2*ow)
	g := unsafe.Slice(dy, ow)
	o0, o1 := unsafe.Slice(d0, 2*ow), unsafe.Slice(d1, 2*ow)
	for j0 := 0; j0 < ow; j0 += 16 {
		end := min(j0+16, ow)
		for j := j0; j < end; j++ {
			a, b, c, d := a0[2*j], a0[2*j+1], a1[2*j], a1[2*j+1]
			if a != a || b != b || c != c || d != d {
				return false
			}
		}
		for j := j0; j < end; j++ {
			a, b, c, d := a0[2*j], a0[2*j+1], a1[2*j], a1[2*j+1]
			m := max(a, b, c, d)
			ea := a == m
			eb := !ea && b == m
			ec := !ea && !eb && c == m
			ed := !ea && !eb && !ec
			pick := func(e bool) float32 {
				if e {
					return g[j]
				}
				return 0
			}
			o0[2*j], o0[2*j+1], o1[2*j], o1[2*j+1] = pick(ea), pick(eb), pick(ec), pick(ed)
		}
	}
	return true
}

func add32Go(a, b, y *float32, n int) {
	as, bs, ys := unsafe.Slice(a, n), unsafe.Slice(b, n), unsafe.Slice(y, n)
	for i := range ys {
		ys[i] = as[i] + bs[i]
	}
}

func copyRows32Go(dst, src *float32, rows, n, dstStride, srcStride int) {
	if rows <= 0 || n <= 0 {
		return
	}
	ds := unsafe.Slice(dst, (rows-1)*dstStride+n)
	ss := unsafe.Slice(src, (rows-1)*srcStride+n)
	for r := range rows {
		copy(ds[r*dstStride:][:n], ss[r*srcStride:][:n])
	}
}
