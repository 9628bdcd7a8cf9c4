package reward

import "testing"

func BenchmarkAggregatorAdd(b *testing.B) {
	const S, A = 4, 4
	r, v, dst := grid(S, A), grid(S, A), grid(S, A)
	for i := range r {
		for a := range r[i] {
			r[i][a], v[i][a] = float64(i*A+a)*0.1, 0.05
		}
	}
	p := []float64{0.1, 0.2, 0.3, 0.4}
	for _, agg := range Aggregations {
		b.Run(string(agg), func(b *testing.B) {
			g := NewAggregator(agg, ScaleGroup, S)
			g.Reset([]float64{0.2, 0.2, 0.4, 0.2})
			for b.Loop() {
				g.Add(dst, r, v, p, 1)
			}
		})
	}
}
