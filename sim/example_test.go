package sim_test

import (
	"context"
	"fmt"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim"
)

// Run the incident preset from Go and compare the step before the update
// with the end of training.
func ExampleRun() {
	cfg, err := configs.Preset("incident")
	if err != nil {
		panic(err)
	}
	res, err := sim.Run(context.Background(), cfg)
	if err != nil {
		panic(err)
	}
	b, a := res.Summary.Before, res.Summary.After
	fmt.Printf("effective weight of spec: %.2f -> %.2f\n", b["weight/spec"], a["weight/spec"])
	fmt.Printf("sycophancy, all users:    %.2f -> %.2f\n", b["sycophancy_rate"], a["sycophancy_rate"])
	fmt.Printf("sycophancy, vulnerable:   %.2f -> %.2f\n", b["sycophancy_rate/vulnerable"], a["sycophancy_rate/vulnerable"])
	fmt.Printf("offline correctness:      %.2f -> %.2f\n", b["eval/offline_correctness"], a["eval/offline_correctness"])
	// Output:
	// effective weight of spec: 0.50 -> 0.22
	// sycophancy, all users:    0.04 -> 0.28
	// sycophancy, vulnerable:   0.04 -> 0.33
	// offline correctness:      0.99 -> 0.98
}

// The thumbs weight at which the closed-form optimum of the incident mix
// turns half of all responses sycophantic (with the reward model at its
// unlimited-log limit; a run's reward model, fitted on a finite log from
// the incumbent, stops short of it).
func ExampleCriticalWeight() {
	cfg, err := configs.Preset("incident")
	if err != nil {
		panic(err)
	}
	w, err := sim.CriticalWeight(cfg, "thumbs", cfg.Train.Steps, 0.5)
	if err != nil {
		panic(err)
	}
	fmt.Printf("critical thumbs weight: %.1f (the preset uses %.1f)\n", w, cfg.Signals["thumbs"].Weight)
	// Output:
	// critical thumbs weight: 1.5 (the preset uses 2.0)
}

// Judge the incident's candidate under the post-incident rule without
// training again: only [review] and [deployment] may differ.
func ExampleResult_Rejudge() {
	cfg, _ := configs.Preset("incident")
	res, err := sim.Run(context.Background(), cfg)
	if err != nil {
		panic(err)
	}
	fmt.Println("incident:", res.Review.Decision)
	stricter := cfg.Clone()
	stricter.Review.Rule = "post_incident"
	rev, _, err := res.Rejudge(stricter)
	if err != nil {
		panic(err)
	}
	fmt.Println("post-incident rule:", rev.Decision)
	// Output:
	// incident: launch
	// post-incident rule: block
}

// A/B side-by-side preference: 1,080 of 2,000 comparisons won is a
// significant preference at the 5% level.
func ExamplePreferenceTest() {
	p, lo, hi, sig := sim.PreferenceTest(1080, 2000, 0.05)
	fmt.Printf("%.3f [%.3f, %.3f] significant: %v\n", p, lo, hi, sig)
	// Output:
	// 0.540 [0.518, 0.562] significant: true
}
