//go:build amd64 && !purego

package vmath

import "golang.org/x/sys/cpu"

// useAVX2 is whether the assembly bodies run: the CPU has AVX2 and FMA and
// the OS saves the YMM registers (x/sys/cpu checks the latter); useAVX512
// whether the eight-lane bodies run too: the CPU has AVX-512F as well and
// the OS saves the ZMM and mask registers.
var useAVX2, useAVX512 = hasAssembly(), hasAVX512()

func hasAssembly() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

func hasAVX512() bool { return hasAssembly() && cpu.X86.HasAVX512F }
