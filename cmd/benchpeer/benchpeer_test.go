package main

import (
	"context"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/policy"
	"github.com/rewardmix/rewardmix/sim"
)

// shortIncident is the incident preset on a 60-step horizon with the update
// (thumbs, memory signal, memory) at step 30.
func shortIncident(t *testing.T) *sim.Config {
	t.Helper()
	cfg, err := configs.Preset("incident")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Train.Steps, cfg.Train.UpdateStep, cfg.Memory.StartStep = 60, 30, 30
	for _, n := range []string{"thumbs", "memory"} {
		s := cfg.Signals[n]
		s.StartStep = 30
		cfg.Signals[n] = s
	}
	return cfg
}

// TestPeersAgree replays the prompts of Go runs through both NumPy peers and
// requires every metric at every step and the final theta to match within
// Tolerance: perrun.py on the first config of each case, sweep.py on all of
// them at once. Without numpy it skips, except under CI, where it fails.
func TestPeersAgree(t *testing.T) {
	if err := numpyMissing(Python); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("skipping the NumPy peers: %v (apt-get install -y python3-numpy; under CI this fails)", err)
		}
		t.Fatalf("CI is set and the NumPy peers cannot run: %v", err)
	}
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
	baseline.Train.Steps, baseline.Train.UpdateStep = 40, 20
	sgd := shortIncident(t)
	sgd.Train.Optimizer, sgd.Train.Weights, sgd.Train.LearningRate, sgd.Train.BatchSize = "sgd", "absolute", 0.5, 16
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
			perrun, sweep, err := agreement(context.Background(), Python, c.cfgs, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []struct {
				name string
				d    diff
				want int
			}{
				{"perrun.py", perrun, perRun},
				{"sweep.py", sweep, len(c.cfgs) * perRun},
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
