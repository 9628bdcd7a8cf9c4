package plots

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/reward"
	"github.com/rewardmix/rewardmix/sim"
	"github.com/rewardmix/rewardmix/sim/results"
)

// smallRun is the incident shortened to 30 steps, run in memory.
func smallRun(t *testing.T) results.Source {
	t.Helper()
	cfg, err := configs.Preset("incident")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Train.Steps, cfg.Train.UpdateStep, cfg.Memory.StartStep = 30, 15, 15
	for n, s := range cfg.Signals {
		if s.StartStep == 150 {
			s.StartStep = 15
			cfg.Signals[n] = s
		}
	}
	res, err := sim.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return results.FromResult(res)
}

// TestCriticalLine checks the heatmap's analytic line on the incident
// world: more spec weight needs more thumbs weight to reach the same
// sycophancy, and a metric other than the sycophancy rate gets no line.
func TestCriticalLine(t *testing.T) {
	cfg, err := configs.Preset("incident")
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Metric: "sycophancy_rate", X: "signals.thumbs.weight", Y: "signals.spec.weight", Level: 0.2}
	line, label, note := criticalLine(cfg, o, []float64{0.5, 2})
	if len(line) != 41 || label == "" || note != "" {
		t.Fatalf("%d points, label %q, note %q; want 41 points", len(line), label, note)
	}
	for i := 1; i < len(line); i++ {
		if !(line[i].X > line[i-1].X) || !(line[i].Y > line[i-1].Y) {
			t.Fatalf("line not increasing at %d: %v then %v", i, line[i-1], line[i])
		}
	}
	o.Metric = "gold_utility"
	if line, _, _ := criticalLine(cfg, o, []float64{0.5, 2}); line != nil {
		t.Error("a line for gold_utility")
	}
	// Without a closed form (aggregation other than none) there is no
	// line, and the note says why.
	c := cfg.Clone()
	c.Train.Aggregation = "sum_then_normalize"
	o.Metric = "sycophancy_rate"
	if line, _, note := criticalLine(c, o, []float64{0.5, 2}); line != nil || !strings.Contains(note, "no analytic critical line") {
		t.Errorf("a line (%d points) or no note (%q) without a closed form", len(line), note)
	}
}

// TestFrontierStepRange: the frontier of a run starts at the step range's
// start or at the last change of the reward inside it, whichever is later,
// and says so; it never joins two rewards into one curve.
func TestFrontierStepRange(t *testing.T) {
	src := smallRun(t) // the reward changes at step 15
	for _, c := range []struct {
		steps      results.StepRange
		from, fitd string
		changed    bool
	}{
		{results.AllSteps, "15", "", true},
		{results.StepRange{Lo: 0, Hi: 10}, "0", "steps 0-10", false},
		{results.StepRange{Lo: 2, Hi: 20}, "15", "", true},
		{results.StepRange{Lo: 18, Hi: 30}, "18", "", false},
	} {
		fig, err := Build(KindFrontier, Options{Steps: &c.steps}, src)
		if err != nil {
			t.Fatal(err)
		}
		if got := fig.Rows[0][0].Y.Label.Text; got != "gain since step "+c.from {
			t.Errorf("%v: y label %q, want from step %s", c.steps, got, c.from)
		}
		var labels []string
		for _, e := range fig.Key.Entries {
			labels = append(labels, e.Label)
		}
		key := strings.Join(labels, "\n")
		if c.fitd != "" && !strings.Contains(key, c.fitd) {
			t.Errorf("%v: no key entry names the fitted steps %q:\n%s", c.steps, c.fitd, key)
		}
		said := strings.Contains(key, "only: the reward is fixed from step 15, where\n  the memory and thumbs rewards join the mix\n  per-user memory switches on\n  a deployment logs new feedback\n")
		noted := len(fig.Notes) == 1 && strings.Contains(fig.Notes[0], "the reward changes at step 15")
		if said != c.changed || noted != c.changed {
			t.Errorf("%v: key says the change %v, notes %q; want %v\n%s", c.steps, said, fig.Notes, c.changed, key)
		}
	}
}

