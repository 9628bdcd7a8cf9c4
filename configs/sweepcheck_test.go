package configs

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/rewardmix/rewardmix/reward"
	"github.com/rewardmix/rewardmix/sim"
)

// richBase is a config in which nearly every check of sim.Config.Validate
// reads its keys: a deployment loop (a reward model and memory), a direct
// thumbs signal with per_feedback, a signal of every kind, two entries in
// each named table, the review enabled with an alpha phase.
const richBase = `name = "rich"
seed = 3
primary = "spec"

[train]
algorithm = "expected"
steps = 40
update_step = 20
batch_size = 8
group_size = 4
learning_rate = 0.05
optimizer = "adam"
beta = 0.1
weights = "absolute"
aggregation = "none"
scale_rewards = "group"

[memory]
enabled = true
start_step = 20
rate = 0.2
reinforcement = 0.6

[feedback]
rounds = 2
log_size = 4000
log_policy = "current"
seed = 0

[population]
users = 50

[contexts.fact]
share = 0.5
wrong = 0.2
verifiable = true
harm = 0.2
cue_accuracy = 0.9

[contexts.view]
share = 0.5
wrong = 0.5
harm = 1.0
cue_accuracy = 0.7

[segments.most]
share = 0.8
feedback_rate = 0.05
thumbs_bias = -0.5
thumbs_agree = 1.5
disclosure = 0.05

[segments.few]
share = 0.2
feedback_rate = 0.1
thumbs_agree = 3.0
disclosure = 0.5
harm_multiplier = 4.0

[responses.candid]
candor = 1.0
warmth = 0.3

[responses.agreeing]
prior = -0.5
agree = 1.0
flatter = 0.5
warmth = 0.8

[signals.correctness]
kind = "correctness"
noise = 0.05

[signals.spec]
kind = "spec"
detection = 0.8
false_positive = 0.05

[signals.rm]
kind = "thumbs"
source = "reward_model"
l2 = 1.0
start_step = 20

[signals.thumbs]
kind = "thumbs"
source = "direct"
per_feedback = true
weight = 0.5
start_step = 10
end_step = 30

[signals.memory]
kind = "memory"
weight = 0.5
start_step = 20

[signals.table]
kind = "table"
noise_sd = 0.1
[signals.table.table]
fact = [1.0, 0.0]
view = [0.5, -0.5]

[review]
enabled = true
[review.vibe]
testers = 5
threshold = 1
[deployment]
alpha_hours = 10.0
alpha_share = 0.1
`

// probeBases are the bases the coupling tests probe: the rich one, and
// variants where checks are off (the review's, the deployment loop's).
func probeBases(t *testing.T) map[string]*sim.Config {
	t.Helper()
	out := map[string]*sim.Config{}
	for name, extra := range map[string]string{
		"rich":      "",
		"no review": "review.enabled = false\n",
		"no loop":   "memory.enabled = false\nsignals.memory.kind = \"spec\"\nsignals.rm.source = \"direct\"\n",
	} {
		text := richBase
		if extra != "" {
			// Apply the variant as a sweep of one run would: keys set on the base.
			cfg, err := Load("rich.toml", []byte(text), nil)
			if err != nil {
				t.Fatal(err)
			}
			var raw map[string]any
			if _, err := toml.Decode(extra, &raw); err != nil {
				t.Fatal(err)
			}
			if err := (&decoder{merge: true}).decodeStruct(raw, rvalue(cfg), ""); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out[name] = cfg
			continue
		}
		cfg, err := Load("rich.toml", []byte(text), nil)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = cfg
	}
	return out
}

// sweepableKeys lists the keys of cfg that a sweep axis can set, with
// their kinds, in sorted order.
func sweepableKeys(t *testing.T, cfg *sim.Config) (keys []string, kinds map[string]reflect.Kind) {
	t.Helper()
	var raw map[string]any
	if _, err := toml.Decode(string(Encode(cfg)), &raw); err != nil {
		t.Fatal(err)
	}
	kinds = map[string]reflect.Kind{}
	var walk func(m map[string]any, path string)
	walk = func(m map[string]any, path string) {
		for k, v := range m {
			p := join(path, k)
			if sub, ok := v.(map[string]any); ok {
				walk(sub, p)
				continue
			}
			if kind, err := keyKind(cfg, p); err == nil {
				keys = append(keys, p)
				kinds[p] = kind
			}
		}
	}
	walk(raw, "")
	slices.Sort(keys)
	return keys, kinds
}

