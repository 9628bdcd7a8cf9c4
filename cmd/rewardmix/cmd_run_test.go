package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"image/png"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim"
)

// TestRunIncident runs the main job and checks what it writes, and that
// running it again, or from its own config.toml, writes the same bytes.
func TestRunIncident(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	d1 := filepath.Join(tmp, "d1")
	r := mustRun(t, "run", "incident", "-o", d1)

	if got := listDir(t, d1); strings.Join(got, " ") != strings.Join(outputs, " ") {
		t.Fatalf("%s holds %v, want exactly %v", d1, got, outputs)
	}
	if want := "\nwrote " + d1 + "/{config.toml,drift.png,frontier.png,influence.png,rewardmix.sha256,segments.png,steps.csv,summary.json}\n"; !strings.HasSuffix(r.stdout, want) {
		t.Errorf("stdout does not end with %q:\n%s", want, r.stdout)
	}
	if !strings.HasPrefix(r.stdout, "incident: expected, 300 steps, seed 1; update step 150 (the mix changes there)\n") {
		t.Errorf("stdout does not start with the run's headline:\n%s", r.stdout)
	}

	values := checkStepsCSV(t, readFile(t, filepath.Join(d1, "steps.csv")), 300, []string{
		"sycophancy_rate", "sycophancy_rate/vulnerable", "gold_utility", "proxy_reward", "kl",
		"thumbs_up_rate", "reward/thumbs", "influence/spec", "eval/offline_correctness",
	})
	checkSummary(t, readFile(t, filepath.Join(d1, "summary.json")), values)
	checkPNG(t, readFile(t, filepath.Join(d1, "drift.png")))

	cfg, err := configs.Load("config.toml", readFile(t, filepath.Join(d1, "config.toml")), nil)
	if err != nil {
		t.Fatalf("the written config.toml does not load: %v", err)
	}
	preset, err := configs.Preset("incident")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, preset) {
		t.Errorf("the written config.toml loads to\n%+v\nwant the incident preset\n%+v", cfg, preset)
	}

	// Determinism: the same preset (flags before the positional argument
	// this time) and the written config give the same bytes.
	d2 := filepath.Join(tmp, "d2")
	d3 := filepath.Join(tmp, "d3")
	t.Run("again", func(t *testing.T) {
		t.Parallel()
		mustRun(t, "run", "-o", d2, "incident")
		sameFiles(t, d1, d2, outputs...)
	})
	t.Run("from config.toml", func(t *testing.T) {
		t.Parallel()
		mustRun(t, "run", filepath.Join(d1, "config.toml"), "-o", d3)
		sameFiles(t, d1, d3, outputs...)
	})
}

// sameFiles checks that the named files in dirs a and b are byte-identical.
func sameFiles(t *testing.T, a, b string, names ...string) {
	t.Helper()
	for _, n := range names {
		if !bytes.Equal(readFile(t, filepath.Join(a, n)), readFile(t, filepath.Join(b, n))) {
			t.Errorf("%s differs between %s and %s", n, a, b)
		}
	}
}

