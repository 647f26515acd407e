package kernels

// The blocked SGEMM around the assembly micro-kernel (the GotoBLAS/BLIS scheme): C is
// scaled by beta once; then for each depth block of asmKC steps, a block of B is packed
// into 16-column strips, and for each block of asmMC rows of A, alpha*A is packed into
// 6-row strips; the micro-kernel multiplies one A strip by one B strip into a 6x16 block
// of C. The packed B strip (asmKC*16 values, 16 KB) stays in L1 while the A strips stream
// past it; edge blocks go through a zeroed 6x16 scratch block. Each element of C sums its
// products in depth order, block by block, so the result depends only on the shape.
const (
	asmMR = 6
	asmNR = 16
	asmKC = 256
	asmMC = 96 // a multiple of asmMR
)

func sgemmAsm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
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
	var edge [asmMR * asmNR]float32
	for p0 := 0; p0 < k; p0 += asmKC {
		kc := min(asmKC, k-p0)
		pb := (*bBuf)[:kc*strips*asmNR]
		packB(transB, b, ldb, p0, kc, n, pb)
		for i0 := 0; i0 < m; i0 += asmMC {
			mc := min(asmMC, m-i0)
			rstrips := (mc + asmMR - 1) / asmMR
			pa := (*aBuf)[:kc*rstrips*asmMR]
			packA(transA, a, lda, alpha, i0, mc, p0, kc, pa)
			for js := range strips {
				j := js * asmNR
				nj := min(asmNR, n-j)
				bs := &pb[js*kc*asmNR]
				for is := range rstrips {
					i := i0 + is*asmMR
					mi := min(asmMR, m-i)
					as := &pa[is*kc*asmMR]
					if mi == asmMR && nj == asmNR {
						sgemmKernel6x16(kc, as, bs, &c[i*ldc+j], ldc)
						continue
					}
					clear(edge[:])
					sgemmKernel6x16(kc, as, bs, &edge[0], asmNR)
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

// packB writes B[p0:p0+kc, 0:n] as 16-column strips, each kc rows of 16 values, padding
// the last strip with zeros.
func packB(trans bool, b []float32, ldb, p0, kc, n int, dst []float32) {
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

// packA writes alpha*A[i0:i0+mc, p0:p0+kc] as 6-row strips, each kc columns of 6 values,
// padding the last strip with zeros.
func packA(trans bool, a []float32, lda int, alpha float32, i0, mc, p0, kc int, dst []float32) {
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
