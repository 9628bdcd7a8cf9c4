//go:build amd64 && !purego

package vmath

// adamAVX2 is adamGo four lanes at a time, for len(g) a multiple of 4.
//
//go:noescape
func adamAVX2(x, m, v, g []float64, k *AdamCoefs)

// adamAVX512 is adamGo eight lanes at a time, for len(g) a multiple of 8.
//
//go:noescape
func adamAVX512(x, m, v, g []float64, k *AdamCoefs)
