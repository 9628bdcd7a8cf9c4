//go:build amd64 && !purego

#include "textflag.h"

// func sumsBlockAVX2(f, m, e, mass, moment, prod []float64, exp []int64, zbuf []float64) int
// A block of rows of four f values, in two passes: the normalisers z of
// every row and group into zbuf (row after row), stopping at the first
// row with one that underflows; then group by group, the block's rows
// with the group's sums held in registers. Each sum takes the rows in
// order with sumsGo's operations, so the bits are sumsGo's; the binary
// exponents are summed with their biases taken off once per block, the
// same integers. The comments give sumsGo's names.
TEXT ·sumsBlockAVX2(SB), NOSPLIT, $0-200
	MOVQ f_base+0(FP), SI
	MOVQ m_base+24(FP), R9
	MOVQ m_len+32(FP), CX
	MOVQ e_base+48(FP), R11
	MOVQ prod_len+128(FP), R8
	SHLQ $3, R8              // bytes of prod: 32 per group, a row of zbuf
	MOVQ zbuf_base+168(FP), R10
	MOVQ $0x000FFFFFFFFFFFFF, AX
	VMOVQ AX, X14
	VPBROADCASTQ X14, Y14    // mantissa mask
	MOVQ $0x3FF0000000000000, AX
	VMOVQ AX, X15
	VPBROADCASTQ X15, Y15    // 1.0, and the exponent bits of [1, 2)
	MOVQ $0x05CD0B15A491EB84, AX
	VMOVQ AX, X13
	VPBROADCASTQ X13, Y13    // MinSum

	// Pass 1: z for every row and group.
	MOVQ SI, DX
	MOVQ R10, AX
	XORQ R14, R14            // row
zrow:
	CMPQ R14, CX
	JGE  sums
	VBROADCASTSD 0(DX), Y0   // f_u0 .. f_u3
	VBROADCASTSD 8(DX), Y1
	VBROADCASTSD 16(DX), Y2
	VBROADCASTSD 24(DX), Y3
	XORQ R12, R12            // 32 g
zgroup:
	VMULPD (R11)(R12*4), Y0, Y4        // z = e_0 f_0
	VFMADD231PD 32(R11)(R12*4), Y1, Y4 // z += e_1 f_1
	VFMADD231PD 64(R11)(R12*4), Y2, Y4
	VFMADD231PD 96(R11)(R12*4), Y3, Y4
	VCMPPD $0x1E, Y13, Y4, Y5          // z > MinSum (false for NaN)
	VMOVMSKPD Y5, R13
	CMPL R13, $15
	JNE  stop
	VMOVUPD Y4, (AX)(R12*1)            // zbuf
	ADDQ $32, R12
	CMPQ R12, R8
	JLT  zgroup
	ADDQ $32, DX
	ADDQ R8, AX
	INCQ R14
	JMP  zrow
stop:
	MOVQ R14, CX             // the rows before the one that underflows

	// Pass 2: the sums, group by group.
sums:
	TESTQ CX, CX
	JZ   done
	MOVQ mass_base+72(FP), R12
	MOVQ moment_base+96(FP), R13
	MOVQ prod_base+120(FP), DI
	MOVQ exp_base+144(FP), BX
	XORQ R15, R15            // 32 g
group:
	VMOVUPD (R12)(R15*4), Y0           // mass_0 .. mass_3
	VMOVUPD 32(R12)(R15*4), Y1
	VMOVUPD 64(R12)(R15*4), Y2
	VMOVUPD 96(R12)(R15*4), Y3
	VMOVUPD (R13)(R15*4), Y4           // moment_0 .. moment_3
	VMOVUPD 32(R13)(R15*4), Y5
	VMOVUPD 64(R13)(R15*4), Y6
	VMOVUPD 96(R13)(R15*4), Y7
	VMOVUPD (DI)(R15*1), Y8            // prod
	VMOVDQU (BX)(R15*1), Y9            // exp
	MOVQ SI, DX
	MOVQ R9, R14
	LEAQ (R10)(R15*1), AX
	MOVQ CX, R11
