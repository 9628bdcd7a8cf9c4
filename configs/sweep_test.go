package configs_test

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim"
)

// sweepBase is the incident preset shrunk to 40 steps and 50 users: the
// base of the sweeps below.
const sweepBase = `extends = "incident"

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

// loadSweep loads a sweep from text or fails the test.
func loadSweep(t *testing.T, text string) *configs.Sweep {
	t.Helper()
	s, err := configs.LoadSweep("sweep.toml", []byte(text), nil, configs.DefaultMaxRuns)
	if err != nil {
		t.Fatalf("LoadSweep: %v\ninput:\n%s", err, text)
	}
	return s
}

// params returns every run's parameters, in run order.
func params(s *configs.Sweep) [][]any {
	var out [][]any
	for _, r := range s.Runs() {
		out = append(out, r.Params)
	}
	return out
}

func TestSweepGridOrder(t *testing.T) {
	s := loadSweep(t, sweepBase+`
[sweep]
seeds = [7, 3]

[[sweep.axis]]
key = "signals.thumbs.weight"
values = [0.5, 1, 2.0]

[[sweep.axis]]
key = "train.learning_rate"
values = [0.01, 0.05]
`)
	if s.Mode != configs.ModeGrid {
		t.Errorf("mode %q, want grid by default", s.Mode)
	}
	if s.Len() != 12 || s.Points() != 6 {
		t.Fatalf("%d runs over %d points, want 12 over 6", s.Len(), s.Points())
	}
	// The last axis varies fastest, and the replicate seeds faster still.
	var want [][]any
	for _, w := range []float64{0.5, 1, 2} {
		for _, lr := range []float64{0.01, 0.05} {
			for range s.Seeds {
				want = append(want, []any{w, lr})
			}
		}
	}
	if got := params(s); !reflect.DeepEqual(got, want) {
		t.Errorf("run parameters\n got %v\nwant %v", got, want)
	}
	if !reflect.DeepEqual(s.Seeds, []uint64{7, 3}) {
		t.Errorf("seeds %v, want [7 3] in the order given", s.Seeds)
	}
	seen := map[uint64]string{}
	for i, r := range s.Runs() {
		if r.Index != i {
			t.Errorf("run %d has Index %d", i, r.Index)
		}
		if want := fmt.Sprintf("r%02d", i); r.ID != want {
			t.Errorf("run %d has ID %q, want %q", i, r.ID, want)
		}
		if prev, dup := seen[r.Seed]; dup {
			t.Errorf("runs %s and %s share seed %d", prev, r.ID, r.Seed)
		}
		seen[r.Seed] = r.ID
		if r.Seed > math.MaxInt64 {
			t.Errorf("run %s: seed %d does not fit a TOML integer", r.ID, r.Seed)
		}
	}
}

// TestSweepRunIDs: ids are zero-padded to the width of the last index, so
// that they sort in run order.
func TestSweepRunIDs(t *testing.T) {
	for _, tc := range []struct {
		n           int
		first, last string
	}{{1, "r0", "r0"}, {10, "r0", "r9"}, {11, "r00", "r10"}, {101, "r000", "r100"}} {
		s := loadSweep(t, sweepBase+"\n[sweep]\nreplicates = "+strconv.Itoa(tc.n)+"\n[[sweep.axis]]\nkey = \"train.beta\"\nvalues = [0.1]\n")
		if got := s.Run(0).ID; got != tc.first {
			t.Errorf("%d runs: first id %q, want %q", tc.n, got, tc.first)
		}
		if got := s.Run(tc.n - 1).ID; got != tc.last {
			t.Errorf("%d runs: last id %q, want %q", tc.n, got, tc.last)
		}
	}
}

func TestSweepZip(t *testing.T) {
	s := loadSweep(t, sweepBase+`
[sweep]
mode = "zip"
replicates = 2

[[sweep.axis]]
key = "signals.thumbs.weight"
values = [0.5, 1.0, 2.0]

[[sweep.axis]]
key = "train.aggregation"
values = ["none", "sum_then_normalize", "normalize_then_sum"]
`)
	want := [][]any{
		{0.5, "none"}, {0.5, "none"},
		{1.0, "sum_then_normalize"}, {1.0, "sum_then_normalize"},
		{2.0, "normalize_then_sum"}, {2.0, "normalize_then_sum"},
	}
	if got := params(s); !reflect.DeepEqual(got, want) {
		t.Errorf("zip runs\n got %v\nwant %v", got, want)
	}
	if !reflect.DeepEqual(s.Seeds, []uint64{1, 2}) {
		t.Errorf("replicates = 2 gives seeds %v, want [1 2]", s.Seeds)
	}
	cfg, err := s.Config(s.Run(3))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Train.Aggregation != "sum_then_normalize" || cfg.Signals["thumbs"].Weight != 1 {
		t.Errorf("run 3: aggregation %q, thumbs weight %g; want sum_then_normalize, 1", cfg.Train.Aggregation, cfg.Signals["thumbs"].Weight)
	}
}

const randomSweep = sweepBase + `
[sweep]
mode = "random"
samples = 400
%SEED%

[[sweep.axis]]
key = "signals.thumbs.weight"
uniform = [0.2, 0.8]

[[sweep.axis]]
key = "train.learning_rate"
loguniform = [1e-3, 1e-1]

