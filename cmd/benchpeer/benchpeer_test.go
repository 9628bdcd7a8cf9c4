package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/policy"
	"github.com/rewardmix/rewardmix/sim"
)

// shortIncident is the incident preset, in the peers' case (peerCase), on a
// 60-step horizon with the update (thumbs, memory signal, memory, and the
// first deployment) at step 30.
func shortIncident(t *testing.T) *sim.Config {
	t.Helper()
	cfg, err := configs.Preset("incident")
	if err != nil {
		t.Fatal(err)
	}
	peerCase(cfg)
	cfg.Train.Steps, cfg.Train.UpdateStep, cfg.Memory.StartStep = 60, 30, 30
	for _, n := range []string{"thumbs", "memory"} {
		s := cfg.Signals[n]
		s.StartStep = 30
		cfg.Signals[n] = s
	}
	return cfg
}

// TestPeersAgree replays the prompts of Go runs, and the stances their
// deployments left, through the three NumPy peers and requires every metric
// at every step and the final theta to match within Tolerance: perrun.py on
// the first config of each case, sweep_basic.py and sweep.py on all of them
// at once (2 processes). The sweep peers also replay the outcomes of the
// review's draws, and their release reviews and deployments must match Go's
// within Tolerance (relative to the value where it exceeds 1), Go's exact
// A/B preference lie within PrefZ standard errors of their population mean.
// Every config is in peerCase. Without numpy it skips, except under CI,
// where it fails.
func TestPeersAgree(t *testing.T) {
	needNumpy(t)
	withThumbs := func(base *sim.Config, weights ...float64) []*sim.Config {
		var cfgs []*sim.Config
		for i, w := range weights {
			c := base.Clone()
			s := c.Signals["thumbs"]
			s.Weight = w
			c.Signals["thumbs"] = s
			c.Seed = uint64(i + 1)
			cfgs = append(cfgs, c)
		}
		return cfgs
	}
	baseline, err := configs.Preset("baseline")
	if err != nil {
		t.Fatal(err)
	}
	peerCase(baseline)
	baseline.Train.Steps, baseline.Train.UpdateStep = 40, 20
	sgd := shortIncident(t)
	sgd.Train.Optimizer, sgd.Train.Weights, sgd.Train.LearningRate, sgd.Train.BatchSize = "sgd", "absolute", 0.5, 16
	// Three deployments (steps 30, 40, 50), the reference policy serving them.
	sgd.Feedback.Rounds, sgd.Feedback.LogPolicy = 3, sim.LogReference
	rounds := shortIncident(t)
	rounds.Feedback.Rounds, rounds.Feedback.LogSize = 4, 300 // steps 30, 37, 45, 52; some users not served
	// The post-incident review with the sycophancy eval (incident-gated),
	// with a strong thumbs weight: it blocks some launches.
	gated := shortIncident(t)
	gated.Review.Rule, gated.Review.Sycophancy.Enabled = sim.RulePostIncident, true
	for _, c := range []struct {
		name string
		cfgs []*sim.Config
	}{
		// The incident path, with thumbs weights 2, 0 and 4.75 and three seeds.
		{"incident", withThumbs(shortIncident(t), 2, 0, 4.75)},
		// No memory block, no memory metrics.
		{"baseline", []*sim.Config{baseline}},
		// Plain gradient ascent, absolute weights, a small batch (users drawn twice).
		{"sgd-absolute", withThumbs(sgd, 1, 3)},
		// Deployments that the current policy serves, between training steps.
		{"rounds", withThumbs(rounds, 2, 1)},
		// Seven gates, the post-incident rule, blocked and launched candidates.
		{"gated", withThumbs(gated, 0, 6)},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, cfg := range c.cfgs {
				if err := cfg.Validate(); err != nil {
					t.Fatal(err)
				}
			}
			res, err := sim.Run(context.Background(), c.cfgs[0])
			if err != nil {
				t.Fatal(err)
			}
			perRun := len(res.Values)*len(res.Metrics) + len(res.Policy.Theta) // values compared per run
			ag, err := agreement(context.Background(), Python, c.cfgs, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			// The review's values compared per run: every output of
			// review.py but the exact preference (twice) and the two population
			// figures (reviewValues).
			perReview := 0
			if res.Review != nil {
				segs, gates := len(res.Summary.Segments), len(res.Review.Gates)
				perReview = 4 + segs + 1 + 4*gates + 10 + 9 + 2*segs - 4
				if ag.prefZ > PrefZ {
					t.Errorf("Go's exact A/B preference is %.2f standard errors from the peers' population mean, want <= %g", ag.prefZ, PrefZ)
				}
			}
			for _, p := range []struct {
				name string
				d    diff
				want int
			}{
				{"perrun.py", ag.perrun, perRun},
				{"sweep_basic.py", ag.basic, len(c.cfgs) * perRun},
				{"sweep.py", ag.sweep, len(c.cfgs) * perRun},
				{"sweep_basic.py review", ag.basicReview, len(c.cfgs) * perReview},
				{"sweep.py review", ag.sweepReview, len(c.cfgs) * perReview},
			} {
				if p.d.n != p.want {
					t.Errorf("%s: compared %d values, want %d", p.name, p.d.n, p.want)
				}
				if !(p.d.max <= Tolerance) {
					t.Errorf("%s: max |Go - peer| = %g at %s, want <= %g", p.name, p.d.max, p.d.where, Tolerance)
				}
				t.Logf("%s: max |Go - peer| = %.3g over %d values", p.name, p.d.max, p.d.n)
			}
		})
	}
}

