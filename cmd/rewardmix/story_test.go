package main

import (
	"strings"
	"testing"
)

// TestStoryClaims renders every story step from its own run and checks the
// claims its words make (the numbers are filled in from the run; the words
// around them must stay true of it).
func TestStoryClaims(t *testing.T) {
	steps, err := storyHandout(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != len(story) {
		t.Fatalf("%d steps rendered, want %d", len(steps), len(story))
	}
	byTitle := map[string]reportStoryStep{}
	for _, st := range steps {
		if st.Text == "" || strings.Contains(st.Text, "<no value>") {
			t.Errorf("step %q: text %q", st.Title, st.Text)
		}
		byTitle[st.Title] = st
	}
	inc := byTitle["The update"].H
	claims := []struct {
		step, claim string
		holds       func(h headline) bool
	}{
		{"The mix before the update", "sycophancy stays low without thumbs", func(h headline) bool { return h.SycophancyAfter < 0.05 }},
		{"The update", "the spec weight falls", func(h headline) bool { return h.WeightAfter < h.WeightBefore }},
		{"The update", "its share of the update falls", func(h headline) bool { return h.InfluenceUpdate < h.InfluenceBefore }},
		{"The drift", "sycophancy rises", func(h headline) bool { return h.SycophancyAfter > 3*h.SycophancyBefore }},
		{"The drift", "users like it (thumbs rise)", func(h headline) bool { return h.ThumbsAfter > h.ThumbsBefore }},
		{"The drift", "the vulnerable segment gets more", func(h headline) bool { return h.SegmentAfter > 1.5*h.SycophancyAfter }},
		{"The release review", "the launch goes ahead", func(h headline) bool { return h.Decision == "launch" }},
		{"Monitoring and rollback", "responses were served", func(h headline) bool { return h.TotalServed > 0 && h.SegmentServed > 0 }},
		{"Fix 1: absolute weights", "the spec weight stays", func(h headline) bool { return h.WeightAfter == h.WeightBefore }},
		{"Fix 1: absolute weights", "thumbs still outbid it", func(h headline) bool { return h.SycophancyAfter > 3*h.SycophancyBefore }},
		{"Fix 1, with a smaller thumbs weight", "the spec reward wins", func(h headline) bool { return h.SycophancyAfter < 0.05 && h.SegmentAfter < 0.05 }},
		{"Fix 1, with a smaller thumbs weight", "thumbs-up still rises", func(h headline) bool { return h.ThumbsAfter > h.ThumbsBefore }},
		{"Fix 2: normalise, then sum", "vulnerable users still meet it", func(h headline) bool { return h.SegmentAfter > 0.2 }},
		{"Fix 3: a sycophancy eval that blocks", "the launch is blocked", func(h headline) bool { return h.Decision == "block" && h.TotalServed == 0 }},
		{"Fix 4: an opt-in alpha", "the launch goes ahead", func(h headline) bool { return h.Decision == "launch" }},
		{"Fix 4: an opt-in alpha", "fewer responses reach the segment", func(h headline) bool { return h.SegmentServed < inc.SegmentServed/10 }},
	}
	for _, c := range claims {
		st, ok := byTitle[c.step]
		if !ok {
			t.Errorf("no story step %q", c.step)
			continue
		}
		if !c.holds(st.H) {
			t.Errorf("%s: the claim %q does not hold: %+v", c.step, c.claim, st.H)
		}
	}
	if txt := byTitle["The release review"].Text; !strings.Contains(txt, "expert testers said it felt off") || strings.HasPrefix(txt, "0 of") {
		t.Errorf("review step: %q", txt)
	}
	if txt := byTitle["Fix 4: an opt-in alpha"].Text; !strings.Contains(txt, "caught in the alpha") {
		t.Errorf("alpha step: %q", txt)
	}
}
