//go:build ignore

// gen_rows writes rows_amd64.s, the assembly of the row primitives. The
// primitives over rows of any width (AffineRows, ScatterAddRows,
// ScatterAddRowsMoment) take a row's columns in chunks of up to eight
// vectors with the code for each chunk width written out, which is the
// same code eight times but for the number of vectors; this program writes
// it. Run it with go generate.
package main

import (
	"fmt"
	"log"
	"os"
	"strings"
)

func main() {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString(affine())
	b.WriteString(scatter())
	b.WriteString(moment())
	b.WriteString(fixed)
	b.WriteString(strings.NewReplacer(
		"\tLANESUM(R8, SI, gc)\n", laneSum("R8", "SI", "gc"),
	).Replace(general))
	if err := os.WriteFile("rows_amd64.s", []byte(b.String()), 0o644); err != nil {
		log.Fatal(err)
	}
}

// chunks writes the column loop of a primitive whose labels start with p:
// while the bytes of columns left (in register left) allow, a chunk of k =
// 8, 7, ..., 1 vectors, then of two columns (label pd) and of one (ps).
// Each chunk's code is body(k) for k vectors, body(-2) and body(-1) for
// the half vector and the scalar; each leaves the chunk's bytes in AX and
// jumps to pnext.
func chunks(p, left string, body func(k int) string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%schunk:\n", p)
	for k := 8; k >= 1; k-- {
		fmt.Fprintf(&b, "\tCMPQ %s, $%d\n\tJGE  %s%d\n", left, 32*k, p, k)
	}
	fmt.Fprintf(&b, "\tCMPQ %s, $16\n\tJGE  %sd\n\tJMP  %ss\n", left, p, p)
	for k := 8; k >= 1; k-- {
		fmt.Fprintf(&b, "\n%s%d:\n%s\tMOVQ $%d, AX\n\tJMP  %snext\n", p, k, body(k), 32*k, p)
	}
	fmt.Fprintf(&b, "\n%sd:\n%s\tMOVQ $16, AX\n\tJMP  %snext\n", p, body(-2), p)
	fmt.Fprintf(&b, "\n%ss:\n%s\tMOVQ $8, AX\n", p, body(-1))
	return b.String()
}

// vecs returns how many registers a chunk of k takes, their kind (Y or X)
// and the arithmetic's suffix: k > 0 whole vectors, -2 a half, -1 a
// scalar.
func vecs(k int) (n int, reg, op string) {
	switch k {
	case -2:
		return 1, "X", "PD"
	case -1:
		return 1, "X", "SD"
	}
	return k, "Y", "PD"
}

func affine() string {
	body := func(k int) string {
		n, reg, op := vecs(k)
		var b strings.Builder
		b.WriteString("\tMOVQ DI, SI\n\tMOVQ R10, BX\n\tMOVQ R11, DX\n\n")
		fmt.Fprintf(&b, "aff%srow:\n\tMOVQ (BX), AX\n\tCMPQ AX, R13\n\tJHI  affbad\n", label(k))
		b.WriteString(broadcast(k, "(DX)", "0"))
		for j := 0; j < n; j++ {
			fmt.Fprintf(&b, "\tVMUL%s %d(R9)(AX*8), %s0, %s1\n", op, 32*j, reg, reg)
			fmt.Fprintf(&b, "\tVADD%s %d(R8)(AX*8), %s1, %s1\n", op, 32*j, reg, reg)
			fmt.Fprintf(&b, "\t%s %s1, %d(SI)\n", store(k), reg, 32*j)
		}
		fmt.Fprintf(&b, "\tADDQ R12, SI\n\tADDQ $8, BX\n\tADDQ $8, DX\n\tCMPQ DX, CX\n\tJNE  aff%srow\n", label(k))
		return b.String()
	}
	return affineHead + chunks("aff", "R14", body) + affineTail
}

func scatter() string {
	body := func(k int) string {
		n, reg, op := vecs(k)
		var b strings.Builder
		b.WriteString("\tMOVQ R8, SI\n\tMOVQ R10, BX\n\n")
		fmt.Fprintf(&b, "sca%srow:\n\tMOVQ (BX), AX\n\tCMPQ AX, R13\n\tJHI  scabad\n", label(k))
		for j := 0; j < n; j++ {
			fmt.Fprintf(&b, "\t%s %d(SI), %s1\n", load(k), 32*j, reg)
			fmt.Fprintf(&b, "\tVADD%s %d(DI)(AX*8), %s1, %s1\n", op, 32*j, reg, reg)
			fmt.Fprintf(&b, "\t%s %s1, %d(DI)(AX*8)\n", store(k), reg, 32*j)
		}
		fmt.Fprintf(&b, "\tADDQ R12, SI\n\tADDQ $8, BX\n\tCMPQ BX, CX\n\tJNE  sca%srow\n", label(k))
		return b.String()
	}
	return scatterHead + chunks("sca", "R14", body) + scatterTail
}

func moment() string {
	body := func(k int) string {
		n, reg, op := vecs(k)
		var b strings.Builder
		for j := 0; j < n; j++ {
			fmt.Fprintf(&b, "\t%s %d(R14), %s%d\n", load(k), 32*j, reg, 8+j)
		}
		b.WriteString("\tMOVQ R8, SI\n\tMOVQ R9, DX\n\tMOVQ R10, BX\n\n")
		fmt.Fprintf(&b, "sm%srow:\n\tMOVQ (BX), AX\n\tCMPQ AX, R13\n\tJHI  smbad\n", label(k))
		b.WriteString(broadcast(k, "(DX)", "0"))
		for j := 0; j < n; j++ {
			fmt.Fprintf(&b, "\t%s %d(SI), %s1\n", load(k), 32*j, reg)
			fmt.Fprintf(&b, "\tVADD%s %d(DI)(AX*8), %s1, %s2\n", op, 32*j, reg, reg)
			fmt.Fprintf(&b, "\t%s %s2, %d(DI)(AX*8)\n", store(k), reg, 32*j)
			fmt.Fprintf(&b, "\tVMUL%s %s1, %s0, %s1\n", op, reg, reg, reg)
			fmt.Fprintf(&b, "\tVADD%s %s1, %s%d, %s%d\n", op, reg, reg, 8+j, reg, 8+j)
		}
		fmt.Fprintf(&b, "\tADDQ R12, SI\n\tADDQ $8, DX\n\tADDQ $8, BX\n\tCMPQ DX, CX\n\tJNE  sm%srow\n", label(k))
		for j := 0; j < n; j++ {
			fmt.Fprintf(&b, "\t%s %s%d, %d(R14)\n", store(k), reg, 8+j, 32*j)
		}
		return b.String()
	}
	return momentHead + chunks("sm", "R11", body) + momentTail
}

func label(k int) string {
	switch k {
	case -2:
		return "d"
	case -1:
		return "s"
	}
	return fmt.Sprint(k)
}

func broadcast(k int, src, dst string) string {
	switch k {
	case -2:
		return fmt.Sprintf("\tVMOVDDUP %s, X%s\n", src, dst)
	case -1:
		return fmt.Sprintf("\tVMOVSD %s, X%s\n", src, dst)
	}
	return fmt.Sprintf("\tVBROADCASTSD %s, Y%s\n", src, dst)
}

func load(k int) string {
	if k == -1 {
		return "VMOVSD"
	}
	return "VMOVUPD"
}

func store(k int) string { return load(k) }

// laneSum writes the code marked "lane sum" for rows at xr and yr, with
// labels starting l.
func laneSum(xr, yr, l string) string {
	return strings.NewReplacer("XR", xr, "YR", yr, "L_", l).Replace(laneSumCode)
}

const laneSumCode = `	// lane sum
	VMOVAPD Y15, Y0
	XORQ AX, AX
	CMPQ AX, R14
	JEQ  L_tail

L_block:
	VMOVUPD (XR)(AX*1), Y1
	VMULPD (YR)(AX*1), Y1, Y1
	VADDPD Y1, Y0, Y0
	ADDQ $32, AX
	CMPQ AX, R14
	JLT  L_block

L_tail:
	VEXTRACTF128 $1, Y0, X2      // (s2, s3); X0 holds (s0, s1)
	CMPQ R11, $2
	JLT  L_one
	VMOVUPD (XR)(AX*1), X1
	VMULPD (YR)(AX*1), X1, X1
	VADDPD X1, X0, X0
	JEQ  L_sum
	VMOVSD 16(XR)(AX*1), X1
	VMULSD 16(YR)(AX*1), X1, X1
	VADDSD X1, X2, X2
	JMP  L_sum

L_one:
	TESTQ R11, R11
	JZ   L_sum
	VMOVSD (XR)(AX*1), X1
	VMULSD (YR)(AX*1), X1, X1
	VADDSD X1, X0, X0

L_sum:
	VADDPD X2, X0, X0
	VPERMILPD $1, X0, X1
	VADDSD X1, X0, X0
`

const header = `// Code generated by gen_rows.go; DO NOT EDIT.

//go:build amd64 && !purego

#include "textflag.h"

// The row primitives of rows.go, four lanes at a time; the comments give
// the Go twins' names. AffineRows, ScatterAddRows and ScatterAddRowsMoment
// take a row's columns in chunks of up to 32 (eight vectors), with the code
// for each chunk width written out (labels ending in the number of
// vectors), so that a row costs no loop over its columns; the one to three
// columns left over go two at a time (labels ending in d), then one
// (labels ending in s).

`

const affineHead = `// func affineRowsAVX2(dst, base, slope []float64, off []int, m []float64, w, last int) bool
// w > 0. Registers: SI dst row, R8 and R9 base and slope at the
// chunk's first column, BX off[n], DX m[n], R12 bytes a row, R14 bytes of
// columns left.
TEXT ·affineRowsAVX2(SB), NOSPLIT, $0-137
	MOVQ dst_base+0(FP), DI
	MOVQ base_base+24(FP), R8
	MOVQ slope_base+48(FP), R9
	MOVQ off_base+72(FP), R10
	MOVQ m_base+96(FP), R11
	MOVQ m_len+104(FP), CX
	LEAQ (R11)(CX*8), CX         // end of m
	MOVQ w+120(FP), R12
	SHLQ $3, R12
	MOVQ R12, R14
	MOVQ last+128(FP), R13
	CMPQ R11, CX
	JEQ  affok

`

const affineTail = `
affnext:
	ADDQ AX, DI
	ADDQ AX, R8
	ADDQ AX, R9
	SUBQ AX, R14
	JNZ  affchunk

affok:
	MOVB $1, ret+136(FP)
	VZEROUPPER
	RET

affbad:
	MOVB $0, ret+136(FP)
	VZEROUPPER
	RET

`

const scatterHead = `// func scatterAddRowsAVX2(dst, src []float64, off []int, w, last int) bool
// w > 0. Registers: DI dst at the chunk's first column, SI src
// row, BX off[n], R12 bytes a row, R14 bytes of columns left.
TEXT ·scatterAddRowsAVX2(SB), NOSPLIT, $0-89
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), R8
	MOVQ off_base+48(FP), R10
	MOVQ off_len+56(FP), CX
	LEAQ (R10)(CX*8), CX         // end of off
	MOVQ w+72(FP), R12
	SHLQ $3, R12
	MOVQ R12, R14
	MOVQ last+80(FP), R13
	CMPQ R10, CX
	JEQ  scaok

`

const scatterTail = `
scanext:
	ADDQ AX, DI
	ADDQ AX, R8
	SUBQ AX, R14
	JNZ  scachunk

scaok:
	MOVB $1, ret+88(FP)
	VZEROUPPER
	RET

scabad:
	MOVB $0, ret+88(FP)
	VZEROUPPER
	RET

`

const momentHead = `// func scatterMomentAVX2(dst, mom, src, m []float64, off []int, last int) bool
// len(mom) > 0, len(m) > 0. A chunk's moments stay in up to eight
// accumulators (Y8-Y15) while the rows go by; a row's additions to dst and
// to the moments are independent, so that their chains (each addition
// waits on the one before in its column) overlap. Registers: DI dst, R8
// src, R14 mom, all at the chunk's first column; SI src row, BX off[n], DX
// m[n], R12 bytes a row, R11 bytes of columns left.
TEXT ·scatterMomentAVX2(SB), NOSPLIT, $0-129
	MOVQ dst_base+0(FP), DI
	MOVQ mom_base+24(FP), R14
	MOVQ mom_len+32(FP), R11
	SHLQ $3, R11
	MOVQ R11, R12
	MOVQ src_base+48(FP), R8
	MOVQ m_base+72(FP), R9
	MOVQ m_len+80(FP), CX
	LEAQ (R9)(CX*8), CX          // end of m
	MOVQ off_base+96(FP), R10
	MOVQ last+120(FP), R13

`

const momentTail = `
smnext:
	ADDQ AX, DI
	ADDQ AX, R8
	ADDQ AX, R14
	SUBQ AX, R11
	JNZ  smchunk

smok:
	MOVB $1, ret+128(FP)
	VZEROUPPER
	RET

smbad:
	MOVB $0, ret+128(FP)
	VZEROUPPER
	RET
`

// fixed holds the code of rows of four (and the macros).
const fixed = `// NEGZERO sets every lane of Y15 to -0.
#define NEGZERO \
	VPCMPEQQ Y15, Y15, Y15; \
	VPSLLQ $63, Y15, Y15

// WIDTHS turns R12, the entries of a row, into its bytes, and sets R14 to
// the bytes of its whole vectors and R11 to the entries after them.
#define WIDTHS \
	MOVQ R12, R11; \
	ANDQ $3, R11; \
	MOVQ R12, R14; \
	SUBQ R11, R14; \
	SHLQ $3, R14; \
	SHLQ $3, R12

// CENTRE writes group i's centred products, for x at XO(R8)(BX*4) and w at
// WO(R10)(BX*1): t = p x; mean = (t0 + t2) + (t1 + t3), which the two
// swaps and additions leave in every lane; then q (w (x - mean)).
#define CENTRE(XO, WO) \
	VMOVUPD XO(R8)(BX*4), Y2; \
	VMULPD Y2, Y0, Y3; \
	VPERM2F128 $1, Y3, Y3, Y4; \
	VADDPD Y4, Y3, Y3; \
	VPERMILPD $5, Y3, Y4; \
	VADDPD Y4, Y3, Y3; \
	VSUBPD Y3, Y2, Y2; \
	VBROADCASTSD WO(R10)(BX*1), Y4; \
	VMULPD Y4, Y2, Y2; \
	VMULPD Y2, Y1, Y2; \
	VMOVUPD Y2, XO(DI)(BX*4)

// func centredRows4AVX2(dst, p, x, omega, w []float64)
// Registers: Y0 p, Y1 q = omega p, BX 8 i for group i, taken two at a
// time, then the odd one.
TEXT ·centredRows4AVX2(SB), NOSPLIT, $0-120
	MOVQ dst_base+0(FP), DI
	MOVQ p_base+24(FP), SI
	MOVQ x_base+48(FP), R8
	MOVQ omega_base+72(FP), R9
	MOVQ omega_len+80(FP), CX
	MOVQ w_base+96(FP), R10
	MOVQ w_len+104(FP), R11
	SHLQ $3, R11             // 8 G
	MOVQ R11, R12
	SHLQ $2, R12             // bytes of a row's groups
	MOVQ R11, R13
	ANDQ $-16, R13           // 8 times the even part of G
	TESTQ CX, CX
	JZ   cendone
	TESTQ R11, R11
	JZ   cendone

cenrow:
	VMOVUPD (SI), Y0
	VBROADCASTSD (R9), Y1
	VMULPD Y0, Y1, Y1
	XORQ BX, BX
	CMPQ BX, R13
	JEQ  cenodd

cenpair:
	CENTRE(0, 0)
	CENTRE(32, 8)
	ADDQ $16, BX
	CMPQ BX, R13
	JLT  cenpair

cenodd:
	CMPQ BX, R11
	JEQ  cennext
	CENTRE(0, 0)

cennext:
	ADDQ R12, R8
	ADDQ R12, DI
	ADDQ $32, SI
	ADDQ $8, R9
	DECQ CX
	JNZ  cenrow

cendone:
	VZEROUPPER
	RET

// HSUM writes into XD the sum of the four lanes of YS in order, from +0
// ((((0 + s0) + s1) + s2) + s3), using XS, XT: what a loop over them in
// Go adds.
#define HSUM(YS, XS, XD, XT) \
	VXORPD XD, XD, XD; \
	VADDSD XS, XD, XD; \
	VPERMILPD $1, XS, XT; \
	VADDSD XT, XD, XD; \
	VEXTRACTF128 $1, YS, XT; \
	VADDSD XT, XD, XD; \
	VPERMILPD $1, XT, XT; \
	VADDSD XT, XD, XD

// func covRows4AVX2(dst, p, x, c, v, omega, w []float64, groups int)
// Registers: Y15 p, Y14 X, BX 8 k; R15 the bytes of a row's G rows.
TEXT ·covRows4AVX2(SB), NOSPLIT, $0-176
	MOVQ dst_base+0(FP), DI
	MOVQ p_base+24(FP), SI
	MOVQ x_base+48(FP), R8
	MOVQ c_base+72(FP), R9
	MOVQ v_base+96(FP), R10
	MOVQ omega_base+120(FP), R11
	MOVQ omega_len+128(FP), CX
	MOVQ w_base+144(FP), R12
	MOVQ w_len+152(FP), R13
	SHLQ $3, R13             // 8 K
	MOVQ groups+168(FP), R15
	SHLQ $5, R15             // 32 G
	TESTQ CX, CX
	JZ   covdone
	TESTQ R13, R13
	JZ   covdone

covrow:
	VMOVUPD (SI), Y15
	VXORPD Y14, Y14, Y14
	XORQ BX, BX
covx:
	VBROADCASTSD (R12)(BX*1), Y0
	VMULPD (R8)(BX*4), Y0, Y0          // w_k x_k
	VADDPD Y0, Y14, Y14                // X += w_k x_k
	ADDQ $8, BX
	CMPQ BX, R13
	JLT  covx
	XORQ BX, BX
covk:
	VMULPD (R9)(BX*4), Y14, Y1         // c_a X_a
	VMULPD (R10)(BX*4), Y15, Y2        // p_a v_a
	HSUM(Y1, X1, X3, X4)               // cx
	HSUM(Y2, X2, X5, X6)               // pv
	VMOVSD (R11), X7
	VMULSD (R12)(BX*1), X7, X7         // omega w_k
	VMULSD (R12)(BX*1), X7, X7         // (omega w_k) w_k
	VMULSD X5, X7, X7                  // times pv
	VADDSD X7, X3, X3                  // cx + that
	VMOVSD X3, (DI)
	ADDQ $8, DI
	ADDQ $8, BX
	CMPQ BX, R13
	JLT  covk
	ADDQ $32, SI
	ADDQ R15, R8
	ADDQ R15, R9
	ADDQ R15, R10
	ADDQ $8, R11
	DECQ CX
	JNZ  covrow

covdone:
	VZEROUPPER
	RET

// CENTRE8 is CENTRE for groups i and i+1 at once, x at XO(R8)(BX*4) (eight
// entries) and w at WO(R10)(BX*1) and 8 bytes on, with Z0 p and Z1 q in
// both halves: each half does what CENTRE does (the mean's swaps within
// each half), so each lane's bits are CENTRE's.
#define CENTRE8(XO, WO) \
	VMOVUPD XO(R8)(BX*4), Z2; \
	VMULPD Z2, Z0, Z3; \
	VSHUFF64X2 $0xB1, Z3, Z3, Z4; \
	VADDPD Z4, Z3, Z3; \
	VPERMILPD $0x55, Z3, Z4; \
	VADDPD Z4, Z3, Z3; \
	VSUBPD Z3, Z2, Z2; \
	VBROADCASTSD WO(R10)(BX*1), Y4; \
	VBROADCASTSD WO+8(R10)(BX*1), Y5; \
	VINSERTF64X4 $1, Y5, Z4, Z4; \
	VMULPD Z4, Z2, Z2; \
	VMULPD Z2, Z1, Z2; \
	VMOVUPD Z2, XO(DI)(BX*4)

// func centredRows4AVX512(dst, p, x, omega, w []float64)
// centredRows4AVX2 with each pair of groups in one eight-lane vector.
// Registers: Z0 p, Z1 q = omega p (in both halves), BX 8 i.
TEXT ·centredRows4AVX512(SB), NOSPLIT, $0-120
	MOVQ dst_base+0(FP), DI
	MOVQ p_base+24(FP), SI
	MOVQ x_base+48(FP), R8
	MOVQ omega_base+72(FP), R9
	MOVQ omega_len+80(FP), CX
	MOVQ w_base+96(FP), R10
	MOVQ w_len+104(FP), R11
	SHLQ $3, R11             // 8 G
	MOVQ R11, R12
	SHLQ $2, R12             // bytes of a row's groups
	MOVQ R11, R13
	ANDQ $-16, R13           // 8 times the even part of G
	TESTQ CX, CX
	JZ   cen8done
	TESTQ R11, R11
	JZ   cen8done

cen8row:
	VBROADCASTF64X4 (SI), Z0
	VBROADCASTSD (R9), Z1
	VMULPD Z0, Z1, Z1
	XORQ BX, BX
	CMPQ BX, R13
	JEQ  cen8odd

cen8pair:
	CENTRE8(0, 0)
	ADDQ $16, BX
	CMPQ BX, R13
	JLT  cen8pair

cen8odd:
	CMPQ BX, R11
	JEQ  cen8next
	CENTRE(0, 0)

cen8next:
	ADDQ R12, R8
	ADDQ R12, DI
	ADDQ $32, SI
	ADDQ $8, R9
	DECQ CX
	JNZ  cen8row

cen8done:
	VZEROUPPER
	RET

// HSUM8 is HSUM of each half of ZS at once, into lanes 0 and 4 of ZD
// (the other lanes are left with partial sums), using ZT: ((((0 + s0) +
// s1) + s2) + s3) of each half, the same additions in the same order.
#define HSUM8(ZS, ZD, ZT) \
	VPXORQ ZD, ZD, ZD; \
	VADDPD ZS, ZD, ZD; \
	VPERMILPD $0x11, ZS, ZT; \
	VADDPD ZT, ZD, ZD; \
	VSHUFF64X2 $0x31, ZS, ZS, ZT; \
	VADDPD ZT, ZD, ZD; \
	VPERMILPD $0x11, ZT, ZT; \
	VADDPD ZT, ZD, ZD

// func covRows4AVX512(dst, p, x, c, v, omega, w []float64, groups int)
// covRows4AVX2 with each pair of k in one eight-lane vector, the odd k
// last as there. Registers: Z15 p, Z14 X (both halves), BX 8 k, R14 8
// times the even part of K.
TEXT ·covRows4AVX512(SB), NOSPLIT, $0-176
	MOVQ dst_base+0(FP), DI
	MOVQ p_base+24(FP), SI
	MOVQ x_base+48(FP), R8
	MOVQ c_base+72(FP), R9
	MOVQ v_base+96(FP), R10
	MOVQ omega_base+120(FP), R11
	MOVQ omega_len+128(FP), CX
	MOVQ w_base+144(FP), R12
	MOVQ w_len+152(FP), R13
	SHLQ $3, R13             // 8 K
	MOVQ R13, R14
	ANDQ $-16, R14           // 8 times the even part of K
	MOVQ groups+168(FP), R15
	SHLQ $5, R15             // 32 G
	TESTQ CX, CX
	JZ   cov8done
	TESTQ R13, R13
	JZ   cov8done

cov8row:
	VBROADCASTF64X4 (SI), Z15
	VXORPD Y14, Y14, Y14
	XORQ BX, BX
cov8x:
	VBROADCASTSD (R12)(BX*1), Y0
	VMULPD (R8)(BX*4), Y0, Y0          // w_k x_k
	VADDPD Y0, Y14, Y14                // X += w_k x_k
	ADDQ $8, BX
	CMPQ BX, R13
	JLT  cov8x
	VINSERTF64X4 $1, Y14, Z14, Z14     // X in both halves
	XORQ BX, BX
	CMPQ BX, R14
	JEQ  cov8odd
cov8pair:
	VMULPD (R9)(BX*4), Z14, Z1         // c_a X_a of k and k+1
	VMULPD (R10)(BX*4), Z15, Z2        // p_a v_a
	HSUM8(Z1, Z3, Z4)                  // cx in lanes 0 and 4
	HSUM8(Z2, Z5, Z6)                  // pv
	VBROADCASTSD (R11), Z7
	VBROADCASTSD (R12)(BX*1), Y8
	VBROADCASTSD 8(R12)(BX*1), Y9
	VINSERTF64X4 $1, Y9, Z8, Z8
	VMULPD Z8, Z7, Z7                  // omega w_k
	VMULPD Z8, Z7, Z7                  // (omega w_k) w_k
	VMULPD Z5, Z7, Z7                  // times pv
	VADDPD Z7, Z3, Z3                  // cx + that
	VMOVSD X3, (DI)
	VEXTRACTF64X4 $1, Z3, Y3
	VMOVSD X3, 8(DI)
	ADDQ $16, DI
	ADDQ $16, BX
	CMPQ BX, R14
	JLT  cov8pair
cov8odd:
	CMPQ BX, R13
	JEQ  cov8next
	VMULPD (R9)(BX*4), Y14, Y1         // c_a X_a
	VMULPD (R10)(BX*4), Y15, Y2        // p_a v_a
	HSUM(Y1, X1, X3, X4)               // cx
	HSUM(Y2, X2, X5, X6)               // pv
	VMOVSD (R11), X7
	VMULSD (R12)(BX*1), X7, X7         // omega w_k
	VMULSD (R12)(BX*1), X7, X7         // (omega w_k) w_k
	VMULSD X5, X7, X7                  // times pv
	VADDSD X7, X3, X3                  // cx + that
	VMOVSD X3, (DI)
	ADDQ $8, DI
cov8next:
	ADDQ $32, SI
	ADDQ R15, R8
	ADDQ R15, R9
	ADDQ R15, R10
	ADDQ $8, R11
	DECQ CX
	JNZ  cov8row

cov8done:
	VZEROUPPER
	RET
`

