package kernels

import "fmt"

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
	if mk.nr == 32 && !transA && transB && k >= ntMinDepth && alpha == 1 && (beta == 0 || beta == 1) {
		sgemmNT(m, n, k, a, lda, b, ldb, beta == 1, c, ldc)
		return
	}
	if mk.nr == 32 && !transB && k > 0 && alpha != 0 {
		sgemmInPlaceB(transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
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

// sgemmInPlaceB is sgemmBlocked on the AVX-512 kernel for an untransposed B: the kernel
// reads B's rows where they lie (masked at the last strip's edge) and, with alpha 1, an
// untransposed A's rows too, so neither operand is packed and C is written once per
// depth block, with no clearing pass. Packing B cost as much as the product for the short,
// wide products of a convolution (16 rows of filters times 784 output positions: 120
// GFLOP/s with packing, 230-255 without, on one core). Any other A is first copied, times
// alpha, into a row-major scratch matrix. The sums run in depth order, block by block.
func sgemmInPlaceB(transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if beta != 0 && beta != 1 {
		for i := range m {
			for j, v := range c[i*ldc : i*ldc+n] {
				c[i*ldc+j] = v * beta
			}
		}
		beta = 1
	}
	if alpha != 1 || transA {
		buf := getScratch[float32](m * k)
		defer putScratch(buf)
		ra := *buf
		for i := range m {
			row := ra[i*k : (i+1)*k]
			if transA {
				for p := range k {
					row[p] = alpha * a[p*lda+i]
				}
				continue
			}
			for p, v := range a[i*lda : i*lda+k] {
				row[p] = alpha * v
			}
		}
		a, lda = ra, k
	}
	sgemmIndirect(m, n, k, a, lda, b, nil, ldb, beta == 1, c, ldc)
}

// sgemmIndirect computes C = A×B (acc false) or C += A×B (acc true) for an untransposed A
// (m×k, row stride lda) and a B whose row p is b[offs[p]:][:n] (b[p*ldb:][:n] when offs is
// nil), with sgemmKernel8x32si, in blocks of asmKC steps of depth; rows of A past the last
// multiple of 8 go through the kernel on a zero-padded copy. Every row of B must have n
// elements in b.
func sgemmIndirect(m, n, k int, a []float32, lda int, b []float32, offs []int, ldb int, acc bool, c []float32, ldc int) {
	const mr, nr = 8, 32
	if m < 1 || n < 1 || k < 1 || lda < k || ldc < n || len(a) < (m-1)*lda+k || len(c) < (m-1)*ldc+n {
		panic("kernels: sgemmIndirect: A or C too short for their shape")
	}
	if offs == nil {
		if ldb < n || len(b) < (k-1)*ldb+n {
			panic("kernels: sgemmIndirect: B too short for its shape")
		}
	} else {
		if len(offs) < k {
			panic("kernels: sgemmIndirect: fewer row offsets than the depth")
		}
		for _, o := range offs[:k] {
			if o < 0 || o+n > len(b) {
				panic("kernels: sgemmIndirect: a row of B lies outside b")
			}
		}
	}
	strips := (n + nr - 1) / nr
	m8 := m &^ (mr - 1)
	var edge [mr * nr]float32
	var aEdge *[]float32
	if m8 < m {
		aEdge = getScratch[float32](mr * min(k, asmKC))
		defer putScratch(aEdge)
	}
	var strided [asmKC]int
	for p0 := 0; p0 < k; p0 += asmKC {
		kc := min(asmKC, k-p0)
		blockAcc := acc || p0 > 0
		var o *int
		if offs == nil {
			for p := range kc {
				strided[p] = (p0 + p) * ldb
			}
			o = &strided[0]
		} else {
			o = &offs[p0]
		}
		if aEdge != nil {
			pa := (*aEdge)[:mr*kc]
			clear(pa)
			for r := range m - m8 {
				copy(pa[r*kc:][:kc], a[(m8+r)*lda+p0:][:kc])
			}
		}
		for js := range strips {
			j := js * nr
			nj := min(nr, n-j)
			mask := uint32(1)<<nj - 1 // nj == 32 gives all ones
			for i := 0; i < m8; i += mr {
				sgemmKernel8x32si(kc, &a[i*lda+p0], lda, &b[j], o, &c[i*ldc+j], ldc, mask, blockAcc)
			}
			if aEdge == nil {
				continue
			}
			sgemmKernel8x32si(kc, &(*aEdge)[0], kc, &b[j], o, &edge[0], nr, mask, false)
			for r := range m - m8 {
				dst := c[(m8+r)*ldc+j:][:nj]
				if !blockAcc {
					copy(dst, edge[r*nr:][:nj])
					continue
				}
				for q, v := range edge[r*nr:][:nj] {
					dst[q] += v
				}
			}
		}
	}
}

// ntMinDepth is the depth from which A×Bᵀ goes to sgemmNT: below it the 57 instructions
// that reduce a 4x4 block's partial sums outweigh the 16 multiply-adds per 16 steps, and
// packing B is cheaper.
const ntMinDepth = 128

// sgemmNT computes C = A×Bᵀ (acc false) or C += A×Bᵀ (acc true) for row-major A and B;
// see sgemmNTRows.
func sgemmNT(m, n, k int, a []float32, lda int, b []float32, ldb int, acc bool, c []float32, ldc int) {
	as, bs := [1][]float32{a}, [1][]float32{b}
	sgemmNTRows(m, n, k, as[:], lda, bs[:], nil, ldb, acc, c, ldc)
}

// maxSegments is the most pairs of A and B that sgemmNTRows sums at once: a chunk of a
// convolution's kernel gradient.
const maxSegments = kernelGradChunk

// sgemmNTRows computes C = the sum over s of As[s]×Bs[s]ᵀ (acc false), or adds it to C
// (acc true), where row i of As[s] is as[s][i*lda:][:k] and row j of Bs[s] is
// bs[s][boffs[j]:][:k] (bs[s][j*ldb:][:k] when boffs is nil), with sgemmKernelNT4x4 on
// 4x4 blocks, reading the rows of A and B where they lie. The rows and columns past the
// last multiple of 4 go through the same kernel on zero-padded copies of the last rows of
// A and B, so every element sums its products in the same order. A convolution's kernel
// gradient, dw = the sum over images of dy × colᵀ, is such a product with a long depth
// (the output positions): packing its B (colᵀ) transposed cost more than the product (45
// GFLOP/s on one core for resnet-small's 16-channel layers, 16x144x784; 245 this way).
// Summing several images' products before reducing the partial sums keeps a short depth
// (49 positions at 7x7) from being dominated by the reduction. At most maxSegments pairs.
func sgemmNTRows(m, n, k int, as [][]float32, lda int, bs [][]float32, boffs []int, ldb int, acc bool, c []float32, ldc int) {
	nseg := len(as)
	if nseg < 1 || nseg > maxSegments || len(bs) != nseg {
		panic(fmt.Sprintf("kernels: sgemmNTRows: %d A and %d B segments (want 1 to %d, as many of each)", len(as), len(bs), maxSegments))
	}
	off := func(j int) int { return j * ldb }
	if boffs != nil {
		if len(boffs) < n {
			panic(fmt.Sprintf("kernels: sgemmNTRows: %d row offsets for %d rows", len(boffs), n))
		}
		off = func(j int) int { return boffs[j] }
	}
	for s := range nseg {
		if len(as[s]) < (m-1)*lda+k {
			panic(fmt.Sprintf("kernels: sgemmNTRows: A segment %d has %d elements, need %d", s, len(as[s]), (m-1)*lda+k))
		}
		for j := range n {
			if o := off(j); o < 0 || o+k > len(bs[s]) {
				panic(fmt.Sprintf("kernels: sgemmNTRows: row %d of B at %d+%d outside segment %d's %d elements", j, o, k, s, len(bs[s])))
			}
		}
	}
	var ap, bp [maxSegments]*float32
	for s := range nseg {
		bp[s] = &bs[s][0]
	}
	m4, n4 := m&^3, n&^3
	var o [4]int
	for i := 0; i < m4; i += 4 {
		for s := range nseg {
			ap[s] = &as[s][i*lda]
		}
		for j := 0; j < n4; j += 4 {
			o = [4]int{off(j), off(j + 1), off(j + 2), off(j + 3)}
			sgemmKernelNT4x4(k, nseg, &ap[0], lda, &bp[0], &o[0], &c[i*ldc+j], ldc, acc)
		}
	}
	if m4 == m && n4 == n {
		return
	}
	// padRows copies rows lo..hi-1 of every segment into zeroed 4-row blocks of stride k,
	// one block per segment, and points ptrs at them.
	padRows := func(row func(s, r int) []float32, lo, hi int, ptrs *[maxSegments]*float32) *[]float32 {
		buf := getScratch[float32](nseg * 4 * k)
		clear(*buf)
		for s := range nseg {
			blk := (*buf)[s*4*k:][:4*k]
			for r := lo; r < hi; r++ {
				copy(blk[(r-lo)*k:][:k], row(s, r))
			}
			ptrs[s] = &blk[0]
		}
		return buf
	}
	aRow := func(s, r int) []float32 { return as[s][r*lda:][:k] }
	bRow := func(s, r int) []float32 { return bs[s][off(r):][:k] }
	packed := [4]int{0, k, 2 * k, 3 * k}
	var block [16]float32
	edge := func(aps *[maxSegments]*float32, lda int, bps *[maxSegments]*float32, bo *int, i, j int) {
		sgemmKernelNT4x4(k, nseg, &aps[0], lda, &bps[0], bo, &block[0], 4, false)
		for r := range min(4, m-i) {
			for q := range min(4, n-j) {
				v := block[r*4+q]
				if acc {
					v += c[(i+r)*ldc+j+q]
				}
				c[(i+r)*ldc+j+q] = v
			}
		}
	}
	var bEdgePtrs, aEdgePtrs [maxSegments]*float32
	if n4 < n {
		bEdge := padRows(bRow, n4, n, &bEdgePtrs)
		defer putScratch(bEdge)
		for i := 0; i < m4; i += 4 {
			for s := range nseg {
				ap[s] = &as[s][i*lda]
			}
			edge(&ap, lda, &bEdgePtrs, &packed[0], i, n4)
		}
	}
	if m4 < m {
		aEdge := padRows(aRow, m4, m, &aEdgePtrs)
		defer putScratch(aEdge)
		for j := 0; j < n4; j += 4 {
			o = [4]int{off(j), off(j + 1), off(j + 2), off(j + 3)}
			edge(&aEdgePtrs, k, &bp, &o[0], m4, j)
		}
		if n4 < n {
			edge(&aEdgePtrs, k, &bEdgePtrs, &packed[0], m4, n4)
		}
	}
}

// packB writes B[p0:p0+kc, 0:n] as asmNR-column strips, each kc rows of asmNR values, padding
// the last strip with zeros.
func packB(asmNR int, trans bool, b []float32, ldb, p0, kc, n int, dst []float32) {
	for j0, s := 0, 0; j0 < n; j0, s = j0+asmNR, s+1 {
		nj := min(asmNR, n-j0)
		strip := dst[s*kc*asmNR:][:kc*asmNR]
		if trans {
			// Column q of the strip is row j0+q of the stored B: read each of those rows
			// once, in order, and scatter it down the strip (the other order read
			// 32 rows a step apart and ran the kernel gradients of resnet-small at a third
			// of the speed).
			if nj < asmNR {
				clear(strip)
			}
			for q := range nj {
				src := b[(j0+q)*ldb+p0:][:kc]
				for p, v := range src {
					strip[p*asmNR+q] = v
				}
			}
			continue
		}
		for p := range kc {
			row := strip[p*asmNR:][:asmNR]
			copy(row, b[(p0+p)*ldb+j0:][:nj])
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
		if trans {
			// Step p of the strip is mi consecutive values of row p0+p of the stored A.
			for p := range kc {
				dst := strip[p*asmMR:][:mi]
				for q, v := range a[(p0+p)*lda+i0+r0:][:mi] {
					dst[q] = alpha * v
				}
			}
			continue
		}
		for q := range mi {
			src := a[(i0+r0+q)*lda+p0:][:kc]
			for p, v := range src {
				strip[p*asmMR+q] = alpha * v
			}
		}
	}
}
