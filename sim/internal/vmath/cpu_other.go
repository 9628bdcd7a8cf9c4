//go:build !amd64 || purego

package vmath

var useAVX2 = false

func hasAssembly() bool { return false }
