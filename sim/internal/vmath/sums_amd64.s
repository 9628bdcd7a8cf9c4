//go:build amd64 && !purego

#include "textflag.h"

// func sumsAVX2(f, m, e, mass, moment, prod []float64, exp []int64, zbuf []float64) int
// Rows of four f values; the comments give sumsGo's names.
TEXT ·sumsAVX2(SB), NOSPLIT, $0-200
	MOVQ f_base+0(FP), SI
	MOVQ m_base+24(FP), R9
	MOVQ m_len+32(FP), CX
	MOVQ e_base+48(FP), R11
	MOVQ mass_base+72(FP), R12
	MOVQ moment_base+96(FP), R13
	MOVQ prod_base+120(FP), DI
	MOVQ prod_len+128(FP), R8
	SHLQ $3, R8              // bytes of prod: 32 per group
	MOVQ exp_base+144(FP), BX
	MOVQ zbuf_base+168(FP), R10
	MOVQ $0x000FFFFFFFFFFFFF, AX
	VMOVQ AX, X10
	VPBROADCASTQ X10, Y10    // mantissa mask
	MOVQ $0x3FF0000000000000, AX
	VMOVQ AX, X11
	VPBROADCASTQ X11, Y11    // 1.0, and the exponent bits of [1, 2)
	MOVQ $1023, AX
	VMOVQ AX, X12
	VPBROADCASTQ X12, Y12    // exponent bias
	MOVQ $0x05CD0B15A491EB84, AX
	VMOVQ AX, X9
	VPBROADCASTQ X9, Y9      // MinSum
	TESTQ CX, CX
	JZ   done

row:
	VBROADCASTSD 0(SI), Y0   // f_u0 .. f_u3
	VBROADCASTSD 8(SI), Y1
	VBROADCASTSD 16(SI), Y2
	VBROADCASTSD 24(SI), Y3
	VBROADCASTSD (R9), Y4    // m_u
	XORQ DX, DX              // 32 g

check:
	VMULPD (R11)(DX*4), Y0, Y5        // z = e_0 f_0
	VFMADD231PD 32(R11)(DX*4), Y1, Y5 // z += e_1 f_1
	VFMADD231PD 64(R11)(DX*4), Y2, Y5
	VFMADD231PD 96(R11)(DX*4), Y3, Y5
	VCMPPD $0x1E, Y9, Y5, Y13         // z > MinSum (false for NaN)
	VMOVMSKPD Y13, AX
	CMPL AX, $15
	JNE  stop
	VMOVUPD Y5, (R10)(DX*1)           // zbuf
	ADDQ $32, DX
	CMPQ DX, R8
	JLT  check

	XORQ DX, DX
accumulate:
	VMOVUPD (R10)(DX*1), Y5           // z
	VDIVPD  Y5, Y11, Y6               // inv = 1 / z
	VMULPD  Y6, Y4, Y7                // minv = m inv
	VMULPD  (DI)(DX*1), Y5, Y13       // prod z
	VPSRLQ  $52, Y13, Y14
	VPSUBQ  Y12, Y14, Y14
	VPADDQ  (BX)(DX*1), Y14, Y14
	VMOVDQU Y14, (BX)(DX*1)           // exp += binary exponent
	VPAND   Y10, Y13, Y13
	VPOR    Y11, Y13, Y13
	VMOVUPD Y13, (DI)(DX*1)           // prod = mantissa in [1, 2)
	VMOVUPD (R12)(DX*4), Y13
	VFMADD231PD Y6, Y0, Y13           // mass_0 += f_0 inv
	VMOVUPD Y13, (R12)(DX*4)
	VMOVUPD 32(R12)(DX*4), Y13
	VFMADD231PD Y6, Y1, Y13
	VMOVUPD Y13, 32(R12)(DX*4)
	VMOVUPD 64(R12)(DX*4), Y13
	VFMADD231PD Y6, Y2, Y13
	VMOVUPD Y13, 64(R12)(DX*4)
	VMOVUPD 96(R12)(DX*4), Y13
	VFMADD231PD Y6, Y3, Y13
	VMOVUPD Y13, 96(R12)(DX*4)
	VMOVUPD (R13)(DX*4), Y13
	VFMADD231PD Y7, Y0, Y13           // moment_0 += f_0 minv
	VMOVUPD Y13, (R13)(DX*4)
	VMOVUPD 32(R13)(DX*4), Y13
	VFMADD231PD Y7, Y1, Y13
	VMOVUPD Y13, 32(R13)(DX*4)
	VMOVUPD 64(R13)(DX*4), Y13
	VFMADD231PD Y7, Y2, Y13
	VMOVUPD Y13, 64(R13)(DX*4)
	VMOVUPD 96(R13)(DX*4), Y13
	VFMADD231PD Y7, Y3, Y13
	VMOVUPD Y13, 96(R13)(DX*4)
	ADDQ $32, DX
	CMPQ DX, R8
	JLT  accumulate

	ADDQ $32, SI
	ADDQ $8, R9
	DECQ CX
	JNZ  row

stop:
done:
	MOVQ m_len+32(FP), AX
	SUBQ CX, AX
	MOVQ AX, ret+192(FP)
	VZEROUPPER
	RET
