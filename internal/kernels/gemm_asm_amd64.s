//go:build !purego

#include "textflag.h"

// func sgemmKernel6x16(k int, a, b, c *float32, ldc int)
//
// c[i*ldc+j] += sum over p < k of a[p*6+i] * b[p*16+j], for i < 6 and j < 16: a is a
// packed strip of 6 rows of A (one column of 6 values per step p), b a packed strip of 16
// columns of B (one row of 16 values per step p). k >= 1. The 12 accumulators hold the
// 6x16 block in Y4..Y15; each step loads two B vectors and broadcasts six A values.
TEXT ·sgemmKernel6x16(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8

	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	VXORPS Y14, Y14, Y14
	VXORPS Y15, Y15, Y15

loop:
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VBROADCASTSS (SI), Y2
	VFMADD231PS Y0, Y2, Y4
	VFMADD231PS Y1, Y2, Y5
	VBROADCASTSS 4(SI), Y3
	VFMADD231PS Y0, Y3, Y6
	VFMADD231PS Y1, Y3, Y7
	VBROADCASTSS 8(SI), Y2
	VFMADD231PS Y0, Y2, Y8
	VFMADD231PS Y1, Y2, Y9
	VBROADCASTSS 12(SI), Y3
	VFMADD231PS Y0, Y3, Y10
	VFMADD231PS Y1, Y3, Y11
	VBROADCASTSS 16(SI), Y2
	VFMADD231PS Y0, Y2, Y12
	VFMADD231PS Y1, Y2, Y13
	VBROADCASTSS 20(SI), Y3
	VFMADD231PS Y0, Y3, Y14
	VFMADD231PS Y1, Y3, Y15
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  loop

	VADDPS (DX), Y4, Y4
	VMOVUPS Y4, (DX)
	VADDPS 32(DX), Y5, Y5
	VMOVUPS Y5, 32(DX)
	ADDQ R8, DX
	VADDPS (DX), Y6, Y6
	VMOVUPS Y6, (DX)
	VADDPS 32(DX), Y7, Y7
	VMOVUPS Y7, 32(DX)
	ADDQ R8, DX
	VADDPS (DX), Y8, Y8
	VMOVUPS Y8, (DX)
	VADDPS 32(DX), Y9, Y9
	VMOVUPS Y9, 32(DX)
	ADDQ R8, DX
	VADDPS (DX), Y10, Y10
	VMOVUPS Y10, (DX)
	VADDPS 32(DX), Y11, Y11
	VMOVUPS Y11, 32(DX)
	ADDQ R8, DX
	VADDPS (DX), Y12, Y12
	VMOVUPS Y12, (DX)
	VADDPS 32(DX), Y13, Y13
	VMOVUPS Y13, 32(DX)
	ADDQ R8, DX
	VADDPS (DX), Y14, Y14
	VMOVUPS Y14, (DX)
	VADDPS 32(DX), Y15, Y15
	VMOVUPS Y15, 32(DX)
	VZEROUPPER
	RET

// Macros of the AVX-512 kernels below. ZERO4 clears four accumulators. BFMA broadcasts
// one A value from src into t and adds t times the two B vectors (Z0, Z1) into one row's
// accumulators lo and hi. ADDROWALL adds a row's accumulators to the 32 columns of C at DX;
// ADDROW does it for the columns under K1 (first 16) and K2 (last 16), and STOREROW
// overwrites them.
#define ZERO4(a, b, c, d) \
	VPXORD a, a, a; VPXORD b, b, b; VPXORD c, c, c; VPXORD d, d, d
#define BFMA(src, t, lo, hi) \
	VBROADCASTSS src, t; VFMADD231PS Z0, t, lo; VFMADD231PS Z1, t, hi
#define ADDROWALL(lo, hi) \
	VADDPS (DX), lo, lo; VMOVUPS lo, (DX); VADDPS 64(DX), hi, hi; VMOVUPS hi, 64(DX)
#define ADDROW(lo, hi) \
	VADDPS (DX), lo, K1, lo; VMOVUPS lo, K1, (DX); VADDPS 64(DX), hi, K2, hi; VMOVUPS hi, K2, 64(DX)
#define STOREROW(lo, hi) \
	VMOVUPS lo, K1, (DX); VMOVUPS hi, K2, 64(DX)

// func sgemmKernel8x32(k int, a, b, c *float32, ldc int)
//
// The AVX-512 version of sgemmKernel6x16: an 8-row strip of A times a 32-column strip of
// B, the 8x32 block of C in 16 ZMM accumulators (Z4..Z19); per step two B vectors (Z0, Z1)
// and eight broadcasts alternating in Z2 and Z3. k >= 1.
TEXT ·sgemmKernel8x32(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8

	ZERO4(Z4, Z5, Z6, Z7)
	ZERO4(Z8, Z9, Z10, Z11)
	ZERO4(Z12, Z13, Z14, Z15)
	ZERO4(Z16, Z17, Z18, Z19)

loop8x32:
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	BFMA((SI), Z2, Z4, Z5)
	BFMA(4(SI), Z3, Z6, Z7)
	BFMA(8(SI), Z2, Z8, Z9)
	BFMA(12(SI), Z3, Z10, Z11)
	BFMA(16(SI), Z2, Z12, Z13)
	BFMA(20(SI), Z3, Z14, Z15)
	BFMA(24(SI), Z2, Z16, Z17)
	BFMA(28(SI), Z3, Z18, Z19)
	ADDQ $32, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  loop8x32

	ADDROWALL(Z4, Z5)
	ADDQ R8, DX
	ADDROWALL(Z6, Z7)
	ADDQ R8, DX
	ADDROWALL(Z8, Z9)
	ADDQ R8, DX
	ADDROWALL(Z10, Z11)
	ADDQ R8, DX
	ADDROWALL(Z12, Z13)
	ADDQ R8, DX
	ADDROWALL(Z14, Z15)
	ADDQ R8, DX
	ADDROWALL(Z16, Z17)
	ADDQ R8, DX
	ADDROWALL(Z18, Z19)
	VZEROUPPER
	RET

// func sgemmKernelNT4x4(k, nseg int, as **float32, lda int, bs **float32, boffs *int, c *float32, ldc int, acc bool)
//
// c[i*ldc+j] (+)= the sum over segments s < nseg and p < k of as[s][i*lda+p] *
// bs[s][boffs[j]+p], for i, j < 4: four rows of A against four rows of B (anywhere in b:
// boffs holds their offsets, in elements), both read in place along p (C = A×Bᵀ, as in a
// kernel gradient, where both operands run along the output positions), summed over
// several pairs of A and B (the images of a batch) before the sums are reduced. Each of
// the 16 sums is a ZMM of 16 partial sums (Z0..Z15, Z(4i+j)); the last k%16 steps of each
// segment load under a mask. The partial sums are then reduced across lanes with
// shuffles into the 4x4 block, row i in the i-th 128-bit lane of Z24. acc false
// overwrites the block (C is not read), true adds to it. The sums depend only on k and
// nseg, not on the data's position. k, nseg >= 1.
TEXT ·sgemmKernelNT4x4(SB), NOSPLIT, $0-65
	MOVQ k+0(FP), R8
	MOVQ nseg+8(FP), R9
	MOVQ as+16(FP), R14
	MOVQ lda+24(FP), R10
	SHLQ $2, R10
	LEAQ (R10)(R10*2), R11
	MOVQ bs+32(FP), DX
	MOVQ boffs+40(FP), AX
	MOVQ (AX), R12
	MOVQ 8(AX), R13
	MOVQ 16(AX), BX
	MOVQ 24(AX), R15
	ZERO4(Z0, Z1, Z2, Z3)
	ZERO4(Z4, Z5, Z6, Z7)
	ZERO4(Z8, Z9, Z10, Z11)
	ZERO4(Z12, Z13, Z14, Z15)

segNT:
	MOVQ (R14), SI
	ADDQ $8, R14
	MOVQ (DX), DI
	ADDQ $8, DX
	MOVQ R8, CX
	MOVQ CX, AX
	SHRQ $4, AX
	JZ   tailNT

loopNT:
	VMOVUPS (SI), Z16
	VMOVUPS (SI)(R10*1), Z17
	VMOVUPS (SI)(R10*2), Z18
	VMOVUPS (SI)(R11*1), Z19
	VMOVUPS (DI)(R12*4), Z20
	VFMADD231PS Z20, Z16, Z0
	VFMADD231PS Z20, Z17, Z4
	VFMADD231PS Z20, Z18, Z8
	VFMADD231PS Z20, Z19, Z12
	VMOVUPS (DI)(R13*4), Z21
	VFMADD231PS Z21, Z16, Z1
	VFMADD231PS Z21, Z17, Z5
	VFMADD231PS Z21, Z18, Z9
	VFMADD231PS Z21, Z19, Z13
	VMOVUPS (DI)(BX*4), Z22
	VFMADD231PS Z22, Z16, Z2
	VFMADD231PS Z22, Z17, Z6
	VFMADD231PS Z22, Z18, Z10
	VFMADD231PS Z22, Z19, Z14
	VMOVUPS (DI)(R15*4), Z23
	VFMADD231PS Z23, Z16, Z3
	VFMADD231PS Z23, Z17, Z7
	VFMADD231PS Z23, Z18, Z11
	VFMADD231PS Z23, Z19, Z15
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ AX
	JNZ  loopNT

tailNT:
	ANDQ $15, CX
	JZ   nextNT
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z16
	VMOVUPS.Z (SI)(R10*1), K1, Z17
	VMOVUPS.Z (SI)(R10*2), K1, Z18
	VMOVUPS.Z (SI)(R11*1), K1, Z19
	VMOVUPS.Z (DI)(R12*4), K1, Z20
	VFMADD231PS Z20, Z16, Z0
	VFMADD231PS Z20, Z17, Z4
	VFMADD231PS Z20, Z18, Z8
	VFMADD231PS Z20, Z19, Z12
	VMOVUPS.Z (DI)(R13*4), K1, Z21
	VFMADD231PS Z21, Z16, Z1
	VFMADD231PS Z21, Z17, Z5
	VFMADD231PS Z21, Z18, Z9
	VFMADD231PS Z21, Z19, Z13
	VMOVUPS.Z (DI)(BX*4), K1, Z22
	VFMADD231PS Z22, Z16, Z2
	VFMADD231PS Z22, Z17, Z6
	VFMADD231PS Z22, Z18, Z10
	VFMADD231PS Z22, Z19, Z14
	VMOVUPS.Z (DI)(R15*4), K1, Z23
	VFMADD231PS Z23, Z16, Z3
	VFMADD231PS Z23, Z17, Z7
	VFMADD231PS Z23, Z18, Z11
	VFMADD231PS Z23, Z19, Z15

nextNT:
	DECQ R9
	JNZ  segNT

	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R8
	SHLQ $2, R8
	VSHUFF32X4 $0x44, Z4, Z0, Z16
	VSHUFF32X4 $0xEE, Z4, Z0, Z17
	VADDPS Z17, Z16, Z16
	VSHUFF32X4 $0x44, Z12, Z8, Z18
	VSHUFF32X4 $0xEE, Z12, Z8, Z19
	VADDPS Z19, Z18, Z18
	VSHUFF32X4 $0x88, Z18, Z16, Z20
	VSHUFF32X4 $0xDD, Z18, Z16, Z21
	VADDPS Z21, Z20, Z24
	VSHUFF32X4 $0x44, Z5, Z1, Z16
	VSHUFF32X4 $0xEE, Z5, Z1, Z17
	VADDPS Z17, Z16, Z16
	VSHUFF32X4 $0x44, Z13, Z9, Z18
	VSHUFF32X4 $0xEE, Z13, Z9, Z19
	VADDPS Z19, Z18, Z18
	VSHUFF32X4 $0x88, Z18, Z16, Z20
	VSHUFF32X4 $0xDD, Z18, Z16, Z21
	VADDPS Z21, Z20, Z25
	VSHUFF32X4 $0x44, Z6, Z2, Z16
	VSHUFF32X4 $0xEE, Z6, Z2, Z17
	VADDPS Z17, Z16, Z16
	VSHUFF32X4 $0x44, Z14, Z10, Z18
	VSHUFF32X4 $0xEE, Z14, Z10, Z19
	VADDPS Z19, Z18, Z18
	VSHUFF32X4 $0x88, Z18, Z16, Z20
	VSHUFF32X4 $0xDD, Z18, Z16, Z21
	VADDPS Z21, Z20, Z26
	VSHUFF32X4 $0x44, Z7, Z3, Z16
	VSHUFF32X4 $0xEE, Z7, Z3, Z17
	VADDPS Z17, Z16, Z16
	VSHUFF32X4 $0x44, Z15, Z11, Z18
	VSHUFF32X4 $0xEE, Z15, Z11, Z19
	VADDPS Z19, Z18, Z18
	VSHUFF32X4 $0x88, Z18, Z16, Z20
	VSHUFF32X4 $0xDD, Z18, Z16, Z21
	VADDPS Z21, Z20, Z27
	VUNPCKLPS Z25, Z24, Z16
	VUNPCKHPS Z25, Z24, Z17
	VADDPS Z17, Z16, Z16
	VUNPCKLPS Z27, Z26, Z18
	VUNPCKHPS Z27, Z26, Z19
	VADDPS Z19, Z18, Z18
	VUNPCKLPD Z18, Z16, Z20
	VUNPCKHPD Z18, Z16, Z21
	VADDPS Z21, Z20, Z24
	VEXTRACTF32X4 $1, Z24, X25
	VEXTRACTF32X4 $2, Z24, X26
	VEXTRACTF32X4 $3, Z24, X27
	CMPB acc+64(FP), $0
	JEQ  storeNT
	VADDPS (DX), X24, X24
	VMOVUPS X24, (DX)
	ADDQ R8, DX
	VADDPS (DX), X25, X25
	VMOVUPS X25, (DX)
	ADDQ R8, DX
	VADDPS (DX), X26, X26
	VMOVUPS X26, (DX)
	ADDQ R8, DX
	VADDPS (DX), X27, X27
	VMOVUPS X27, (DX)
	VZEROUPPER
	RET

storeNT:
	VMOVUPS X24, (DX)
	ADDQ R8, DX
	VMOVUPS X25, (DX)
	ADDQ R8, DX
	VMOVUPS X26, (DX)
	ADDQ R8, DX
	VMOVUPS X27, (DX)
	VZEROUPPER
	RET

// func sgemmKernel8x32si(k int, a *float32, lda int, b *float32, offs *int, c *float32, ldc int, mask uint32, acc bool)
//
// sgemmKernel8x32 reading both operands where they lie instead of from packed strips:
// step p broadcasts a[i*lda+p] for the 8 rows i of A (row addresses SI + {0,1,2,3}*lda and
// R14 + {0,1,2,3}*lda, R14 = SI + 4*lda) and reads the 32 values of B at b + offs[p] (in
// elements) under mask (bit j set: column j exists), so neither operand is packed and the
// last, narrower strip needs no edge block. A row-major B passes offs[p] = p*ldb; an
// implicit-GEMM convolution passes the padded image as b and the offset of each (channel,
// kernel tap) as offs, so the rows of B are shifted views of the image. acc false
// overwrites the block of C (C is not read), true adds to it; columns outside mask are
// neither read nor written. k >= 1.
TEXT ·sgemmKernel8x32si(SB), NOSPLIT, $0-61
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R10
	SHLQ $2, R10
	LEAQ (R10)(R10*2), R11
	LEAQ (SI)(R10*4), R14
	MOVQ b+24(FP), DI
	MOVQ offs+32(FP), R15
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R8
	SHLQ $2, R8
	MOVL mask+56(FP), AX
	KMOVW AX, K1
	SHRL $16, AX
	KMOVW AX, K2
	ZERO4(Z4, Z5, Z6, Z7)
	ZERO4(Z8, Z9, Z10, Z11)
	ZERO4(Z12, Z13, Z14, Z15)
	ZERO4(Z16, Z17, Z18, Z19)

loop8x32si:
	MOVQ (R15), BX
	VMOVUPS.Z (DI)(BX*4), K1, Z0
	VMOVUPS.Z 64(DI)(BX*4), K2, Z1
	BFMA((SI), Z2, Z4, Z5)
	BFMA((SI)(R10*1), Z3, Z6, Z7)
	BFMA((SI)(R10*2), Z2, Z8, Z9)
	BFMA((SI)(R11*1), Z3, Z10, Z11)
	BFMA((R14), Z2, Z12, Z13)
	BFMA((R14)(R10*1), Z3, Z14, Z15)
	BFMA((R14)(R10*2), Z2, Z16, Z17)
	BFMA((R14)(R11*1), Z3, Z18, Z19)
	ADDQ $4, SI
	ADDQ $4, R14
	ADDQ $8, R15
	DECQ CX
	JNZ  loop8x32si

	CMPB acc+60(FP), $0
	JEQ  store8x32si
	ADDROW(Z4, Z5)
	ADDQ R8, DX
	ADDROW(Z6, Z7)
	ADDQ R8, DX
	ADDROW(Z8, Z9)
	ADDQ R8, DX
	ADDROW(Z10, Z11)
	ADDQ R8, DX
	ADDROW(Z12, Z13)
	ADDQ R8, DX
	ADDROW(Z14, Z15)
	ADDQ R8, DX
	ADDROW(Z16, Z17)
	ADDQ R8, DX
	ADDROW(Z18, Z19)
	VZEROUPPER
	RET

store8x32si:
	STOREROW(Z4, Z5)
	ADDQ R8, DX
	STOREROW(Z6, Z7)
	ADDQ R8, DX
	STOREROW(Z8, Z9)
	ADDQ R8, DX
	STOREROW(Z10, Z11)
	ADDQ R8, DX
	STOREROW(Z12, Z13)
	ADDQ R8, DX
	STOREROW(Z14, Z15)
	ADDQ R8, DX
	STOREROW(Z16, Z17)
	ADDQ R8, DX
	STOREROW(Z18, Z19)
	VZEROUPPER
	RET
