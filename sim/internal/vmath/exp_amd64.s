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

// EXPSETUP8 loads exp1's constants from c (in R8): Z8 log2(e), Z9 ln2Hi,
// Z10 ln2Lo, Z11 and Z12 the clamp, Z16-Z29 the Taylor coefficients 1/13!
// down to 1, Y14 the exponent bias as eight int32.
#define EXPSETUP8 \
	VBROADCASTSD 0(R8), Z8; \
	VBROADCASTSD 8(R8), Z9; \
	VBROADCASTSD 16(R8), Z10; \
	VBROADCASTSD 24(R8), Z11; \
	VBROADCASTSD 32(R8), Z12; \
	VBROADCASTSD 40(R8), Z16; \
	VBROADCASTSD 48(R8), Z17; \
	VBROADCASTSD 56(R8), Z18; \
	VBROADCASTSD 64(R8), Z19; \
	VBROADCASTSD 72(R8), Z20; \
	VBROADCASTSD 80(R8), Z21; \
	VBROADCASTSD 88(R8), Z22; \
	VBROADCASTSD 96(R8), Z23; \
	VBROADCASTSD 104(R8), Z24; \
	VBROADCASTSD 112(R8), Z25; \
	VBROADCASTSD 120(R8), Z26; \
	VBROADCASTSD 128(R8), Z27; \
	VBROADCASTSD 136(R8), Z28; \
	VBROADCASTSD 144(R8), Z29; \
	MOVL $1023, AX; \
	VMOVD AX, X14; \
	VPBROADCASTD X14, Y14

// EXP8 is EXP4 on the eight lanes of Z0, into Z4, with the constants of
// EXPSETUP8; it uses Z1-Z7 and K1. The same operations in the same order
// per lane, so the same bits.
#define EXP8 \
	VMAXPD  Z12, Z0, Z1; \
	VMINPD  Z11, Z1, Z1; \
	VMULPD  Z8, Z1, Z2; \
	VRNDSCALEPD $0, Z2, Z2; \
	VMOVAPD Z1, Z3; \
	VFNMADD231PD Z9, Z2, Z3; \
	VFNMADD231PD Z10, Z2, Z3; \
	VMOVAPD Z16, Z4; \
	VFMADD213PD Z17, Z3, Z4; \
	VFMADD213PD Z18, Z3, Z4; \
	VFMADD213PD Z19, Z3, Z4; \
	VFMADD213PD Z20, Z3, Z4; \
	VFMADD213PD Z21, Z3, Z4; \
	VFMADD213PD Z22, Z3, Z4; \
	VFMADD213PD Z23, Z3, Z4; \
	VFMADD213PD Z24, Z3, Z4; \
	VFMADD213PD Z25, Z3, Z4; \
	VFMADD213PD Z26, Z3, Z4; \
	VFMADD213PD Z27, Z3, Z4; \
	VFMADD213PD Z28, Z3, Z4; \
	VFMADD213PD Z29, Z3, Z4; \
	VCVTPD2DQ Z2, Y5; \
	VPSRAD  $1, Y5, Y6; \
	VPSUBD  Y6, Y5, Y5; \
	VPADDD  Y14, Y6, Y6; \
	VPADDD  Y14, Y5, Y5; \
	VPMOVZXDQ Y6, Z6; \
	VPMOVZXDQ Y5, Z5; \
	VPSLLQ  $52, Z6, Z6; \
	VPSLLQ  $52, Z5, Z5; \
	VMULPD  Z6, Z4, Z4; \
	VMULPD  Z5, Z4, Z4; \
	VCMPPD  $3, Z0, Z0, K1; \
	VMOVAPD Z0, K1, Z4

// func expAVX512(dst, x []float64, c *[19]float64)
// Eight lanes at a time; len(x) a multiple of 8.
TEXT ·expAVX512(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	MOVQ c+48(FP), R8
	SHRQ $3, CX
	JZ   done8
	EXPSETUP8

loop8:
	VMOVUPD (SI), Z0
	EXP8
	VMOVUPD Z4, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  loop8

done8:
	VZEROUPPER
	RET

// func expOuterAVX512(dst, m []float64, d *[4]float64, c *[19]float64)
// Two rows i at a time (len(m) even): eight lanes of exp1(m_i d_j).
TEXT ·expOuterAVX512(SB), NOSPLIT, $0-64
	MOVQ dst_base+0(FP), DI
	MOVQ m_base+24(FP), SI
	MOVQ m_len+32(FP), CX
	MOVQ d+48(FP), DX
	MOVQ c+56(FP), R8
	SHRQ $1, CX
	JZ   outerdone8
	EXPSETUP8
	VBROADCASTF64X4 (DX), Z15

outer8:
	VBROADCASTSD (SI), Y0
	VBROADCASTSD 8(SI), Y1
	VINSERTF64X4 $1, Y1, Z0, Z0
	VMULPD  Z15, Z0, Z0      // x = m_i d_j
	EXP8
	VMOVUPD Z4, (DI)
	ADDQ $16, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  outer8

outerdone8:
	VZEROUPPER
	RET
