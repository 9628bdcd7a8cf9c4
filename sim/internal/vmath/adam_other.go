//go:build !amd64 || purego

package vmath

func adamAVX2(x, m, v, g []float64, k *AdamCoefs) { panic("vmath: no AVX2") }

func adamAVX512(x, m, v, g []float64, k *AdamCoefs) { panic("vmath: no AVX-512") }