[[sweep.axis]]
key = "train.aggregation"
values = ["none", "sum_then_normalize", "normalize_then_sum"]
`

// TestSweepRandom checks the draws of random mode against their
// distributions, with tolerances of four standard errors for the sample
// size, and that a sweep seed fixes them.
func TestSweepRandom(t *testing.T) {
	s := loadSweep(t, strings.Replace(randomSweep, "%SEED%", "", 1))
	const n = 400
	if s.Points() != n || s.Len() != n {
		t.Fatalf("%d points, %d runs; want %d", s.Points(), s.Len(), n)
	}
	var sumU, sumLog float64
	counts := map[string]int{}
	for _, p := range params(s) {
		u, lr, agg := p[0].(float64), p[1].(float64), p[2].(string)
		if u < 0.2 || u >= 0.8 {
			t.Fatalf("uniform [0.2, 0.8] drew %g", u)
		}
		if lr < 1e-3 || lr > 1e-1 {
			t.Fatalf("loguniform [1e-3, 1e-1] drew %g", lr)
		}
		sumU += u
		sumLog += math.Log10(lr)
		counts[agg]++
	}
	// U(0.2, 0.8): mean 0.5, sd 0.6/sqrt(12). log10 of loguniform(1e-3,
	// 1e-1) is U(-3, -1): mean -2, sd 2/sqrt(12).
	se := func(sd float64) float64 { return 4 * sd / math.Sqrt(n) }
	if m := sumU / n; math.Abs(m-0.5) > se(0.6/math.Sqrt(12)) {
		t.Errorf("uniform draws have mean %g, want 0.5 +- %g", m, se(0.6/math.Sqrt(12)))
	}
	if m := sumLog / n; math.Abs(m+2) > se(2/math.Sqrt(12)) {
		t.Errorf("log10 of loguniform draws has mean %g, want -2 +- %g", m, se(2/math.Sqrt(12)))
	}
	// Each of three values: binomial(n, 1/3).
	sd := math.Sqrt(n * (1.0 / 3) * (2.0 / 3))
	for _, v := range []string{"none", "sum_then_normalize", "normalize_then_sum"} {
		if c := float64(counts[v]); math.Abs(c-n/3.0) > 4*sd {
			t.Errorf("value %q drawn %v times of %d, want %.0f +- %.0f", v, c, n, n/3.0, 4*sd)
		}
	}

	// The draws depend on the sweep seed only: the base seed by default.
	again := loadSweep(t, strings.Replace(randomSweep, "%SEED%", "seed = 1", 1))
	if !reflect.DeepEqual(params(again), params(s)) {
		t.Error("seed = 1 (the base seed) draws other points than no seed")
	}
	other := loadSweep(t, strings.Replace(randomSweep, "%SEED%", "seed = 2", 1))
	same := 0
	for i, p := range params(other) {
		if reflect.DeepEqual(p[:2], params(s)[i][:2]) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("sweep seeds 1 and 2 draw %d identical points of %d", same, n)
	}
	baseSeed := loadSweep(t, strings.Replace(randomSweep, "%SEED%", "", 1)+"\n")
	if !reflect.DeepEqual(params(baseSeed), params(s)) {
		t.Error("loading the same random sweep twice draws different points")
	}
}

func TestSweepGenerators(t *testing.T) {
	const baseline = "extends = \"baseline\"\n"
	tests := []struct {
		name, base, key, gen string
		want                 []any
	}{
		{"linspace", "", "signals.thumbs.weight", "linspace = [0.0, 1.0, 11]",
			[]any{0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}},
		{"linspace descending", "", "signals.thumbs.weight", "linspace = [2, 1, 5]",
			[]any{2.0, 1.75, 1.5, 1.25, 1.0}},
		{"linspace of one", "", "signals.thumbs.weight", "linspace = [0.25, 9, 1]", []any{0.25}},
		// numpy.logspace: 10 ** linspace(start, stop, n).
		{"logspace", "", "train.learning_rate", "logspace = [-2, 1, 4]", []any{0.01, 0.1, 1.0, 10.0}},
		{"logspace to 1000", "", "signals.spec.weight", "logspace = [0, 3, 4]", []any{1.0, 10.0, 100.0, 1000.0}},
		{"logspace halves", "", "signals.spec.weight", "logspace = [0, 1, 3]", []any{1.0, math.Sqrt(10), 10.0}},
		// range is half-open, as numpy.arange and Python's range.
		{"range", "", "signals.thumbs.weight", "range = [0, 1, 0.25]", []any{0.0, 0.25, 0.5, 0.75}},
		{"range of tenths", "", "signals.thumbs.weight", "range = [0, 0.3, 0.1]", []any{0.0, 0.1, 0.2}},
		{"range down", "", "signals.thumbs.weight", "range = [1, 0, -0.25]", []any{1.0, 0.75, 0.5, 0.25}},
		{"range of ints", "", "population.users", "range = [50, 110, 20]", []any{int64(50), int64(70), int64(90)}},
		// An integer key takes whole floats from the generators.
		{"linspace of ints", "", "train.steps", "linspace = [40, 60, 3]", []any{int64(40), int64(50), int64(60)}},
		{"logspace of ints", "", "population.users", "logspace = [2, 3, 2]", []any{int64(100), int64(1000)}},
		// An integer literal on a real key is a real number.
		{"values", "", "signals.thumbs.weight", "values = [0.5, 1, 3]", []any{0.5, 1.0, 3.0}},
		{"int values", "", "train.batch_size", "values = [8, 16]", []any{int64(8), int64(16)}},
		{"whole floats on an int key", "", "train.batch_size", "values = [8.0, 16.0]", []any{int64(8), int64(16)}},
		{"strings", "", "train.aggregation", `values = ["none", "normalize_then_sum"]`, []any{"none", "normalize_then_sum"}},
		{"bools", baseline, "memory.enabled", "values = [false, true]", []any{false, true}},
		{"primary", "", "primary", `values = ["spec", "correctness"]`, []any{"spec", "correctness"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := sweepBase
			if tc.base != "" {
				base = tc.base
			}
			s := loadSweep(t, base+"\n[sweep]\n[[sweep.axis]]\nkey = \""+tc.key+"\"\n"+tc.gen+"\n")
			if got := s.Axes[0].Values; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s gives %#v, want %#v", tc.gen, got, tc.want)
			}
			if s.Len() != len(tc.want) {
				t.Errorf("%d runs, want %d", s.Len(), len(tc.want))
			}
			// Each value reaches its run's config.
			for i, r := range s.Runs() {
				cfg, err := s.Config(r)
				if err != nil {
					t.Fatalf("run %s: %v", r.ID, err)
				}
				if got := lookup(t, cfg, tc.key); got != tc.want[i] {
					t.Errorf("run %s: %s = %#v, want %#v", r.ID, tc.key, got, tc.want[i])
				}
			}
		})
	}
}

// lookup returns the value at a dotted key of cfg as a TOML value (int64,
// float64, bool or string).
func lookup(t *testing.T, cfg *sim.Config, key string) any {
	t.Helper()
	v := reflect.ValueOf(cfg).Elem()
	for _, p := range strings.Split(key, ".") {
		if v.Kind() == reflect.Map {
			v = v.MapIndex(reflect.ValueOf(p))
			continue
		}
		found := false
		for i := 0; i < v.NumField(); i++ {
			if strings.Split(v.Type().Field(i).Tag.Get("toml"), ",")[0] == p {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			t.Fatalf("test bug: no key %s", key)
		}
	}
	switch v.Kind() {
	case reflect.Int:
		return v.Int()
	case reflect.Float64:
		return v.Float()
	case reflect.Bool:
		return v.Bool()
	case reflect.String:
		return v.String()
	}
	t.Fatalf("test bug: %s is a %s", key, v.Kind())
	return nil
}

// TestSweepRunSeeds: a run's seed follows from its replicate seed and its
// parameters, not from where it falls in the run order: the same point
// gets the same seed in a sweep that lists its points differently.
func TestSweepRunSeeds(t *testing.T) {
	type point struct {
		rep    uint64
		params string
	}
	// key identifies a run by its replicate seed and key=value pairs in
	// key order.
	key := func(s *configs.Sweep, r configs.Run) point {
		pairs := strings.Split(s.Describe(r), " ")
		sort.Strings(pairs)
		return point{s.Seeds[r.Index%len(s.Seeds)], strings.Join(pairs, " ")}
	}
	a := loadSweep(t, sweepBase+`