// checkStepsCSV checks that data is tidy step,metric,value CSV with every
// metric once at every step 0..steps, in step order, that the metrics in
// want are among them, and returns the values by step and metric.
func checkStepsCSV(t *testing.T, data []byte, steps int, want []string) []map[string]float64 {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("steps.csv: %v", err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != "step,metric,value" {
		t.Fatalf("steps.csv header is %v, want step,metric,value", recs[:min(1, len(recs))])
	}
	values := make([]map[string]float64, steps+1)
	last := 0
	for i, rec := range recs[1:] {
		line := i + 2
		step, err := strconv.Atoi(rec[0])
		if err != nil || step < 0 || step > steps {
			t.Fatalf("steps.csv:%d: step %q is not in 0..%d", line, rec[0], steps)
		}
		if step < last {
			t.Fatalf("steps.csv:%d: step %d after step %d", line, step, last)
		}
		last = step
		v, err := strconv.ParseFloat(rec[2], 64)
		if err != nil {
			t.Fatalf("steps.csv:%d: value: %v", line, err)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("steps.csv:%d: %s is %v at step %d", line, rec[1], v, step)
		}
		if values[step] == nil {
			values[step] = map[string]float64{}
		}
		if _, dup := values[step][rec[1]]; dup {
			t.Errorf("steps.csv:%d: %s twice at step %d", line, rec[1], step)
		}
		values[step][rec[1]] = v
	}
	for step, row := range values {
		if len(row) != len(values[0]) {
			t.Errorf("steps.csv: %d metrics at step %d, %d at step 0", len(row), step, len(values[0]))
		}
		for _, m := range want {
			if _, ok := row[m]; !ok {
				t.Errorf("steps.csv: no %s at step %d", m, step)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return values
}

// checkSummary checks summary.json against the incident preset and the
// values in steps.csv at its three steps.
func checkSummary(t *testing.T, data []byte, values []map[string]float64) {
	t.Helper()
	var s struct {
		Name       string             `json:"name"`
		Seed       *uint64            `json:"seed"`
		Steps      int                `json:"steps"`
		UpdateStep int                `json:"update_step"`
		Primary    string             `json:"primary_signal"`
		BeforeStep int                `json:"before_step"`
		AfterStep  int                `json:"after_step"`
		Before     map[string]float64 `json:"before"`
		AtUpdate   map[string]float64 `json:"at_update"`
		After      map[string]float64 `json:"after"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	if s.Name != "incident" || s.Seed == nil || *s.Seed != 1 || s.Steps != 300 || s.UpdateStep != 150 || s.Primary != "spec" {
		t.Errorf("summary.json: name %q seed %v steps %d update_step %d primary %q, want incident 1 300 150 spec",
			s.Name, s.Seed, s.Steps, s.UpdateStep, s.Primary)
	}
	if s.BeforeStep != 149 || s.AfterStep != 300 {
		t.Errorf("summary.json: before_step %d after_step %d, want 149 and 300", s.BeforeStep, s.AfterStep)
	}
	for _, at := range []struct {
		key  string
		step int
		m    map[string]float64
	}{{"before", s.BeforeStep, s.Before}, {"at_update", s.UpdateStep, s.AtUpdate}, {"after", s.AfterStep, s.After}} {
		if len(at.m) == 0 {
			t.Errorf("summary.json: %s is missing or empty", at.key)
			continue
		}
		if at.step < 0 || at.step >= len(values) {
			continue
		}
		if len(at.m) != len(values[at.step]) {
			t.Errorf("summary.json: %s has %d metrics, steps.csv %d", at.key, len(at.m), len(values[at.step]))
		}
		for m, v := range values[at.step] {
			if got, ok := at.m[m]; !ok || got != v {
				t.Errorf("summary.json: %s[%s] = %v (present %v), steps.csv has %v at step %d", at.key, m, got, ok, v, at.step)
			}
		}
	}
}

func checkPNG(t *testing.T, data []byte) {
	t.Helper()
	if ct := http.DetectContentType(data); ct != "image/png" {
		t.Errorf("drift.png has content type %s", ct)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("drift.png: %v", err)
	}
	b := img.Bounds()
	if b.Dx() < 200 || b.Dy() < 200 {
		t.Errorf("drift.png is only %dx%d", b.Dx(), b.Dy())
	}
	// Something is drawn: more than a handful of colours.
	colours := map[[4]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y && len(colours) < 10; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			colours[[4]uint32{r, g, bl, a}] = true
		}
	}
	if len(colours) < 10 {
		t.Errorf("drift.png has only %d colours: blank?", len(colours))
	}
}

func TestRunSeed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	small := writeFile(t, dir, "small.toml", smallTOML)
	plain := filepath.Join(dir, "plain")
	seeded := filepath.Join(dir, "seeded")
	again := filepath.Join(dir, "again")
	mustRun(t, "run", "--no-plots", small, "-o", plain)
	r := mustRun(t, "run", "--no-plots", "--seed", "7", small, "-o", seeded)
	if !strings.HasPrefix(r.stdout, "small: expected, 30 steps, seed 7;") {
		t.Errorf("stdout does not report seed 7:\n%s", r.stdout)
	}
	if bytes.Equal(readFile(t, filepath.Join(plain, "steps.csv")), readFile(t, filepath.Join(seeded, "steps.csv"))) {
		t.Error("--seed 7 did not change steps.csv")
	}
	cfgText := string(readFile(t, filepath.Join(seeded, "config.toml")))
	if !strings.Contains(cfgText, "\nseed = 7\n") {
		t.Errorf("config.toml does not record seed = 7:\n%s", cfgText)
	}
	var s struct{ Seed uint64 }
	if err := json.Unmarshal(readFile(t, filepath.Join(seeded, "summary.json")), &s); err != nil || s.Seed != 7 {
		t.Errorf("summary.json: seed %d (%v), want 7", s.Seed, err)
	}
	// The recorded seed reproduces the run.
	mustRun(t, "run", "--no-plots", filepath.Join(seeded, "config.toml"), "-o", again)
	sameFiles(t, seeded, again, dataOutputs...)

	// Seeds run up to the largest TOML integer, so that config.toml can
	// record them; beyond it --seed is refused.
	big := filepath.Join(dir, "big")
	mustRun(t, "run", "--no-plots", "--seed", "9223372036854775807", small, "-o", big)
	if cfg := string(readFile(t, filepath.Join(big, "config.toml"))); !strings.Contains(cfg, "\nseed = 9223372036854775807\n") {
		t.Errorf("config.toml does not record the largest seed:\n%s", cfg)
	}
	if r := rewardmix(t, "run", "--no-plots", "--seed", "9223372036854775808", small, "-o", filepath.Join(dir, "bigger")); r.code != exitInput {
		t.Errorf("--seed 2^63: exit %d, want %d", r.code, exitInput)
	}
}

// divergentTOML makes the first update overflow: a huge weight on an
// absolute scale times the largest learning rate, with plain SGD.
const divergentTOML = `extends = "incident"

[train]
optimizer = "sgd"
learning_rate = 1000.0
weights = "absolute"

[signals.spec]
weight = 1e306
`

func TestRunDiverges(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := writeFile(t, dir, "diverge.toml", divergentTOML)

	cfg, err := configs.Load(p, []byte(divergentTOML), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = sim.Run(t.Context(), cfg)
	var de *sim.DivergedError
	if !errors.As(err, &de) {
		t.Fatalf("sim.Run: %v (%T), want a *sim.DivergedError", err, err)
	}

	out := filepath.Join(dir, "out")
	r := rewardmix(t, "run", "--no-plots", p, "-o", out)
	if r.code != exitFailure {
		t.Errorf("exit %d, want 1\nstderr: %s", r.code, r.stderr)
	}
	want := "rewardmix run: training diverged at step " + strconv.Itoa(de.Step) + " "
	if !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %q, want one line starting %q", r.stderr, want)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a diverged run created %s (stat: %v)", out, err)
	}
	if got := listDir(t, dir); len(got) != 1 {
		t.Errorf("%s holds %v, want only the config", dir, got)
	}
}

// TestRunExtendsRelative checks that extends = "file.toml" is read relative
// to the folder of the file that says it, at every level of the chain, not
// relative to the working directory.
func TestRunExtendsRelative(t *testing.T) {
	dir := t.TempDir()
	// child -> sub/mid.toml -> base.toml, which is sub/base.toml.
	child := writeFile(t, dir, "cfg/child.toml", "extends = \"sub/mid.toml\"\nseed = 5\n")
	writeFile(t, dir, "cfg/sub/mid.toml", "extends = \"base.toml\"\n\n[train]\nlearning_rate = 0.03\n")
	writeFile(t, dir, "cfg/sub/base.toml", strings.Replace(smallTOML, `name = "small"`, `name = "sub_base"`, 1))
	// Decoys where a resolver that ignored the referring file would look.
	decoy := "this is not toml ["
	writeFile(t, dir, "cfg/base.toml", decoy)
	writeFile(t, dir, "cwd/sub/mid.toml", decoy)
	writeFile(t, dir, "cwd/base.toml", decoy)
	t.Chdir(filepath.Join(dir, "cwd"))

	for _, arg := range []string{child, "../cfg/child.toml"} {
		out := filepath.Join(dir, "out")
		mustRun(t, "run", "--no-plots", arg, "-o", out)
		cfg, err := configs.Load("config.toml", readFile(t, filepath.Join(out, "config.toml")), nil)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Name != "sub_base" || cfg.Seed != 5 || cfg.Train.LearningRate != 0.03 || cfg.Train.Steps != 30 {
			t.Errorf("run %s: got name %q seed %d learning_rate %g steps %d, want sub_base 5 0.03 30",
				arg, cfg.Name, cfg.Seed, cfg.Train.LearningRate, cfg.Train.Steps)
		}
		r := mustRun(t, "check", arg)
		if want := arg + ": ok (expected, 4 signals, 30 steps, update at step 15)\n"; r.stdout != want {
			t.Errorf("check printed %q, want %q", r.stdout, want)
		}
	}

	// An error in an extended file names that file, by its resolved path.
	writeFile(t, dir, "cfg/sub/base.toml", "extends = \"incident\"\n[train]\nbogus = 1\n")
	r := rewardmix(t, "check", child)
	want := "rewardmix check: " + filepath.Join(dir, "cfg/sub/base.toml") + ":3:1: train.bogus: unknown key"
	if r.code != exitInput || !strings.HasPrefix(r.stderr, want) {
		t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, want)
	}
}

// TestRunDefaultOutput checks that without -o a run writes into
// out/<file name> under the working directory.
func TestRunDefaultOutput(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "cfgs/my_run.toml", smallTOML)
	t.Chdir(dir)
	r := mustRun(t, "run", "--no-plots", "cfgs/my_run.toml")
	want := filepath.Join("out", "my_run")
	if got := listDir(t, want); strings.Join(got, " ") != strings.Join(dataOutputs, " ") {
		t.Errorf("%s holds %v, want %v", want, got, dataOutputs)
	}
	if !strings.Contains(r.stdout, "\nwrote "+want+"/{") {
		t.Errorf("stdout does not name %s:\n%s", want, r.stdout)
	}
	if got := listDir(t, dir); strings.Join(got, " ") != "cfgs out" {
		t.Errorf("%s holds %v, want cfgs and out", dir, got)
	}
}