row:
	VMOVUPD (AX), Y10                  // z
	VMULPD  Y10, Y8, Y11               // prod z
	VPSRLQ  $52, Y11, Y12
	VPADDQ  Y12, Y9, Y9                // exp += binary exponent (biased)
	VPAND   Y14, Y11, Y11
	VPOR    Y15, Y11, Y8               // prod = mantissa in [1, 2)
	VDIVPD  Y10, Y15, Y10              // inv = 1 / z
	VBROADCASTSD (R14), Y11
	VMULPD  Y10, Y11, Y11              // minv = m inv
	VBROADCASTSD 0(DX), Y12
	VFMADD231PD Y10, Y12, Y0           // mass_0 += f_0 inv
	VFMADD231PD Y11, Y12, Y4           // moment_0 += f_0 minv
	VBROADCASTSD 8(DX), Y12
	VFMADD231PD Y10, Y12, Y1
	VFMADD231PD Y11, Y12, Y5
	VBROADCASTSD 16(DX), Y12
	VFMADD231PD Y10, Y12, Y2
	VFMADD231PD Y11, Y12, Y6
	VBROADCASTSD 24(DX), Y12
	VFMADD231PD Y10, Y12, Y3
	VFMADD231PD Y11, Y12, Y7
	ADDQ $32, DX
	ADDQ $8, R14
	ADDQ R8, AX
	DECQ R11
	JNZ  row
	MOVQ CX, R11
	IMULQ $1023, R11
	VMOVQ R11, X12
	VPBROADCASTQ X12, Y12
	VPSUBQ  Y12, Y9, Y9                // the biases, once
	VMOVUPD Y0, (R12)(R15*4)
	VMOVUPD Y1, 32(R12)(R15*4)
	VMOVUPD Y2, 64(R12)(R15*4)
	VMOVUPD Y3, 96(R12)(R15*4)
	VMOVUPD Y4, (R13)(R15*4)
	VMOVUPD Y5, 32(R13)(R15*4)
	VMOVUPD Y6, 64(R13)(R15*4)
	VMOVUPD Y7, 96(R13)(R15*4)
	VMOVUPD Y8, (DI)(R15*1)
	VMOVDQU Y9, (BX)(R15*1)
	ADDQ $32, R15
	CMPQ R15, R8
	JLT  group

done:
	MOVQ CX, ret+192(FP)
	VZEROUPPER
	RET

// func sumsBlockAVX512(f, m, e, mass, moment, prod []float64, exp []int64) int
// sumsBlockAVX2 for two groups (eight columns) at once, as one eight-lane
// vector (lanes 0-3 group 0's, lanes 4-7 group 1's), in one pass: with
// both groups' sums in registers (thirty-two of them), a row's z are
// checked before anything is added, so no pass stores them first. Each
// lane does what it does in sumsBlockAVX2, so the bits are sumsGo's.
TEXT ·sumsBlockAVX512(SB), NOSPLIT, $0-176
	MOVQ f_base+0(FP), SI
	MOVQ m_base+24(FP), R9
	MOVQ m_len+32(FP), CX
	MOVQ e_base+48(FP), R11
	MOVQ mass_base+72(FP), R12
	MOVQ moment_base+96(FP), R13
	MOVQ prod_base+120(FP), DI
	MOVQ exp_base+144(FP), BX
	MOVQ $0x000FFFFFFFFFFFFF, AX
	VPBROADCASTQ AX, Z14     // mantissa mask
	MOVQ $0x3FF0000000000000, AX
	VPBROADCASTQ AX, Z15     // 1.0, and the exponent bits of [1, 2)
	MOVQ $0x05CD0B15A491EB84, AX
	VPBROADCASTQ AX, Z13     // MinSum
	// e_a for both groups: group 1's entry a is 16 values after group 0's.
	VMOVUPD 0(R11), Y0
	VINSERTF64X4 $1, 128(R11), Z0, Z16
	VMOVUPD 32(R11), Y0
	VINSERTF64X4 $1, 160(R11), Z0, Z17
	VMOVUPD 64(R11), Y0
	VINSERTF64X4 $1, 192(R11), Z0, Z18
	VMOVUPD 96(R11), Y0
	VINSERTF64X4 $1, 224(R11), Z0, Z19
	VMOVUPD 0(R12), Y0       // mass_0 .. mass_3
	VINSERTF64X4 $1, 128(R12), Z0, Z0
	VMOVUPD 32(R12), Y1
	VINSERTF64X4 $1, 160(R12), Z1, Z1
	VMOVUPD 64(R12), Y2
	VINSERTF64X4 $1, 192(R12), Z2, Z2
	VMOVUPD 96(R12), Y3
	VINSERTF64X4 $1, 224(R12), Z3, Z3
	VMOVUPD 0(R13), Y4       // moment_0 .. moment_3
	VINSERTF64X4 $1, 128(R13), Z4, Z4
	VMOVUPD 32(R13), Y5
	VINSERTF64X4 $1, 160(R13), Z5, Z5
	VMOVUPD 64(R13), Y6
	VINSERTF64X4 $1, 192(R13), Z6, Z6
	VMOVUPD 96(R13), Y7
	VINSERTF64X4 $1, 224(R13), Z7, Z7
	VMOVUPD (DI), Z8         // prod
	VMOVDQU64 (BX), Z9       // exp
	XORQ R14, R14            // row

