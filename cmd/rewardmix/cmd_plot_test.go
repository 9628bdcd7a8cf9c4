package main

import (
	"bytes"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/rewardmix/rewardmix/configs"
)

// plotSweep sweeps two signal weights with two seeds: 8 runs.
const plotSweep = sweepHead + `
[sweep]
seeds = [1, 2]

[[sweep.axis]]
key = "signals.thumbs.weight"
values = [0.5, 3]

[[sweep.axis]]
key = "signals.spec.weight"
values = [0.5, 1]
`

// oneAxisSweep has one axis, so that a group by it is a parameter point.
const oneAxisSweep = sweepHead + `
[sweep]
seeds = [1, 2, 3]

[[sweep.axis]]
key = "signals.thumbs.weight"
values = [0.5, 2]
`

var plotFixture struct {
	once                 sync.Once
	run, grid, one, root string
}

// plotFolders runs a small run and two small sweeps once for all plot tests.
func plotFolders(t *testing.T) (run, grid, one string) {
	t.Helper()
	f := &plotFixture
	f.once.Do(func() {
		root, err := os.MkdirTemp("", "rewardmix-plot-test-")
		if err != nil {
			t.Fatal(err)
		}
		f.root = root
		f.run = filepath.Join(root, "small")
		// The folders' own figures are not needed: plot draws them.
		mustRun(t, "run", writeFile(t, root, "small.toml", smallTOML), "-o", f.run, "--no-plots")
		f.grid = filepath.Join(root, "grid")
		mustRun(t, "sweep", writeFile(t, root, "grid.toml", plotSweep), "-o", f.grid, "--quiet", "--no-plots")
		f.one = filepath.Join(root, "one")
		mustRun(t, "sweep", writeFile(t, root, "one.toml", oneAxisSweep), "-o", f.one, "--quiet", "--no-plots")
	})
	if f.run == "" || f.one == "" {
		t.Fatal("plot fixture failed in another test")
	}
	return f.run, f.grid, f.one
}

func TestMain(m *testing.M) {
	code := m.Run()
	if plotFixture.root != "" {
		os.RemoveAll(plotFixture.root)
	}
	os.Exit(code)
}

var magic = map[string]string{".png": "\x89PNG", ".svg": "<?xml", ".pdf": "%PDF"}

func TestPlotKinds(t *testing.T) {
	run, grid, _ := plotFolders(t)
	out := t.TempDir()
	cases := []struct {
		name string
		args []string
	}{
		{"drift run", []string{run, "--kind", "drift"}},
		{"drift by", []string{grid, "--kind", "drift", "--by", "signals.thumbs.weight", "--metric", "gold_utility"}},
		{"influence", []string{run, "--kind", "influence", "--step-range", "5:25"}},
		{"segments", []string{grid, "--kind", "segments", "--title", "segments"}},
		{"heatmap", []string{grid, "--kind", "heatmap", "--x", "signals.thumbs.weight", "--y", "signals.spec.weight"}},
		{"frontier", []string{run, "--kind", "frontier", "--width", "8.5cm", "--height", "3in"}},
		{"compare", []string{run, grid, "--kind", "compare", "--metric", "kl"}},
	}
	for i, c := range cases {
		for _, ext := range []string{".png", ".svg", ".pdf"} {
			path := filepath.Join(out, strconv.Itoa(i)+ext)
			r := mustRun(t, append([]string{"plot", "-o", path}, c.args...)...)
			if r.stdout != "wrote "+path+"\n" {
				t.Errorf("%s: stdout %q", c.name, r.stdout)
			}
			if b := readFile(t, path); !bytes.HasPrefix(b, []byte(magic[ext])) {
				t.Errorf("%s: %s does not start with %q", c.name, path, magic[ext])
			}
		}
	}
}

func TestPlotStandardSet(t *testing.T) {
	run, grid, _ := plotFolders(t)
	for _, c := range []struct {
		dir  string
		want []string
	}{
		{run, []string{"drift.png", "frontier.png", "influence.png", "segments.png"}},
		{grid, []string{"drift.png", "frontier.png", "heatmap.png", "influence.png", "segments.png"}},
	} {
		mustRun(t, "plot", c.dir)
		got := listDir(t, c.dir+"-plots")
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("plot %s wrote %v, want %v", c.dir, got, c.want)
		}
	}
}