// probeValues are values of a key to probe: its own, and values about the
// edges of what checks accept (below, at and above 0 and 1, and far
// beyond), and every value of an enumerated setting.
func probeValues(cfg *sim.Config, key string, kind reflect.Kind) []any {
	cur := reflect.ValueOf(cfg).Elem()
	for _, p := range strings.Split(key, ".") {
		if cur.Kind() == reflect.Map {
			cur = cur.MapIndex(reflect.ValueOf(p))
		} else {
			cur, _ = fieldByTag(cur, p)
		}
	}
	var vals []any
	switch kind {
	case reflect.Float64:
		vals = []any{cur.Float(), -1.0, 0.0, 1.0, 1e4}
	case reflect.Int:
		n := cur.Int()
		vals = []any{n, int64(-1), int64(0), 2*n + 3, int64(2_000_000)}
	case reflect.Bool:
		vals = []any{true, false}
	case reflect.String:
		vals = []any{cur.String(), "bogus"}
		for _, e := range [][]string{names(sim.Algorithms), names(sim.LogPolicies), names(sim.ReviewRules), names(sim.Optimizers),
			names(sim.FeatureModes), names(reward.WeightModes), names(reward.Aggregations), names(reward.Scalings), names(reward.Kinds), names(reward.ThumbsSources)} {
			if slices.Contains(e, cur.String()) {
				for _, x := range e {
					vals = append(vals, x)
				}
			}
		}
		if key == "primary" {
			for _, n := range sim.Names(cfg.Signals) {
				vals = append(vals, n)
			}
		}
	}
	var out []any
	for _, v := range vals {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func names[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// probeSweep is a sweep over keys of base whose validity checks probe.
func probeSweep(base *sim.Config, keys ...string) *Sweep {
	s := &Sweep{Base: base}
	for _, k := range keys {
		s.Axes = append(s.Axes, Axis{Key: k})
	}
	return s
}

// TestSweepCouplingsComplete probes pairs of sweepable keys that
// couplings says no check reads together: for every pair of probe values,
// the base with both set must be valid exactly when it is with each set
// alone. A check added to sim.Config.Validate that reads two keys fails
// it, until couplings lists it; LoadSweep would otherwise miss invalid
// runs. On the rich base it probes every pair; on the variants, where a
// check is off that a switch (a boolean or an enumerated setting) turns
// on, the pairs with such a key.
func TestSweepCouplingsComplete(t *testing.T) {
	bases := probeBases(t)
	const shards = 2 // the rich base's pairs, split over this many parallel tests
	for _, name := range slices.Sorted(maps.Keys(bases)) {
		for shard := range shards {
			if name != "rich" && shard > 0 {
				continue
			}
			base := bases[name]
			t.Run(fmt.Sprintf("%s/%d", name, shard), func(t *testing.T) {
				if name != "rich" && testing.Short() {
					t.Skip("the variants in long mode only")
				}
				t.Parallel()
				probeCouplings(t, base, func(i int, a, b string, switches bool) bool {
					if name == "rich" {
						return i%shards == shard
					}
					return switches
				})
			})
		}
	}
}

// probeCouplings probes the pairs of keys of base that couplings does not
// couple and that want selects (i is the first key's index; switches tells
// whether either key is a boolean or an enumerated setting).
func probeCouplings(t *testing.T, base *sim.Config, want func(i int, a, b string, switches bool) bool) {
	keys, kinds := sweepableKeys(t, base)
	probes := map[string][]any{}
	alone := map[string][]bool{}
	for _, k := range keys {
		s := probeSweep(base, k)
		probes[k] = probeValues(base, k, kinds[k])
		for _, v := range probes[k] {
			alone[k] = append(alone[k], s.validWith([]int{0}, []any{v}))
		}
	}
	isSwitch := func(k string) bool { return kinds[k] == reflect.Bool || kinds[k] == reflect.String }
	pairs := 0
	for i, a := range keys {
		for _, b := range keys[i+1:] {
			if coupled(a, b) || coupled(b, a) || !want(i, a, b, isSwitch(a) || isSwitch(b)) {
				continue
			}
			pairs++
			s := probeSweep(base, a, b)
		probe:
			for x, va := range probes[a] {
				for y, vb := range probes[b] {
					if x == 0 || y == 0 {
						continue // a key at its base value: the same config as the other alone
					}
					if got, want := s.validWith([]int{0, 1}, []any{va, vb}), alone[a][x] && alone[b][y]; got != want {
						t.Errorf("keys not in couplings are checked together: %s = %v, %s = %v: valid %v together, %v and %v alone",
							a, FormatParam(va), b, FormatParam(vb), got, alone[a][x], alone[b][y])
						break probe
					}
				}
			}
		}
	}
	if pairs < 500 {
		t.Errorf("only %d pairs probed: the base has too few keys", pairs)
	}
}

// TestSweepCouplingPatterns keeps the patterns of couplings in step with
// the config: each matches a key of the rich base.
func TestSweepCouplingPatterns(t *testing.T) {
	keys, _ := sweepableKeys(t, probeBases(t)["rich"])
	for _, c := range couplings {
		for _, p := range append(slices.Clone(c.keys), c.gated...) {
			ok := false
			for _, k := range keys {
				_, m := matchKey(p, k)
				ok = ok || m
			}
			if !ok {
				t.Errorf("coupling pattern %q matches no key", p)
			}
		}
	}
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"train.steps", "train.update_step", true},
		{"train.update_step", "train.steps", true},
		{"signals.a.start_step", "signals.a.end_step", true},
		{"signals.a.start_step", "signals.b.end_step", false},
		{"signals.a.source", "signals.b.l2", false},
		{"signals.a.kind", "gold.honesty", true},
		{"review.enabled", "review.ab.alpha", true},
		{"review.ab.alpha", "review.ab.thumbs", false},
		{"review.ab.thumbs", "deployment.complaint_rate", false},
		{"contexts.a.share", "contexts.b.share", true},
		{"contexts.a.share", "contexts.b.harm", false},
		{"feedback.rounds", "feedback.seed", false},
		{"feedback.rounds", "memory.start_step", true},
	} {
		if got := coupled(tc.a, tc.b); got != tc.want {
			t.Errorf("coupled(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestSweepRealKeysValidOnInterval: LoadSweep checks a real-valued axis
// drawn from a range at the smallest and largest value drawn, which holds
// only if the values of a real-valued key that validate (the others fixed)
// form an interval.
func TestSweepRealKeysValidOnInterval(t *testing.T) {
	xs := []float64{-1e9, -10, -1, -0.5, -1e-9, 0, 1e-9, 0.01, 0.25, 0.5, 0.75, 0.99, 1, 1 + 1e-9, 1.5, 2, 10, 100, 999, 1000, 1001, 8760, 8761, 1e4, 1e6, 1e9}
	for name, base := range probeBases(t) {
		keys, kinds := sweepableKeys(t, base)
		for _, k := range keys {
			if kinds[k] != reflect.Float64 {
				continue
			}
			s := probeSweep(base, k)
			state := 0 // 0: before the valid values, 1: in them, 2: after
			for _, x := range xs {
				v := s.validWith([]int{0}, []any{x})
				switch {
				case v && state == 0:
					state = 1
				case !v && state == 1:
					state = 2
				case v && state == 2:
					t.Errorf("%s: %s: valid values do not form an interval (valid again at %g)", name, k, x)
				}
			}
		}
	}
}

// TestSweepCheckAgreesWithEveryRun loads random sweeps over keys of the
// rich base, in every mode, with values that validate and values that do
// not, and checks that LoadSweep's check gives what validating every run
// gives: the same error, or the same sweep.
func TestSweepCheckAgreesWithEveryRun(t *testing.T) {
	base := probeBases(t)["rich"]
	keys, kinds := sweepableKeys(t, base)
	var realKeys []string
	for _, k := range keys {
		if kinds[k] == reflect.Float64 {
			realKeys = append(realKeys, k)
		}
	}
	// Keys that couple, so that sweeps over them are common.
	hot := []string{"train.steps", "train.update_step", "memory.start_step", "signals.thumbs.start_step", "signals.thumbs.end_step",
		"feedback.rounds", "feedback.log_size", "segments.most.share", "segments.few.share", "segments.few.feedback_rate",
		"population.users", "review.enabled", "review.vibe.testers", "review.vibe.threshold", "deployment.alpha_hours",
		"deployment.alpha_share", "train.algorithm", "train.batch_size", "train.group_size", "signals.rm.source", "signals.rm.l2",
		"contexts.fact.share", "contexts.view.share", "signals.spec.kind", "memory.enabled"}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(from []string) string { return from[rng.IntN(len(from))] }
	format := func(v any) string {
		if s, ok := v.(string); ok {
			return quote(s)
		}
		return FormatParam(v)
	}
	n := 400
	if testing.Short() {
		n = 100
	}
	agreed := map[string]int{}
	for iter := 0; iter < n; iter++ {
		modes := []SweepMode{ModeGrid, ModeGrid, ModeZip, ModeRandom, ModeSobol, ModeBoundary}
		mode := modes[rng.IntN(len(modes))]
		var b strings.Builder
		b.WriteString(richBase)
		fmt.Fprintf(&b, "\n[sweep]\nmode = %q\nreplicates = %d\n", mode, 1+rng.IntN(2))
		nAxes := 1 + rng.IntN(3)
		if mode == ModeSobol {
			nAxes = 2 + rng.IntN(2)
		}
		zipLen := 1 + rng.IntN(4)
		used := map[string]bool{}
		for a := 0; a < nAxes; a++ {
			drawn := mode == ModeSobol || (mode == ModeRandom && rng.IntN(2) == 0) || (mode == ModeBoundary && a == 0)
			var k string
			for {
				if drawn {
					k = pick(realKeys)
				} else if rng.IntN(3) > 0 {
					k = pick(hot)
				} else {
					k = pick(keys)
				}
				if !used[k] {
					break
				}
			}
			used[k] = true
			fmt.Fprintf(&b, "\n[[sweep.axis]]\nkey = %q\n", k)
			probes := probeValues(base, k, kinds[k])
			if drawn {
				lo := probes[rng.IntN(len(probes))].(float64)
				hi := lo + []float64{1e-3, 0.3, 1, 5}[rng.IntN(4)]
				gen := "uniform"
				switch {
				case mode == ModeBoundary:
					gen = "bracket"
				case lo > 0 && rng.IntN(2) == 0:
					gen = "loguniform"
				}
				fmt.Fprintf(&b, "%s = [%s, %s]\n", gen, formatFloat(lo), formatFloat(hi))
				continue
			}
			count := 1 + rng.IntN(4)
			if mode == ModeZip {
				count = zipLen
			}
			var vals []string
			for range count {
				v := probes[0] // the base's value, often: the other axes' values then decide
				if rng.IntN(3) > 0 {
					v = probes[rng.IntN(len(probes))]
				}
				vals = append(vals, format(v))
			}
			fmt.Fprintf(&b, "values = [%s]\n", strings.Join(vals, ", "))
		}
		text := b.String()
		if mode == ModeRandom || mode == ModeSobol {
			text = strings.Replace(text, "\nreplicates = ", fmt.Sprintf("\nsamples = %d\nreplicates = ", []int{2, 4, 8, 16}[rng.IntN(4)]), 1)
		}
		if mode == ModeBoundary {
			metric := []string{"sycophancy_rate", "sycophancy_rate", "reward/nosuch"}[rng.IntN(3)]
			text = strings.Replace(text, "\nreplicates = ", fmt.Sprintf("\nmetric = %q\nlevel = 0.5\ntolerance = 0.0001\nreplicates = ", metric), 1)
		}
		fast, errFast := LoadSweep("sweep.toml", []byte(text), nil, 10_000)
		slow, errSlow := LoadSweepEveryRun("sweep.toml", []byte(text), nil, 10_000)
		switch {
		case (errFast == nil) != (errSlow == nil):
			t.Errorf("LoadSweep: %v\nevery run: %v\n%s", errFast, errSlow, text[len(richBase):])
		case errFast != nil && errFast.Error() != errSlow.Error():
			t.Errorf("LoadSweep: %v\nevery run: %v\n%s", errFast, errSlow, text[len(richBase):])
		case errFast == nil && (fast.Len() != slow.Len() || fast.Hash() != slow.Hash()):
			t.Errorf("sweeps differ\n%s", text[len(richBase):])
		}
		if errSlow != nil {
			agreed[string(mode)+" invalid"]++
		} else {
			agreed[string(mode)+" valid"]++
		}
	}
	t.Logf("agreed on %v", agreed)
	for _, m := range SweepModes {
		if agreed[string(m)+" valid"] == 0 || agreed[string(m)+" invalid"] == 0 && m != ModeSobol && m != ModeBoundary {
			t.Errorf("mode %s: %v: the test does not cover both valid and invalid sweeps", m, agreed)
		}
	}
}

// TestLoadSweepChecksAxesNotRuns: a grid of a million runs over two keys
// that no check reads together is checked one value of an axis at a
// time, not run by run (which took about 40 s).
func TestLoadSweepChecksAxesNotRuns(t *testing.T) {
	var rate, thumbs []string
	for i := range 1000 {
		rate = append(rate, formatFloat(float64(i)/1000))
		thumbs = append(thumbs, fmt.Sprint(i+1))
	}
	text := fmt.Sprintf("extends = \"incident\"\n[sweep]\n[[sweep.axis]]\nkey = \"deployment.complaint_rate\"\nvalues = [%s]\n"+
		"[[sweep.axis]]\nkey = \"review.ab.thumbs\"\nvalues = [%s]\n", strings.Join(rate, ", "), strings.Join(thumbs, ", "))
	start := time.Now()
	s, err := LoadSweep("big.toml", []byte(text), nil, DefaultMaxRuns)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d runs checked with %d configs in %v", s.Len(), s.checks, time.Since(start))
	if s.Len() != 1_000_000 || s.checks > 2000 {
		t.Errorf("%d runs checked with %d configs, want 1000000 with at most 2000", s.Len(), s.checks)
	}

	// A value out of range is found, and named by the first run holding it.
	bad := strings.Replace(text, "0.999]", "1.5]", 1)
	_, err = LoadSweep("big.toml", []byte(bad), nil, DefaultMaxRuns)
	if err == nil || !strings.Contains(err.Error(), "big.toml:3:1: sweep.axis[0]: run r999000 (deployment.complaint_rate=1.5 review.ab.thumbs=1) is not a valid config: deployment.complaint_rate: 1.5 is not a probability") {
		t.Errorf("got %v, want run r999000 named", err)
	}
}

// TestLoadSweepCoupledAxes: keys that one check reads together are checked
// in the combinations the runs hold, never alone on the base, where a
// value can be invalid (or valid) only because the base's other value is.
func TestLoadSweepCoupledAxes(t *testing.T) {
	base := "extends = \"incident\"\n" // train.steps = 300, update_step = 150
	tests := []struct {
		name, sweep string
		err         string // "" if the sweep loads
	}{
		{"update_step past the base's steps, with more steps", "[[sweep.axis]]\nkey = \"train.steps\"\nvalues = [400, 500]\n[[sweep.axis]]\nkey = \"train.update_step\"\nvalues = [350, 400]\n", ""},
		{"update_step past one of the steps", "[[sweep.axis]]\nkey = \"train.steps\"\nvalues = [500, 380]\n[[sweep.axis]]\nkey = \"train.update_step\"\nvalues = [350, 400]\n",
			"run r3 (train.steps=380 train.update_step=400) is not a valid config: train.update_step: 400 is out of range [1, 380]"},
		{"shares that sum to 1, zipped", "mode = \"zip\"\n[[sweep.axis]]\nkey = \"segments.typical.share\"\nvalues = [0.78, 0.68]\n[[sweep.axis]]\nkey = \"segments.expert.share\"\nvalues = [0.2, 0.3]\n", ""},
		{"shares that do not, in a grid", "[[sweep.axis]]\nkey = \"segments.typical.share\"\nvalues = [0.78, 0.68]\n[[sweep.axis]]\nkey = \"segments.expert.share\"\nvalues = [0.2, 0.3]\n",
			"run r1 (segments.typical.share=0.78 segments.expert.share=0.3) is not a valid config: segments: share values sum to 1.1, want 1"},
		{"an uncoupled axis between coupled ones", "[[sweep.axis]]\nkey = \"train.steps\"\nvalues = [400, 100]\n[[sweep.axis]]\nkey = \"gold.honesty\"\nvalues = [1.0, 2.0]\n[[sweep.axis]]\nkey = \"train.update_step\"\nvalues = [350, 50]\n",
			"run r4 (train.steps=100 gold.honesty=1.0 train.update_step=350) is not a valid config: train.update_step: 350 is out of range [1, 100]"},
		{"alpha phase without a share", "[[sweep.axis]]\nkey = \"deployment.alpha_hours\"\nvalues = [0.0, 24.0]\n[[sweep.axis]]\nkey = \"deployment.alpha_share\"\nvalues = [0.1, 0.0]\n",
			"run r3 (deployment.alpha_hours=24.0 deployment.alpha_share=0.0) is not a valid config: deployment.alpha_share: an alpha phase (alpha_hours > 0) needs alpha_share > 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := base + "[sweep]\n" + tc.sweep
			_, err := LoadSweep("s.toml", []byte(text), nil, DefaultMaxRuns)
			_, want := LoadSweepEveryRun("s.toml", []byte(text), nil, DefaultMaxRuns)
			if fmt.Sprint(err) != fmt.Sprint(want) {
				t.Errorf("LoadSweep: %v\nevery run: %v", err, want)
			}
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("got %v, want the sweep to load", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("got %v, want an error containing %q", err, tc.err)
			}
		})
	}
}
