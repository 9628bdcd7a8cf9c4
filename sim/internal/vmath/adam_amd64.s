//go:build amd64 && !purego

#include "textflag.h"

// func adamAVX2(x, m, v, g []float64, k *AdamCoefs)
// 4 lanes of adamGo at a time; the comments give its names.
TEXT ·adamAVX2(SB), NOSPLIT, $0-104
	MOVQ x_base+0(FP), DI
	MOVQ m_base+24(FP), R9
	MOVQ v_base+48(FP), R10
	MOVQ g_base+72(FP), R11
	MOVQ g_len+80(FP), CX
	MOVQ k+96(FP), R8
	SHRQ $2, CX
	JZ   adamAVX2done
	VBROADCASTSD 0(R8), Y8         // B1
	VBROADCASTSD 8(R8), Y9         // 1-B1
	VBROADCASTSD 16(R8), Y10       // B2
	VBROADCASTSD 24(R8), Y11       // 1-B2
	VBROADCASTSD 32(R8), Y12       // LR
	VBROADCASTSD 40(R8), Y13       // C1
	VBROADCASTSD 48(R8), Y14       // C2
	VBROADCASTSD 56(R8), Y15       // Eps

adamAVX2loop:
	VMOVUPD (R11), Y0
	VMULPD (R9), Y8, Y1        // B1 m
	VMULPD Y0, Y9, Y2        // (1-B1) g
	VADDPD Y2, Y1, Y1        // m
	VMOVUPD Y1, (R9)
	VMULPD (R10), Y10, Y3      // B2 v
	VMULPD Y0, Y11, Y4       // (1-B2) g
	VMULPD Y0, Y4, Y4        // ((1-B2) g) g
	VADDPD Y4, Y3, Y3        // v
	VMOVUPD Y3, (R10)
	VDIVPD Y13, Y1, Y5       // m / C1
	VMULPD Y5, Y12, Y5       // LR (m / C1)
	VDIVPD Y14, Y3, Y6       // v / C2
	VSQRTPD Y6, Y6
	VADDPD Y15, Y6, Y6       // + Eps
	VDIVPD Y6, Y5, Y5        // the step
	VADDPD (DI), Y5, Y5        // x + the step
	VMOVUPD Y5, (DI)
	ADDQ $32, DI
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $32, R11
	DECQ CX
	JNZ  adamAVX2loop

adamAVX2done:
	VZEROUPPER
	RET

// func adamAVX512(x, m, v, g []float64, k *AdamCoefs)
// 8 lanes of adamGo at a time; the comments give its names.
TEXT ·adamAVX512(SB), NOSPLIT, $0-104
	MOVQ x_base+0(FP), DI
	MOVQ m_base+24(FP), R9
	MOVQ v_base+48(FP), R10
	MOVQ g_base+72(FP), R11
	MOVQ g_len+80(FP), CX
	MOVQ k+96(FP), R8
	SHRQ $3, CX
	JZ   adamAVX512done
	VBROADCASTSD 0(R8), Z8         // B1
	VBROADCASTSD 8(R8), Z9         // 1-B1
	VBROADCASTSD 16(R8), Z10       // B2
	VBROADCASTSD 24(R8), Z11       // 1-B2
	VBROADCASTSD 32(R8), Z12       // LR
	VBROADCASTSD 40(R8), Z13       // C1
	VBROADCASTSD 48(R8), Z14       // C2
	VBROADCASTSD 56(R8), Z15       // Eps

adamAVX512loop:
	VMOVUPD (R11), Z0
	VMULPD (R9), Z8, Z1        // B1 m
	VMULPD Z0, Z9, Z2        // (1-B1) g
	VADDPD Z2, Z1, Z1        // m
	VMOVUPD Z1, (R9)
	VMULPD (R10), Z10, Z3      // B2 v
	VMULPD Z0, Z11, Z4       // (1-B2) g
	VMULPD Z0, Z4, Z4        // ((1-B2) g) g
	VADDPD Z4, Z3, Z3        // v
	VMOVUPD Z3, (R10)
	VDIVPD Z13, Z1, Z5       // m / C1
	VMULPD Z5, Z12, Z5       // LR (m / C1)
	VDIVPD Z14, Z3, Z6       // v / C2
	VSQRTPD Z6, Z6
	VADDPD Z15, Z6, Z6       // + Eps
	VDIVPD Z6, Z5, Z5        // the step
	VADDPD (DI), Z5, Z5        // x + the step
	VMOVUPD Z5, (DI)
	ADDQ $64, DI
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	DECQ CX
	JNZ  adamAVX512loop

adamAVX512done:
	VZEROUPPER
	RET
