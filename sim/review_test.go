package sim_test

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/rewardmix/rewardmix/sim"
)

// TestReviewLeavesTrainingAlone: the review and deployment draw from their
// own streams, so every metric at every step, the summary and the trained
// parameters are the same with the review on, off, or differently set.
func TestReviewLeavesTrainingAlone(t *testing.T) {
	on := preset(t, "incident")
	off := on.Clone()
	off.Review.Enabled = false
	other := preset(t, "incident-gated")
	other.Name = on.Name
	other.Review.AB.Comparisons, other.Review.Vibe.Testers = 17, 40
	a, b, c := run(t, on), run(t, off), run(t, other)
	if a.Review == nil || b.Review != nil {
		t.Fatalf("review on: %v, off: %v; want a review only when enabled", a.Review != nil, b.Review != nil)
	}
	for _, x := range []*sim.Result{b, c} {
		if !reflect.DeepEqual(a.Metrics, x.Metrics) || !reflect.DeepEqual(a.Values, x.Values) ||
			!reflect.DeepEqual(a.Summary, x.Summary) || !reflect.DeepEqual(a.Policy.Theta, x.Policy.Theta) {
			t.Error("training differs with other review settings")
		}
	}
}

// TestIncumbent: the incumbent is the policy evaluated at update_step-1,
// the candidate the final one.
func TestIncumbent(t *testing.T) {
	cfg := preset(t, "baseline")
	cfg.Train.Steps, cfg.Train.UpdateStep = 40, 20
	early := cfg.Clone()
	early.Train.Steps, early.Train.UpdateStep = 19, 19 // its final policy is the one evaluated at step 19
	full, cut := run(t, cfg), run(t, early)
	if !reflect.DeepEqual(full.Incumbent.Theta, cut.Policy.Theta) {
		t.Error("incumbent is not the policy at update_step-1")
	}
	if reflect.DeepEqual(full.Incumbent.Theta, full.Policy.Theta) {
		t.Error("incumbent is the candidate")
	}
}

// TestReviewIncident: the story of April 2025 on the preset's seed.
func TestReviewIncident(t *testing.T) {
	res := run(t, preset(t, "incident"))
	r, d := res.Review, res.Deployment
	gates := map[string]sim.Gate{}
	for _, g := range r.Gates {
		gates[g.Name] = g
	}
	for _, n := range []string{"offline_correctness", "behaviour_sycophancy", "ab_preference", "ab_thumbs_delta"} {
		if g := gates[n]; !g.Passed || !g.Blocking {
			t.Errorf("%s: passed %v blocking %v, want a passing blocking gate", n, g.Passed, g.Blocking)
		}
	}
	if !r.AB.Significant || r.AB.Preference <= 0.5 {
		t.Errorf("A/B preference %.3f significant %v, want significantly above 1/2", r.AB.Preference, r.AB.Significant)
	}
	if g := gates["vibe_checks"]; g.Blocking || g.Value < 1 || 2*g.Value >= float64(r.VibeChecks) {
		t.Errorf("vibe checks: %v of %d flagged, blocking %v; want an advisory minority", g.Value, r.VibeChecks, g.Blocking)
	}
	if _, ok := gates["sycophancy_memory"]; ok {
		t.Error("incident has a sycophancy eval")
	}
	if r.Decision != "launch" || d == nil {
		t.Fatalf("decision %q, want launch with a deployment", r.Decision)
	}
	// MISSION: detected after about two days, mitigation late Sunday, the
	// rollback started Monday and took about a day.
	if d.HoursToDetection < 36 || d.HoursToDetection > 72 {
		t.Errorf("detected at %.1f h, want about two days", d.HoursToDetection)
	}
	if got := d.HoursToRollbackDone - d.HoursToRollback; got != 24 {
		t.Errorf("rollback took %.1f h, want 24", got)
	}
	if !(d.HoursToMitigation > d.HoursToDetection && d.HoursToMitigation < d.HoursToRollback) {
		t.Errorf("mitigation at %.1f h, want between detection %.1f and rollback %.1f", d.HoursToMitigation, d.HoursToDetection, d.HoursToRollback)
	}
	// The vulnerable 2% get a larger share of sycophantic answers than of
	// responses.
	if v := d.Sycophantic["vulnerable"] / d.SycophanticTotal; v <= d.Served["vulnerable"]/(d.Served["typical"]+d.Served["expert"]+d.Served["vulnerable"]) {
		t.Errorf("vulnerable share of sycophantic responses %.4f, not above their share of traffic", v)
	}
}

