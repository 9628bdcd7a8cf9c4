package sim_test

import (
	"testing"

	"github.com/rewardmix/rewardmix/sim"
)

func TestMatch(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"*", "sycophancy_rate/expert", true},
		{"*", "", true},
		{"", "", true},
		{"", "a", false},
		{"sycophancy_rate*", "sycophancy_rate", true},
		{"sycophancy_rate*", "sycophancy_rate/vulnerable", true},
		{"sycophancy_rate*", "sycophancy", false},
		{"*/thumbs", "reward/thumbs", true},
		{"*/thumbs", "reward/thumbs/x", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"k?", "kl", true},
		{"k?", "k", false},
		{"**", "ab", true},
		{"a*", "ba", false},
		{"*a", "aaab", false},
		{"*ab", "aab", true},
	}
	for _, c := range cases {
		if got := sim.Match(c.pattern, c.name); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
}

// TestRecordedSteps: every Nth step from 0, and each step where the mix
// changes (update, a signal's start and end, memory's start, each
// deployment) and the last, once each, in order.
func TestRecordedSteps(t *testing.T) {
	cfg := &sim.Config{Train: sim.Train{Steps: 25, UpdateStep: 7}, Output: sim.Output{Every: 10}}
	got := cfg.RecordedSteps()
	want := []int{0, 7, 10, 20, 25}
	if len(got) != len(want) {
		t.Fatalf("RecordedSteps = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("RecordedSteps = %v, want %v", got, want)
		}
	}
	cfg.Output.Every = 1
	if n := len(cfg.RecordedSteps()); n != 26 {
		t.Errorf("every = 1 records %d steps of 26", n)
	}
}
