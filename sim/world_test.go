package sim

import (
	"math"
	"math/rand/v2"
	"testing"
)

// CheckSampleSituationForTest pins sampleSituation's bucketed search to a
// scan of the whole CDF, on random draws, on every bucket's ends and on
// the draws that land on a CDF value.
func (tr *trainer) CheckSampleSituationForTest(t *testing.T) {
	t.Helper()
	w := tr.w
	scan := func(u float64) int { // the number of CDF values (but the last) at or below u T
		u *= w.sitCDF[len(w.sitCDF)-1]
		s := 0
		for _, v := range w.sitCDF[:len(w.sitCDF)-1] {
			if u >= v {
				s++
			}
		}
		return s
	}
	K := float64(len(w.sitStart))
	us := []float64{0, math.Nextafter(1, 0), math.NaN(), -0.5, 1}
	for j := 0.0; j < K; j++ {
		us = append(us, j/K, math.Nextafter(j/K, 0), math.Nextafter(j/K, 1))
	}
	for _, v := range w.sitCDF {
		u := v / w.sitCDF[len(w.sitCDF)-1]
		us = append(us, u, math.Nextafter(u, 0), math.Nextafter(u, 1))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		us = append(us, rng.Float64())
	}
	for _, u := range us {
		if got, want := w.sampleSituation(u), scan(u); got != want {
			t.Fatalf("sampleSituation(%v) = %d, a scan of the CDF gives %d", u, got, want)
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