// TestMitigationHelps: with a stronger system-prompt shift, fewer
// sycophantic responses are served before the rollback completes.
func TestMitigationHelps(t *testing.T) {
	res := run(t, preset(t, "incident"))
	cfg := preset(t, "incident")
	prev := math.Inf(1)
	for _, shift := range []float64{0, 1, 3} {
		cfg.Deployment.MitigationShift = shift
		_, d, err := res.Rejudge(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if d.SycophanticTotal >= prev {
			t.Errorf("shift %g: %.0f sycophantic responses, not fewer than with a weaker shift (%.0f)", shift, d.SycophanticTotal, prev)
		}
		prev = d.SycophanticTotal
	}
}

// TestAlphaCatchesIt: the opt-in alpha detects the drift before the wide
// rollout, and far fewer sycophantic responses reach vulnerable users.
func TestAlphaCatchesIt(t *testing.T) {
	inc, alpha := run(t, preset(t, "incident")), run(t, preset(t, "incident-alpha"))
	a, b := inc.Deployment, alpha.Deployment
	if !b.CaughtInAlpha || b.PeakExposure != preset(t, "incident-alpha").Deployment.AlphaShare {
		t.Errorf("alpha: caught in alpha %v, peak exposure %g; want caught at the alpha share", b.CaughtInAlpha, b.PeakExposure)
	}
	if r := b.Sycophantic["vulnerable"] / a.Sycophantic["vulnerable"]; r > 0.05 {
		t.Errorf("alpha serves vulnerable users %.3f of the incident's sycophantic responses, want < 0.05", r)
	}
	t.Logf("sycophantic responses to vulnerable users: incident %.0f, with alpha %.0f (%.1f%% fewer)",
		a.Sycophantic["vulnerable"], b.Sycophantic["vulnerable"], 100*(1-b.Sycophantic["vulnerable"]/a.Sycophantic["vulnerable"]))
}

// exactSize is the exact rejection probability of sim.PreferenceTest under
// H0 (won ~ Binomial(n, 1/2)).
func exactSize(n int, alpha float64) float64 {
	b := distuv.Binomial{N: float64(n), P: 0.5}
	size := 0.0
	for k := 0; k <= n; k++ {
		if _, _, _, sig := sim.PreferenceTest(k, n, alpha); sig {
			size += b.Prob(float64(k))
		}
	}
	return size
}

// TestABCalibrated: when the candidate is the incumbent, the A/B test's
// false-positive rate over many seeds is alpha up to binomial error. The
// null: one update at a learning rate so small that candidate and
// incumbent (the reference) agree to about 1e-9 in every logit, so that each
// comparison is won with probability 1/2 (by the symmetry of
// sigmoid(z_a - z_b)).
func TestABCalibrated(t *testing.T) {
	if testing.Short() {
		t.Skip("4000 runs")
	}
	cfg := preset(t, "baseline")
	cfg.Train.Steps, cfg.Train.UpdateStep = 1, 1
	cfg.Train.LearningRate = 1e-9
	cfg.Review.AB.Comparisons = 400
	cfg.Population.Users = 100 // only the A/B test matters here: keep the rest cheap
	cfg.Deployment.HorizonHours = 1
	const M = 4000 // seeds
	n, alpha := cfg.Review.AB.Comparisons, cfg.Review.AB.Alpha
	fp := 0
	for s := 0; s < M; s++ {
		cfg.Seed = uint64(1000 + s)
		r := run(t, cfg).Review
		if math.Abs(r.AB.ExactPref-0.5) > 1e-6 {
			t.Fatalf("seed %d: exact preference %.9f under the null, want 1/2", cfg.Seed, r.AB.ExactPref)
		}
		if r.AB.Significant {
			fp++
		}
	}
	size := exactSize(n, alpha)
	rate := float64(fp) / M
	// The test's exact size differs from alpha by its discreteness; the
	// observed rate differs from the size by binomial error over M seeds
	// (3.5 standard errors: a false alarm once in about 2000 runs).
	se := math.Sqrt(size * (1 - size) / M)
	t.Logf("false-positive rate %.4f over %d seeds; exact size %.4f at n = %d, alpha %g; se %.4f", rate, M, size, n, alpha, se)
	if math.Abs(rate-size) > 3.5*se {
		t.Errorf("false-positive rate %.4f, want the exact size %.4f within %.4f", rate, size, 3.5*se)
	}
	if math.Abs(size-alpha) > 0.01 {
		t.Errorf("exact size %.4f of the level-%g test is off by more than 0.01", size, alpha)
	}
}

// incidentSeeds trains the incident preset on seeds 1..n.
func incidentSeeds(t *testing.T, n int) []*sim.Result {
	t.Helper()
	out := make([]*sim.Result, n)
	err := sim.RunAll(t.Context(), n, 8, func(i int) (*sim.Config, error) {
		c := preset(t, "incident")
		c.Seed = uint64(i + 1)
		return c, nil
	}, func(i int, res *sim.Result, err error) error {
		out[i] = res
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// launches counts the runs that cfg's review lets launch; cfg differs from
// the incident preset only in [review] and [deployment] (and the seed,
// which each run sets).
func launches(t *testing.T, runs []*sim.Result, cfg *sim.Config) int {
	t.Helper()
	k := 0
	for i, res := range runs {
		c := cfg.Clone()
		c.Seed = uint64(i + 1)
		r, _, err := res.Rejudge(c)
		if err != nil {
			t.Fatal(err)
		}
		if r.Launched() {
			k++
		}
	}
	return k
}

// TestLaunchShares: over 100 seeds (training and review noise both vary),
// the incident's review launches in most and the post-incident review
// blocks in most; and launches fall monotonically as vibe checks are added
// (when they block) or made blocking.
func TestLaunchShares(t *testing.T) {
	const n = 100
	runs := incidentSeeds(t, n)
	inc := preset(t, "incident")
	gated := preset(t, "incident-gated")
	gated.Name, gated.Description = inc.Name, inc.Description
	li, lg := launches(t, runs, inc), launches(t, runs, gated)
	t.Logf("launch share over %d seeds: incident %d%%, incident-gated %d%%", n, 100*li/n, 100*lg/n)
	if 2*li <= n {
		t.Errorf("incident launches in %d of %d seeds, want most", li, n)
	}
	if 2*lg >= n {
		t.Errorf("incident-gated launches in %d of %d seeds, want few", lg, n)
	}

	// Vibe checks only: every other gate passes or is off.
	vibe := inc.Clone()
	vibe.Review.Vibe.Blocking = true
	prev := n + 1
	var seq []int
	for k := 0; k <= 10; k += 2 {
		vibe.Review.Vibe.Testers = k
		l := launches(t, runs, vibe)
		seq = append(seq, l)
		if l > prev {
			t.Errorf("%d blocking vibe checks: %d launches, more than with fewer checks (%d)", k, l, prev)
		}
		prev = l
	}
	t.Logf("launches with 0, 2, ..., 10 blocking vibe checks: %v", seq)
	if seq[0] != li || seq[len(seq)-1] >= seq[0] {
		t.Errorf("launches %v: want %d without vibe checks and fewer with ten", seq, li)
	}
	vibe.Review.Vibe.Testers = inc.Review.Vibe.Testers
	if l := launches(t, runs, vibe); l >= li {
		t.Errorf("making the %d vibe checks blocking: %d launches, want fewer than %d", inc.Review.Vibe.Testers, l, li)
	}
}

// TestThumbsGateCalibrated: at a true difference exactly at the margin the
// non-inferiority gate fails with probability alpha (one-sided); for an
// identical candidate it fails much less often. Tolerances are 4 binomial
// standard errors of the simulated rate.
func TestThumbsGateCalibrated(t *testing.T) {
	const n, reps, alpha, margin = 2000, 4000, 0.05, -0.01
	rng := rand.New(rand.NewPCG(7, 7))
	draw := func(p float64) float64 {
		k := 0
		for i := 0; i < n; i++ {
			if rng.Float64() < p {
				k++
			}
		}
		return float64(k) / n
	}
	rate := func(pc, pi float64) float64 {
		fails := 0
		for r := 0; r < reps; r++ {
			if sim.ThumbsInferior(draw(pc), draw(pi), n, margin, alpha) {
				fails++
			}
		}
		return float64(fails) / reps
	}
	se := math.Sqrt(alpha * (1 - alpha) / reps)
	if got := rate(0.79, 0.80); math.Abs(got-alpha) > 4*se {
		t.Errorf("at the margin the gate fails %.4f of the time, want %.2f +- %.4f", got, alpha, 4*se)
	}
	if got := rate(0.80, 0.80); got > alpha/2 {
		t.Errorf("an identical candidate fails %.4f of the time, want well under %.2f", got, alpha)
	}
}