row8:
	CMPQ R14, CX
	JGE  done8
	VBROADCASTSD 0(SI), Z20  // f_u0 .. f_u3
	VBROADCASTSD 8(SI), Z21
	VBROADCASTSD 16(SI), Z22
	VBROADCASTSD 24(SI), Z23
	VMULPD Z16, Z20, Z10     // z = e_0 f_0
	VFMADD231PD Z17, Z21, Z10 // z += e_1 f_1
	VFMADD231PD Z18, Z22, Z10
	VFMADD231PD Z19, Z23, Z10
	VCMPPD $0x1E, Z13, Z10, K1 // z > MinSum (false for NaN)
	KMOVW K1, AX
	CMPL AX, $0xFF
	JNE  done8               // this row is left to the caller
	VMULPD  Z10, Z8, Z11     // prod z
	VPSRLQ  $52, Z11, Z12
	VPADDQ  Z12, Z9, Z9      // exp += binary exponent (biased)
	VPANDQ  Z14, Z11, Z11
	VPORQ   Z15, Z11, Z8     // prod = mantissa in [1, 2)
	VDIVPD  Z10, Z15, Z10    // inv = 1 / z
	VBROADCASTSD (R9)(R14*8), Z11
	VMULPD  Z10, Z11, Z11    // minv = m inv
	VFMADD231PD Z10, Z20, Z0 // mass_0 += f_0 inv
	VFMADD231PD Z11, Z20, Z4 // moment_0 += f_0 minv
	VFMADD231PD Z10, Z21, Z1
	VFMADD231PD Z11, Z21, Z5
	VFMADD231PD Z10, Z22, Z2
	VFMADD231PD Z11, Z22, Z6
	VFMADD231PD Z10, Z23, Z3
	VFMADD231PD Z11, Z23, Z7
	ADDQ $32, SI
	INCQ R14
	JMP  row8

done8:
	MOVQ R14, R11
	IMULQ $1023, R11
	VPBROADCASTQ R11, Z12
	VPSUBQ  Z12, Z9, Z9      // the biases, once
	VMOVUPD Y0, 0(R12)
	VEXTRACTF64X4 $1, Z0, 128(R12)
	VMOVUPD Y1, 32(R12)
	VEXTRACTF64X4 $1, Z1, 160(R12)
	VMOVUPD Y2, 64(R12)
	VEXTRACTF64X4 $1, Z2, 192(R12)
	VMOVUPD Y3, 96(R12)
	VEXTRACTF64X4 $1, Z3, 224(R12)
	VMOVUPD Y4, 0(R13)
	VEXTRACTF64X4 $1, Z4, 128(R13)
	VMOVUPD Y5, 32(R13)
	VEXTRACTF64X4 $1, Z5, 160(R13)
	VMOVUPD Y6, 64(R13)
	VEXTRACTF64X4 $1, Z6, 192(R13)
	VMOVUPD Y7, 96(R13)
	VEXTRACTF64X4 $1, Z7, 224(R13)
	VMOVUPD Z8, (DI)
	VMOVDQU64 Z9, (BX)
	MOVQ R14, ret+168(FP)
	VZEROUPPER
	RET
