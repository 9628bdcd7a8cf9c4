//go:build !amd64 || purego

package vmath

func expAVX2(dst, x []float64, c *[19]float64) { panic("vmath: no AVX2") }

func expOuterAVX2(dst, m []float64, d *[4]float64, c *[19]float64) { panic("vmath: no AVX2") }

func expAVX512(dst, x []float64, c *[19]float64) { panic("vmath: no AVX-512") }

func expOuterAVX512(dst, m []float64, d *[4]float64, c *[19]float64) { panic("vmath: no AVX-512") }
