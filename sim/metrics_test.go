package sim

import (
	"math"
	"testing"

	"github.com/rewardmix/rewardmix/sim/internal/vmath"
)

// bruteMetrics computes, user by user and situation by situation with a softmax of
// the logits themselves, what evaluate factorises: the sycophancy rate per
// segment, each response's share, each signal's mean reward and the KL to
// the reference, all averaged over users.
func bruteMetrics(tr *trainer) (sycSeg, share, rew []float64, kl float64) {
	w := tr.w
	A := len(w.responses)
	sycSeg = make([]float64, len(w.segments))
	share = make([]float64, A)
	rew = make([]float64, len(w.sigs))
	logits := make([]float64, A)
	for u, s := range w.userSeg {
		m := tr.mem[u]
		for st, ps := range w.sitProb {
			tr.pol.Logits(logits, tr.context(w.sitCell[st], m))
			mx := maxOf(logits)
			sum := 0.0
			for _, l := range logits {
				sum += math.Exp(l - mx)
			}
			lse := mx + math.Log(sum)
			for a, l := range logits {
				p := math.Exp(l - lse)
				P := ps * p
				sycSeg[s] += P * w.outcome[w.sitTruth[st]][s][a].Sycophantic
				share[a] += P
				for i := range w.sigs {
					r0, slope := w.signalRewards(st, s)
					rew[i] += P * (r0[i*A+a] + m*slope[i*A+a])
				}
				kl += P * (l - lse - tr.logRef[a])
			}
		}
	}
	N := float64(len(w.userSeg))
	for s := range sycSeg {
		sycSeg[s] /= float64(w.segUsers[s])
	}
	for a := range share {
		share[a] /= N
	}
	for i := range rew {
		rew[i] /= N
	}
	return sycSeg, share, rew, kl / N
}

// CheckEvaluateForTest checks evaluate's factorised sums against a
// softmax per user and cell: after training with memory, and with logits
// so extreme that for some users the factorisation underflows and cells
// are taken directly.
// (The test is TestEvaluateMatchesBruteForce in sim_test, which can load
// the preset.)
func (tr *trainer) CheckEvaluateForTest(t *testing.T) {
	T := tr.cfg.Train.UpdateStep
	row := make([]float64, len(tr.idx.names))
	for k := 0; k < 40; k++ {
		tr.step(T+k, row, true)
	}
	A := len(tr.w.responses)
	extreme := func() {
		// Cell 1 puts response 0 700 nats above the rest, memory puts
		// response 1 1000 nats above the rest per unit of stance.
		th := tr.pol.Theta
		th[1*A+0] += 700
		off := tr.pol.Dim() - A
		th[off+1] += 1000
		for u := range tr.mem {
			tr.mem[u] = float64(u%3) / 2 // 0, 0.5, 1
		}
	}
	for _, tc := range []struct {
		name    string
		prepare func()
		direct  bool // some cells must go the direct way
	}{
		{"trained", func() {}, false},
		{"extreme", extreme, true},
		// Cell logits of 1e30 (an SGD step of learning rate 1e30): the
		// policy is one response in those cells for every user, and the KL
		// must not cancel to 0 (it did: the logits entered it unshifted).
		{"huge", func() {
			tr.pol.Theta[2*A+3] = 1e30
			tr.pol.Theta[3*A+0] = -1e30
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.prepare()
			step := T + 40
			tr.evaluate(row, step)
			sycSeg, share, rew, kl := bruteMetrics(tr)
			ix := &tr.idx
			check := func(name string, got, want float64) {
				t.Helper()
				if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) || math.IsNaN(got) {
					t.Errorf("%s = %.17g, brute force %.17g", name, got, want)
				}
			}
			for s, n := range tr.w.segments {
				check("sycophancy_rate/"+n, row[ix.sycSeg+s], sycSeg[s])
			}
			for a, n := range tr.w.responses {
				check("response_share/"+n, row[ix.share+a], share[a])
			}
			for i, n := range tr.w.signals {
				check("reward/"+n, row[ix.rew+i], rew[i])
			}
			check("kl", row[ix.kl], kl)
			// Whether the direct path ran: some Z_uc below the threshold.
			direct := false
			e := &tr.eval
			for u := range tr.w.userSeg {
				for c := range tr.w.cellProb {
					z := 0.0
					for a := 0; a < A; a++ {
						z += e.cellExp[c][a] * e.userExp[u*A+a]
					}
					direct = direct || !(z > vmath.MinSum)
				}
			}
			if direct != tc.direct {
				t.Errorf("direct softmax used: %v, want %v", direct, tc.direct)
			}
			// The training step's reuse of the factors gives the same
			// probabilities as the policy.
			probs, reusedP, reusedL := make([]float64, A), make([]float64, A), make([]float64, A)
			tr.curStep = step
			reused := 0
			for _, u := range []int{0, 1, 2, 250} {
				m := tr.mem[u]
				for c := range tr.w.cellProb {
					if !tr.probsFromEvaluation(reusedP, reusedL, u, c, m) {
						continue
					}
					reused++
					tr.pol.Probs(probs, tr.context(c, m))
					for a := range probs {
						if math.Abs(probs[a]-reusedP[a]) > 1e-13 {
							t.Errorf("user %d cell %d: reused pi_%d %v, policy %v", u, c, a, reusedP[a], probs[a])
						}
					}
				}
			}
			if reused == 0 {
				t.Error("the training step reused no factors of the evaluation: the check above checked nothing")
			}
		})
	}
}

// CheckAllProbsForTest checks the judge's all-users softmax against its
// one-prompt softmax, with and without memory and a mitigation shift.
func (r *Result) CheckAllProbsForTest(t *testing.T) {
	j := newJudge(r.world, r.Policy, r.Incumbent, r.mem)
	w := r.world
	A, C := len(w.responses), len(w.cellProb)
	want := make([]float64, A)
	for _, shift := range []float64{0, 1.5} {
		for _, withMem := range []bool{false, true} {
			all := j.allProbs(r.Policy, shift, withMem)
			for u := range w.userSeg {
				m := 0.0
				if withMem {
					m = j.userMem(u)
				}
				for c := 0; c < C; c++ {
					j.probs(want, r.Policy, c, m, shift)
					for a := range want {
						if got := all[(u*C+c)*A+a]; math.Abs(got-want[a]) > 1e-13 {
							t.Fatalf("shift %v memory %v user %d cell %d: pi_%d = %v, one prompt at a time %v", shift, withMem, u, c, a, got, want[a])
						}
					}
				}
			}
		}
	}
	if r.mem == nil {
		t.Fatal("no memory: the check needs a run with memory")
	}
}
