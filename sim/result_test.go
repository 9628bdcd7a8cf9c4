package sim_test

import (
	"slices"
	"testing"

	"github.com/rewardmix/rewardmix/reward"
	"github.com/rewardmix/rewardmix/sim"
)

func TestMixChanges(t *testing.T) {
	cfg := &sim.Config{Train: sim.Train{Steps: 100, UpdateStep: 50}}
	cfg.Signals = map[string]reward.Spec{
		"always": {},
		"joins":  {StartStep: 50},
		"both":   {StartStep: 20, EndStep: 50},
		"late":   {StartStep: 80, EndStep: 100},
	}
	if got, want := cfg.MixChanges(), []int{20, 50, 80, 100}; !slices.Equal(got, want) {
		t.Errorf("MixChanges = %v, want %v", got, want)
	}
	cfg.Memory = sim.Memory{Enabled: true, StartStep: 30}
	if got, want := cfg.MixChanges(), []int{20, 30, 50, 80, 100}; !slices.Equal(got, want) {
		t.Errorf("MixChanges with memory from step 30 = %v, want %v", got, want)
	}
	cfg.Memory.Enabled = false
	cfg.Signals = map[string]reward.Spec{"always": {}}
	if got := cfg.MixChanges(); len(got) != 0 {
		t.Errorf("MixChanges with a fixed mix = %v, want none", got)
	}
}

// TestMetricNames: the names MetricNames gives without a run are those a
// run records, then its outcome's.
func TestMetricNames(t *testing.T) {
	cfg := preset(t, "incident")
	cfg.Train.Steps, cfg.Train.UpdateStep = 20, 10
	for n, s := range cfg.Signals {
		if s.StartStep == 150 {
			s.StartStep = 10
			cfg.Signals[n] = s
		}
	}
	cfg.Memory.StartStep = 10
	res := run(t, cfg)
	names, err := sim.MetricNames(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outcome, _ := res.Outcome()
	if want := append(append([]string(nil), res.Metrics...), outcome...); !slices.Equal(names, want) {
		t.Errorf("MetricNames:\n%v\nwant\n%v", names, want)
	}
}