func TestPlotBadInput(t *testing.T) {
	run, grid, one := plotFolders(t)
	notResults := t.TempDir()
	writeFile(t, notResults, "notes.txt", "hello")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no folder", nil, "at least one"},
		{"not a folder", []string{filepath.Join(notResults, "notes.txt")}, "not a folder"},
		{"not results", []string{notResults, "--kind", "drift"}, "is not a run or sweep folder"},
		{"unknown metric", []string{run, "--kind", "drift", "--metric", "sycophancy"}, `no metric "sycophancy"; it has: sycophancy_rate, `},
		{"unknown metric in sweep", []string{grid, "--kind", "compare", "--metric", "nope"}, `it has: `},
		{"heatmap one axis", []string{one, "--kind", "heatmap"}, "at least two axes; this folder sweeps 1"},
		{"heatmap run", []string{run, "--kind", "heatmap"}, "at least two axes"},
		{"unknown extension", []string{run, "--kind", "drift", "-o", "X.jpg"}, `unknown figure format ".jpg"`},
		{"unknown kind", []string{run, "--kind", "pie"}, `unknown --kind "pie"`},
		{"by unknown key", []string{grid, "--kind", "drift", "--by", "train.beta"}, "its axes are: signals.thumbs.weight, signals.spec.weight"},
		{"by in a run", []string{run, "--kind", "drift", "--by", "train.beta"}, "nothing is swept"},
		{"two folders", []string{run, grid}, "only --kind compare"},
		{"bad width", []string{run, "--kind", "drift", "--width", "16"}, "with a unit"},
		{"bad step range", []string{run, "--kind", "drift", "--step-range", "9:3"}, "--step-range"},
		{"set into a file", []string{run, "-o", "x.png"}, "names a file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			args := []string{"plot"}
			for _, a := range c.args {
				if a == "X.jpg" || a == "x.png" {
					a = filepath.Join(out, a)
				}
				args = append(args, a)
			}
			if !hasString(c.args, "-o") {
				args = append(args, "-o", filepath.Join(out, "fig.png"))
			}
			r := rewardmix(t, args...)
			if r.code != exitInput {
				t.Errorf("exit %d, want %d (stderr %q)", r.code, exitInput, r.stderr)
			}
			if !strings.HasPrefix(r.stderr, "rewardmix plot: ") || !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr %q, want it to contain %q", r.stderr, c.want)
			}
			if got := listDir(t, out); len(got) != 0 {
				t.Errorf("left %v behind", got)
			}
		})
	}
}

// TestAggregateSteps checks the streamed mean and 95% interval at the last
// step against agg.csv, which the sweep computes from the runs' final
// values by another route.
func TestAggregateSteps(t *testing.T) {
	_, _, one := plotFolders(t)
	rd, err := openResults(one)
	if err != nil {
		t.Fatal(err)
	}
	labels, group, err := rd.groupsBy("signals.thumbs.weight")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(labels, ",") != "0.5,2.0" {
		t.Fatalf("groups %v, want 0.5,2.0", labels)
	}
	st, err := rd.aggregateSteps([]string{"sycophancy_rate"}, len(labels), group, allSteps)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(one, "agg.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, row := range rows[1:] {
		if row[1] != "sycophancy_rate" {
			continue
		}
		g := 0
		if row[0] == "2.0" {
			g = 1
		}
		x, mean, lo, hi, n := st.series("sycophancy_rate", g)
		last := len(x) - 1
		want := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
		if strconv.Itoa(n) != row[2] || x[last] != 40 {
			t.Errorf("group %s: n %d at last step %g, want n %s at 40", row[0], n, x[last], row[2])
		}
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"mean", mean[last], want(row[3])}, {"ci_low", lo[last], want(row[5])}, {"ci_high", hi[last], want(row[6])}} {
			if math.Abs(c.got-c.want) > 1e-12 {
				t.Errorf("group %s: %s %v, agg.csv %v", row[0], c.name, c.got, c.want)
			}
		}
		checked++
	}
	if checked != 2 {
		t.Errorf("checked %d groups, want 2", checked)
	}
}

