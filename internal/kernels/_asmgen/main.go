// Command asmgen writes internal/kernels' AVX-512 element-wise kernels
// (gen_elementwise_amd64.s) with avo. It is a module of its own, so that avo is a
// dependency of the generator only, never of convgraph; run it with `go generate` in
// internal/kernels (see gen.go there).
//
// The kernels name physical registers rather than letting avo allocate them: each keeps
// the register plan of the hand-written file it replaced, so the generated file assembles
// to the same machine code (docs/architecture.md says how that was checked).
package main

import (
	"github.com/mmcloughlin/avo/gotypes"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!purego")
	reluForward32()
	reluBackward32()
	add32()
	copyRows32()
	normalize32()
	normInputGrad32()
	rowSum32()
	rowSqDev32()
	rowGradSums32()
	maxPool2x2BackwardRow32()
	Generate()
}

// lowMask sets k to the low CX bits (CX <= 16), the lanes of a masked tail; it clobbers
// AX.
func lowMask(k Register) {
	MOVL(U32(1), EAX)
	SHLL(CL, EAX)
	DECL(EAX)
	KMOVW(EAX, k)
}

// addr is the frame address of an argument or result.
func addr(c gotypes.Component) Mem {
	b, err := c.Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// at is the memory operand disp(base).
func at(base Register, disp int) Mem { return Mem{Base: base, Disp: disp} }

// vectorLoop emits the count of full vectors of width lanes in CX into AX, jumping to
// tail when there are none, then a loop labelled loop whose body is body, advancing each
// pointer by step bytes.
func vectorLoop(lanes int, loop, tail string, step int, ptrs []Register, body func()) {
	MOVQ(RCX, RAX)
	shift := map[int]int{8: 3, 16: 4}[lanes]
	SHRQ(U8(shift), RAX)
	JZ(LabelRef(tail))
	Label(loop)
	body()
	for _, p := range ptrs {
		ADDQ(U8(step), p)
	}
	DECQ(RAX)
	JNZ(LabelRef(loop))
	Label(tail)
	ANDQ(U8(lanes-1), RCX)
}

func done(label string) {
	Label(label)
	VZEROUPPER()
	RET()
}

func reluForward32() {
	TEXT("reluForward32", NOSPLIT, "func(x, y *float32, n int)")
	Doc("reluForward32 writes y[i] = max(x[i], 0) as Go computes it (NaN stays NaN, -0 becomes +0).")
	Load(Param("x"), RSI)
	Load(Param("y"), RDI)
	Load(Param("n"), RCX)
	VPXORD(Z1, Z1, Z1)
	vectorLoop(16, "loopRF", "tailRF", 64, []Register{RSI, RDI}, func() {
		VMOVUPS(at(RSI, 0), Z0)
		Comment("!(x <= 0): true for x > 0 and NaN, false for -0")
		VCMPPS(U8(0x06), Z1, Z0, K2)
		VMOVUPS_Z(Z0, K2, Z2)
		VMOVUPS(Z2, at(RDI, 0))
	})
	JZ(LabelRef("doneRF"))
	lowMask(K1)
	VMOVUPS_Z(at(RSI, 0), K1, Z0)
	VCMPPS(U8(0x06), Z1, Z0, K1, K2)
	VMOVUPS_Z(Z0, K2, Z2)
	VMOVUPS(Z2, K1, at(RDI, 0))
	done("doneRF")
}

func reluBackward32() {
	TEXT("reluBackward32AVX512", NOSPLIT, "func(x, dy, dx *float32, n int)")
	Doc("reluBackward32AVX512 writes dx[i] = dy[i] where x[i] > 0 (ordered: not for NaN), else 0.")
	Load(Param("x"), RSI)
	Load(Param("dy"), RBX)
	Load(Param("dx"), RDI)
	Load(Param("n"), RCX)
	VPXORD(Z1, Z1, Z1)
	vectorLoop(16, "loopRB", "tailRB", 64, []Register{RSI, RBX, RDI}, func() {
		VMOVUPS(at(RSI, 0), Z0)
		VCMPPS(U8(0x1e), Z1, Z0, K2)
		VMOVUPS_Z(at(RBX, 0), K2, Z2)
		VMOVUPS(Z2, at(RDI, 0))
	})
	JZ(LabelRef("doneRB"))
	lowMask(K1)
	VMOVUPS_Z(at(RSI, 0), K1, Z0)
	VCMPPS(U8(0x1e), Z1, Z0, K1, K2)
	VMOVUPS_Z(at(RBX, 0), K2, Z2)
	VMOVUPS(Z2, K1, at(RDI, 0))
	done("doneRB")
}

func add32() {
	TEXT("add32", NOSPLIT, "func(a, b, y *float32, n int)")
	Doc("add32 writes y[i] = a[i] + b[i].")
	Load(Param("a"), RSI)
	Load(Param("b"), RBX)
	Load(Param("y"), RDI)
	Load(Param("n"), RCX)
	vectorLoop(16, "loopAD", "tailAD", 64, []Register{RSI, RBX, RDI}, func() {
		VMOVUPS(at(RSI, 0), Z0)
		VADDPS(at(RBX, 0), Z0, Z0)
		VMOVUPS(Z0, at(RDI, 0))
	})
	JZ(LabelRef("doneAD"))
	lowMask(K1)
	VMOVUPS_Z(at(RSI, 0), K1, Z0)
	VMOVUPS_Z(at(RBX, 0), K1, Z1)
	VADDPS(Z1, Z0, Z0)
	VMOVUPS(Z0, K1, at(RDI, 0))
	done("doneAD")
}

func copyRows32() {
	TEXT("copyRows32", NOSPLIT, "func(dst, src *float32, rows, n, dstStride, srcStride int)")
	Doc("copyRows32 copies rows rows of n elements; row i starts at src+i*srcStride and dst+i*dstStride.")
	Load(Param("dst"), RDI)
	Load(Param("src"), RSI)
	Load(Param("rows"), R10)
	Load(Param("n"), RDX)
	Load(Param("dstStride"), R8)
	Load(Param("srcStride"), R9)
	SHLQ(U8(2), R8)
	SHLQ(U8(2), R9)
	MOVQ(RDX, RCX)
	ANDQ(U8(15), RCX)
	Comment("K1: the last n%16 elements of a row")
	lowMask(K1)
	MOVQ(RDX, R11)
	SHRQ(U8(4), R11)
	TESTQ(R10, R10)
	JZ(LabelRef("doneCR"))
	Label("rowCR")
	MOVQ(RSI, RAX)
	MOVQ(RDI, RBX)
	MOVQ(R11, RCX)
	TESTQ(RCX, RCX)
	JZ(LabelRef("tailCR"))
	Label("vecCR")
	VMOVUPS(at(RAX, 0), Z0)
	VMOVUPS(Z0, at(RBX, 0))
	ADDQ(U8(64), RAX)
	ADDQ(U8(64), RBX)
	DECQ(RCX)
	JNZ(LabelRef("vecCR"))
	Label("tailCR")
	Comment("A zero mask reads and writes nothing.")
	VMOVUPS_Z(at(RAX, 0), K1, Z0)
	VMOVUPS(Z0, K1, at(RBX, 0))
	ADDQ(R9, RSI)
	ADDQ(R8, RDI)
	DECQ(R10)
	JNZ(LabelRef("rowCR"))
	done("doneCR")
}

func normalize32() {
	TEXT("normalize32", NOSPLIT, "func(x, y *float32, n int, scale, shift float64)")
	Doc("normalize32 writes y[i] = float32(float64(x[i])*scale + shift), multiply and add rounded separately.")
	Load(Param("x"), RSI)
	Load(Param("y"), RDI)
	Load(Param("n"), RCX)
	VBROADCASTSD(addr(Param("scale")), Z4)
	VBROADCASTSD(addr(Param("shift")), Z5)
	body := func(src Op) {
		VCVTPS2PD(src, Z0)
		VMULPD(Z4, Z0, Z0)
		VADDPD(Z5, Z0, Z0)
		VCVTPD2PS(Z0, Y1)
	}
	vectorLoop(8, "loopN", "tailN", 32, []Register{RSI, RDI}, func() {
		body(at(RSI, 0))
		VMOVUPS(Y1, at(RDI, 0))
	})
	JZ(LabelRef("doneN"))
	lowMask(K1)
	VMOVUPS_Z(at(RSI, 0), K1, Y2)
	body(Y2)
	VMOVUPS(Y1, K1, at(RDI, 0))
	done("doneN")
}

func normInputGrad32() {
	TEXT("normInputGrad32", NOSPLIT, "func(x, dy, dx *float32, n int, mu, inv, m, s, sx, gm float64)")
	Doc("normInputGrad32 writes dx[i] = float32(gm * (m*dy[i] - s - ((x[i]-mu)*inv)*sx)), each operation rounded.")
	Load(Param("x"), RSI)
	Load(Param("dy"), RBX)
	Load(Param("dx"), RDI)
	Load(Param("n"), RCX)
	for i, p := range []string{"mu", "inv", "m", "s", "sx", "gm"} {
		VBROADCASTSD(addr(Param(p)), zmm(8+i))
	}
	body := func(x, dy Op) {
		VCVTPS2PD(x, Z0)
		VCVTPS2PD(dy, Z1)
		VSUBPD(Z8, Z0, Z0)  // x - mu
		VMULPD(Z9, Z0, Z0)  // xhat
		VMULPD(Z10, Z1, Z1) // m*dy
		VSUBPD(Z11, Z1, Z1) // - s
		VMULPD(Z12, Z0, Z0) // xhat*sx
		VSUBPD(Z0, Z1, Z1)
		VMULPD(Z13, Z1, Z1) // gm * (...)
		VCVTPD2PS(Z1, Y2)
	}
	vectorLoop(8, "loopG", "tailG", 32, []Register{RSI, RBX, RDI}, func() {
		body(at(RSI, 0), at(RBX, 0))
		VMOVUPS(Y2, at(RDI, 0))
	})
	JZ(LabelRef("doneG"))
	lowMask(K1)
	VMOVUPS_Z(at(RSI, 0), K1, Y3)
	VMOVUPS_Z(at(RBX, 0), K1, Y4)
	body(Y3, Y4)
	VMOVUPS(Y2, K1, at(RDI, 0))
	done("doneG")
}

func zmm(i int) VecPhysical {
	return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15}[i]
}

