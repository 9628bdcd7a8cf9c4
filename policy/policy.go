package policy

import (
	"fmt"
	"math"
)

// Features describes the feature map phi(x, a). The feature vector is the
// concatenation of up to three blocks:
//
//   - tabular: one-hot(cell) x one-hot(action), Cells*Actions features, which
//     makes the policy a free table of logits per cell (the tabular special case);
//   - traits: one-hot(cell) x traits(action), Cells*len(Traits[0]) features,
//     which shares what is learnt between responses with similar traits;
//   - memory: memory(x) x one-hot(action), MemoryDim*Actions features, through
//     which the policy can condition on what memory holds about the user.
type Features struct {
	Cells   int         // number of discrete context cells
	Actions int         // number of responses
	Tabular bool        // include the tabular block
	Traits  [][]float64 // Actions x T trait matrix; nil or empty for no traits block
	// MemoryDim is the length of Context.Memory; 0 for no memory block.
	MemoryDim int
	// Prior holds the reference logits per action (length Actions); nil means
	// a uniform reference policy.
	Prior []float64
}

// Context is what the policy observes: a discrete cell and a memory vector.
type Context struct {
	Cell   int
	Memory []float64 // length Features.MemoryDim
}

// Policy is a log-linear softmax policy. Theta is exported so that trainers
// can update it in place; its length is Features.Dim().
type Policy struct {
	F     Features
	Theta []float64

	nTraits int
	offTr   int // offset of the traits block
	offMem  int // offset of the memory block
	dim     int
}

// New returns the reference policy (theta = 0) for the feature map f. It
// panics if f is malformed; f comes from validated configuration.
func New(f Features) *Policy {
	if f.Cells <= 0 || f.Actions <= 0 {
		panic("policy: need at least one cell and one action")
	}
	if f.Prior != nil && len(f.Prior) != f.Actions {
		panic("policy: prior length mismatch")
	}
	p := &Policy{F: f}
	if len(f.Traits) > 0 {
		if len(f.Traits) != f.Actions {
			panic("policy: traits must have one row per action")
		}
		p.nTraits = len(f.Traits[0])
		for _, row := range f.Traits {
			if len(row) != p.nTraits {
				panic("policy: ragged traits matrix")
			}
		}
	}
	d := 0
	if f.Tabular {
		d = f.Cells * f.Actions
	}
	p.offTr = d
	d += f.Cells * p.nTraits
	p.offMem = d
	d += f.MemoryDim * f.Actions
	p.dim = d
	p.Theta = make([]float64, d)
	return p
}

// Dim returns the number of parameters.
func (p *Policy) Dim() int { return p.dim }

// Clone returns a deep copy of p (sharing the immutable feature description).
func (p *Policy) Clone() *Policy {
	q := *p
	q.Theta = append([]float64(nil), p.Theta...)
	return &q
}

func (p *Policy) check(x Context) {
	if x.Cell < 0 || x.Cell >= p.F.Cells {
		panic(fmt.Sprintf("policy: cell %d out of range [0,%d)", x.Cell, p.F.Cells))
	}
	if len(x.Memory) < p.F.MemoryDim {
		panic("policy: memory vector too short")
	}
}

// Phi writes the dense feature vector phi(x, a) into dst (length Dim()).
// It exists for tests and tools; the hot paths use Logits and AddScore.
func (p *Policy) Phi(dst []float64, x Context, a int) {
	p.check(x)
	for i := range dst[:p.dim] {
		dst[i] = 0
	}
	A := p.F.Actions
	if p.F.Tabular {
		dst[x.Cell*A+a] = 1
	}
	if p.nTraits > 0 {
		copy(dst[p.offTr+x.Cell*p.nTraits:], p.F.Traits[a])
	}
	for j := 0; j < p.F.MemoryDim; j++ {
		dst[p.offMem+j*A+a] = x.Memory[j]
	}
}

// Logits writes prior_a + theta . phi(x, a) for every action into dst.
func (p *Policy) Logits(dst []float64, x Context) {
	p.check(x)
	A := p.F.Actions
	dst = dst[:A]
	if p.F.Prior != nil {
		copy(dst, p.F.Prior)
	} else {
		for a := range dst {
			dst[a] = 0
		}
	}
	th := p.Theta
	if p.F.Tabular {
		row := th[x.Cell*A : x.Cell*A+A]
		for a, v := range row {
			dst[a] += v
		}
	}
	if p.nTraits > 0 {
		w := th[p.offTr+x.Cell*p.nTraits : p.offTr+(x.Cell+1)*p.nTraits]
		for a, tr := range p.F.Traits {
			s := 0.0
			for t, v := range tr {
				s += w[t] * v
			}
			dst[a] += s
		}
	}
	for j := 0; j < p.F.MemoryDim; j++ {
		m := x.Memory[j]
		if m == 0 {
			continue
		}
		row := th[p.offMem+j*A : p.offMem+j*A+A]
		for a, v := range row {
			dst[a] += m * v
		}
	}
}