[sweep]
seeds = [1, 2, 3]
[[sweep.axis]]
key = "signals.thumbs.weight"
values = [0.5, 1.0, 2.0]
[[sweep.axis]]
key = "train.learning_rate"
values = [0.01, 0.05]
`)
	seedOf := map[point]uint64{}
	for _, r := range a.Runs() {
		seedOf[key(a, r)] = r.Seed
	}
	others := map[string]string{
		"values reversed and seeds reordered": `
[sweep]
seeds = [3, 1]
[[sweep.axis]]
key = "signals.thumbs.weight"
values = [2.0, 1, 0.5]
[[sweep.axis]]
key = "train.learning_rate"
values = [0.05, 0.01]
`,
		"zip": `
[sweep]
mode = "zip"
replicates = 2
[[sweep.axis]]
key = "signals.thumbs.weight"
values = [2.0, 0.5]
[[sweep.axis]]
key = "train.learning_rate"
values = [0.01, 0.05]
`,
		"axes swapped": `
[sweep]
seeds = [2]
[[sweep.axis]]
key = "train.learning_rate"
linspace = [0.05, 0.01, 2]
[[sweep.axis]]
key = "signals.thumbs.weight"
values = [1.0]
`,
	}
	for name, text := range others {
		b := loadSweep(t, sweepBase+text)
		for _, r := range b.Runs() {
			want, ok := seedOf[key(b, r)]
			if !ok {
				t.Fatalf("%s: test bug: run %s (%v) is not in the first sweep", name, r.ID, key(b, r))
			}
			if r.Seed != want {
				t.Errorf("%s: run %s (%s, replicate %d) has seed %d; the same run of the first sweep has %d",
					name, r.ID, b.Describe(r), key(b, r).rep, r.Seed, want)
			}
		}
	}

	// Replicate seeds and parameters both matter.
	r0, r1, r2 := a.Run(0), a.Run(1), a.Run(3)
	if r0.Seed == r1.Seed || r0.Seed == r2.Seed {
		t.Errorf("seeds %d, %d, %d: a replicate or a parameter change left the seed unchanged", r0.Seed, r1.Seed, r2.Seed)
	}
}

func TestSweepConfig(t *testing.T) {
	s := loadSweep(t, "seed = 99\n"+sweepBase+`
