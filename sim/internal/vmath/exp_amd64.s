//go:build amd64 && !purego

#include "textflag.h"

// EXPSETUP loads exp1's constants from c (in R8) into Y8-Y14.
#define EXPSETUP \
	VBROADCASTSD 0(R8), Y8; \
	VBROADCASTSD 8(R8), Y9; \
	VBROADCASTSD 16(R8), Y10; \
	VBROADCASTSD 24(R8), Y11; \
	VBROADCASTSD 32(R8), Y12; \
	VBROADCASTSD 40(R8), Y13; \
	MOVL $1023, AX; \
	VMOVD AX, X14; \
	VPBROADCASTD X14, X14

// EXP4 writes exp1 of the four lanes of Y0 into Y4, as exp1 does (the
// comments give its names); it uses Y1-Y7 and the constants of EXPSETUP:
// Y8 log2(e), Y9 ln2Hi, Y10 ln2Lo, Y11 and Y12 the clamp, Y13 1/13!, X14
// the exponent bias as four int32.
#define EXP4 \
	VMAXPD  Y12, Y0, Y1; \
	VMINPD  Y11, Y1, Y1; \
	VMULPD  Y8, Y1, Y2; \
	VROUNDPD $0, Y2, Y2; \
	VMOVAPD Y1, Y3; \
	VFNMADD231PD Y9, Y2, Y3; \
	VFNMADD231PD Y10, Y2, Y3; \
	VMOVAPD Y13, Y4; \
	VBROADCASTSD 48(R8), Y5; \
	VFMADD213PD Y5, Y3, Y4; \
	VBROADCASTSD 56(R8), Y5; \
	VFMADD213PD Y5, Y3, Y4; \
	VBROADCASTSD 64(R8), Y5; \
	VFMADD213PD Y5, Y3, Y4; \
	VBROADCASTSD 72(R8), Y5; \
	VFMADD213PD Y5, Y3, Y4; \
	VBROADCASTSD 80(R8), Y5; \
	VFMADD213PD Y5, Y3, Y4; \
	VBROADCASTSD 88(R8), Y5; \
	VFMADD213PD Y5, Y3, Y4; \
	VBROADCASTSD 96(R8), Y5; \
	VFMADD213PD Y5, Y3, Y4; \
	VBROADCASTSD 104(R8), Y5; \
	VFMADD213PD Y5, Y3, Y4; \
	VBROADCASTSD 112(R8), Y5; \
	VFMADD213PD Y5, Y3, Y4; \
	VBROADCASTSD 120(R8), Y5; \
	VFMADD213PD Y5, Y3, Y4; \
	VBROADCASTSD 128(R8), Y5; \
	VFMADD213PD Y5, Y3, Y4; \
	VBROADCASTSD 136(R8), Y5; \
	VFMADD213PD Y5, Y3, Y4; \
	VBROADCASTSD 144(R8), Y5; \
	VFMADD213PD Y5, Y3, Y4; \
	VCVTPD2DQY Y2, X5; \
	VPSRAD  $1, X5, X6; \
	VPSUBD  X6, X5, X5; \
	VPADDD  X14, X6, X6; \
	VPADDD  X14, X5, X5; \
	VPMOVZXDQ X6, Y6; \
	VPMOVZXDQ X5, Y5; \
	VPSLLQ  $52, Y6, Y6; \
	VPSLLQ  $52, Y5, Y5; \
	VMULPD  Y6, Y4, Y4; \
	VMULPD  Y5, Y4, Y4; \
	VCMPPD  $3, Y0, Y0, Y7; \
	VBLENDVPD Y7, Y0, Y4, Y4

// In EXP4, per lane: the clamp (NaN lanes are fixed at the end); n = round
// to even (x log2 e); r = x - n ln2Hi - n ln2Lo; p by Horner's rule from
// 1/13! down to 1; k = int32(n), k1 = k >> 1, k2 = k - k1; p 2^k1 2^k2;
// then x itself where x is NaN.

// func expAVX2(dst, x []float64, c *[19]float64)
TEXT ·expAVX2(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	MOVQ c+48(FP), R8
	SHRQ $2, CX
	JZ   done
	EXPSETUP

loop:
	VMOVUPD (SI), Y0
	EXP4
	VMOVUPD Y4, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  loop

done:
	VZEROUPPER
	RET

// func expOuterAVX2(dst, m []float64, d *[4]float64, c *[19]float64)
// Four lanes of exp1(m_i d_j) per row i.
TEXT ·expOuterAVX2(SB), NOSPLIT, $0-64
	MOVQ dst_base+0(FP), DI
	MOVQ m_base+24(FP), SI
	MOVQ m_len+32(FP), CX
	MOVQ d+48(FP), DX
	MOVQ c+56(FP), R8
	TESTQ CX, CX
	JZ   outerdone
	EXPSETUP
	VMOVUPD (DX), Y15

outer:
	VBROADCASTSD (SI), Y0
	VMULPD  Y15, Y0, Y0      // x = m_i d_j
	EXP4
	VMOVUPD Y4, (DI)
	ADDQ $8, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  outer

outerdone:
	VZEROUPPER
	RET
