package results_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim"
	"github.com/rewardmix/rewardmix/sim/results"
	"github.com/rewardmix/rewardmix/sim/sweep"
)

// smallTOML is the incident scaled down to 40 steps and 50 users.
const smallTOML = `extends = "incident"
name = "small"
[train]
steps = 40
update_step = 20
[memory]
start_step = 20
[signals.thumbs]
start_step = 20
[signals.memory]
start_step = 20
[population]
users = 50
`

// oneAxis sweeps the thumbs weight with three seeds per point.
const oneAxis = smallTOML + `
[sweep]
seeds = [1, 2, 3]
[[sweep.axis]]
key = "signals.thumbs.weight"
values = [0.5, 2]
`

func smallRun(t *testing.T) *sim.Result {
	t.Helper()
	cfg, err := configs.Load("small.toml", []byte(smallTOML), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// oneAxisSweep runs the oneAxis sweep into a temporary folder and opens it.
func oneAxisSweep(t *testing.T) (*results.Folder, string) {
	t.Helper()
	return sweepFolder(t, "one", oneAxis)
}

// sweepFolder runs a sweep file's text into a temporary folder named name
// and opens it.
func sweepFolder(t *testing.T, name, text string) (*results.Folder, string) {
	t.Helper()
	s, err := configs.LoadSweep(name+".toml", []byte(text), nil, configs.DefaultMaxRuns)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), name)
	if _, err := sweep.Run(context.Background(), s, dir, sweep.Options{}); err != nil {
		t.Fatal(err)
	}
	src, err := results.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return src, dir
}

// TestRunFolder: a run written by WriteRunDir and opened again is the same
// Source as the run in memory, value for value.
func TestRunFolder(t *testing.T) {
	res := smallRun(t)
	files, err := results.RunFiles(res)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "small")
	if err := results.WriteRunDir(dir, files); err != nil {
		t.Fatal(err)
	}
	folder, err := results.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	mem := results.FromResult(res)
	if !slices.Equal(folder.Metrics(), mem.Metrics()) || folder.Sweep() || len(folder.Runs()) != 1 || folder.Label() != "small" {
		t.Fatalf("folder: metrics %v (in memory %v), sweep %v, runs %v, label %q", folder.Metrics(), mem.Metrics(), folder.Sweep(), folder.Runs(), folder.Label())
	}
	if string(configs.Encode(folder.Config())) != string(configs.Encode(mem.Config())) {
		t.Error("the folder's config differs from the run's")
	}
	r := results.StepRange{Lo: 5, Hi: 30}
	a, err := folder.Steps(folder.Metrics(), results.Pool(folder), r)
	if err != nil {
		t.Fatal(err)
	}
	b, err := mem.Steps(mem.Metrics(), results.Pool(mem), r)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mem.Metrics() {
		xa, ma, _, _, na := a.Series(m, 0)
		xb, mb, _, _, nb := b.Series(m, 0)
		if !slices.Equal(xa, xb) || !slices.Equal(ma, mb) || na != 1 || nb != 1 || len(xa) != 26 || xa[0] != 5 {
			t.Fatalf("%s: the folder and the run in memory differ (%d and %d points from %v)", m, len(xa), len(xb), xa[:1])
		}
	}
	sum, err := results.ReadSummary(dir)
	if err != nil || sum.After["sycophancy_rate"] != res.Summary.After["sycophancy_rate"] || sum.Review == nil {
		t.Errorf("summary.json: %v, %+v", err, sum)
	}
	// A folder holding anything else is not replaced.
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	var re *results.Error
	if err := results.WriteRunDir(dir, files); !errors.As(err, &re) || !strings.Contains(err.Error(), "notes.txt") {
		t.Errorf("replacing a folder with a user's file: %v", err)
	}
}

