package configs

import (
	"math/bits"
	"math/rand/v2"
	"slices"
)

// The Sobol sequence of Joe and Kuo (2008, "Constructing Sobol sequences
// with better two-dimensional projections", SIAM J. Sci. Comput. 30,
// 2635-2654), from their direction numbers new-joe-kuo-6.21201 (BSD
// licence, Frances Y. Kuo and Stephen Joe), of which the first 32
// dimensions are here: a Saltelli design needs two per parameter, so a
// Sobol sweep takes up to 16 parameters.

// sobolMaxDims is how many dimensions the table below gives.
const sobolMaxDims = 32

// joeKuo lists, for dimensions 2 to 32, the degree s of the primitive
// polynomial, its coefficients a, and the initial direction numbers m_1..m_s.
var joeKuo = [sobolMaxDims - 1]struct {
	s, a uint32
	m    []uint32
}{
	{1, 0, []uint32{1}},
	{2, 1, []uint32{1, 3}},
	{3, 1, []uint32{1, 3, 1}},
	{3, 2, []uint32{1, 1, 1}},
	{4, 1, []uint32{1, 1, 3, 3}},
	{4, 4, []uint32{1, 3, 5, 13}},
	{5, 2, []uint32{1, 1, 5, 5, 17}},
	{5, 4, []uint32{1, 1, 5, 5, 5}},
	{5, 7, []uint32{1, 1, 7, 11, 19}},
	{5, 11, []uint32{1, 1, 5, 1, 1}},
	{5, 13, []uint32{1, 1, 1, 3, 11}},
	{5, 14, []uint32{1, 3, 5, 5, 31}},
	{6, 1, []uint32{1, 3, 3, 9, 7, 49}},
	{6, 13, []uint32{1, 1, 1, 15, 21, 21}},
	{6, 16, []uint32{1, 3, 1, 13, 27, 49}},
	{6, 19, []uint32{1, 1, 1, 15, 7, 5}},
	{6, 22, []uint32{1, 3, 1, 15, 13, 25}},
	{6, 25, []uint32{1, 1, 5, 5, 19, 61}},
	{7, 1, []uint32{1, 3, 7, 11, 23, 15, 103}},
	{7, 4, []uint32{1, 3, 7, 13, 13, 15, 69}},
	{7, 7, []uint32{1, 1, 3, 13, 7, 35, 63}},
	{7, 8, []uint32{1, 3, 5, 9, 1, 25, 53}},
	{7, 14, []uint32{1, 3, 1, 13, 9, 35, 107}},
	{7, 19, []uint32{1, 3, 1, 5, 27, 61, 31}},
	{7, 21, []uint32{1, 1, 5, 11, 19, 41, 61}},
	{7, 28, []uint32{1, 3, 5, 3, 3, 13, 69}},
	{7, 31, []uint32{1, 1, 7, 13, 1, 19, 1}},
	{7, 32, []uint32{1, 3, 7, 5, 13, 19, 59}},
	{7, 37, []uint32{1, 1, 3, 9, 25, 29, 41}},
	{7, 41, []uint32{1, 3, 5, 13, 23, 1, 55}},
	{7, 42, []uint32{1, 3, 7, 3, 13, 59, 17}},
}

// sobolDirections returns the 32 direction numbers v[k] (scaled to 32
// bits) of each of the first dims dimensions.
func sobolDirections(dims int) [][32]uint32 {
	if dims > sobolMaxDims {
		panic("configs: more Sobol dimensions than the table holds")
	}
	v := make([][32]uint32, dims)
	for k := range v[0] { // dimension 1: the van der Corput sequence
		v[0][k] = 1 << (31 - k)
	}
	for d := 1; d < dims; d++ {
		e := joeKuo[d-1]
		s := int(e.s)
		for k := 0; k < 32; k++ {
			if k < s {
				v[d][k] = e.m[k] << (31 - k)
				continue
			}
			x := v[d][k-s] ^ (v[d][k-s] >> s)
			for j := 1; j < s; j++ {
				if (e.a>>(s-1-j))&1 == 1 {
					x ^= v[d][k-j]
				}
			}
			v[d][k] = x
		}
	}
	return v
}

// sobolPoints returns the first n points of the dims-dimensional Sobol
// sequence in Gray-code order (the first point is the origin), each
// coordinate XORed with shift[d] (a random digital shift, which keeps the
// net's stratification; nil: none), as numbers in [0, 1).
func sobolPoints(n, dims int, shift []uint32) [][]float64 {
	v := sobolDirections(dims)
	x := make([]uint32, dims)
	out := make([][]float64, n)
	for i := range out {
		if i > 0 {
			c := bits.TrailingZeros(^uint(i - 1)) // the lowest zero bit of i-1
			for d := range x {
				x[d] ^= v[d][c]
			}
		}
		p := make([]float64, dims)
		for d := range p {
			y := x[d]
			if shift != nil {
				y ^= shift[d]
			}
			p[d] = float64(y) / (1 << 32)
		}
		out[i] = p
	}
	return out
}

// SaltelliPoints returns the points of a Saltelli design in the unit cube
// [0, 1)^d, as a Sobol sweep runs them: for each of samples base samples j
// (a power of two keeps the design balanced), d+2 points in a block, A_j,
// B_j and, for each i, A_j with coordinate i taken from B_j (Saltelli
// 2010). A_j and B_j are the two halves of point j of the 2d-dimensional
// Sobol sequence, digitally shifted by random numbers drawn from seed. It
// panics for more than 16 dimensions.
func SaltelliPoints(samples, d int, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 0x50b015eed))
	shift := make([]uint32, 2*d)
	for k := range shift {
		shift[k] = rng.Uint32()
	}
	out := make([][]float64, 0, samples*(d+2))
	for _, u := range sobolPoints(samples, 2*d, shift) {
		a, b := u[:d:d], u[d:]
		out = append(out, a, b)
		for i := range d {
			ab := slices.Clone(a)
			ab[i] = b[i]
			out = append(out, ab)
		}
	}
	return out
}