// reduce8 adds the 8 float64 lanes of Z0 into X0's low lane.
func reduce8() {
	VEXTRACTF64X4(U8(1), Z0, Y1)
	VADDPD(Y1, Y0, Y0)
	VEXTRACTF128(U8(1), Y0, X1)
	VADDPD(X1, X0, X0)
	VUNPCKHPD(X0, X0, X1)
	VADDSD(X1, X0, X0)
}

// The row sums keep sixteen float64 lanes in two ZMM accumulators (so that two chains of
// additions overlap), each lane summing every sixteenth element in order, the last n%16
// elements under masks K1 and K2, then add the lanes pairwise.

func rowSum32() {
	TEXT("rowSum32", NOSPLIT, "func(x *float32, n int) float64")
	Doc("rowSum32 returns the sum of x[0:n] in float64, in the row sums' order.")
	Load(Param("x"), RSI)
	Load(Param("n"), RCX)
	VPXORQ(Z0, Z0, Z0)
	VPXORQ(Z6, Z6, Z6)
	acc := func() {
		VADDPD(Z2, Z0, Z0)
		VADDPD(Z3, Z6, Z6)
	}
	vectorLoop(16, "loopRS", "tailRS", 64, []Register{RSI}, func() {
		VCVTPS2PD(at(RSI, 0), Z2)
		VCVTPS2PD(at(RSI, 32), Z3)
		acc()
	})
	JZ(LabelRef("doneRS"))
	lowMask(K1)
	KSHIFTRW(U8(8), K1, K2)
	VMOVUPS_Z(at(RSI, 0), K1, Y3)
	VMOVUPS_Z(at(RSI, 32), K2, Y4)
	VCVTPS2PD(Y3, Z2)
	VCVTPS2PD(Y4, Z3)
	acc()
	Label("doneRS")
	VADDPD(Z6, Z0, Z0)
	reduce8()
	Store(X0, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

func rowSqDev32() {
	TEXT("rowSqDev32", NOSPLIT, "func(x *float32, n int, mu float64) float64")
	Doc("rowSqDev32 returns the sum of (x[i]-mu)² in float64, in the row sums' order.")
	Load(Param("x"), RSI)
	Load(Param("n"), RCX)
	VBROADCASTSD(addr(Param("mu")), Z4)
	VPXORQ(Z0, Z0, Z0)
	VPXORQ(Z6, Z6, Z6)
	sq := func() {
		VSUBPD(Z4, Z2, Z2)
		VSUBPD(Z4, Z3, Z3)
		VMULPD(Z2, Z2, Z2)
		VMULPD(Z3, Z3, Z3)
	}
	vectorLoop(16, "loopSD", "tailSD", 64, []Register{RSI}, func() {
		VCVTPS2PD(at(RSI, 0), Z2)
		VCVTPS2PD(at(RSI, 32), Z3)
		sq()
		VADDPD(Z2, Z0, Z0)
		VADDPD(Z3, Z6, Z6)
	})
	JZ(LabelRef("doneSD"))
	lowMask(K1)
	KSHIFTRW(U8(8), K1, K2)
	VMOVUPS_Z(at(RSI, 0), K1, Y3)
	VMOVUPS_Z(at(RSI, 32), K2, Y5)
	VCVTPS2PD(Y3, Z2)
	VCVTPS2PD(Y5, Z3)
	sq()
	Comment("The masked lanes add 0, not mu².")
	VMOVAPD_Z(Z2, K1, Z2)
	VMOVAPD_Z(Z3, K2, Z3)
	VADDPD(Z2, Z0, Z0)
	VADDPD(Z3, Z6, Z6)
	Label("doneSD")
	VADDPD(Z6, Z0, Z0)
	reduce8()
	Store(X0, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

func rowGradSums32() {
	TEXT("rowGradSums32", NOSPLIT, "func(x, dy *float32, n int, mu, inv float64) (s, sx float64)")
	Doc("rowGradSums32 returns s, the sum of dy[i], and sx, the sum of (dy[i]*(x[i]-mu))*inv,",
		"in float64, in the row sums' order.")
	Load(Param("x"), RSI)
	Load(Param("dy"), RBX)
	Load(Param("n"), RCX)
	VBROADCASTSD(addr(Param("mu")), Z4)
	VBROADCASTSD(addr(Param("inv")), Z5)
	VPXORQ(Z0, Z0, Z0)
	VPXORQ(Z6, Z6, Z6)
	VPXORQ(Z10, Z10, Z10)
	VPXORQ(Z11, Z11, Z11)
	sums := func() {
		VADDPD(Z3, Z0, Z0)
		VADDPD(Z13, Z10, Z10)
		VSUBPD(Z4, Z2, Z2)
		VSUBPD(Z4, Z12, Z12)
		VMULPD(Z2, Z3, Z2) // dy is 0 in a tail's masked lanes
		VMULPD(Z12, Z13, Z12)
		VMULPD(Z5, Z2, Z2)
		VMULPD(Z5, Z12, Z12)
		VADDPD(Z2, Z6, Z6)
		VADDPD(Z12, Z11, Z11)
	}
	vectorLoop(16, "loopGS", "tailGS", 64, []Register{RSI, RBX}, func() {
		VCVTPS2PD(at(RSI, 0), Z2)
		VCVTPS2PD(at(RBX, 0), Z3)
		VCVTPS2PD(at(RSI, 32), Z12)
		VCVTPS2PD(at(RBX, 32), Z13)
		sums()
	})
	JZ(LabelRef("doneGS"))
	lowMask(K1)
	KSHIFTRW(U8(8), K1, K2)
	VMOVUPS_Z(at(RSI, 0), K1, Y7)
	VMOVUPS_Z(at(RBX, 0), K1, Y8)
	VMOVUPS_Z(at(RSI, 32), K2, Y14)
	VMOVUPS_Z(at(RBX, 32), K2, Y15)
	VCVTPS2PD(Y7, Z2)
	VCVTPS2PD(Y8, Z3)
	VCVTPS2PD(Y14, Z12)
	VCVTPS2PD(Y15, Z13)
	sums()
	Label("doneGS")
	VADDPD(Z10, Z0, Z0)
	reduce8()
	Store(X0, Return("s"))
	VADDPD(Z11, Z6, Z0)
	reduce8()
	Store(X0, Return("sx"))
	VZEROUPPER()
	RET()
}

func maxPool2x2BackwardRow32() {
	TEXT("maxPool2x2BackwardRow32", NOSPLIT, "func(r0, r1, dy, d0, d1 *float32, ow int) bool")
	Doc("maxPool2x2BackwardRow32 computes one output row of a 2x2/2 max pool's gradient: window j is",
		"r0[2j], r0[2j+1], r1[2j], r1[2j+1] (a, b, c, d), and dy[j] goes to the first of them",
		"equal to the window's maximum (d0[2j], d0[2j+1], d1[2j], d1[2j+1] get dy[j] or 0), as",
		"maxPool2x2BackwardPlane32 does. Sixteen windows at a time: the rows are split into even",
		"and odd columns with VPERMT2PS (index vectors poolIdx* in elementwise_amd64.go), compared",
		"with the maximum under masks, and interleaved back. It returns false, having written only",
		"the groups before it, at the first group with a NaN (whose gradient follows PyTorch's",
		"rule, which the Go loop implements). ow >= 0.")
	Load(Param("r0"), RSI)
	Load(Param("r1"), RDI)
	Load(Param("dy"), RBX)
	Load(Param("d0"), R8)
	Load(Param("d1"), R9)
	Load(Param("ow"), R10)
	global := func(name string) Mem { return NewDataAddr(Symbol{Name: "·" + name}, 0) }
	VMOVUPS(global("poolIdxEven"), Z28)
	VMOVUPS(global("poolIdxOdd"), Z29)
	VMOVUPS(global("poolIdxLo"), Z30)
	VMOVUPS(global("poolIdxHi"), Z31)

	Label("groupMP")
	TESTQ(R10, R10)
	JLE(LabelRef("okMP"))
	Comment("R = min(16, remaining): mask K1 for R windows, K2 and K3 for the 2R values of a row.")
	MOVQ(R10, RCX)
	CMPQ(RCX, U8(16))
	JLE(LabelRef("haveRMP"))
	MOVQ(U32(16), RCX)
	Label("haveRMP")
	lowMask(K1)
	LEAQ(Mem{Base: RCX, Index: RCX, Scale: 1}, RDX) // 2R
	CMPQ(RDX, U8(16))
	JL(LabelRef("shortMP"))
	MOVL(U32(0xffff), EAX)
	KMOVW(EAX, K2)
	SUBQ(U8(16), RDX)
	MOVQ(RCX, R11) // keep R
	MOVQ(RDX, RCX)
	lowMask(K3)
	MOVQ(R11, RCX)
	JMP(LabelRef("masksMP"))
	Label("shortMP")
	MOVQ(RCX, R11)
	MOVQ(RDX, RCX)
	lowMask(K2)
	KXORW(K3, K3, K3)
	MOVQ(R11, RCX)
	Label("masksMP")
	VMOVUPS_Z(at(RSI, 0), K2, Z0)
	VMOVUPS_Z(at(RSI, 64), K3, Z1)
	VMOVUPS_Z(at(RDI, 0), K2, Z2)
	VMOVUPS_Z(at(RDI, 64), K3, Z3)
	split := func(lo, hi, idx, dst VecPhysical) {
		VMOVAPS(lo, dst)
		VPERMT2PS(hi, idx, dst)
	}
	split(Z0, Z1, Z28, Z4) // a
	split(Z0, Z1, Z29, Z5) // b
	split(Z2, Z3, Z28, Z6) // c
	split(Z2, Z3, Z29, Z7) // d
	Comment("Any NaN among the windows: leave this row to the Go loop.")
	VCMPPS(U8(3), Z5, Z4, K1, K4)
	VCMPPS(U8(3), Z7, Z6, K1, K5)
	KORTESTW(K4, K5)
	JNZ(LabelRef("nanMP"))
	VMAXPS(Z5, Z4, Z8)
	VMAXPS(Z7, Z6, Z9)
	VMAXPS(Z9, Z8, Z8)             // m
	VMOVUPS_Z(at(RBX, 0), K1, Z10) // g
	VCMPPS(U8(0), Z8, Z4, K4)      // ea = a == m
	KNOTW(K4, K5)
	VCMPPS(U8(0), Z8, Z5, K5, K5) // eb = b == m and not ea
	KORW(K4, K5, K6)
	KNOTW(K6, K6)
	VCMPPS(U8(0), Z8, Z6, K6, K6) // ec = c == m and neither
	KORW(K4, K5, K7)
	KORW(K7, K6, K7)
	KNOTW(K7, K7)           // ed = none of them
	VMOVAPS_Z(Z10, K4, Z11) // d0 even
	VMOVAPS_Z(Z10, K5, Z12) // d0 odd
	VMOVAPS_Z(Z10, K6, Z13) // d1 even
	VMOVAPS_Z(Z10, K7, Z14) // d1 odd
	split(Z11, Z12, Z30, Z15)
	split(Z11, Z12, Z31, Z16)
	VMOVUPS(Z15, K2, at(R8, 0))
	VMOVUPS(Z16, K3, at(R8, 64))
	split(Z13, Z14, Z30, Z15)
	split(Z13, Z14, Z31, Z16)
	VMOVUPS(Z15, K2, at(R9, 0))
	VMOVUPS(Z16, K3, at(R9, 64))
	ADDQ(U32(128), RSI)
	ADDQ(U32(128), RDI)
	ADDQ(U32(128), R8)
	ADDQ(U32(128), R9)
	ADDQ(U8(64), RBX)
	SUBQ(RCX, R10)
	JMP(LabelRef("groupMP"))

	Label("okMP")
	MOVB(U8(1), addr(ReturnIndex(0)))
	VZEROUPPER()
	RET()

	Label("nanMP")
	MOVB(U8(0), addr(ReturnIndex(0)))
	VZEROUPPER()
	RET()
}
