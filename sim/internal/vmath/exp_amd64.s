//go:build amd64 && !purego

#include "textflag.h"

// func expAVX2(dst, x []float64, c *[19]float64)
// Four lanes of exp1 per iteration; the comments give exp1's names.
TEXT ·expAVX2(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	MOVQ c+48(FP), R8
	SHRQ $2, CX
	JZ   done
	VBROADCASTSD 0(R8), Y8   // log2(e)
	VBROADCASTSD 8(R8), Y9   // ln2Hi
	VBROADCASTSD 16(R8), Y10 // ln2Lo
	VBROADCASTSD 24(R8), Y11 // upper clamp
	VBROADCASTSD 32(R8), Y12 // lower clamp
	VBROADCASTSD 40(R8), Y13 // 1/13!
	MOVL $1023, AX
	VMOVD AX, X14
	VPBROADCASTD X14, X14    // exponent bias, four int32

loop:
	VMOVUPD (SI), Y0         // x
	VMAXPD  Y12, Y0, Y1      // max(x, lower): NaN lanes are fixed at the end
	VMINPD  Y11, Y1, Y1      // min(., upper)
	VMULPD  Y8, Y1, Y2
	VROUNDPD $0, Y2, Y2      // n = round to even (x * log2 e)
	VMOVAPD Y1, Y3
	VFNMADD231PD Y9, Y2, Y3  // r = x - n ln2Hi
	VFNMADD231PD Y10, Y2, Y3 // r = r - n ln2Lo
	VMOVAPD Y13, Y4          // p = 1/13!
	VBROADCASTSD 48(R8), Y5
	VFMADD213PD Y5, Y3, Y4   // p = p r + 1/12!
	VBROADCASTSD 56(R8), Y5
	VFMADD213PD Y5, Y3, Y4
	VBROADCASTSD 64(R8), Y5
	VFMADD213PD Y5, Y3, Y4
	VBROADCASTSD 72(R8), Y5
	VFMADD213PD Y5, Y3, Y4
	VBROADCASTSD 80(R8), Y5
	VFMADD213PD Y5, Y3, Y4
	VBROADCASTSD 88(R8), Y5
	VFMADD213PD Y5, Y3, Y4
	VBROADCASTSD 96(R8), Y5
	VFMADD213PD Y5, Y3, Y4
	VBROADCASTSD 104(R8), Y5
	VFMADD213PD Y5, Y3, Y4
	VBROADCASTSD 112(R8), Y5
	VFMADD213PD Y5, Y3, Y4
	VBROADCASTSD 120(R8), Y5
	VFMADD213PD Y5, Y3, Y4
	VBROADCASTSD 128(R8), Y5
	VFMADD213PD Y5, Y3, Y4
	VBROADCASTSD 136(R8), Y5
	VFMADD213PD Y5, Y3, Y4
	VBROADCASTSD 144(R8), Y5
	VFMADD213PD Y5, Y3, Y4   // p = p r + 1
	VCVTPD2DQY Y2, X5        // k = int32(n)
	VPSRAD  $1, X5, X6       // k1 = k >> 1
	VPSUBD  X6, X5, X5       // k2 = k - k1
	VPADDD  X14, X6, X6
	VPADDD  X14, X5, X5
	VPMOVZXDQ X6, Y6
	VPMOVZXDQ X5, Y5
	VPSLLQ  $52, Y6, Y6      // 2^k1
	VPSLLQ  $52, Y5, Y5      // 2^k2
	VMULPD  Y6, Y4, Y4
	VMULPD  Y5, Y4, Y4       // p 2^k1 2^k2
	VCMPPD  $3, Y0, Y0, Y7   // x is NaN
	VBLENDVPD Y7, Y0, Y4, Y4 // then x
	VMOVUPD Y4, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  loop

done:
	VZEROUPPER
	RET

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET
