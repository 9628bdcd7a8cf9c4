//go:build amd64 && !purego

package vmath

// useAVX2 is whether the CPU and the OS support AVX2 and FMA, so that Exp
// runs four lanes at a time in expAVX2.
var useAVX2 = hasAVX2FMA()

func hasAssembly() bool { return hasAVX2FMA() }

// expAVX2 writes exp(x) into dst for len(x) a multiple of 4, as exp1 does.
//
//go:noescape
func expAVX2(dst, x []float64, c *[19]float64)

// expOuterAVX2 is ExpOuter for four columns.
//
//go:noescape
func expOuterAVX2(dst, m []float64, d *[4]float64, c *[19]float64)

// cpuid and xgetbv are the instructions of the same names.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

// hasAVX2FMA checks CPUID for AVX, FMA and AVX2 and XGETBV for the OS
// saving the YMM registers, as golang.org/x/sys/cpu does.
func hasAVX2FMA() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if eax, _ := xgetbv(); eax&6 != 6 { // XMM and YMM state
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0 // AVX2
}

// sumsAVX2 is NormalizedSums for A = 4, as sumsGo does it.
//
//go:noescape
func sumsAVX2(f, m, e, mass, moment, prod []float64, exp []int64, zbuf []float64) int