// TestBuildFromMemory: every kind a single run can have draws from a run
// in memory; the ones it cannot (a heatmap) and requests for data it does
// not hold are *results.Error, the user's input.
func TestBuildFromMemory(t *testing.T) {
	src := smallRun(t)
	kinds, figs, err := StandardSet(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(kinds, []Kind{KindDrift, KindSegments, KindInfluence, KindFrontier}) || len(figs) != 4 {
		t.Errorf("the standard set of a run is %v", kinds)
	}
	if _, err := RunDrift(src); err != nil {
		t.Error(err)
	}
	var re *results.Error
	for _, c := range []struct {
		kind Kind
		o    Options
	}{
		{KindHeatmap, Options{}},
		{KindDrift, Options{Metric: "nope"}},
		{KindDrift, Options{By: "signals.thumbs.weight"}},
		{KindSegments, Options{Steps: &results.StepRange{Lo: 31, Hi: 40}}},
	} {
		if _, err := Build(c.kind, c.o, src); !errors.As(err, &re) {
			t.Errorf("%s %+v: %v, want a *results.Error", c.kind, c.o, err)
		}
	}
	for _, f := range Formats {
		var b bytes.Buffer
		if err := Render(&b, figs[0], f, 0, 0); err != nil || b.Len() < 1000 {
			t.Errorf("render %s: %v, %d bytes", f, err, b.Len())
		}
	}
	if err := Render(&bytes.Buffer{}, figs[0], "jpg", 0, 0); err == nil {
		t.Error("rendered a jpg")
	}
}

// TestMetricAxis: axis labels are words, with a unit or "rate"/"share".
func TestMetricAxis(t *testing.T) {
	for m, want := range map[string]string{
		"sycophancy_rate":            "sycophancy rate",
		"sycophancy_rate/vulnerable": "sycophancy rate, vulnerable users",
		"influence/spec":             "spec's share of the update",
		"influence/kl":               "KL penalty's share of the update",
		"gold_utility":               "gold utility (not trained on)",
		"kl":                         "KL to reference (nats)",
		"eval/offline_correctness":   "offline correctness eval (rate)",
		"response_share/flattering":  "share of flattering responses",
		"thumbs_up_rate":             "thumbs-up rate",
	} {
		if got, _, _ := metricAxis(m); got != want {
			t.Errorf("%s: %q, want %q", m, got, want)
		}
	}
	if got := keyName("signals.thumbs.weight"); got != "thumbs weight" {
		t.Errorf("keyName: %q", got)
	}
}

// TestBinGroups: many values of By become at most maxDriftLines bins of
// consecutive values, every run in the bin of its value.
func TestBinGroups(t *testing.T) {
	g := results.Groups{Key: "signals.thumbs.weight"}
	for i := 0; i < 100; i++ {
		g.Labels = append(g.Labels, strconv.FormatFloat(3*float64(i)/99, 'g', -1, 64))
		g.Of = append(g.Of, i)
	}
	g.Of = append(g.Of, -1) // a failed run
	binned, bins := binGroups(g, maxDriftLines)
	if len(bins) != maxDriftLines || bins[0] != "0 to 0.4242" || bins[len(bins)-1] != "2.606 to 3" {
		t.Errorf("bins %q", bins)
	}
	for run := 1; run < 100; run++ {
		if b, a := binned.Of[run], binned.Of[run-1]; b < a || b > a+1 || b >= maxDriftLines {
			t.Fatalf("run %d in bin %d after bin %d", run, b, a)
		}
	}
	if binned.Of[100] != -1 {
		t.Error("a failed run was binned")
	}
	// Nine values in seven bins: a bin of one value is named by it alone.
	nine := results.Groups{Labels: g.Labels[:9], Of: g.Of[:9]}
	_, names := binGroups(nine, maxDriftLines)
	for _, l := range names {
		if a, b, ok := strings.Cut(l, " to "); ok && a == b {
			t.Errorf("bin %q names one value twice (bins %q)", l, names)
		}
	}
}

func TestFolderLabels(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"out/baseline out/incident", "baseline incident"},
		{"/x/a/incident /x/b/incident out/fix", "a/incident b/incident fix"},
		{"/r/a/b/run /s/a/b/run", "r/a/b/run s/a/b/run"},
		{"run run/", "run run"}, // the same folder twice: nothing tells them apart
	} {
		if got := strings.Join(folderLabels(strings.Fields(c.in)), " "); got != c.want {
			t.Errorf("%s: %q, want %q", c.in, got, c.want)
		}
	}
}

// TestInfluenceColors: a signal's colour depends on its kind, not on which
// other signals the config has; the KL penalty keeps one colour; repeated
// kinds and more signals than colours still get a colour each.
func TestInfluenceColors(t *testing.T) {
	base, _ := configs.Preset("baseline")
	inc, _ := configs.Preset("incident")
	cb := influenceColors(base, []string{"spec", "correctness"})
	ci := influenceColors(inc, []string{"spec", "correctness", "memory", "thumbs"})
	if cb[0] != ci[0] || cb[1] != ci[1] || cb[len(cb)-1] != ci[len(ci)-1] {
		t.Errorf("spec, correctness or KL change colour between baseline and incident: %v vs %v", cb, ci)
	}
	seen := map[any]bool{}
	for _, c := range ci {
		if seen[c] {
			t.Errorf("incident: colour %v used twice in %v", c, ci)
		}
		seen[c] = true
	}
	many := inc.Clone()
	var names []string
	for i := 0; i < 12; i++ {
		n := fmt.Sprintf("t%02d", i)
		many.Signals[n] = reward.Spec{Kind: reward.KindThumbs, Weight: 1}
		names = append(names, n)
	}
	// Six colours are free besides KL's: the first six thumbs signals take
	// them, all different; the rest cycle.
	cs := influenceColors(many, names)
	kl := cs[len(cs)-1]
	seen = map[any]bool{kl: true}
	for i, c := range cs[:6] {
		if seen[c] {
			t.Errorf("12 thumbs signals: signal %d repeats a colour (or KL's): %v", i, cs)
		}
		seen[c] = true
	}
}
