package kernels

// The blocked SGEMM around an assembly micro-kernel (the GotoBLAS/BLIS scheme): C is
// scaled by beta once; then for each depth block of asmKC steps, a block of B is packed
// into nr-column strips, and for each block of asmMC rows of A, alpha*A is packed into
// mr-row strips; the micro-kernel multiplies one A strip by one B strip into an mr×nr
// block of C. The packed B strip (at most 32 KB) stays in L1 while the A strips stream
// past it; edge blocks go through a zeroed scratch block. Each element of C sums its
// products in depth order, block by block, so the result depends only on the shape.
const (
	asmKC = 256
	asmMC = 96 // a multiple of every micro-kernel's mr
)

// microKernel is an assembly kernel's block shape.
type microKernel struct{ mr, nr int }

var (
	kernel6x16 = microKernel{6, 16} // AVX2 + FMA
	kernel8x32 = microKernel{8, 32} // AVX-512
)

// run calls the kernel directly (not through a func value, which would make the scratch
// block escape to the heap).
func (mk microKernel) run(k int, a, b, c *float32, ldc int) {
	if mk.nr == 32 {
		sgemmKernel8x32(k, a, b, c, ldc)
	} else {
		sgemmKernel6x16(k, a, b, c, ldc)
	}
}

// sgemmWith returns a row-major SGEMM built on the micro-kernel mk.
func sgemmWith(mk microKernel) func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	return func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		sgemmBlocked(mk, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}

func sgemmBlocked(mk microKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	asmMR, asmNR := mk.mr, mk.nr
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
	if k == 0 || alpha == 0 {
		return
	}
	strips := (n + asmNR - 1) / asmNR
	kc0 := min(k, asmKC)
	bBuf := getScratch[float32](kc0 * strips * asmNR)
	aBuf := getScratch[float32](kc0 * asmMC)
	defer putScratch(bBuf)
	defer putScratch(aBuf)
	var edgeBuf [8 * 32]float32
	edge := edgeBuf[:asmMR*asmNR]
	for p0 := 0; p0 < k; p0 += asmKC {
		kc := min(asmKC, k-p0)
		pb := (*bBuf)[:kc*strips*asmNR]
		packB(asmNR, transB, b, ldb, p0, kc, n, pb)
		for i0 := 0; i0 < m; i0 += asmMC {
			mc := min(asmMC, m-i0)
			rstrips := (mc + asmMR - 1) / asmMR
			pa := (*aBuf)[:kc*rstrips*asmMR]
			packA(asmMR, transA, a, lda, alpha, i0, mc, p0, kc, pa)
			for js := range strips {
				j := js * asmNR
				nj := min(asmNR, n-j)
				bs := &pb[js*kc*asmNR]
				for is := range rstrips {
					i := i0 + is*asmMR
					mi := min(asmMR, m-i)
					as := &pa[is*kc*asmMR]
					if mi == asmMR && nj == asmNR {
						mk.run(kc, as, bs, &c[i*ldc+j], ldc)
						continue
					}
					clear(edge)
					mk.run(kc, as, bs, &edge[0], asmNR)
					for r := range mi {
						dst := c[(i+r)*ldc+j:][:nj]
						for q, v := range edge[r*asmNR:][:nj] {
							dst[q] += v
						}
					}
				}
			}
		}
	}
}

// packB writes B[p0:p0+kc, 0:n] as asmNR-column strips, each kc rows of asmNR values, padding
// the last strip with zeros.
func packB(asmNR int, trans bool, b []float32, ldb, p0, kc, n int, dst []float32) {
	for j0, s := 0, 0; j0 < n; j0, s = j0+asmNR, s+1 {
		nj := min(asmNR, n-j0)
		strip := dst[s*kc*asmNR:][:kc*asmNR]
		for p := range kc {
			row := strip[p*asmNR:][:asmNR]
			if !trans {
				copy(row, b[(p0+p)*ldb+j0:][:nj])
			} else {
				for q := range nj {
					row[q] = b[(j0+q)*ldb+p0+p]
				}
			}
			clear(row[nj:])
		}
	}
}

// packA writes alpha*A[i0:i0+mc, p0:p0+kc] as asmMR-row strips, each kc columns of asmMR values,
// padding the last strip with zeros.
func packA(asmMR int, trans bool, a []float32, lda int, alpha float32, i0, mc, p0, kc int, dst []float32) {
	for r0, s := 0, 0; r0 < mc; r0, s = r0+asmMR, s+1 {
		mi := min(asmMR, mc-r0)
		strip := dst[s*kc*asmMR:][:kc*asmMR]
		if mi < asmMR {
			clear(strip)
		}
		for q := range mi {
			i := i0 + r0 + q
			if !trans {
				src := a[i*lda+p0:][:kc]
				for p, v := range src {
					strip[p*asmMR+q] = alpha * v
				}
			} else {
				for p := range kc {
					strip[p*asmMR+q] = alpha * a[(p0+p)*lda+i]
				}
			}
		}
	}
}
