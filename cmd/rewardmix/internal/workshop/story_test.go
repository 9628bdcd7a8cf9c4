package workshop

import (
	"strings"
	"testing"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/reward"
	"github.com/rewardmix/rewardmix/sim"
)

// TestStoryClaims renders every story step from its own run and checks the
// claims its words make: the numbers are filled in from the run, and the
// words around them must stay true of it.
func TestStoryClaims(t *testing.T) {
	steps, err := Handout(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != len(story) {
		t.Fatalf("%d steps rendered, want %d", len(steps), len(story))
	}
	byTitle := map[string]HandoutStep{}
	for _, st := range steps {
		if st.Text == "" || strings.Contains(st.Text, "<no value>") || strings.Contains(st.Text, "-1 hours") {
			t.Errorf("step %q: text %q", st.Title, st.Text)
		}
		if n := strings.Count(st.Text, ". ") + 1; n > 2 {
			t.Errorf("step %q: %d sentences; the room gets one or two plain ones", st.Title, n)
		}
		byTitle[st.Title] = st
	}
	inc := byTitle["The update"].H
	type claim struct {
		step, claim string
		holds       func(st HandoutStep) bool
	}
	gate := func(st HandoutStep, name string) (passed, blocking bool, above bool) {
		g, err := findGate(st.R, name)
		if err != nil {
			t.Fatalf("%s: %v", st.Title, err)
		}
		return g.Passed, g.Blocking, g.Value > g.Threshold
	}
	claims := []claim{
		{"The mix before the update", "sycophancy ends low without thumbs", func(st HandoutStep) bool { return st.H.SycophancyAfter < 0.05 }},
		{"The update", "the spec weight falls", func(st HandoutStep) bool { return st.H.WeightAfter < st.H.WeightBefore }},
		{"The update", "its share of the update falls", func(st HandoutStep) bool { return st.H.InfluenceUpdate < st.H.InfluenceBefore }},
		{"The drift", "sycophancy rises", func(st HandoutStep) bool { return st.H.SycophancyAfter > 3*st.H.SycophancyBefore }},
		{"The drift", "users like it (thumbs rise)", func(st HandoutStep) bool { return st.H.ThumbsAfter > st.H.ThumbsBefore }},
		{"The drift", "the smallest segment gets more", func(st HandoutStep) bool { return st.H.SegmentAfter > 1.1*st.H.SycophancyAfter }},
		{"The release review", "offline evals pass", func(st HandoutStep) bool {
			a, _, _ := gate(st, "offline_correctness")
			b, _, _ := gate(st, "behaviour_sycophancy")
			return a && b
		}},
		{"The release review", "testers said it felt off, but could not block", func(st HandoutStep) bool {
			passed, blocking, _ := gate(st, "vibe_checks")
			return !passed && !blocking && st.R.VibeFlags > 0
		}},
		{"The release review", "the launch goes ahead", func(st HandoutStep) bool { return st.H.Decision == "launch" }},
		{"Monitoring and rollback", "thumbs-up rises after launch", func(st HandoutStep) bool { return st.D.ThumbsTrend > 0 }},
		{"Monitoring and rollback", "the drift is detected and rolled back", func(st HandoutStep) bool {
			return st.D.HoursToDetection >= 0 && st.D.HoursToRollbackDone > st.D.HoursToDetection
		}},
		{"Monitoring and rollback", "responses were served", func(st HandoutStep) bool { return st.H.TotalServed > 0 && st.H.SegmentServed > 0 }},
		{"Fix 1: absolute weights", "the spec weight stays", func(st HandoutStep) bool { return st.H.WeightAfter == st.H.WeightBefore }},
		{"Fix 1: absolute weights", "thumbs still outbid it", func(st HandoutStep) bool { return st.H.SycophancyAfter > 3*st.H.SycophancyBefore }},
		{"Fix 1, with a smaller thumbs weight", "the spec reward wins", func(st HandoutStep) bool { return st.H.SycophancyAfter < 0.05 && st.H.SegmentAfter < 0.05 }},
		{"Fix 1, with a smaller thumbs weight", "thumbs-up still rises", func(st HandoutStep) bool { return st.H.ThumbsAfter > st.H.ThumbsBefore }},
		{"Fix 2: normalise, then sum", "it ends below the incident", func(st HandoutStep) bool { return st.H.SycophancyAfter < inc.SycophancyAfter }},
		{"Fix 2: normalise, then sum", "if blocked, the A/B test blocks it", func(st HandoutStep) bool {
			if st.H.Decision != "block" {
				return !strings.Contains(st.Text, "blocks the launch")
			}
			passed, blocking, _ := gate(st, "ab_preference")
			return !passed && blocking && strings.Contains(st.Text, "blocks the launch")
		}},
		{"Fix 3: a sycophancy eval that blocks", "it fails the eval, which blocks", func(st HandoutStep) bool {
			passed, blocking, above := gate(st, "sycophancy_memory")
			return !passed && blocking && above
		}},
		{"Fix 3: a sycophancy eval that blocks", "the launch is blocked", func(st HandoutStep) bool { return st.H.Decision == "block" && st.H.TotalServed == 0 }},
		{"Fix 4: an opt-in alpha", "the launch goes ahead and the alpha catches it", func(st HandoutStep) bool {
			return st.H.Decision == "launch" && st.D != nil && st.D.CaughtInAlpha
		}},
		{"Fix 4: an opt-in alpha", "far fewer responses reach the segment", func(st HandoutStep) bool { return st.H.SegmentServed < inc.SegmentServed/10 }},
	}
	for _, c := range claims {
		st, ok := byTitle[c.step]
		if !ok {
			t.Errorf("no story step %q", c.step)
			continue
		}
		if !c.holds(st) {
			t.Errorf("%s: the claim %q does not hold: %+v", c.step, c.claim, st.H)
		}
	}
}

// TestStoryWords checks the words of the story that describe the presets
// rather than a run: which signals train before and after the update, how
// weights combine, and who the targeted segment is and why.
func TestStoryWords(t *testing.T) {
	base, err := configs.Preset("baseline")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[reward.Kind]bool{}
	for _, s := range base.Signals {
		kinds[s.Kind] = true
	}
	if len(base.Signals) != 2 || !kinds[reward.KindCorrectness] || !kinds[reward.KindSpec] {
		t.Errorf(`"Two rewards train the model: correctness, and the Model Spec reward": baseline has %v`, base.Signals)
	}
	inc, err := configs.Preset("incident")
	if err != nil {
		t.Fatal(err)
	}
	joined := map[reward.Kind]bool{}
	for _, s := range inc.Signals {
		if s.StartStep == inc.Train.UpdateStep {
			joined[s.Kind] = true
		}
	}
	if len(joined) != 2 || !joined[reward.KindThumbs] || !joined[reward.KindMemory] || inc.Train.Weights != reward.WeightsSumToOne {
		t.Errorf(`"a thumbs-up reward and a memory reward join, renormalised to sum to one": incident joins %v, weights %s`, joined, inc.Train.Weights)
	}
	// "who give feedback most often and whose stance memory lets the model
	// recall": the smallest segment has the highest feedback rate, and
	// without the memory store it is treated like everyone else.
	s, _, _ := scenarioOf("incident")
	sc, _, err := simulateScene(t.Context(), mustConfig(t, s))
	if err != nil {
		t.Fatal(err)
	}
	seg := sc.Headline.Segment
	for n, g := range inc.Segments {
		if n != seg && g.FeedbackRate >= inc.Segments[seg].FeedbackRate {
			t.Errorf("segment %s gives feedback as often as %s (%g >= %g)", n, seg, g.FeedbackRate, inc.Segments[seg].FeedbackRate)
		}
	}
	s.Memory = false
	off, _, err := simulateScene(t.Context(), mustConfig(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if h := off.Headline; h.SegmentAfter > 1.01*h.SycophancyAfter || sc.Headline.SegmentAfter < 1.1*h.SegmentAfter {
		t.Errorf("without memory the %s segment should drop to the population: with %.3f, without %.3f (population %.3f)",
			seg, sc.Headline.SegmentAfter, h.SegmentAfter, h.SycophancyAfter)
	}
}

func mustConfig(t *testing.T, s scenario) *sim.Config {
	t.Helper()
	cfg, err := s.config()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
