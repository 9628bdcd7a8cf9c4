package sim

import "math/bits"

// draws reads a PCG stream as math/rand/v2's Rand reads its Source: the
// same numbers from the same state, one call to the PCG per number, but
// without Rand's call through the Source interface, which costs as much
// as the PCG itself; a run draws a few hundred thousand numbers. A Rand
// over the same *pcg reads on from where draws stopped, and the reverse
// (TestDraws).
type draws struct{ src *pcg }

func newDraws(seed, stream uint64) draws { return draws{&pcg{seed, stream}} }

// Float64 is rand.Rand.Float64: a uniform number in [0, 1), Bits53/2^53.
func (d draws) Float64() float64 {
	return float64(d.Bits53()) / (1 << 53)
}

// Bits53 is the next number's low 53 bits: a uniform integer below 2^53,
// the numerator of the Float64 the same number gives.
func (d draws) Bits53() uint64 { return d.src.Uint64() << 11 >> 11 }

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

// Skip2 passes over the stream's next two numbers, as two draws would,
// in one step of the generator.
func (d draws) Skip2() { d.src.skip2() }

// pcg is math/rand/v2's PCG (rand.NewPCG(seed1, seed2) starts it at
// {seed1, seed2}): a 128-bit linear congruential generator, state = state
// mul + inc, whose outputs are the state's high half scrambled by DXSM
// (O'Neill's PCG, as NumPy's PCG64DXSM). TestDraws checks it number for
// number against math/rand/v2's. It is this package's own so that a
// stream can skip numbers it does not use in one step: two steps of the
// generator are one with the multiplier mul^2 and increment inc (mul+1).
type pcg struct{ hi, lo uint64 }

// The generator's multiplier and increment, and those of two steps.
const (
	pcgMulHi = 2549297995355413924
	pcgMulLo = 4865540595714422341
	pcgIncHi = 6364136223846793005
	pcgIncLo = 1442695040888963407
)

var pcgMul2Hi, pcgMul2Lo, pcgInc2Hi, pcgInc2Lo = func() (mh, ml, ih, il uint64) {
	mh, ml = mul128(pcgMulHi, pcgMulLo, pcgMulHi, pcgMulLo)
	ah, al := uint64(pcgMulHi), uint64(pcgMulLo)+1 // mul + 1 (no carry: the low half is odd, not all ones)
	ih, il = mul128(pcgIncHi, pcgIncLo, ah, al)
	return mh, ml, ih, il
}()

// mul128 is the product of two 128-bit numbers modulo 2^128.
func mul128(ah, al, bh, bl uint64) (hi, lo uint64) {
	hi, lo = bits.Mul64(al, bl)
	return hi + ah*bl + al*bh, lo
}

// step advances the state by mul, inc: one number, or two at once.
func (p *pcg) step(mulHi, mulLo, incHi, incLo uint64) (hi, lo uint64) {
	hi, lo = mul128(p.hi, p.lo, mulHi, mulLo)
	lo, c := bits.Add64(lo, incLo, 0)
	hi, _ = bits.Add64(hi, incHi, c)
	p.hi, p.lo = hi, lo
	return hi, lo
}

// Uint64 returns the next number: the new state's high half, scrambled
// by DXSM ("double xorshift multiply") with the low half.
func (p *pcg) Uint64() uint64 {
	hi, lo := p.step(pcgMulHi, pcgMulLo, pcgIncHi, pcgIncLo)
	const cheapMul = 0xda942042e4dd58b5
	hi ^= hi >> 32
	hi *= cheapMul
	hi ^= hi >> 48
	hi *= lo | 1
	return hi
}

// skip2 advances the state past two numbers.
func (p *pcg) skip2() { p.step(pcgMul2Hi, pcgMul2Lo, pcgInc2Hi, pcgInc2Lo) }
