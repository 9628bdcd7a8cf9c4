package sim

import (
	"math"
	"math/rand/v2"
	"testing"
)

// CheckSampleSituationForTest pins sampleSituation's bucketed search over
// integer thresholds to a scan of the whole CDF in floating point (as
// draws.Float64's number u = x/2^53 would be compared), on random draws,
// on every bucket's ends, on each threshold and the draws next to it, and
// at the ends of the draws' range.
func (tr *trainer) CheckSampleSituationForTest(t *testing.T) {
	t.Helper()
	w := tr.w
	scan := func(x uint64) int { // the number of CDF values (but the last) at or below u T
		v := float64(x) / (1 << 53) * w.sitCDF[len(w.sitCDF)-1]
		s := 0
		for _, c := range w.sitCDF[:len(w.sitCDF)-1] {
			if v >= c {
				s++
			}
		}
		return s
	}
	const top = 1<<53 - 1
	xs := []uint64{0, 1, top - 1, top}
	width := uint64(1) << 53 / uint64(len(w.sitStart))
	for j := uint64(0); j < uint64(len(w.sitStart)); j++ {
		xs = append(xs, j*width, j*width+1, (j+1)*width-1)
	}
	for _, th := range w.sitThresh {
		for _, x := range []uint64{th - 1, th, th + 1} {
			if x <= top {
				xs = append(xs, x)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		xs = append(xs, rng.Uint64()>>11)
	}
	for _, x := range xs {
		if got, want := w.sampleSituation(x), scan(x); got != want {
			t.Fatalf("sampleSituation(%d) = %d, a scan of the CDF gives %d", x, got, want)
		}
	}
}

// TestSampleIndex pins sampleIndex's count of partial sums to the first
// partial sum above u, on random distributions with zeros and on the u
// that land on a partial sum or next to it.
func TestSampleIndex(t *testing.T) {
	first := func(p []float64, u float64) int {
		c := 0.0
		for i, v := range p {
			c += v
			if u < c {
				return i
			}
		}
		return len(p) - 1
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 1; n <= 6; n++ {
		for range 2000 {
			p := make([]float64, n)
			sum := 0.0
			for i := range p {
				if rng.IntN(4) > 0 {
					p[i] = rng.Float64()
				}
				sum += p[i]
			}
			us := []float64{0, sum, math.Nextafter(sum, 0), rng.Float64() * sum, rng.Float64()}
			c := 0.0
			for _, v := range p {
				c += v
				us = append(us, c, math.Nextafter(c, 0), math.Nextafter(c, 2))
			}
			for _, u := range us {
				if got, want := sampleIndex(p, u), first(p, u); got != want {
					t.Fatalf("sampleIndex(%v, %v) = %d, the first partial sum above u is %d", p, u, got, want)
				}
			}
		}
	}
}
