//go:build !amd64 || purego

package vmath

var useAVX2, useAVX512 = false, false

func hasAssembly() bool { return false }

func hasAVX512() bool { return false }
