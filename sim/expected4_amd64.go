//go:build amd64 && !purego

package sim

// expected4AVX2 is expected4Go in AVX2 assembly.
//
//go:noescape
func expected4AVX2(b *batch4)
