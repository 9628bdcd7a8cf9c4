//go:build !amd64

package sim

func expected4AVX2(b *batch4) { panic("sim: no AVX2") }