func TestParseLength(t *testing.T) {
	for in, want := range map[string]vg.Length{"16cm": 16 * vg.Centimeter, "6.5in": 6.5 * vg.Inch, "90mm": 90 * vg.Millimeter, "450pt": 450, "": 0} {
		got, err := parseLength("width", in)
		if err != nil || math.Abs(float64(got-want)) > 1e-9 {
			t.Errorf("%q: %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"16", "cm", "-3cm", "0in", "1e9cm", "3 furlongs"} {
		if _, err := parseLength("width", in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestParseStepRange(t *testing.T) {
	for in, want := range map[string]stepRange{"": allSteps, "3:9": {3, 9}, "5:": {5, -1}, ":7": {0, 7}, "4:4": {4, 4}} {
		if got, err := parseStepRange(in); err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"3", "a:b", "9:3", "-1:2"} {
		if _, err := parseStepRange(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

// TestCriticalLine checks the heatmap's analytic line on the incident
// world: more spec weight needs more thumbs weight to reach the same
// sycophancy, and a metric other than the sycophancy rate gets no line.
func TestCriticalLine(t *testing.T) {
	cfg, err := configs.Preset("incident")
	if err != nil {
		t.Fatal(err)
	}
	o := plotOpts{metric: "sycophancy_rate", x: "signals.thumbs.weight", y: "signals.spec.weight", level: 0.2}
	var stderr bytes.Buffer
	line, label := criticalLine(cfg, o, []float64{0.5, 2}, &stderr)
	if len(line) != 41 || label == "" || stderr.Len() != 0 {
		t.Fatalf("%d points, label %q, stderr %q; want 41 points", len(line), label, stderr.String())
	}
	for i := 1; i < len(line); i++ {
		if !(line[i].X > line[i-1].X) || !(line[i].Y > line[i-1].Y) {
			t.Fatalf("line not increasing at %d: %v then %v", i, line[i-1], line[i])
		}
	}
	o.metric = "gold_utility"
	if line, _ := criticalLine(cfg, o, []float64{0.5, 2}, &stderr); line != nil {
		t.Error("a line for gold_utility")
	}
}

// TestFrontierStepRange: from a step range that starts after step 0 the
// frontier's gains, fit and labels start at that step.
func TestFrontierStepRange(t *testing.T) {
	run, _, _ := plotFolders(t)
	rd, err := openResults(run)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		steps      stepRange
		from, fitd string
	}{{allSteps, "0", "steps 0-"}, {stepRange{10, 25}, "10", "steps 10-"}} {
		fig, err := frontierFigure(plotOpts{steps: c.steps}, rd)
		if err != nil {
			t.Fatal(err)
		}
		if got := fig.Rows[0][0].Y.Label.Text; got != "gain since step "+c.from {
			t.Errorf("%v: y label %q", c.steps, got)
		}
		found := false
		for _, e := range fig.Key.Entries {
			found = found || strings.Contains(e.Label, c.fitd)
		}
		if !found {
			t.Errorf("%v: no key entry names the fitted steps %q", c.steps, c.fitd)
		}
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

// TestBinGroups: many values of --by become at most maxDriftLines bins of
// consecutive values, every run in the bin of its value.
func TestBinGroups(t *testing.T) {
	var labels []string
	for i := 0; i < 100; i++ {
		labels = append(labels, strconv.FormatFloat(3*float64(i)/99, 'g', -1, 64))
	}
	group := func(run int) int {
		if run == 100 {
			return -1 // a failed run
		}
		return run
	}
	bins, bin := binGroups(labels, group, maxDriftLines)
	if len(bins) != maxDriftLines || bins[0] != "0 to 0.4242" || bins[len(bins)-1] != "2.606 to 3" {
		t.Errorf("bins %q", bins)
	}
	for run := 1; run < 100; run++ {
		if b, a := bin(run), bin(run-1); b < a || b > a+1 || b >= maxDriftLines {
			t.Fatalf("run %d in bin %d after bin %d", run, b, a)
		}
	}
	if bin(100) != -1 {
		t.Error("a failed run was binned")
	}
	// Nine values in seven bins: a bin of one value is named by it alone.
	nine, _ := binGroups(labels[:9], group, maxDriftLines)
	for _, l := range nine {
		if a, b, ok := strings.Cut(l, " to "); ok && a == b {
			t.Errorf("bin %q names one value twice (bins %q)", l, nine)
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