// general holds the code of rows of any width; LANESUM marks where the
// lane sum goes.
const general = `// The general body below takes the lane-order sum of the products of a
// row at XR and one at YR (the code marked "lane sum", written out in each):
// lanes start at -0 (Y15), whole vectors add into them, then the last one
// to three entries into lanes 0 to 2, then (s0 + s2) + (s1 + s3) is left in
// X0's low lane. R14 holds the bytes of a row's whole vectors, R11 the
// entries after them; AX, X1 and X2 are used.

// func centredRowsAVX2(dst, p, x, omega, w []float64, a int)
// Any a > 0. Registers: SI row n of p, Y5 omega[n], R8 and DI group i of
// x and dst, BX 8 i, Y0 the mean, Y2 w[i].
TEXT ·centredRowsAVX2(SB), NOSPLIT, $0-128
	MOVQ dst_base+0(FP), DI
	MOVQ p_base+24(FP), SI
	MOVQ x_base+48(FP), R8
	MOVQ omega_base+72(FP), R9
	MOVQ omega_len+80(FP), CX
	LEAQ (R9)(CX*8), CX      // end of omega
	MOVQ w_base+96(FP), R10
	MOVQ w_len+104(FP), R13
	SHLQ $3, R13             // 8 G
	MOVQ a+120(FP), R12
	WIDTHS
	NEGZERO
	CMPQ R9, CX
	JEQ  gcdone
	TESTQ R13, R13
	JZ   gcdone

gcrow:
	VBROADCASTSD (R9), Y5
	XORQ BX, BX

gcgroup:
	LANESUM(R8, SI, gc)
	VBROADCASTSD X0, Y0          // mean
	VBROADCASTSD (R10)(BX*1), Y2 // w
	XORQ AX, AX
	CMPQ AX, R14
	JEQ  gcscalar

gcvec:
	VMOVUPD (R8)(AX*1), Y3
	VSUBPD Y0, Y3, Y3            // x - mean
	VMULPD Y2, Y3, Y3            // w (x - mean)
	VMULPD (SI)(AX*1), Y5, Y4    // omega p
	VMULPD Y3, Y4, Y3
	VMOVUPD Y3, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, R14
	JLT  gcvec

gcscalar:                        // the last one to three entries
	CMPQ R11, $2
	JLT  gclast
	VMOVUPD (R8)(AX*1), X3
	VSUBPD X0, X3, X3
	VMULPD X2, X3, X3
	VMULPD (SI)(AX*1), X5, X4
	VMULPD X3, X4, X3
	VMOVUPD X3, (DI)(AX*1)
	JEQ  gcnext
	VMOVSD 16(R8)(AX*1), X3
	VSUBSD X0, X3, X3
	VMULSD X2, X3, X3
	VMULSD 16(SI)(AX*1), X5, X4
	VMULSD X3, X4, X3
	VMOVSD X3, 16(DI)(AX*1)
	JMP  gcnext

gclast:
	TESTQ R11, R11
	JZ   gcnext
	VMOVSD (R8)(AX*1), X3
	VSUBSD X0, X3, X3
	VMULSD X2, X3, X3
	VMULSD (SI)(AX*1), X5, X4
	VMULSD X3, X4, X3
	VMOVSD X3, (DI)(AX*1)

gcnext:
	ADDQ R12, R8
	ADDQ R12, DI
	ADDQ $8, BX
	CMPQ BX, R13
	JLT  gcgroup
	ADDQ R12, SI
	ADDQ $8, R9
	CMPQ R9, CX
	JNE  gcrow

gcdone:
	VZEROUPPER
	RET

`