// needNumpy skips the test when Python cannot import numpy, except under
// CI, where it fails.
func needNumpy(t *testing.T) {
	t.Helper()
	if err := numpyMissing(Python); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("skipping the NumPy peers: %v (apt-get install -y python3-numpy; under CI this fails)", err)
		}
		t.Fatalf("CI is set and the NumPy peers cannot run: %v", err)
	}
}

// TestPeerDeploys checks the deployments the peers simulate for their
// timings, with their own random numbers (they cannot replay Go's), against
// Go's in distribution: the mean remembered stance of each segment after the
// first deployment, with two conversations per user on average so that it
// depends on how many each user has and not only on the targets. Means are
// required within 4 standard errors, from the spread over runs.
//
// Served by the reference policy, a deployment does not depend on training:
// 100 Go runs (seeds 1 to 100) are compared with 100 peer runs. Served by
// the current policy, 100 peer runs replay one Go run's prompts, so that
// their policy at the deployment is the same, and that Go run is one more
// draw. (A rate 5% off moves the means about 5 standard errors.)
func TestPeerDeploys(t *testing.T) {
	needNumpy(t)
	const runs, z = 100, 4.0
	ctx := context.Background()
	for _, lp := range []sim.LogPolicy{sim.LogReference, sim.LogCurrent} {
		t.Run(string(lp), func(t *testing.T) {
			cfg := shortIncident(t)
			cfg.Feedback.LogPolicy, cfg.Feedback.LogSize = lp, 1000
			cfg.Review.Enabled = false // it judges the trained policy, after training
			step := cfg.Deployments()[0]
			dir := t.TempDir()
			res, err := goRun(ctx, cfg, dir)
			if err != nil {
				t.Fatal(err)
			}
			var mems []int // the memory metrics
			for k, name := range res.Metrics {
				if strings.HasPrefix(name, "memory/") {
					mems = append(mems, k)
				}
			}
			if len(mems) == 0 {
				t.Fatal("no memory metrics")
			}
			goVals := [][]float64{res.Values[step]}
			args := []string{"--config"}
			for range runs {
				args = append(args, filepath.Join(dir, "config.toml"))
			}
			if lp == sim.LogCurrent {
				args = append(args, "--prompts", filepath.Join(dir, "prompts.bin"))
			} else {
				for seed := 2; seed <= runs; seed++ {
					c := cfg.Clone()
					c.Seed = uint64(seed)
					r, err := sim.Run(ctx, c)
					if err != nil {
						t.Fatal(err)
					}
					goVals = append(goVals, r.Values[step])
				}
			}
			out := filepath.Join(dir, "peer")
			if _, err := runPeer(ctx, Python, "sweep.py", append(args, "--workers", "2", "--out", out)...); err != nil {
				t.Fatal(err)
			}
			outs, _, err := readPeerOutput(out, runs, cfg.Train.Steps, res.Metrics, len(res.Policy.Theta))
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range mems {
				var g, p []float64
				for _, row := range goVals {
					g = append(g, row[k])
				}
				for _, o := range outs {
					p = append(p, o.values[step][k])
				}
				gm, gsd := stat.MeanStdDev(g, nil)
				pm, psd := stat.MeanStdDev(p, nil)
				if len(g) == 1 {
					gsd = psd // one Go run: a draw from the peer's spread, if they agree
				}
				se := math.Sqrt(gsd*gsd/float64(len(g)) + psd*psd/runs)
				msg := fmt.Sprintf("%s after the deployment of step %d: Go %.5f (%d runs), peer %.5f +- %.2g (sd over %d runs): %.1f standard errors apart",
					res.Metrics[k], step, gm, len(g), pm, psd, runs, math.Abs(gm-pm)/se)
				if !(math.Abs(gm-pm) <= z*se) {
					t.Error(msg)
				} else {
					t.Log(msg)
				}
			}
		})
	}
}

// TestCompare checks that the comparison finds a difference, a NaN on one
// side only, and names where it is.
func TestCompare(t *testing.T) {
	res := &sim.Result{
		Metrics: []string{"a", "b"},
		Values:  [][]float64{{1, 2}, {3, 4}},
		Policy:  &policy.Policy{Theta: []float64{0.5, -0.5}},
	}
	same := peerOutput{values: [][]float64{{1, 2}, {3, 4}}, theta: []float64{0.5, -0.5}}
	for _, c := range []struct {
		name  string
		edit  func(o *peerOutput)
		max   float64
		where string
	}{
		{"equal", func(o *peerOutput) {}, 0, ""},
		{"metric", func(o *peerOutput) { o.values[1][0] += 1e-8 }, 1e-8, "a at step 1"},
		{"theta", func(o *peerOutput) { o.theta[1] -= 2e-9 }, 2e-9, "theta[1]"},
		{"nan", func(o *peerOutput) { o.values[0][1] = math.NaN() }, math.Inf(1), "b at step 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := peerOutput{theta: slices.Clone(same.theta)}
			for _, row := range same.values {
				o.values = append(o.values, slices.Clone(row))
			}
			c.edit(&o)
			d := compare(res, o)
			if d.n != 6 {
				t.Errorf("compared %d values, want 6", d.n)
			}
			if math.Abs(d.max-c.max) > 1e-15 && d.max != c.max {
				t.Errorf("max = %g, want %g", d.max, c.max)
			}
			if c.where != "" && d.where != c.where {
				t.Errorf("where = %q, want %q", d.where, c.where)
			}
		})
	}
}