// TestSweepSteps checks the streamed mean and 95% interval at the last step
// against agg.csv, which the sweep computes from the runs' final values by
// another route.
func TestSweepSteps(t *testing.T) {
	src, dir := oneAxisSweep(t)
	if !src.Sweep() || !slices.Equal(src.Axes(), []string{"signals.thumbs.weight"}) || len(src.Runs()) != 6 {
		t.Fatalf("sweep folder: axes %v, %d runs", src.Axes(), len(src.Runs()))
	}
	g, err := results.GroupBy(src, "signals.thumbs.weight")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(g.Labels, ",") != "0.5,2.0" || !slices.Equal(g.Of, []int{0, 0, 0, 1, 1, 1}) {
		t.Fatalf("groups %v of %v, want 0.5,2.0", g.Labels, g.Of)
	}
	st, err := src.Steps([]string{"sycophancy_rate"}, g, results.AllSteps)
	if err != nil {
		t.Fatal(err)
	}
	points, err := src.Points("sycophancy_rate")
	if err != nil || len(points) != 2 {
		t.Fatalf("points: %v, %v", points, err)
	}
	agg := map[string][]string{}
	data, err := os.ReadFile(filepath.Join(dir, results.AggFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ",")
		if len(f) == 7 && f[1] == "sycophancy_rate" {
			agg[f[0]] = f
		}
	}
	for gi, label := range g.Labels {
		row := agg[label]
		x, mean, lo, hi, n := st.Series("sycophancy_rate", gi)
		last := len(x) - 1
		want := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
		if row == nil || strconv.Itoa(n) != row[2] || x[last] != 40 {
			t.Fatalf("group %s: n %d at last step %g, want agg.csv's n %v at 40", label, n, x[last], row)
		}
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"mean", mean[last], want(row[3])}, {"ci_low", lo[last], want(row[5])}, {"ci_high", hi[last], want(row[6])}, {"point mean", points[gi].Mean, want(row[3])}} {
			if math.Abs(c.got-c.want) > 1e-12 {
				t.Errorf("group %s: %s %v, agg.csv %v", label, c.name, c.got, c.want)
			}
		}
	}
	var re *results.Error
	if _, err := results.GroupBy(src, "train.beta"); !errors.As(err, &re) || !strings.Contains(err.Error(), "its axes are: signals.thumbs.weight") {
		t.Errorf("group by a key not swept: %v", err)
	}
	if err := results.CheckMetrics(src, "sycophancy"); !errors.As(err, &re) || !strings.Contains(err.Error(), `no metric "sycophancy"`) {
		t.Errorf("an unknown metric: %v", err)
	}
}

// TestAtAndRunConfig: a sweep folder's values of each run, at a step of
// its own or its final one, are those of the run rerun from RunConfig; a
// run folder's and a run in memory's agree with its rows.
func TestAtAndRunConfig(t *testing.T) {
	src, _ := oneAxisSweep(t)
	ms := []string{"gold_utility", "kl"}
	steps := []int{-1, 7, -1, 20, 40, 0}
	got, err := src.At(ms, steps)
	if err != nil {
		t.Fatal(err)
	}
	for i := range src.Runs() {
		cfg, err := src.RunConfig(i)
		if err != nil {
			t.Fatal(err)
		}
		res, err := sim.Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		step := steps[i]
		if step < 0 {
			step = cfg.Train.Steps
		}
		for j, m := range ms {
			if want := res.Values[step][slices.Index(res.Metrics, m)]; got[i][j] != want {
				t.Errorf("run %d, %s at step %d: At %v, rerun %v", i, m, step, got[i][j], want)
			}
		}
	}
	var re *results.Error
	if _, err := src.At([]string{"sycophancy"}, steps); !errors.As(err, &re) {
		t.Errorf("At of an unknown metric: %v", err)
	}

	res := smallRun(t)
	files, err := results.RunFiles(res)
	if err != nil {
		t.Fatal(err)
	}
	rdir := filepath.Join(t.TempDir(), "small")
	if err := results.WriteRunDir(rdir, files); err != nil {
		t.Fatal(err)
	}
	folder, err := results.Open(rdir)
	if err != nil {
		t.Fatal(err)
	}
	k := slices.Index(res.Metrics, "kl")
	for _, src := range []results.Source{folder, results.FromResult(res)} {
		for _, c := range []struct{ step, row int }{{-1, 40}, {12, 12}, {41, math.MaxInt}} {
			v, err := src.At([]string{"kl"}, []int{c.step})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case c.row == math.MaxInt && !math.IsNaN(v[0][0]):
				t.Errorf("%s: a step past the end gives %v, want NaN", src.Name(), v[0][0])
			case c.row < math.MaxInt && v[0][0] != res.Values[c.row][k]:
				t.Errorf("%s: kl at %d is %v, want %v", src.Name(), c.step, v[0][0], res.Values[c.row][k])
			}
		}
	}
}

