//go:build !amd64 || purego

package sim

func expected4AVX2(b *batch4) { panic("sim: no AVX2") }
