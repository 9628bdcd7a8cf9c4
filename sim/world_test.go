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