[sweep]
seeds = [4, 5]
[[sweep.axis]]
key = "signals.thumbs.weight"
values = [0.5, 3.0]
[[sweep.axis]]
key = "train.steps"
values = [40, 60]
`)
	before := configs.Encode(s.Base)
	base := mustLoad(t, "base.toml", "seed = 99\n"+sweepBase, nil)
	if !reflect.DeepEqual(s.Base, base) {
		t.Errorf("the sweep's base differs from the same file without [sweep]")
	}
	for _, r := range s.Runs() {
		cfg, err := s.Config(r)
		if err != nil {
			t.Fatalf("run %s: %v", r.ID, err)
		}
		want := base.Clone()
		th := want.Signals["thumbs"]
		th.Weight = r.Params[0].(float64)
		want.Signals["thumbs"] = th
		want.Train.Steps = int(r.Params[1].(int64))
		want.Seed = r.Seed
		diffConfigs(t, cfg, want)
	}
	if string(before) != string(configs.Encode(s.Base)) {
		t.Error("Config changed the sweep's base")
	}

	// Config validates: a point made up here that LoadSweep would refuse.
	bad := s.Run(0)
	bad.Params = []any{-1.0, int64(40)}
	_, err := s.Config(bad)
	var fe *sim.FieldError
	if !errors.As(err, &fe) || !strings.Contains(fe.Error(), "signals.thumbs.weight") {
		t.Errorf("Config with a negative weight: %v, want a FieldError naming signals.thumbs.weight", err)
	}
}

// TestEncodeSweepRoundTrip: EncodeSweep writes a self-contained file that
// LoadSweep reads back to the same runs and Hash, and to the same file.
func TestEncodeSweepRoundTrip(t *testing.T) {
	sweeps := map[string]string{
		"grid": sweepBase + `
[sweep]
replicates = 3
[[sweep.axis]]
key = "signals.thumbs.weight"
linspace = [0, 1, 7]
[[sweep.axis]]
key = "train.learning_rate"
logspace = [-3, -1, 3]
[[sweep.axis]]
key = "population.users"
range = [50, 80, 15]
`,
		"zip with strings": sweepBase + `
[sweep]
mode = "zip"
seeds = [10, 2]
seed = 4
[[sweep.axis]]
key = "train.aggregation"
values = ["none", "sum_then_normalize"]
[[sweep.axis]]
key = "primary"
values = ["spec", "correctness"]
`,
		"bools": "extends = \"baseline\"\n" + `
[sweep]
[[sweep.axis]]
key = "memory.enabled"
values = [true, false]
`,
		"random": strings.Replace(randomSweep, "%SEED%", "seed = 12", 1),
	}
	for name, text := range sweeps {
		t.Run(name, func(t *testing.T) {
			s := loadSweep(t, text)
			enc := configs.EncodeSweep(s)
			s2, err := configs.LoadSweep("encoded.toml", enc, nil, configs.DefaultMaxRuns)
			if err != nil {
				t.Fatalf("the encoded sweep does not load: %v\n%s", err, enc)
			}
			if s2.Hash() != s.Hash() {
				t.Errorf("hash %s after the round trip, want %s", s2.Hash(), s.Hash())
			}
			if !reflect.DeepEqual(s2.Runs(), s.Runs()) {
				t.Errorf("runs differ after the round trip")
			}
			if s2.Mode != s.Mode || s2.Seed != s.Seed || !reflect.DeepEqual(s2.Seeds, s.Seeds) || !reflect.DeepEqual(s2.Base, s.Base) {
				t.Errorf("mode, seeds or base differ after the round trip")
			}
			if enc2 := configs.EncodeSweep(s2); string(enc2) != string(enc) {
				t.Errorf("encoding again gives another file:\n%s\nwant\n%s", enc2, enc)
			}
			if strings.Contains(string(enc), "extends") {
				t.Errorf("the encoded sweep is not self-contained:\n%s", enc)
			}
		})
	}
}

// TestSweepHash: the hash changes with anything that changes a run.
func TestSweepHash(t *testing.T) {
	const sweep = `
