package configs

import (
	"math"
	"testing"
)

// TestSobolPoints checks the first points of the three-dimensional Sobol
// sequence against those Joe and Kuo's direction numbers give, worked by
// hand in Gray-code order (dimension 3: s = 2, a = 1, m = 1, 3, so v =
// 0.5, 0.75, 0.375, ...), and that every dimension of the first 2^k points
// stratifies [0, 1) into 2^k cells of one point each.
func TestSobolPoints(t *testing.T) {
	want := [][]float64{{0, 0, 0}, {0.5, 0.5, 0.5}, {0.75, 0.25, 0.25}, {0.25, 0.75, 0.75}, {0.375, 0.375, 0.625}, {0.875, 0.875, 0.125}}
	got := sobolPoints(len(want), 3, nil)
	for i := range want {
		for d := range want[i] {
			if got[i][d] != want[i][d] {
				t.Fatalf("point %d: %v, want %v", i, got[i], want[i])
			}
		}
	}
	const n = 1024
	shift := make([]uint32, sobolMaxDims)
	for d := range shift {
		shift[d] = uint32(d) * 0x9e3779b9
	}
	pts := sobolPoints(n, sobolMaxDims, shift)
	for d := 0; d < sobolMaxDims; d++ {
		seen := make([]bool, n)
		for _, p := range pts {
			c := int(math.Floor(p[d] * n))
			if seen[c] {
				t.Fatalf("dimension %d: two of the first %d points in cell %d", d+1, n, c)
			}
			seen[c] = true
		}
	}
	// Pairs of dimensions: 2^10 points in a 32 x 32 grid of cells hold
	// one each per cell of a 2^5 x 2^5 net (t = 0 for the first pair).
	cells := map[[2]int]int{}
	for _, p := range pts {
		cells[[2]int{int(p[0] * 32), int(p[1] * 32)}]++
	}
	for c, k := range cells {
		if k != 1 {
			t.Fatalf("dimensions 1 and 2: cell %v holds %d points", c, k)
		}
	}
}
