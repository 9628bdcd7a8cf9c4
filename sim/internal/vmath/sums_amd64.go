//go:build amd64 && !purego

package vmath

// sumsAVX2 is NormalizedSums for A = 4, as sumsGo does it, in blocks of
// len(zbuf)/len(prod) rows.
func sumsAVX2(f, m, e, mass, moment, prod []float64, exp []int64, zbuf []float64) int {
	rows := len(zbuf) / len(prod)
	for u := 0; u < len(m); {
		n := min(rows, len(m)-u)
		done := sumsBlockAVX2(f[4*u:4*(u+n)], m[u:u+n], e, mass, moment, prod, exp, zbuf)
		u += done
		if done < n {
			return u
		}
	}
	return len(m)
}

// sumsBlockAVX2 is sumsAVX2 for len(m) rows at most len(zbuf)/len(prod).
//
//go:noescape
func sumsBlockAVX2(f, m, e, mass, moment, prod []float64, exp []int64, zbuf []float64) int

// sumsAVX512 is sumsAVX2 for two groups (prod of eight), both at once and
// every row in one pass (zbuf is not needed).
func sumsAVX512(f, m, e, mass, moment, prod []float64, exp []int64, zbuf []float64) int {
	return sumsBlockAVX512(f[:4*len(m)], m, e, mass, moment, prod, exp)
}

// sumsBlockAVX512 is sumsAVX512's body: it returns the rows done, len(m)
// or the first whose z underflows.
//
//go:noescape
func sumsBlockAVX512(f, m, e, mass, moment, prod []float64, exp []int64) int
