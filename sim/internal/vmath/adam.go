package vmath

import "math"

// AdamCoefs are the numbers of one Adam step (Kingma and Ba 2015,
// algorithm 1): the moments' decay rates B1 and B2 and their complements
// 1-B1 and 1-B2 (given, not computed here, so that a caller's constants
// keep the exact values their constant expressions have), the learning
// rate, the bias corrections C1 = 1 - B1^t and C2 = 1 - B2^t of step t,
// and Eps. The assembly reads them in this order.
type AdamCoefs struct {
	B1, OneMinusB1, B2, OneMinusB2, LR, C1, C2, Eps float64
}

// AdamStep takes one Adam step of x up the gradient g, updating the
// moment estimates m and v in place: for every j,
//
//	m_j = B1 m_j + (1-B1) g_j
//	v_j = B2 v_j + ((1-B2) g_j) g_j
//	x_j = x_j + (LR (m_j / C1)) / (sqrt(v_j / C2) + Eps)
//
// each product, quotient and sum rounded as written (none fused). It
// panics if x, m and v are not as long as g.
func AdamStep(x, m, v, g []float64, k *AdamCoefs) {
	if len(x) != len(g) || len(m) != len(g) || len(v) != len(g) {
		panic("vmath: AdamStep: x, m, v and g must be as long")
	}
	n := 0
	if useAVX512 {
		n = len(g) &^ 7
		if n > 0 {
			adamAVX512(x[:n], m[:n], v[:n], g[:n], k)
		}
	}
	if useAVX2 {
		k4 := n + (len(g)-n)&^3
		if k4 > n {
			adamAVX2(x[n:k4], m[n:k4], v[n:k4], g[n:k4], k)
		}
		n = k4
	}
	adamGo(x[n:], m[n:], v[n:], g[n:], k)
}

func adamGo(x, m, v, g []float64, k *AdamCoefs) {
	for j, gj := range g {
		mj := float64(k.B1*m[j]) + float64(k.OneMinusB1*gj)
		vj := float64(k.B2*v[j]) + float64(float64(k.OneMinusB2*gj)*gj)
		m[j], v[j] = mj, vj
		x[j] += float64(k.LR*(mj/k.C1)) / (math.Sqrt(vj/k.C2) + k.Eps)
	}
}
