package sim

import "slices"

// Version is rewardmix's version, written into sweep manifests and reports.
const Version = "0.1.0"

// Config returns the configuration the run was made with. It is shared
// with the result: do not modify it (Clone it first).
func (r *Result) Config() *Config { return r.cfg }

// MixChanges returns, in order, the steps in 1..train.steps at which a
// signal starts or stops, or memory becomes active: where a run's reward
// mix changes.
func (c *Config) MixChanges() []int {
	seen := map[int]bool{}
	var steps []int
	memStart := 0
	if c.Memory.Enabled {
		memStart = c.Memory.StartStep
	}
	for _, s := range c.Signals {
		for _, t := range []int{s.StartStep, s.EndStep, memStart} {
			if t > 0 && t <= c.Train.Steps && !seen[t] {
				seen[t] = true
				steps = append(steps, t)
			}
		}
	}
	slices.Sort(steps)
	return steps
}

// RewardChanges returns, in order, the steps in 1..train.steps at which the
// reward that training maximises changes: the mix changes (MixChanges), or
// a deployment refits the reward models and moves users' remembered
// stances. Between two of them (and from the last to the end) the reward
// is one fixed function of the policy.
func (c *Config) RewardChanges() []int {
	steps := c.MixChanges()
	for _, t := range c.Deployments() {
		if t > 0 && t <= c.Train.Steps && !slices.Contains(steps, t) {
			steps = append(steps, t)
		}
	}
	slices.Sort(steps)
	return steps
}

// MetricNames returns, without running it, the names of the metrics a run
// of cfg records at every step, in order; then, when its review is
// enabled, the names of its release outcome (Result.Outcome), which a
// sweep's runs.csv and agg.csv add.
func MetricNames(cfg *Config) ([]string, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w, err := newWorld(cfg)
	if err != nil {
		return nil, err
	}
	names := newMetricIndex(cfg).names
	if cfg.Review.Enabled {
		names = append(names, outcomeNames(w.segments)...)
	}
	return names, nil
}