// Probs writes pi(.|x) into dst.
func (p *Policy) Probs(dst []float64, x Context) {
	p.Logits(dst, x)
	Softmax(dst[:p.F.Actions])
}

// RefProbs writes the reference policy pi_ref(.|x) = softmax(prior) into dst.
// The reference does not depend on x because theta_ref = 0.
func (p *Policy) RefProbs(dst []float64) {
	A := p.F.Actions
	if p.F.Prior == nil {
		for a := 0; a < A; a++ {
			dst[a] = 1 / float64(A)
		}
		return
	}
	copy(dst[:A], p.F.Prior)
	Softmax(dst[:A])
}

// AddScore adds sum_a coef[a] * phi(x, a) to grad. With
// coef[a] = pi(a|x) * (v[a] - sum_b pi(b|x) v[b]) (see ScoreCoef) this adds
// the gradient of E_pi[v] with respect to theta.
func (p *Policy) AddScore(grad []float64, x Context, coef []float64) {
	p.check(x)
	A := p.F.Actions
	coef = coef[:A]
	p.addCellScore(grad, x.Cell, coef)
	for j := 0; j < p.F.MemoryDim; j++ {
		m := x.Memory[j]
		if m == 0 {
			continue
		}
		row := grad[p.offMem+j*A : p.offMem+j*A+A]
		for a, c := range coef {
			row[a] += m * c
		}
	}
}

// addCellScore adds the blocks of sum_a coef[a] phi(x, a) that depend on
// the cell only (tabular and traits).
func (p *Policy) addCellScore(grad []float64, cell int, coef []float64) {
	A := p.F.Actions
	if p.F.Tabular {
		row := grad[cell*A : cell*A+A]
		for a, c := range coef {
			row[a] += c
		}
	}
	if p.nTraits > 0 {
		g := grad[p.offTr+cell*p.nTraits : p.offTr+(cell+1)*p.nTraits]
		for a, tr := range p.F.Traits {
			c := coef[a]
			if c == 0 {
				continue
			}
			for t, v := range tr {
				g[t] += c * v
			}
		}
	}
}

// AddScoreSums adds sum_n coef_n . phi(x_n) over a batch of contexts x_n,
// given the batch's coefficients summed by cell, cellCoef[c] = sum of
// coef_n over the x_n in cell c, and weighted by memory, memCoef[j] = sum
// of x_n.Memory[j] coef_n. It equals calling AddScore for every x_n (up to
// the order of the additions) at the cost of one call per cell, because
// phi is linear in the coefficients and the memory block in the memory.
func (p *Policy) AddScoreSums(grad []float64, cellCoef, memCoef [][]float64) {
	if len(cellCoef) != p.F.Cells || len(memCoef) < p.F.MemoryDim {
		panic("policy: AddScoreSums: need a row per cell and per memory component")
	}
	for c, coef := range cellCoef {
		p.addCellScore(grad, c, coef[:p.F.Actions])
	}
	A := p.F.Actions
	for j := 0; j < p.F.MemoryDim; j++ {
		row := grad[p.offMem+j*A : p.offMem+j*A+A]
		for a, c := range memCoef[j][:A] {
			row[a] += c
		}
	}
}

// ScoreCoef writes dst[a] = probs[a] * (v[a] - sum_b probs[b] v[b]), the
// coefficients for which AddScore yields the gradient of E_pi[v], and returns
// E_pi[v].
func ScoreCoef(dst, probs, v []float64) float64 {
	mean := 0.0
	for a, pa := range probs {
		mean += pa * v[a]
	}
	for a, pa := range probs {
		dst[a] = pa * (v[a] - mean)
	}
	return mean
}

// Softmax replaces x by softmax(x) in place, shifting by the maximum.
func Softmax(x []float64) {
	m := math.Inf(-1)
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	s := 0.0
	for i, v := range x {
		e := math.Exp(v - m)
		x[i] = e
		s += e
	}
	inv := 1 / s
	for i := range x {
		x[i] *= inv
	}
}

// KL returns KL(p || q) = sum_a p_a log(p_a / q_a), treating 0 log 0 as 0.
func KL(p, q []float64) float64 {
	s := 0.0
	for a, pa := range p {
		if pa > 0 {
			s += pa * math.Log(pa/q[a])
		}
	}
	return s
}

// KLCoef writes the coefficients for which AddScore yields the gradient of
// KL(pi(.|x) || ref) with respect to theta, and returns the KL. With
// v_a = log(pi_a/ref_a) the gradient is sum_a pi_a (v_a - KL) phi_a (the
// term sum_a pi_a grad log pi_a vanishes).
func KLCoef(dst, probs, ref []float64) float64 {
	kl := 0.0
	for a, pa := range probs {
		v := 0.0
		if pa > 0 {
			v = math.Log(pa / ref[a])
		}
		dst[a] = v
		kl += pa * v
	}
	for a, pa := range probs {
		dst[a] = pa * (dst[a] - kl)
	}
	return kl
}
