//go:build !amd64

package vmath

const useAVX2 = false

func expAVX2(dst, x []float64, c *[19]float64) { panic("vmath: no AVX2") }