[sweep]
seeds = [1, 2]
[[sweep.axis]]
key = "signals.thumbs.weight"
values = [0.5, 1.0]
`
	h := loadSweep(t, sweepBase+sweep).Hash()
	if again := loadSweep(t, sweepBase+"\n# a comment\n"+sweep).Hash(); again != h {
		t.Error("a comment changed the hash")
	}
	changes := map[string]string{
		"base":   strings.Replace(sweepBase, "users = 50", "users = 51", 1) + sweep,
		"seeds":  sweepBase + strings.Replace(sweep, "[1, 2]", "[1, 3]", 1),
		"values": sweepBase + strings.Replace(sweep, "[0.5, 1.0]", "[0.5, 1.5]", 1),
		"order":  sweepBase + strings.Replace(sweep, "[0.5, 1.0]", "[1.0, 0.5]", 1),
		"key":    sweepBase + strings.Replace(sweep, "signals.thumbs.weight", "signals.memory.weight", 1),
		"mode":   sweepBase + strings.Replace(sweep, "[sweep]", "[sweep]\nmode = \"zip\"", 1),
	}
	for name, text := range changes {
		if loadSweep(t, text).Hash() == h {
			t.Errorf("changing the %s left the hash unchanged", name)
		}
	}
}

func TestSweepErrors(t *testing.T) {
	const axisW = "\n[[sweep.axis]]\nkey = \"signals.thumbs.weight\"\nvalues = [0.5, 1.0]\n"
	tests := []struct {
		name, text string
		top        string // written before the base
		maxRuns    int
		key        string
		// at is where the error must point: its nth (0-based) occurrence
		// in the text.
		at  string
		nth int
		msg string
	}{
		{name: "key not in config", text: "[sweep]\n[[sweep.axis]]\nkey = \"train.nosuch\"\nvalues = [1]\n",
			key: "sweep.axis[0].key", at: `key = "train.nosuch"`, msg: `no "nosuch" in train`},
		{name: "no such signal", text: "[sweep]\n[[sweep.axis]]\nkey = \"signals.nosuch.weight\"\nvalues = [1]\n",
			key: "sweep.axis[0].key", at: `key = "signals.nosuch.weight"`, msg: `signals has no entry "nosuch"`},
		{name: "key of another signal kind", text: "[sweep]\n[[sweep.axis]]\nkey = \"signals.thumbs.detection\"\nvalues = [0.5]\n",
			key: "sweep.axis[0].key", at: `key = "signals.thumbs.detection"`, msg: "a thumbs signal has"},
		{name: "second axis key", text: "[sweep]" + axisW + "\n[[sweep.axis]]\nkey = \"train.lr\"\nvalues = [1]\n",
			key: "sweep.axis[1].key", at: `key = "train.lr"`, msg: "train.lr is not a key of the config"},
		{name: "a table", text: "[sweep]\n[[sweep.axis]]\nkey = \"signals.thumbs\"\nvalues = [1]\n",
			key: "sweep.axis[0].key", at: `key = "signals.thumbs"`, msg: "a table"},
		{name: "seed key", text: "[sweep]\n[[sweep.axis]]\nkey = \"seed\"\nvalues = [1, 2]\n",
			key: "sweep.axis[0].key", at: `key = "seed"`, msg: "use seeds or replicates"},
		{name: "name key", text: "[sweep]\n[[sweep.axis]]\nkey = \"name\"\nvalues = [\"a\"]\n",
			key: "sweep.axis[0].key", at: `key = "name"`, msg: "cannot be swept"},
		{name: "key not a string", text: "[sweep]\n[[sweep.axis]]\nkey = 3\nvalues = [1]\n",
			key: "sweep.axis[0].key", at: "key = 3", msg: "dotted key"},
		{name: "empty values", text: "[sweep]" + axisW + "\n[[sweep.axis]]\nkey = \"train.beta\"\nvalues = []\n",
			key: "sweep.axis[1].values", at: "values = []", msg: "empty axis"},
		{name: "no generator", text: "[sweep]\n[[sweep.axis]]\nkey = \"train.beta\"\n",
			key: "sweep.axis[0]", at: "[[sweep.axis]]", msg: "has no values"},
		{name: "linspace count 0", text: "[sweep]\n[[sweep.axis]]\nkey = \"train.beta\"\nlinspace = [0.0, 1.0, 0]\n",
			key: "sweep.axis[0].linspace", at: "linspace =", msg: "count 0"},
		{name: "linspace count 2.5", text: "[sweep]\n[[sweep.axis]]\nkey = \"train.beta\"\nlinspace = [0.0, 1.0, 2.5]\n",
			key: "sweep.axis[0].linspace", at: "linspace =", msg: "whole number"},
		{name: "linspace of two", text: "[sweep]\n[[sweep.axis]]\nkey = \"train.beta\"\nlinspace = [0.0, 1.0]\n",
			key: "sweep.axis[0].linspace", at: "linspace =", msg: "three numbers"},
		{name: "empty range", text: "[sweep]\n[[sweep.axis]]\nkey = \"train.beta\"\nrange = [1.0, 1.0, 0.5]\n",
			key: "sweep.axis[0].range", at: "range =", msg: "empty axis"},
		{name: "range the wrong way", text: "[sweep]\n[[sweep.axis]]\nkey = \"train.beta\"\nrange = [0.0, 1.0, -0.5]\n",
			key: "sweep.axis[0].range", at: "range =", msg: "does not lead"},
		{name: "string for a number", text: "[sweep]\n[[sweep.axis]]\nkey = \"signals.thumbs.weight\"\nvalues = [0.5, \"high\"]\n",
			key: "sweep.axis[0].values[1]", at: "values =", msg: "as signals.thumbs.weight is"},
		{name: "number for a bool", text: "[sweep]\n[[sweep.axis]]\nkey = \"memory.enabled\"\nvalues = [1]\n",
			key: "sweep.axis[0].values[0]", at: "values =", msg: "true or false"},
		{name: "number for a string", text: "[sweep]\n[[sweep.axis]]\nkey = \"train.aggregation\"\nvalues = [1]\n",
			key: "sweep.axis[0].values[0]", at: "values =", msg: "a string"},
		{name: "fraction for an int", text: "[sweep]\n[[sweep.axis]]\nkey = \"train.steps\"\nvalues = [40, 2.5]\n",
			key: "sweep.axis[0].values[1]", at: "values =", msg: "2.5 is not a whole number"},
		{name: "linspace of fractions for an int", text: "[sweep]\n[[sweep.axis]]\nkey = \"train.steps\"\nlinspace = [40, 45, 3]\n",
			key: "sweep.axis[0].linspace", at: "linspace =", msg: "42.5 is not a whole number"},
		{name: "string for an int", text: "[sweep]\n[[sweep.axis]]\nkey = \"train.steps\"\nvalues = [\"40\"]\n",
			key: "sweep.axis[0].values[0]", at: "values =", msg: "an integer"},
		{name: "generator of a string key", text: "[sweep]\n[[sweep.axis]]\nkey = \"train.aggregation\"\nlinspace = [0, 1, 2]\n",
			key: "sweep.axis[0].linspace", at: "linspace =", msg: "a string"},
		{name: "unknown mode", text: "[sweep]\nmode = \"grids\"" + axisW,
			key: "sweep.mode", at: `mode = "grids"`, msg: `unknown value "grids"`},
		{name: "mode not a string", text: "[sweep]\nmode = 1" + axisW,
			key: "sweep.mode", at: "mode = 1", msg: "a string"},
		{name: "unknown key in sweep", text: "[sweep]\nsed = 3" + axisW,
			key: "sweep.sed", at: "sed = 3", msg: "unknown key"},
		{name: "unknown key in an axis", text: "[sweep]" + axisW + "\n[[sweep.axis]]\nkey = \"train.beta\"\nvalue = [0.1]\n",
			key: "sweep.axis[1].value", at: "value = [0.1]", msg: "unknown key"},
		{name: "two generators", text: "[sweep]\n[[sweep.axis]]\nkey = \"train.beta\"\nvalues = [0.1]\nlinspace = [0.1, 0.2, 2]\n",
			key: "sweep.axis[0].linspace", at: "linspace =", msg: "has values and linspace"},
		{name: "uniform in grid mode", text: "[sweep]\n[[sweep.axis]]\nkey = \"train.beta\"\nuniform = [0.1, 0.2]\n",
			key: "sweep.axis[0].uniform", at: "uniform =", msg: `mode = "random" or "sobol" only`},
		{name: "loguniform in zip mode", text: "[sweep]\nmode = \"zip\"\n[[sweep.axis]]\nkey = \"train.beta\"\nloguniform = [0.1, 0.2]\n",
			key: "sweep.axis[0].loguniform", at: "loguniform =", msg: `mode = "random" or "sobol" only`},
		{name: "linspace in random mode", text: "[sweep]\nmode = \"random\"\nsamples = 3\n[[sweep.axis]]\nkey = \"train.beta\"\nlinspace = [0.1, 0.2, 3]\n",
			key: "sweep.axis[0].linspace", at: "linspace =", msg: "uniform, loguniform or values"},
		{name: "random without samples", text: "[sweep]\nmode = \"random\"\n[[sweep.axis]]\nkey = \"train.beta\"\nuniform = [0.1, 0.2]\n",
			key: "sweep.samples", at: "[sweep]", msg: "needs samples"},
		{name: "samples in grid mode", text: "[sweep]\nsamples = 3" + axisW,
			key: "sweep.samples", at: "samples = 3", msg: `mode = "random" or "sobol" only`},
		{name: "sobol with a values axis", text: "[sweep]\nmode = \"sobol\"\nsamples = 8\n[[sweep.axis]]\nkey = \"train.beta\"\nvalues = [0.1, 0.2]\n[[sweep.axis]]\nkey = \"train.learning_rate\"\nuniform = [0.01, 0.1]\n",
			key: "sweep.axis[0].values", at: "values =", msg: "draws every axis from a range"},
		{name: "sobol with one axis", text: "[sweep]\nmode = \"sobol\"\nsamples = 8\n[[sweep.axis]]\nkey = \"train.beta\"\nuniform = [0.1, 0.2]\n",
			key: "sweep.axis", at: "[[sweep.axis]]", msg: "takes 2 to 16 axes, got 1"},
		{name: "sobol samples not a power of two", text: "[sweep]\nmode = \"sobol\"\nsamples = 100\n[[sweep.axis]]\nkey = \"train.beta\"\nuniform = [0.1, 0.2]\n[[sweep.axis]]\nkey = \"train.learning_rate\"\nuniform = [0.01, 0.1]\n",
			key: "sweep.samples", at: "samples = 100", msg: "100 is not a power of two, which a Sobol design needs to keep its balance: use 128"},
		{name: "uniform of an int key", text: "[sweep]\nmode = \"random\"\nsamples = 3\n[[sweep.axis]]\nkey = \"train.steps\"\nuniform = [10, 20]\n",
			key: "sweep.axis[0].uniform", at: "uniform =", msg: "not a real-valued key"},
		{name: "uniform reversed", text: "[sweep]\nmode = \"random\"\nsamples = 3\n[[sweep.axis]]\nkey = \"train.beta\"\nuniform = [0.2, 0.1]\n",
			key: "sweep.axis[0].uniform", at: "uniform =", msg: "low < high"},
		{name: "loguniform from 0", text: "[sweep]\nmode = \"random\"\nsamples = 3\n[[sweep.axis]]\nkey = \"train.beta\"\nloguniform = [0, 0.1]\n",
			key: "sweep.axis[0].loguniform", at: "loguniform =", msg: "low > 0"},
		{name: "zip of unequal lengths", text: "[sweep]\nmode = \"zip\"" + axisW + "\n[[sweep.axis]]\nkey = \"train.beta\"\nvalues = [0.1, 0.2, 0.3]\n",
			key: "sweep.axis[1]", at: "[[sweep.axis]]", nth: 1, msg: "equal length"},
		{name: "same key twice", text: "[sweep]" + axisW + axisW,
			key: "sweep.axis[1].key", at: `key = "signals.thumbs.weight"`, nth: 1, msg: "already swept by axis 0"},
		{name: "seeds and replicates", text: "[sweep]\nseeds = [1, 2]\nreplicates = 3" + axisW,
			key: "sweep.replicates", at: "replicates = 3", msg: "not both"},
		{name: "no replicates", text: "[sweep]\nreplicates = 0" + axisW,
			key: "sweep.replicates", at: "replicates = 0", msg: "from 1 to"},
		{name: "empty seeds", text: "[sweep]\nseeds = []" + axisW,
			key: "sweep.seeds", at: "seeds = []", msg: "non-empty"},
		{name: "negative seed", text: "[sweep]\nseeds = [1, -2]" + axisW,
			key: "sweep.seeds[1]", at: "seeds = [1, -2]", msg: ">= 0"},
		{name: "seed twice", text: "[sweep]\nseeds = [1, 2, 1]" + axisW,
			key: "sweep.seeds[2]", at: "seeds = [1, 2, 1]", msg: "appears twice"},
		{name: "no axes", text: "[sweep]\nseeds = [1, 2]\n",
			key: "sweep.axis", at: "[sweep]", msg: "at least one axis"},
		{name: "axis as a table", text: "[sweep.axis]\nkey = \"train.beta\"\nvalues = [0.1]\n",
			key: "sweep.axis", at: "[sweep.axis]", msg: "[[sweep.axis]]"},
		{name: "inline empty axes", text: "[sweep]\naxis = []\n",
			key: "sweep.axis", at: "axis = []", msg: "at least one"},
		{name: "inline axis not a table", text: "[sweep]\naxis = [{key = \"train.beta\", values = [0.1]}, 3]\n",
			key: "sweep.axis", at: "axis = [", msg: "array of tables"},
		{name: "inline axis key", text: "[sweep]\naxis = [{key = \"train.bta\", values = [0.1]}]\n",
			key: "sweep.axis[0].key", at: "axis = [", msg: "train.bta is not a key"},
		{name: "more runs than the limit", maxRuns: 11, text: "[sweep]\nseeds = [1, 2, 3]" + axisW + "\n[[sweep.axis]]\nkey = \"train.beta\"\nvalues = [0.1, 0.2]\n",
			key: "sweep", at: "[sweep]", msg: "more than the limit of 11 runs"},
		{name: "more points than the limit", maxRuns: 3, text: "[sweep]\n[[sweep.axis]]\nkey = \"train.beta\"\nlinspace = [0.1, 0.2, 4]\n",
			key: "sweep", at: "[sweep]", msg: "more than the limit of 3 runs"},
		{name: "more samples than the limit", maxRuns: 3, text: "[sweep]\nmode = \"random\"\nsamples = 4\n[[sweep.axis]]\nkey = \"train.beta\"\nuniform = [0.1, 0.2]\n",
			key: "sweep.samples", at: "samples = 4", msg: "from 1 to 3"},
		// A grid point whose config is invalid: update_step past steps.
		{name: "invalid grid point", text: "[sweep]" + axisW + "\n[[sweep.axis]]\nkey = \"train.update_step\"\nvalues = [20, 50]\n",
			key: "sweep.axis[1]", at: "[[sweep.axis]]", nth: 1, msg: "train.update_step=50"},
		{name: "invalid string value", text: "[sweep]\n[[sweep.axis]]\nkey = \"train.aggregation\"\nvalues = [\"none\", \"mean\"]\n",
			key: "sweep.axis[0]", at: "[[sweep.axis]]", msg: `unknown value "mean"`},
		{name: "memory signal without memory", text: "[sweep]\n[[sweep.axis]]\nkey = \"memory.enabled\"\nvalues = [true, false]\n",
			key: "sweep", at: "[sweep]", msg: "memory.enabled=false"},
		{name: "sweep not a table", top: "sweep = 3\n",
			key: "sweep", at: "sweep = 3", msg: "a table"},
		{name: "int out of range", text: "[sweep]\n[[sweep.axis]]\nkey = \"population.users\"\nvalues = [50, 3000000000]\n",
			key: "sweep.axis[0]", at: "[[sweep.axis]]", msg: "3000000000 is out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := tc.top + sweepBase + "\n" + tc.text
			maxRuns := tc.maxRuns
			if maxRuns == 0 {
				maxRuns = configs.DefaultMaxRuns
			}
			s, err := configs.LoadSweep("bad.toml", []byte(text), nil, maxRuns)
			if err == nil {
				t.Fatalf("LoadSweep accepted (%d runs):\n%s", s.Len(), tc.text)
			}
			var ce *configs.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v, want a *configs.Error", err, err)
			}
			line, col := nthPos(t, text, tc.at, tc.nth)
			if ce.File != "bad.toml" || ce.Key != tc.key || ce.Line != line || ce.Col != col {
				t.Errorf("error at %s:%d:%d key %q, want bad.toml:%d:%d key %q\n(%v)", ce.File, ce.Line, ce.Col, ce.Key, line, col, tc.key, err)
			}
			if !strings.Contains(ce.Msg, tc.msg) {
				t.Errorf("message %q lacks %q", ce.Msg, tc.msg)
			}
			if want := "bad.toml:" + strconv.Itoa(line) + ":" + strconv.Itoa(col) + ": " + tc.key + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q does not start with %q", err, want)
			}
		})
	}
}

// nthPos returns the 1-based line and byte column of the nth (0-based)
// occurrence of needle in text.
func nthPos(t *testing.T, text, needle string, nth int) (line, col int) {
	t.Helper()
	off := 0
	for k := 0; ; k++ {
		i := strings.Index(text[off:], needle)
		if i < 0 {
			t.Fatalf("test bug: %q occurs fewer than %d times in the input", needle, nth+1)
		}
		if k == nth {
			off += i
			break
		}
		off += i + len(needle)
	}
	line = strings.Count(text[:off], "\n") + 1
	col = off - (strings.LastIndexByte(text[:off], '\n') + 1) + 1
	return line, col
}

func TestLoadSweepNeedsSweep(t *testing.T) {
	_, err := configs.LoadSweep("plain.toml", []byte(sweepBase), nil, configs.DefaultMaxRuns)
	var ce *configs.Error
	if !errors.As(err, &ce) || ce.Key != "sweep" || !strings.Contains(ce.Msg, "rewardmix run") {
		t.Errorf("LoadSweep of a file without [sweep]: %v, want an error pointing to `rewardmix run`", err)
	}
	text := sweepBase + "\n[sweep]\n[[sweep.axis]]\nkey = \"train.beta\"\nvalues = [0.1]\n"
	_, err = configs.Load("sweep.toml", []byte(text), nil)
	if !errors.As(err, &ce) || ce.Key != "sweep" || !strings.Contains(ce.Msg, "rewardmix sweep") {
		t.Errorf("Load of a sweep file: %v, want an error pointing to `rewardmix sweep`", err)
	}
	// An error in the base part of a sweep file is placed as Load places it.
	bad := strings.Replace(text, "users = 50", "users = 0", 1)
	_, err = configs.LoadSweep("bad.toml", []byte(bad), nil, configs.DefaultMaxRuns)
	line, col := posOf(t, bad, "users = 0")
	if !errors.As(err, &ce) || ce.Key != "population.users" || ce.Line != line || ce.Col != col {
		t.Errorf("sweep with users = 0: %v, want bad.toml:%d:%d: population.users", err, line, col)
	}
}

// TestSweepInlineAxes: axes written as an inline array of tables are the
// same sweep as [[sweep.axis]] tables.
func TestSweepInlineAxes(t *testing.T) {
	tables := loadSweep(t, sweepBase+`
