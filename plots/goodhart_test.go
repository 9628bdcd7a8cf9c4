package plots_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/plots"
	"github.com/rewardmix/rewardmix/sim/results"
	"github.com/rewardmix/rewardmix/sim/sweep"
)

// runSweep runs a sweep file of the repository into a temporary folder
// and opens it.
func runSweep(t *testing.T, path string, override string) results.Source {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := configs.LoadSweep(path, append(data, override...), results.ReadRelative, configs.DefaultMaxRuns)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	if _, err := sweep.Run(context.Background(), s, dir, sweep.Options{}); err != nil {
		t.Fatal(err)
	}
	src, err := results.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestGoodhartEmerges runs docs/sweeps/goodhart.toml and checks what
// README.md reports of it: against each reward model the proxy keeps
// rising as the policy goes further from the reference, while gold
// utility, fitted with the Gao form, rises and then falls (a > 0, b > 0,
// the peak inside the data) for at least half of them; and the figure
// states each fit.
func TestGoodhartEmerges(t *testing.T) {
	src := runSweep(t, "../docs/sweeps/goodhart.toml", "")
	g, err := results.GroupBy(src, "feedback.seed")
	if err != nil {
		t.Fatal(err)
	}
	runs := src.Runs()
	start, err := src.At([]string{"gold_utility", "proxy_reward"}, make([]int, len(runs)))
	if err != nil {
		t.Fatal(err)
	}
	end, err := src.At([]string{"gold_utility", "proxy_reward", "kl"}, slices.Repeat([]int{-1}, len(runs)))
	if err != nil {
		t.Fatal(err)
	}
	humps := 0
	for gi, label := range g.Labels {
		var d, gold, proxy []float64
		for i, of := range g.Of {
			if of == gi {
				d = append(d, math.Sqrt(end[i][2]))
				gold = append(gold, end[i][0]-start[i][0])
				proxy = append(proxy, end[i][1]-start[i][1])
			}
		}
		// The proxy at the furthest run exceeds the proxy at the nearest.
		near, far := slices.Index(d, slices.Min(d)), slices.Index(d, slices.Max(d))
		if proxy[far] <= proxy[near] {
			t.Errorf("reward model %s: the proxy gain falls from %.3f at d=%.2f to %.3f at d=%.2f", label, proxy[near], d[near], proxy[far], d[far])
		}
		f, err := plots.FitGao(d, gold)
		if err != nil {
			t.Fatalf("reward model %s: %v", label, err)
		}
		if f.A > 0 && f.B > 0 && math.Exp(f.A/f.B-1) < slices.Max(d) {
			humps++
		}
	}
	if humps*2 < len(g.Labels) {
		t.Errorf("gold peaks inside the data for %d of %d reward models, want at least half", humps, len(g.Labels))
	}
	fig, err := plots.Build(plots.KindFrontier, plots.Options{By: "feedback.seed"}, src)
	if err != nil {
		t.Fatal(err)
	}
	fits := 0
	for _, e := range fig.Key.Entries {
		if strings.Contains(e.Label, ", R²=") {
			fits++
		}
	}
	if fits != len(g.Labels) || len(fig.Notes) != 0 {
		t.Errorf("the figure states %d fits for %d reward models, notes %q", fits, len(g.Labels), fig.Notes)
	}
}

// TestSweepFrontierAcrossAChange: when the reward changes during the runs
// (the incident's update), the sweep's frontier measures gains from the
// change, fits nothing, and says why.
func TestSweepFrontierAcrossAChange(t *testing.T) {
	src := runSweep(t, "../docs/sweeps/grid.toml", "\n[population]\nusers = 50\n")
	fig, err := plots.Build(plots.KindFrontier, plots.Options{}, src)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, e := range fig.Key.Entries {
		labels = append(labels, e.Label)
	}
	key := strings.Join(labels, "\n")
	if strings.Contains(key, "R²") || !strings.Contains(key, "gains since step 30, where the reward changes") {
		t.Errorf("key:\n%s", key)
	}
	if len(fig.Notes) != 1 || !strings.Contains(fig.Notes[0], "no fit") {
		t.Errorf("notes %q", fig.Notes)
	}
	if got := fig.Rows[0][0].Y.Label.Text; got != "gain since step 30" {
		t.Errorf("y label %q", got)
	}
}