// TestOpenRefuses: folders that are not results are an *Error naming the
// folder and what it lacks.
func TestOpenRefuses(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "notes.txt")
	if err := os.WriteFile(file, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	unfinished := filepath.Join(tmp, "unfinished")
	if err := os.MkdirAll(unfinished, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(unfinished, results.ManifestFile), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]string{
		filepath.Join(tmp, "nosuch"): "not a folder",
		file:                         "not a folder",
		tmp:                          "is not a run or sweep folder",
		unfinished:                   "resume it",
	} {
		_, err := results.Open(dir)
		var re *results.Error
		if !errors.As(err, &re) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), dir) {
			t.Errorf("Open(%s): %v; want a *results.Error saying %q", dir, err, want)
		}
	}
}

func TestParseStepRange(t *testing.T) {
	for in, want := range map[string]results.StepRange{"": results.AllSteps, "3:9": {Lo: 3, Hi: 9}, "5:": {Lo: 5, Hi: -1}, ":7": {Lo: 0, Hi: 7}, "4:4": {Lo: 4, Hi: 4}} {
		if got, err := results.ParseStepRange(in); err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"3", "a:b", "9:3", "-1:2"} {
		if _, err := results.ParseStepRange(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

// TestWelford: the one-pass mean and interval against the two-pass ones
// and the t quantile of 2 degrees of freedom.
func TestWelford(t *testing.T) {
	xs := []float64{0.3, 0.1, 0.5}
	var w results.Welford
	for _, x := range xs {
		w.Add(x)
	}
	mean := (xs[0] + xs[1] + xs[2]) / 3
	sd := math.Sqrt(((xs[0]-mean)*(xs[0]-mean) + (xs[1]-mean)*(xs[1]-mean) + (xs[2]-mean)*(xs[2]-mean)) / 2)
	if tq := results.T975(3); math.Abs(tq-4.302652729911275) > 1e-9 {
		t.Fatalf("t quantile %v, want 4.3027 (two-sided 95%%, 2 degrees of freedom)", tq)
	}
	if half := results.T975(3) * sd / math.Sqrt(3); math.Abs(w.Mean-mean) > 1e-15 || math.Abs(w.CI95()-half) > 1e-15 {
		t.Errorf("mean %v, half-width %v; want %v, %v", w.Mean, w.CI95(), mean, half)
	}
	if one := (results.Welford{N: 1, Mean: 2}); one.CI95() != 0 {
		t.Error("an interval from one run")
	}
	// Closed forms: with 1 degree of freedom t is Cauchy, t = tan(pi (p - 1/2));
	// with 2, t = (2p - 1) sqrt(2 / (1 - (2p - 1)^2)). Asked twice (the
	// second from the kept values), and past what is kept.
	for range 2 {
		if tq, want := results.T975(2), math.Tan(math.Pi*0.475); math.Abs(tq-want) > 1e-9*want {
			t.Errorf("T975(2) = %v, want %v", tq, want)
		}
		if tq, want := results.T975(3), 0.95*math.Sqrt(2/(1-0.95*0.95)); math.Abs(tq-want) > 1e-9*want {
			t.Errorf("T975(3) = %v, want %v", tq, want)
		}
	}
	if tq := results.T975(5000); math.Abs(tq-1.96) > 0.001 {
		t.Errorf("T975(5000) = %v, want about 1.9604", tq)
	}
}

// TestRunsWithoutAMetric: a sweep whose runs differ in their metrics (a
// reward model's only where the thumbs are one) leaves those cells of
// runs.csv empty; the folder opens, and their values are NaN.
func TestRunsWithoutAMetric(t *testing.T) {
	const mixed = smallTOML + `
[sweep]
seeds = [1]
[[sweep.axis]]
key = "signals.thumbs.source"
values = ["reward_model", "direct"]
`
	src, _ := sweepFolder(t, "mixed", mixed)
	v, err := src.At([]string{"rm_accuracy/thumbs", "kl"}, []int{-1, -1})
	if err != nil {
		t.Fatal(err)
	}
	if math.IsNaN(v[0][0]) || !math.IsNaN(v[1][0]) || math.IsNaN(v[1][1]) {
		t.Errorf("final rm_accuracy/thumbs and kl: %v, want a value, then NaN and a value", v)
	}
}
