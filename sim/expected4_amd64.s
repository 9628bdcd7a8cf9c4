//go:build amd64 && !purego

#include "go_asm.h"
#include "textflag.h"

// HSUM leaves (y0 + y2) + (y1 + y3) of Y in the low lane of X (Y's lower
// half), using T (an XMM register), as sum4.
#define HSUM(Y, X, T) \
	VEXTRACTF128 $1, Y, T; \
	VADDPD T, X, X; \
	VPERMILPD $1, X, T; \
	VADDSD T, X, X

// func expected4AVX2(b *batch4)
// Registers: R8 b; SI prompt n; Y0 pi; Y1 logits; Y2 m; DX whether the
// memory sums get this prompt; R11, R12 its reward and slope rows; R13 its
// cell's coefficient row of the current signal; DI the memory row; BX the
// weight; CX the stride between signals' cell rows; R10 signals left.
TEXT ·expected4AVX2(SB), NOSPLIT, $0-8
	MOVQ b+0(FP), R8
	XORQ SI, SI

prompt:
	CMPQ SI, batch4_n(R8)
	JGE  done
	MOVQ SI, BX
	SHLQ $5, BX
	MOVQ batch4_probs(R8), AX
	VMOVUPD (AX)(BX*1), Y0
	MOVQ batch4_logits(R8), AX
	VMOVUPD (AX)(BX*1), Y1
	MOVQ batch4_mems(R8), AX
	VBROADCASTSD (AX)(SI*8), Y2
	XORQ DX, DX
	CMPQ batch4_memOK(R8), $0
	JE   nomem
	VXORPD X3, X3, X3
	VUCOMISD X3, X2
	JNE  withmem
	JPS  withmem             // NaN != 0
	JMP  nomem
withmem:
	MOVQ $1, DX
nomem:
	MOVQ batch4_cell(R8), AX
	MOVQ (AX)(SI*8), CX      // cell
	MOVQ batch4_k(R8), AX
	MOVQ (AX)(SI*8), R9      // k
	// P(sycophantic)
	MOVQ batch4_cellSyc(R8), AX
	MOVQ CX, BX
	SHLQ $5, BX
	VMULPD (AX)(BX*1), Y0, Y4
	HSUM(Y4, X4, X5)
	MOVQ batch4_syc(R8), AX
	VMOVSD X4, (AX)(SI*8)
	// This prompt's rows.
	MOVQ batch4_S(R8), R10
	MOVQ R9, AX
	IMULQ R10, AX
	SHLQ $5, AX
	MOVQ batch4_rew0(R8), R11
	ADDQ AX, R11
	MOVQ batch4_slope(R8), R12
	ADDQ AX, R12
	MOVQ batch4_cellCoef(R8), R13
	SHLQ $5, CX
	ADDQ CX, R13
	MOVQ batch4_C(R8), CX
	SHLQ $5, CX
	MOVQ batch4_memCoef(R8), DI
	MOVQ batch4_weights(R8), BX

signal:
	TESTQ R10, R10
	JZ   kl
	VMOVSD (BX), X5          // w_i
	VXORPD X6, X6, X6
	VUCOMISD X6, X5
	JNE  active
	JPS  active              // NaN != 0
	JMP  next
active:
	VBROADCASTSD X5, Y5
	VMULPD (R12), Y2, Y3     // m slope
	VADDPD (R11), Y3, Y3     // r = r0 + m slope
	VMULPD Y3, Y0, Y4
	HSUM(Y4, X4, X6)         // mean = sum pi r
	VBROADCASTSD X4, Y4
	VSUBPD Y4, Y3, Y6        // r - mean
	VMULPD Y5, Y6, Y6        // w_i (r - mean)
	VMULPD Y0, Y6, Y6        // c = pi w_i (r - mean)
	VADDPD (R13), Y6, Y7
	VMOVUPD Y7, (R13)        // cell row += c
	TESTQ DX, DX
	JZ   next
	VMULPD Y6, Y2, Y7
	VADDPD (DI), Y7, Y7
	VMOVUPD Y7, (DI)         // memory row += m c
next:
	ADDQ $8, BX
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ CX, R13
	ADDQ $32, DI
	DECQ R10
	JMP  signal

kl:
	MOVQ batch4_ref(R8), AX
	VSUBPD (AX), Y1, Y3      // v = l - log ref
	VMULPD Y3, Y0, Y4
	HSUM(Y4, X4, X6)         // kl = sum pi v
	VBROADCASTSD X4, Y4
	VSUBPD Y4, Y3, Y6
	VMULPD Y0, Y6, Y6        // c = pi (v - kl)
	VADDPD (R13), Y6, Y7
	VMOVUPD Y7, (R13)
	TESTQ DX, DX
	JZ   endprompt
	VMULPD Y6, Y2, Y7
	VADDPD (DI), Y7, Y7
	VMOVUPD Y7, (DI)
endprompt:
	INCQ SI
	JMP  prompt

done:
	VZEROUPPER
	RET