[sweep]
[[sweep.axis]]
key = "train.beta"
values = [0.1, 0.2]
[[sweep.axis]]
key = "signals.thumbs.weight"
linspace = [0, 1, 3]
`)
	inline := loadSweep(t, sweepBase+`
[sweep]
axis = [
  {key = "train.beta", values = [0.1, 0.2]},
  {key = "signals.thumbs.weight", linspace = [0, 1, 3]},
]
`)
	if inline.Hash() != tables.Hash() || !reflect.DeepEqual(inline.Runs(), tables.Runs()) {
		t.Error("inline axes give another sweep than [[sweep.axis]] tables")
	}
}

// TestSobolDesign: a Sobol sweep lays out samples blocks of d+2 points, A,
// B and A with each axis from B, over the axes' ranges; its runs within a
// block share their seed; and it reads back from configs.EncodeSweep to the same
// runs.
func TestSobolDesign(t *testing.T) {
	const text = `extends = "incident"
[sweep]
mode = "sobol"
samples = 8
seeds = [1, 2]
[[sweep.axis]]
key = "train.beta"
loguniform = [0.01, 1.0]
[[sweep.axis]]
key = "signals.thumbs.weight"
uniform = [0.0, 4.0]
[[sweep.axis]]
key = "train.learning_rate"
uniform = [0.01, 0.1]
`
	s, err := configs.LoadSweep("sobol.toml", []byte(text), nil, configs.DefaultMaxRuns)
	if err != nil {
		t.Fatal(err)
	}
	const d = 3
	if s.Points() != 8*(d+2) || s.Len() != 2*8*(d+2) {
		t.Fatalf("%d points, %d runs; want %d and %d", s.Points(), s.Len(), 8*(d+2), 2*8*(d+2))
	}
	runs := s.Runs()
	point := func(p int) []any { return runs[p*2].Params }
	for j := 0; j < 8; j++ {
		a, b := point(j*(d+2)), point(j*(d+2)+1)
		for i := 0; i < d; i++ {
			ab := point(j*(d+2) + 2 + i)
			for k := 0; k < d; k++ {
				want := a[k]
				if k == i {
					want = b[k]
				}
				if ab[k] != want {
					t.Fatalf("block %d, A with axis %d from B: axis %d is %v, want %v", j, i, k, ab[k], want)
				}
			}
			if blk, role := s.SobolBlock(j*(d+2) + 2 + i); blk != j || role != 2+i {
				t.Errorf("SobolBlock = %d, %d; want %d, %d", blk, role, j, 2+i)
			}
		}
		if beta := a[0].(float64); !(beta >= 0.01 && beta < 1) {
			t.Errorf("block %d: beta %v outside [0.01, 1)", j, beta)
		}
		if w := b[1].(float64); !(w >= 0 && w < 4) {
			t.Errorf("block %d: thumbs weight %v outside [0, 4)", j, w)
		}
		// A block's runs share each replicate's seed; blocks differ.
		for k := 0; k < d+2; k++ {
			for r := 0; r < 2; r++ {
				if runs[(j*(d+2)+k)*2+r].Seed != runs[j*(d+2)*2+r].Seed {
					t.Fatalf("block %d point %d replicate %d: seed differs from the block's", j, k, r)
				}
			}
		}
		if j > 0 && runs[j*(d+2)*2].Seed == runs[0].Seed {
			t.Errorf("blocks 0 and %d share a seed", j)
		}
	}
	back, err := configs.LoadSweep("back.toml", configs.EncodeSweep(s), nil, configs.DefaultMaxRuns)
	if err != nil {
		t.Fatal(err)
	}
	if back.Hash() != s.Hash() || back.Len() != s.Len() {
		t.Fatalf("configs.EncodeSweep does not read back to the same sweep")
	}
	for i, r := range back.Runs() {
		if r.Seed != runs[i].Seed || configs.FormatParam(r.Params[1]) != configs.FormatParam(runs[i].Params[1]) {
			t.Fatalf("run %d differs after configs.EncodeSweep", i)
		}
	}
}
