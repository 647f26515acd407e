#include "textflag.h"

// AVX-512 element-wise kernels for the go+asm path (see elementwise.go). Each loops over
// full vectors and finishes the last n%16 (or n%8) elements under a mask, so n may be
// anything >= 0. Their results are bit-identical to the Go loops they replace: the
// float64 arithmetic is the same operations, each rounded, in the same order.

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
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
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
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z0
	VCMPPS $0x1e, Z1, Z0, K1, K2
	VMOVUPS.Z (BX), K2, Z2
	VMOVUPS Z2, K1, (DI)
doneRB:
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
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
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
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
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
// The sum of x[0:n] in float64: eight lanes, each summing every eighth element in order,
// then the lanes added pairwise.
TEXT ·rowSum32(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VPXORQ Z0, Z0, Z0
	MOVQ CX, AX
	SHRQ $3, AX
	JZ   tailRS
loopRS:
	VCVTPS2PD (SI), Z2
	VADDPD Z2, Z0, Z0
	ADDQ $32, SI
	DECQ AX
	JNZ  loopRS
tailRS:
	ANDQ $7, CX
	JZ   doneRS
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Y3
	VCVTPS2PD Y3, Z2
	VADDPD Z2, Z0, Z0
doneRS:
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
	MOVQ CX, AX
	SHRQ $3, AX
	JZ   tailSD
loopSD:
	VCVTPS2PD (SI), Z2
	VSUBPD Z4, Z2, Z2
	VMULPD Z2, Z2, Z2
	VADDPD Z2, Z0, Z0
	ADDQ $32, SI
	DECQ AX
	JNZ  loopSD
tailSD:
	ANDQ $7, CX
	JZ   doneSD
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Y3
	VCVTPS2PD Y3, Z2
	VSUBPD Z4, Z2, Z2
	VMULPD Z2, Z2, Z2
	VMOVAPD.Z Z2, K1, Z2 // the masked lanes add 0, not mu²
	VADDPD Z2, Z0, Z0
doneSD:
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
	MOVQ CX, AX
	SHRQ $3, AX
	JZ   tailGS
loopGS:
	VCVTPS2PD (SI), Z2
	VCVTPS2PD (BX), Z3
	VADDPD Z3, Z0, Z0
	VSUBPD Z4, Z2, Z2
	VMULPD Z2, Z3, Z2
	VMULPD Z5, Z2, Z2
	VADDPD Z2, Z6, Z6
	ADDQ $32, SI
	ADDQ $32, BX
	DECQ AX
	JNZ  loopGS
tailGS:
	ANDQ $7, CX
	JZ   doneGS
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Y7
	VMOVUPS.Z (BX), K1, Y8
	VCVTPS2PD Y7, Z2
	VCVTPS2PD Y8, Z3
	VADDPD Z3, Z0, Z0
	VSUBPD Z4, Z2, Z2
	VMULPD Z2, Z3, Z2 // dy is 0 in the masked lanes
	VMULPD Z5, Z2, Z2
	VADDPD Z2, Z6, Z6
doneGS:
	REDUCE8
	MOVSD X0, s+40(FP)
	VMOVAPD Z6, Z0
	REDUCE8
	MOVSD X0, sx+48(FP)
	VZEROUPPER
	RET
