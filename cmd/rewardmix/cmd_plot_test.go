package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/plot/vg"
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
			if !slices.Contains(c.args, "-o") {
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
