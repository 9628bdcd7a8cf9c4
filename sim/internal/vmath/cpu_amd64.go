//go:build amd64 && !purego

package vmath

import "golang.org/x/sys/cpu"

// useAVX2 is whether the assembly bodies run: the CPU has AVX2 and FMA and
// the OS saves the YMM registers (x/sys/cpu checks the latter).
var useAVX2 = hasAssembly()

func hasAssembly() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }
