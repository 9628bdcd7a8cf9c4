package sim

import (
	"math/bits"
	"math/rand/v2"
)

// draws reads a PCG stream as math/rand/v2's Rand reads its Source: the
// same numbers from the same state, one call to the PCG per number, but
// without Rand's call through the Source interface, which costs as much
// as the PCG itself; a run draws a few hundred thousand numbers. A Rand
// over the same *rand.PCG reads on from where draws stopped, and the
// reverse (TestDraws).
type draws struct{ src *rand.PCG }

func newDraws(seed, stream uint64) draws { return draws{rand.NewPCG(seed, stream)} }

// Float64 is rand.Rand.Float64: a uniform number in [0, 1).
func (d draws) Float64() float64 {
	return float64(d.src.Uint64()<<11>>11) / (1 << 53)
}

// IntN is rand.Rand.IntN: a uniform integer in [0, n), by the high half
// of the product of a draw and n, rejecting the few low halves that would
// bias it (Lemire 2019, as math/rand/v2 computes it; its 32-bit path
// gives the same numbers). It panics if n <= 0.
func (d draws) IntN(n int) int {
	if n <= 0 {
		panic("sim: IntN: n <= 0")
	}
	un := uint64(n)
	if un&(un-1) == 0 {
		return int(d.src.Uint64() & (un - 1))
	}
	hi, lo := bits.Mul64(d.src.Uint64(), un)
	if lo < un {
		thresh := -un % un
		for lo < thresh {
			hi, lo = bits.Mul64(d.src.Uint64(), un)
		}
	}
	return int(hi)
}
