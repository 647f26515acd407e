//go:build !purego

#include "textflag.h"

// AVX-512 element-wise kernels for the go+asm path (see elementwise.go). Each loops over
// full vectors and finishes the last n%16 (or n%8) elements under a mask, so n may be
// anything >= 0. Their results are bit-identical to the Go loops they replace: the
// float64 arithmetic is the same operations, each rounded, in the same order.

// LOWMASK sets mask register k to the low CX bits (CX <= 16), the lanes of a masked tail;
// it clobbers AX.
#define LOWMASK(k) \
	MOVL $1, AX; SHLL CX, AX; DECL AX; KMOVW AX, k

// func reluForward32(x, y *float32, n int)
TEXT ·reluForward32(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	VPXORD Z1, Z1, Z1
	MOVQ CX, AX
	SHRQ $4, AX
	JZ   tailRF
loopRF:
	VMOVUPS (SI), Z0
	VCMPPS $0x06, Z1, Z0, K2 // !(x <= 0): true for x > 0 and NaN, false for -0
	VMOVUPS.Z Z0, K2, Z2     // max(x, 0) as Go computes it
	VMOVUPS Z2, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ AX
	JNZ  loopRF
tailRF:
	ANDQ $15, CX
	JZ   doneRF
	LOWMASK(K1)
	VMOVUPS.Z (SI), K1, Z0
	VCMPPS $0x06, Z1, Z0, K1, K2
	VMOVUPS.Z Z0, K2, Z2
	VMOVUPS Z2, K1, (DI)
doneRF:
	VZEROUPPER
	RET

// func reluBackward32AVX512(x, dy, dx *float32, n int)
TEXT ·reluBackward32AVX512(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ dy+8(FP), BX
	MOVQ dx+16(FP), DI
	MOVQ n+24(FP), CX
	VPXORD Z1, Z1, Z1
	MOVQ CX, AX
	SHRQ $4, AX
	JZ   tailRB
loopRB:
	VMOVUPS (SI), Z0
	VCMPPS $0x1e, Z1, Z0, K2 // x > 0, ordered (false for NaN)
	VMOVUPS.Z (BX), K2, Z2
	VMOVUPS Z2, (DI)
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DI
	DECQ AX
	JNZ  loopRB
tailRB:
	ANDQ $15, CX
	JZ   doneRB
	LOWMASK(K1)
	VMOVUPS.Z (SI), K1, Z0
	VCMPPS $0x1e, Z1, Z0, K1, K2
	VMOVUPS.Z (BX), K2, Z2
	VMOVUPS Z2, K1, (DI)
doneRB:
	VZEROUPPER
	RET

// func add32(a, b, y *float32, n int)
TEXT ·add32(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), BX
	MOVQ y+16(FP), DI
	MOVQ n+24(FP), CX
	MOVQ CX, AX
	SHRQ $4, AX
	JZ   tailAD
loopAD:
	VMOVUPS (SI), Z0
	VADDPS (BX), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DI
	DECQ AX
	JNZ  loopAD
tailAD:
	ANDQ $15, CX
	JZ   doneAD
	LOWMASK(K1)
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (BX), K1, Z1
	VADDPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)
doneAD:
	VZEROUPPER
	RET

// func copyRows32(dst, src *float32, rows, n, dstStride, srcStride int)
//
// Copies rows rows of n elements; row i starts at src+i*srcStride and dst+i*dstStride.
TEXT ·copyRows32(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), R10
	MOVQ n+24(FP), DX
	MOVQ dstStride+32(FP), R8
	MOVQ srcStride+40(FP), R9
	SHLQ $2, R8
	SHLQ $2, R9
	MOVQ DX, CX
	ANDQ $15, CX
	LOWMASK(K1) // the last n%16 elements of a row
	MOVQ DX, R11
	SHRQ $4, R11 // full vectors per row
	TESTQ R10, R10
	JZ   doneCR
rowCR:
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ R11, CX
	TESTQ CX, CX
	JZ   tailCR
vecCR:
	VMOVUPS (AX), Z0
	VMOVUPS Z0, (BX)
	ADDQ $64, AX
	ADDQ $64, BX
	DECQ CX
	JNZ  vecCR
tailCR:
	VMOVUPS.Z (AX), K1, Z0 // a zero mask reads and writes nothing
	VMOVUPS Z0, K1, (BX)
	ADDQ R9, SI
	ADDQ R8, DI
	DECQ R10
	JNZ  rowCR
doneCR:
	VZEROUPPER
	RET

// func normalize32(x, y *float32, n int, scale, shift float64)
//
// y[i] = float32(float64(x[i])*scale + shift), multiply and add rounded separately.
TEXT ·normalize32(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	VBROADCASTSD scale+24(FP), Z4
	VBROADCASTSD shift+32(FP), Z5
	MOVQ CX, AX
	SHRQ $3, AX
	JZ   tailN
loopN:
	VCVTPS2PD (SI), Z0
	VMULPD Z4, Z0, Z0
	VADDPD Z5, Z0, Z0
	VCVTPD2PS Z0, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ AX
	JNZ  loopN
tailN:
	ANDQ $7, CX
	JZ   doneN
	LOWMASK(K1)
	VMOVUPS.Z (SI), K1, Y2
	VCVTPS2PD Y2, Z0
	VMULPD Z4, Z0, Z0
	VADDPD Z5, Z0, Z0
	VCVTPD2PS Z0, Y1
	VMOVUPS Y1, K1, (DI)
doneN:
	VZEROUPPER
	RET

// func normInputGrad32(x, dy, dx *float32, n int, mu, inv, m, s, sx, gm float64)
//
// dx[i] = float32(gm * (m*dy[i] - s - ((x[i]-mu)*inv)*sx)), each operation rounded.
TEXT ·normInputGrad32(SB), NOSPLIT, $0-80
	MOVQ x+0(FP), SI
	MOVQ dy+8(FP), BX
	MOVQ dx+16(FP), DI
	MOVQ n+24(FP), CX
	VBROADCASTSD mu+32(FP), Z8
	VBROADCASTSD inv+40(FP), Z9
	VBROADCASTSD m+48(FP), Z10
	VBROADCASTSD s+56(FP), Z11
	VBROADCASTSD sx+64(FP), Z12
	VBROADCASTSD gm+72(FP), Z13
	MOVQ CX, AX
	SHRQ $3, AX
	JZ   tailG
loopG:
	VCVTPS2PD (SI), Z0
	VCVTPS2PD (BX), Z1
	VSUBPD Z8, Z0, Z0  // x - mu
	VMULPD Z9, Z0, Z0  // xhat
	VMULPD Z10, Z1, Z1 // m*dy
	VSUBPD Z11, Z1, Z1 // - s
	VMULPD Z12, Z0, Z0 // xhat*sx
	VSUBPD Z0, Z1, Z1
	VMULPD Z13, Z1, Z1 // gm * (...)
	VCVTPD2PS Z1, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, SI
	ADDQ $32, BX
	ADDQ $32, DI
	DECQ AX
	JNZ  loopG
tailG:
	ANDQ $7, CX
	JZ   doneG
	LOWMASK(K1)
	VMOVUPS.Z (SI), K1, Y3
	VMOVUPS.Z (BX), K1, Y4
	VCVTPS2PD Y3, Z0
	VCVTPS2PD Y4, Z1
	VSUBPD Z8, Z0, Z0
	VMULPD Z9, Z0, Z0
	VMULPD Z10, Z1, Z1
	VSUBPD Z11, Z1, Z1
	VMULPD Z12, Z0, Z0
	VSUBPD Z0, Z1, Z1
	VMULPD Z13, Z1, Z1
	VCVTPD2PS Z1, Y2
	VMOVUPS Y2, K1, (DI)
doneG:
	VZEROUPPER
	RET

// REDUCE8 adds the 8 float64 lanes of Z0 into X0's low lane.
#define REDUCE8 \
	VEXTRACTF64X4 $1, Z0, Y1 \
	VADDPD Y1, Y0, Y0 \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPD X1, X0, X0 \
	VUNPCKHPD X0, X0, X1 \
	VADDSD X1, X0, X0

// func rowSum32(x *float32, n int) float64
//
// The sum of x[0:n] in float64: sixteen lanes (two ZMM accumulators, so that two chains
// of additions overlap), each summing every sixteenth element in order, the last n%16
// elements under masks, then the lanes added pairwise.
TEXT ·rowSum32(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VPXORQ Z0, Z0, Z0
	VPXORQ Z6, Z6, Z6
	MOVQ CX, AX
	SHRQ $4, AX
	JZ   tailRS
loopRS:
	VCVTPS2PD (SI), Z2
	VCVTPS2PD 32(SI), Z3
	VADDPD Z2, Z0, Z0
	VADDPD Z3, Z6, Z6
	ADDQ $64, SI
	DECQ AX
	JNZ  loopRS
tailRS:
	ANDQ $15, CX
	JZ   doneRS
	LOWMASK(K1)
	KSHIFTRW $8, K1, K2
	VMOVUPS.Z (SI), K1, Y3
	VMOVUPS.Z 32(SI), K2, Y4
	VCVTPS2PD Y3, Z2
	VCVTPS2PD Y4, Z3
	VADDPD Z2, Z0, Z0
	VADDPD Z3, Z6, Z6
doneRS:
	VADDPD Z6, Z0, Z0
	REDUCE8
	MOVSD X0, ret+16(FP)
	VZEROUPPER
	RET

// func rowSqDev32(x *float32, n int, mu float64) float64
//
// The sum of (x[i]-mu)² in float64, in rowSum32's order.
TEXT ·rowSqDev32(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSD mu+16(FP), Z4
	VPXORQ Z0, Z0, Z0
	VPXORQ Z6, Z6, Z6
	MOVQ CX, AX
	SHRQ $4, AX
	JZ   tailSD
loopSD:
	VCVTPS2PD (SI), Z2
	VCVTPS2PD 32(SI), Z3
	VSUBPD Z4, Z2, Z2
	VSUBPD Z4, Z3, Z3
	VMULPD Z2, Z2, Z2
	VMULPD Z3, Z3, Z3
	VADDPD Z2, Z0, Z0
	VADDPD Z3, Z6, Z6
	ADDQ $64, SI
	DECQ AX
	JNZ  loopSD
tailSD:
	ANDQ $15, CX
	JZ   doneSD
	LOWMASK(K1)
	KSHIFTRW $8, K1, K2
	VMOVUPS.Z (SI), K1, Y3
	VMOVUPS.Z 32(SI), K2, Y5
	VCVTPS2PD Y3, Z2
	VCVTPS2PD Y5, Z3
	VSUBPD Z4, Z2, Z2
	VSUBPD Z4, Z3, Z3
	VMULPD Z2, Z2, Z2
	VMULPD Z3, Z3, Z3
	VMOVAPD.Z Z2, K1, Z2 // the masked lanes add 0, not mu²
	VMOVAPD.Z Z3, K2, Z3
	VADDPD Z2, Z0, Z0
	VADDPD Z3, Z6, Z6
doneSD:
	VADDPD Z6, Z0, Z0
	REDUCE8
	MOVSD X0, ret+24(FP)
	VZEROUPPER
	RET

// func rowGradSums32(x, dy *float32, n int, mu, inv float64) (s, sx float64)
//
// s = the sum of dy[i], sx = the sum of (dy[i]*(x[i]-mu))*inv, in float64, in rowSum32's
// order.
TEXT ·rowGradSums32(SB), NOSPLIT, $0-56
	MOVQ x+0(FP), SI
	MOVQ dy+8(FP), BX
	MOVQ n+16(FP), CX
	VBROADCASTSD mu+24(FP), Z4
	VBROADCASTSD inv+32(FP), Z5
	VPXORQ Z0, Z0, Z0
	VPXORQ Z6, Z6, Z6
	VPXORQ Z10, Z10, Z10
	VPXORQ Z11, Z11, Z11
	MOVQ CX, AX
	SHRQ $4, AX
	JZ   tailGS
loopGS:
	VCVTPS2PD (SI), Z2
	VCVTPS2PD (BX), Z3
	VCVTPS2PD 32(SI), Z12
	VCVTPS2PD 32(BX), Z13
	VADDPD Z3, Z0, Z0
	VADDPD Z13, Z10, Z10
	VSUBPD Z4, Z2, Z2
	VSUBPD Z4, Z12, Z12
	VMULPD Z2, Z3, Z2
	VMULPD Z12, Z13, Z12
	VMULPD Z5, Z2, Z2
	VMULPD Z5, Z12, Z12
	VADDPD Z2, Z6, Z6
	VADDPD Z12, Z11, Z11
	ADDQ $64, SI
	ADDQ $64, BX
	DECQ AX
	JNZ  loopGS
tailGS:
	ANDQ $15, CX
	JZ   doneGS
	LOWMASK(K1)
	KSHIFTRW $8, K1, K2
	VMOVUPS.Z (SI), K1, Y7
	VMOVUPS.Z (BX), K1, Y8
	VMOVUPS.Z 32(SI), K2, Y14
	VMOVUPS.Z 32(BX), K2, Y15
	VCVTPS2PD Y7, Z2
	VCVTPS2PD Y8, Z3
	VCVTPS2PD Y14, Z12
	VCVTPS2PD Y15, Z13
	VADDPD Z3, Z0, Z0
	VADDPD Z13, Z10, Z10
	VSUBPD Z4, Z2, Z2
	VSUBPD Z4, Z12, Z12
	VMULPD Z2, Z3, Z2 // dy is 0 in the masked lanes
	VMULPD Z12, Z13, Z12
	VMULPD Z5, Z2, Z2
	VMULPD Z5, Z12, Z12
	VADDPD Z2, Z6, Z6
	VADDPD Z12, Z11, Z11
doneGS:
	VADDPD Z10, Z0, Z0
	REDUCE8
	MOVSD X0, s+40(FP)
	VADDPD Z11, Z6, Z0
	REDUCE8
	MOVSD X0, sx+48(FP)
	VZEROUPPER
	RET

// The VPERMT2PS index vectors poolIdxEven, poolIdxOdd, poolIdxLo and poolIdxHi are Go
// variables (elementwise_amd64.go).

// func maxPool2x2BackwardRow32(r0, r1, dy, d0, d1 *float32, ow int) bool
//
// One output row of a 2x2/2 max pool's gradient: window j is r0[2j], r0[2j+1], r1[2j],
// r1[2j+1] (a, b, c, d), and dy[j] goes to the first of them equal to the window's
// maximum (d0[2j], d0[2j+1], d1[2j], d1[2j+1] get dy[j] or 0), as maxPool2x2BackwardPlane32
// does. Sixteen windows at a time: the rows are split into even and odd columns with
// VPERMT2PS, compared with the maximum under masks, and interleaved back. It returns
// false, having written only the groups before it, at the first group with a NaN (whose
// gradient follows PyTorch's rule, which the Go loop implements). ow >= 0.
TEXT ·maxPool2x2BackwardRow32(SB), NOSPLIT, $0-49
	MOVQ r0+0(FP), SI
	MOVQ r1+8(FP), DI
	MOVQ dy+16(FP), BX
	MOVQ d0+24(FP), R8
	MOVQ d1+32(FP), R9
	MOVQ ow+40(FP), R10
	VMOVUPS ·poolIdxEven(SB), Z28
	VMOVUPS ·poolIdxOdd(SB), Z29
	VMOVUPS ·poolIdxLo(SB), Z30
	VMOVUPS ·poolIdxHi(SB), Z31

groupMP:
	TESTQ R10, R10
	JLE   okMP
	// R = min(16, remaining): mask K1 for R windows, K2 and K3 for the 2R values of a row.
	MOVQ R10, CX
	CMPQ CX, $16
	JLE  haveRMP
	MOVQ $16, CX
haveRMP:
	LOWMASK(K1)
	LEAQ (CX)(CX*1), DX // 2R
	CMPQ DX, $16
	JL   shortMP
	MOVL $0xffff, AX
	KMOVW AX, K2
	SUBQ $16, DX
	MOVQ CX, R11 // keep R
	MOVQ DX, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K3
	MOVQ R11, CX
	JMP  masksMP
shortMP:
	MOVQ CX, R11
	MOVQ DX, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K2
	KXORW K3, K3, K3
	MOVQ R11, CX
masksMP:
	VMOVUPS.Z (SI), K2, Z0
	VMOVUPS.Z 64(SI), K3, Z1
	VMOVUPS.Z (DI), K2, Z2
	VMOVUPS.Z 64(DI), K3, Z3
	VMOVAPS Z0, Z4
	VPERMT2PS Z1, Z28, Z4 // a
	VMOVAPS Z0, Z5
	VPERMT2PS Z1, Z29, Z5 // b
	VMOVAPS Z2, Z6
	VPERMT2PS Z3, Z28, Z6 // c
	VMOVAPS Z2, Z7
	VPERMT2PS Z3, Z29, Z7 // d
	// Any NaN among the windows: leave this row to the Go loop.
	VCMPPS $3, Z5, Z4, K1, K4
	VCMPPS $3, Z7, Z6, K1, K5
	KORTESTW K4, K5
	JNZ  nanMP
	VMAXPS Z5, Z4, Z8
	VMAXPS Z7, Z6, Z9
	VMAXPS Z9, Z8, Z8 // m
	VMOVUPS.Z (BX), K1, Z10 // g
	VCMPPS $0, Z8, Z4, K4 // ea = a == m
	KNOTW K4, K5
	VCMPPS $0, Z8, Z5, K5, K5 // eb = b == m and not ea
	KORW K4, K5, K6
	KNOTW K6, K6
	VCMPPS $0, Z8, Z6, K6, K6 // ec = c == m and neither
	KORW K4, K5, K7
	KORW K7, K6, K7
	KNOTW K7, K7 // ed = none of them
	VMOVAPS.Z Z10, K4, Z11 // d0 even
	VMOVAPS.Z Z10, K5, Z12 // d0 odd
	VMOVAPS.Z Z10, K6, Z13 // d1 even
	VMOVAPS.Z Z10, K7, Z14 // d1 odd
	VMOVAPS Z11, Z15
	VPERMT2PS Z12, Z30, Z15
	VMOVAPS Z11, Z16
	VPERMT2PS Z12, Z31, Z16
	VMOVUPS Z15, K2, (R8)
	VMOVUPS Z16, K3, 64(R8)
	VMOVAPS Z13, Z15
	VPERMT2PS Z14, Z30, Z15
	VMOVAPS Z13, Z16
	VPERMT2PS Z14, Z31, Z16
	VMOVUPS Z15, K2, (R9)
	VMOVUPS Z16, K3, 64(R9)
	ADDQ $128, SI
	ADDQ $128, DI
	ADDQ $128, R8
	ADDQ $128, R9
	ADDQ $64, BX
	SUBQ CX, R10
	JMP  groupMP

okMP:
	MOVB $1, ret+48(FP)
	VZEROUPPER
	RET

nanMP:
	MOVB $0, ret+48(FP)
	VZEROUPPER
	RET
