package configs_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/reward"
	"github.com/rewardmix/rewardmix/sim"
)

// posOf returns the 1-based line and byte column of the first occurrence of
// needle in text, so that expected error positions come from the test's own
// input rather than from what the code prints.
func posOf(t *testing.T, text, needle string) (line, col int) {
	t.Helper()
	i := strings.Index(text, needle)
	if i < 0 {
		t.Fatalf("test bug: %q does not occur in the input", needle)
	}
	if strings.Contains(text[i+1:], needle) {
		t.Fatalf("test bug: %q occurs more than once in the input", needle)
	}
	line = strings.Count(text[:i], "\n") + 1
	col = i - (strings.LastIndexByte(text[:i], '\n') + 1) + 1
	return line, col
}

// files is a Resolver over an in-memory set of files that records its calls.
type files struct {
	data  map[string]string
	calls []string // "from -> ref"
}

func (fs *files) resolve(from, ref string) (string, []byte, error) {
	fs.calls = append(fs.calls, from+" -> "+ref)
	s, ok := fs.data[ref]
	if !ok {
		return "", nil, fmt.Errorf("open %s: no such file", ref)
	}
	return ref, []byte(s), nil
}

// mustLoad loads text as file name or fails the test.
func mustLoad(t *testing.T, name, text string, resolve configs.Resolver) *sim.Config {
	t.Helper()
	cfg, err := configs.Load(name, []byte(text), resolve)
	if err != nil {
		t.Fatalf("Load(%s): %v\ninput:\n%s", name, err, text)
	}
	return cfg
}

func mustPreset(t *testing.T, name string) *sim.Config {
	t.Helper()
	cfg, err := configs.Preset(name)
	if err != nil {
		t.Fatalf("Preset(%q): %v", name, err)
	}
	return cfg
}

// diffConfigs fails the test if got and want differ, naming the first
// top-level field that does.
func diffConfigs(t *testing.T, got, want *sim.Config) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	gv, wv := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	for i := 0; i < gv.NumField(); i++ {
		if !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
			t.Errorf("configs differ in %s:\n got: %+v\nwant: %+v", gv.Type().Field(i).Name, gv.Field(i).Interface(), wv.Field(i).Interface())
		}
	}
	t.FailNow()
}

func TestLoadErrors(t *testing.T) {
	// Files reached through extends by the resolver cases.
	fs := map[string]string{
		"bad_base.toml": "extends = \"baseline\"\n\n[train]\n  beta = -2.0\n",
		"a.toml":        "extends = \"b.toml\"\n",
		"b.toml":        "# b\nextends = \"a.toml\"\n",
	}
	tests := []struct {
		name string
		text string
		// file is the file the error names; "" means the loaded file.
		file string
		key  string
		// at is a string whose first byte is where the error is placed, in
		// the text of the named file; "" when the error has no position.
		at  string
		msg string // a part of the message that must appear
		// exact requires the message to be msg and nothing more.
		exact bool
		// bom prefixes the input with a UTF-8 byte order mark, which
		// positions do not count (the parser skips it, as editors hide it).
		bom bool
	}{
		{
			name: "unknown top-level key",
			text: "# a comment\nnmae = \"x\"\n",
			key:  "nmae", at: "nmae", msg: `unknown key (did you mean "name"?)`,
		},
		{
			name: "unknown key, nothing close",
			text: "zzzzzzzzzz = 1\n",
			key:  "zzzzzzzzzz", at: "zzzzzzzzzz", msg: "unknown key", exact: true,
		},
		{
			name: "unknown key three edits from a known one",
			text: "abcd = 1\n", // gold
			key:  "abcd", at: "abcd", msg: "unknown key", exact: true,
		},
		{
			name: "unknown nested key",
			text: "extends = \"incident\"\n\n[train]\nsteps = 300\n    stepz = 3\n",
			key:  "train.stepz", at: "stepz", msg: `unknown key (did you mean "steps"?)`,
		},
		{
			name: "unknown nested key as a dotted key",
			text: "seed = 2\ntrain.bta = 0.5\n",
			key:  "train.bta", at: "train.bta", msg: `unknown key (did you mean "beta"?)`,
		},
		{
			name: "unknown key in a named table",
			text: "extends = \"baseline\"\n[signals.spec]\ndetection = 0.5\nwieght = 2.0\n",
			key:  "signals.spec.wieght", at: "wieght", msg: `unknown key (did you mean "weight"?)`,
		},
		{
			name: "unknown key in a new named table entry",
			text: "[signals.spec]\nkind = \"spec\"\n\twieght = 2.0\n",
			key:  "signals.spec.wieght", at: "wieght", msg: `did you mean "weight"?`,
		},
		{
			name: "unknown key in a context",
			text: "extends = \"baseline\"\n[contexts.opinion]\nshares = 0.4\n",
			key:  "contexts.opinion.shares", at: "shares", msg: `did you mean "share"?`,
		},
		{
			name: "key of another signal kind",
			text: "extends = \"baseline\"\n\n[signals.thumbs]\nkind = \"thumbs\"\nup = 1.0\ndetection = 0.5\n",
			key:  "signals.thumbs.detection", at: "detection", msg: `key does not apply to kind "thumbs"`,
		},
		{
			name: "key of another signal kind on an inherited signal",
			text: "extends = \"incident\"\n[signals.thumbs]\nnoise = 0.1\n",
			key:  "signals.thumbs.noise", at: "noise", msg: `key does not apply to kind "thumbs"`,
		},
		{
			name: "string for an int",
			text: "[train]\nsteps = \"300\"\n",
			key:  "train.steps", at: "steps", msg: "wrong type: got a string, want an integer",
		},
		{
			name: "float for an int",
			text: "[train]\nsteps = 300.5\n",
			key:  "train.steps", at: "steps", msg: "wrong type: got a float, want an integer",
		},
		{
			name: "array for a table",
			text: "seed = 3\ntrain = [1, 2]\n",
			key:  "train", at: "train", msg: "wrong type: got an array, want a table",
		},
		{
			name: "integer for a named table entry",
			text: "extends = \"baseline\"\nsignals.extra = 3\n",
			key:  "signals.extra", at: "signals.extra", msg: "wrong type: got an integer, want a table",
		},
		{
			name: "string for a bool",
			text: "[memory]\nenabled = \"yes\"\n",
			key:  "memory.enabled", at: "enabled", msg: "wrong type: got a string, want true or false",
		},
		{
			name: "string in a table signal's values",
			text: "extends = \"baseline\"\n[signals.t]\nkind = \"table\"\n[signals.t.table]\nopinion = [1.0, \"x\", 0.0, 0.0]\n",
			key:  "signals.t.table.opinion[1]", at: "opinion", msg: "wrong type: got a string, want a number",
		},
		{
			name: "integer out of range",
			text: "[train]\nsteps = 99999999999\n",
			key:  "train.steps", at: "steps", msg: "out of range",
		},
		{
			name: "negative seed",
			text: "seed = -1\n",
			key:  "seed", at: "seed", msg: "-1 must be >= 0",
		},
		{
			name: "negative steps",
			text: "[train]\nupdate_step = 1\nsteps = -5\n",
			key:  "train.steps", at: "steps", msg: "-5 is out of range [1, ",
		},
		{
			name: "negative beta",
			text: "extends = \"incident\"\n[train]\nbeta = -0.1\n",
			key:  "train.beta", at: "beta", msg: "-0.1 must be >= 0",
		},
		{
			name: "wrong probability above 1, dotted key",
			text: "extends = \"baseline\"\ncontexts.opinion.wrong = 1.5\n",
			key:  "contexts.opinion.wrong", at: "contexts.opinion.wrong", msg: "1.5 is not a probability in [0, 1]",
		},
		{
			name: "wrong probability above 1, table header",
			text: "extends = \"baseline\"\n[contexts.opinion]\n  wrong = 1.5\n",
			key:  "contexts.opinion.wrong", at: "wrong", msg: "1.5 is not a probability in [0, 1]",
		},
		{
			name: "detection below 0",
			text: "extends = \"baseline\"\n[signals.spec]\ndetection = -0.1\n",
			key:  "signals.spec.detection", at: "detection", msg: "-0.1 is not a probability in [0, 1]",
		},
		{
			name: "context shares do not sum to 1",
			text: "seed = 4\n\n[train]\nsteps = 300\n\n# contexts\n[contexts.verifiable]\nshare = 0.5\nverifiable = true\n\n[contexts.opinion]\nshare = 0.4\n\n[contexts.personal]\nshare = 0.3\n",
			key:  "contexts", at: "[contexts.verifiable]", msg: "share values sum to 1.2, want 1",
		},
		{
			name: "unknown signal kind",
			text: "extends = \"baseline\"\n[signals.x]\nweight = 1.0\nkind = \"vibes\"\n",
			key:  "signals.x.kind", at: "kind", msg: `unknown signal kind "vibes"`,
		},
		{
			name: "unknown kind on an inherited signal",
			text: "extends = \"baseline\"\n[signals.spec]\nkind = \"vibes\"\n",
			key:  "signals.spec.kind", at: "kind", msg: `unknown signal kind "vibes"`,
		},
		{
			name: "missing kind",
			text: "extends = \"baseline\"\n\n  [signals.x]\n  weight = 1.0\n",
			key:  "signals.x", at: "[signals.x]", msg: "missing key kind",
		},
		{
			name: "kind not a string",
			text: "extends = \"baseline\"\n[signals.x]\nkind = 3\n",
			key:  "signals.x.kind", at: "kind", msg: "wrong type: got an integer, want a string",
		},
		{
			name: "update_step past steps",
			text: "[train]\nsteps = 100\nupdate_step = 120\n",
			key:  "train.update_step", at: "update_step", msg: "120 is out of range [1, 100]",
		},
		{
			name: "default update_step past steps",
			text: "# steps only\n[train]\nsteps = 100\n",
			key:  "train.update_step", at: "[train]", msg: "150 is out of range [1, 100]",
		},
		{
			name: "nan",
			text: "extends = \"baseline\"\n[train]\nlearning_rate = nan\n",
			key:  "train.learning_rate", at: "learning_rate", msg: "NaN is not a finite number",
		},
		{
			name: "inf",
			text: "[train]\nbeta = inf\n",
			key:  "train.beta", at: "beta", msg: "+Inf is not a finite number",
		},
		{
			name: "negative inf in a named table",
			text: "extends = \"baseline\"\n[contexts.personal]\nharm = -inf\n",
			key:  "contexts.personal.harm", at: "harm", msg: "-Inf is not a finite number",
		},
		{
			name: "memory signal with memory disabled",
			text: "extends = \"baseline\"\n[signals.mem]\nweight = 0.5\nkind = \"memory\"\n",
			key:  "signals.mem.kind", at: "kind", msg: "a memory signal needs [memory] enabled = true",
		},
		{
			name: "table signal names an unknown context",
			text: "extends = \"baseline\"\n[signals.t]\nkind = \"table\"\n[signals.t.table]\nopinion = [1.0, 0.0, 0.0, 0.0]\nbogus = [1.0, 0.0, 0.0, 0.0]\n",
			key:  "signals.t.table.bogus", at: "bogus", msg: `no context named "bogus"`,
		},
		{
			name: "table signal with the wrong number of values",
			text: "extends = \"baseline\"\n[signals.t]\nkind = \"table\"\n[signals.t.table]\nopinion = [\n  1.0,\n  0.0,\n]\n",
			key:  "signals.t.table.opinion", at: "opinion", msg: "has 2 values, want one per response (4: candid, flattering, hedging, validating)",
		},
		{
			name: "table signal without a table",
			text: "extends = \"baseline\"\n[signals.t]\nkind = \"table\"\n",
			key:  "signals.t.table", at: "[signals.t]", msg: "a table signal needs a table",
		},
		{
			name: "syntax error",
			// The parser places this error on the space before the 4.
			text: "[train]\nsteps = 3 4\n",
			at:   " 4", msg: "expected a top-level item to end with a newline",
		},
		{
			name: "syntax error, value expected",
			text: "seed = 1\n\n[train]\nsteps = = 3\n",
			at:   "= 3", msg: "expected value",
		},
		{
			name: "duplicate key",
			text: "seed = 1\nseed = 2\n",
			key:  "seed", at: "seed = 2", msg: "defined twice (first at line 1)", exact: true,
		},
		{
			name: "duplicate table",
			text: "[train]\nsteps = 1\n[gold]\n[train]\nbeta = 1.0\n",
			key:  "train", at: "train]\nbeta", msg: "defined twice (first at line 1)", exact: true, // the parser points at the name
		},
		{
			name: "control character at the start of a line",
			text: "seed = 1\n# c\n\x01\n",
			at:   "\x01", msg: "cannot contain control characters",
		},
		{
			name: "escape cut off by the end of the input",
			text: "seed = 1\nname = \"\\",
			at:   "\\", msg: "invalid escape",
		},
		{
			name: "syntax error after a byte order mark",
			text: "seed = = 1\n",
			at:   "= 1", msg: "expected value", bom: true,
		},
		{
			name: "unknown key after a byte order mark",
			text: "nmae = 1\n",
			key:  "nmae", at: "nmae", msg: "unknown key", bom: true,
		},
		{
			name: "extends an unknown preset",
			text: "# derived\n  extends = \"incidnet\"\n",
			key:  "extends", at: "extends", msg: `no preset named "incidnet"`,
		},
		{
			name: "extends not a string",
			text: "extends = 3\n",
			key:  "extends", at: "extends", msg: "wrong type: got an integer, want a preset name or a path",
		},
		{
			name: "extends a missing file",
			text: "extends = \"missing.toml\"\n",
			key:  "extends", at: "extends", msg: "open missing.toml: no such file",
		},
		{
			name: "error in an extended file names that file",
			text: "extends = \"bad_base.toml\"\n",
			file: "bad_base.toml",
			key:  "train.beta", at: "beta", msg: "-2 must be >= 0",
		},
		{
			name: "review: unknown rule",
			text: "extends = \"incident\"\n[review]\n  rule = \"strict\"\n",
			key:  "review.rule", at: "rule", msg: `unknown value "strict" (want one of incident, post_incident)`,
		},
		{
			name: "review: unknown key in a gate, with a suggestion",
			text: "[review.vibe]\ntester = 3\n",
			key:  "review.vibe.tester", at: "tester", msg: `unknown key (did you mean "testers"?)`,
		},
		{
			name: "review: alpha out of range",
			text: "extends = \"incident\"\n\n[review.ab]\ncomparisons = 100\nalpha = 1.5\n",
			key:  "review.ab.alpha", at: "alpha", msg: "1.5 must be in (0, 1)",
		},
		{
			name: "review: blocking not a boolean",
			text: "[review.sycophancy]\nblocking = \"yes\"\n",
			key:  "review.sycophancy.blocking", at: "blocking", msg: "wrong type: got a string, want true or false",
		},
		{
			name: "review: vibe threshold above the number of testers",
			text: "[review.vibe]\ntesters = 2\nthreshold = 3\n",
			key:  "review.vibe.threshold", at: "threshold", msg: "3 is out of range [0, 2]",
		},
		{
			name: "review: samples zero",
			text: "review.offline.samples = 0\n",
			key:  "review.offline.samples", at: "review.offline.samples", msg: "0 is out of range",
		},
		{
			name: "deployment: rollback takes no time",
			text: "extends = \"incident\"\n[deployment]\nrollback_hours = 0.0\n",
			key:  "deployment.rollback_hours", at: "rollback_hours", msg: "0 must be > 0",
		},
		{
			name: "deployment: alpha without a share",
			text: "[deployment]\nalpha_hours = 48.0\n",
			key:  "deployment.alpha_share", at: "[deployment]", msg: "needs alpha_share > 0",
		},
		{
			name: "deployment: complaint rate not a probability",
			text: "[deployment]\n\tcomplaint_rate = 2\n",
			key:  "deployment.complaint_rate", at: "complaint_rate", msg: "2 is not a probability",
		},
		{
			name: "deployment: unknown key",
			text: "[deployment]\nrollout_hour = 3.0\n",
			key:  "deployment.rollout_hour", at: "rollout_hour", msg: `did you mean "rollout_hours"?`,
		},
		{
			name: "cue accuracy below chance",
			text: "extends = \"incident\"\n[contexts.opinion]\nshare = 0.4\nwrong = 0.5\ncue_accuracy = 0.4\n",
			key:  "contexts.opinion.cue_accuracy", at: "cue_accuracy", msg: "0.4 is out of range [0.5, 1]", exact: true,
		},
		{
			name: "no deployment round",
			text: "extends = \"incident\"\n[feedback]\nrounds = 0\n",
			key:  "feedback.rounds", at: "rounds", msg: "0 is out of range [1, 1000]", exact: true,
		},
		{
			name: "more rounds than steps left",
			text: "extends = \"incident\"\n[feedback]\nrounds = 200\n",
			key:  "feedback.rounds", at: "rounds", msg: "200 deployments do not fit in the 150 steps from the first (step 150",
		},
		{
			name: "a log too small to fit a reward model",
			text: "extends = \"incident\"\n[feedback]\nlog_size = 10\n",
			key:  "feedback.log_size", at: "log_size", msg: "fewer than the 28 coefficients of a reward model: log at least 560 conversations",
		},
		{
			name: "no segment gives feedback",
			text: "extends = \"incident\"\n[segments.typical]\nfeedback_rate = 0.0\n[segments.expert]\nfeedback_rate = 0.0\n[segments.vulnerable]\nfeedback_rate = 0.0\n",
			key:  "feedback.log_size", msg: "no segment gives feedback (every feedback_rate is 0)",
		},
		{
			name: "a reward-model source on a spec signal",
			text: "extends = \"incident\"\n[signals.spec]\nkind = \"spec\"\nsource = \"reward_model\"\n",
			key:  "signals.spec.source", at: "source", msg: `key does not apply to kind "spec"`,
		},
		{
			name: "unknown thumbs source",
			text: "extends = \"incident\"\n[signals.thumbs]\nsource = \"rm\"\n",
			key:  "signals.thumbs.source", at: "source", msg: `unknown value "rm" (want one of reward_model, direct)`, exact: true,
		},
		{
			name: "negative feedback seed",
			text: "extends = \"incident\"\n[feedback]\nseed = -1\n",
			key:  "feedback.seed", at: "seed", msg: "-1 is out of range",
		},
		{
			name: "an unregularised reward model",
			text: "extends = \"incident\"\n[signals.thumbs]\nl2 = 0.0\n",
			key:  "signals.thumbs.l2", at: "l2", msg: "must be > 0",
		},
		{
			name: "unknown reward scaling",
			text: "extends = \"incident\"\n[train]\nscale_rewards = \"batches\"\n",
			key:  "train.scale_rewards", at: "scale_rewards", msg: `unknown value "batches" (want one of group, batch, none)`, exact: true,
		},
		{
			name: "normalize_then_sum with one signal",
			text: "[train]\naggregation = \"normalize_then_sum\"\n[signals.only]\nkind = \"spec\"\nweight = 1.0\n",
			key:  "train.aggregation", at: "aggregation", msg: "normalize_then_sum standardises each signal before summing them, and this config has 1 signal; with one, use sum_then_normalize", exact: true,
		},
		{
			name: "a GRPO group of one",
			text: "extends = \"incident\"\n[train]\nalgorithm = \"grpo\"\ngroup_size = 1\n",
			key:  "train.group_size", at: "group_size", msg: "a group of one has no spread and its advantage is always 0",
		},
		{
			name: "a learning rate that overflows the logits",
			text: "extends = \"incident\"\n[train]\noptimizer = \"sgd\"\nlearning_rate = 1e30\n",
			key:  "train.learning_rate", at: "learning_rate", msg: "1e+30 is above 1000",
		},
		{
			name: "extends cycle",
			text: fs["a.toml"],
			// a.toml closes the cycle: its extends is placed, and the chain listed.
			file: "a.toml", key: "extends", at: "extends", msg: "a cycle: test.toml -> b.toml -> a.toml -> b.toml", exact: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &files{data: fs}
			input := tc.text
			if tc.bom {
				input = "\ufeff" + input
			}
			_, err := configs.Load("test.toml", []byte(input), r.resolve)
			if err == nil {
				t.Fatalf("Load succeeded, want an error\ninput:\n%s", tc.text)
			}
			var ce *configs.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %q, want a *configs.Error", err, err)
			}
			file, src := "test.toml", tc.text
			switch tc.file {
			case "":
			case "*": // any file of a cycle
				file = ce.File
			default:
				file, src = tc.file, fs[tc.file]
			}
			if ce.File != file {
				t.Errorf("File = %q, want %q", ce.File, file)
			}
			if ce.Key != tc.key {
				t.Errorf("Key = %q, want %q", ce.Key, tc.key)
			}
			if tc.exact && ce.Msg != tc.msg {
				t.Errorf("Msg = %q, want %q", ce.Msg, tc.msg)
			} else if !strings.Contains(ce.Msg, tc.msg) {
				t.Errorf("Msg = %q, want it to contain %q", ce.Msg, tc.msg)
			}
			want := file
			if tc.at != "" {
				line, col := posOf(t, src, tc.at)
				if ce.Line != line || ce.Col != col {
					t.Errorf("position %d:%d, want %d:%d (at %q)", ce.Line, ce.Col, line, col, tc.at)
				}
				want += fmt.Sprintf(":%d:%d", line, col)
			} else if ce.Line != 0 || ce.Col != 0 {
				t.Errorf("position %d:%d, want none", ce.Line, ce.Col)
			}
			want += ": "
			if tc.key != "" {
				want += tc.key + ": "
			}
			if got := err.Error(); !strings.HasPrefix(got, want) {
				t.Errorf("Error() = %q, want it to start %q", got, want)
			} else if !strings.ContainsFunc(ce.Msg, unicode.IsControl) && got != want+ce.Msg {
				t.Errorf("Error() = %q, want %q", got, want+ce.Msg)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("Error() is not one line: %q", err)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  configs.Error
		want string
	}{
		{"full", configs.Error{File: "a.toml", Line: 3, Col: 7, Key: "train.steps", Msg: "bad"}, "a.toml:3:7: train.steps: bad"},
		{"no position", configs.Error{File: "a.toml", Key: "extends", Msg: "bad"}, "a.toml: extends: bad"},
		{"no key", configs.Error{File: "a.toml", Line: 1, Col: 2, Msg: "syntax"}, "a.toml:1:2: syntax"},
		{"control characters escaped", configs.Error{File: "a.toml", Line: 2, Col: 1, Key: "a\nb", Msg: "bad '\\\x00'\r"}, `a.toml:2:1: a\nb: bad '\\x00'\r`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestLoadErrorKeyWithNewline: a quoted key may hold a newline; the error
// still prints on one line.
func TestLoadErrorKeyWithNewline(t *testing.T) {
	text := "seed = 1\n\"na\\nme\" = 2\n"
	_, err := configs.Load("nl.toml", []byte(text), nil)
	var ce *configs.Error
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *configs.Error", err)
	}
	if ce.Key != "na\nme" {
		t.Errorf("Key = %q, want %q", ce.Key, "na\nme")
	}
	if s := err.Error(); strings.ContainsAny(s, "\r\n") {
		t.Errorf("Error() is not one line: %q", s)
	}
}

func TestExtendsCycle(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		start string
	}{
		{"a -> b -> a", map[string]string{"a.toml": "extends = \"b.toml\"\n", "b.toml": "extends = \"a.toml\"\n"}, "a.toml"},
		{"self", map[string]string{"self.toml": "seed = 2\nextends = \"self.toml\"\n"}, "self.toml"},
		{"a -> b -> c -> b", map[string]string{
			"a.toml": "extends = \"b.toml\"\n",
			"b.toml": "extends = \"c.toml\"\n",
			"c.toml": "extends = \"b.toml\"\n[train]\nsteps = 10\n",
		}, "a.toml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &files{data: tc.files}
			done := make(chan error, 1)
			go func() {
				_, err := configs.Load(tc.start, []byte(tc.files[tc.start]), r.resolve)
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Load did not return within 10s on a cycle of extends")
			}
			var ce *configs.Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *configs.Error", err)
			}
			if ce.Key != "extends" || !strings.Contains(ce.Msg, "cycle") {
				t.Errorf("got %q, want an extends error naming a cycle", err)
			}
			if _, ok := tc.files[ce.File]; !ok {
				t.Errorf("error names file %q, not one of the cycle", ce.File)
			}
			if len(r.calls) > 100 {
				t.Errorf("resolver called %d times", len(r.calls))
			}
		})
	}
}

func TestLoadWithoutExtendsStartsFromDefault(t *testing.T) {
	tests := []struct {
		name string
		text string
		edit func(c *sim.Config)
	}{
		{"empty file", "", func(c *sim.Config) {}},
		{"scalars", "seed = 7\nname = \"mine\"\n", func(c *sim.Config) { c.Seed, c.Name = 7, "mine" }},
		{"one field of a struct", "[train]\nbeta = 0.25\n", func(c *sim.Config) { c.Train.Beta = 0.25 }},
		{"integer in a float field", "[train]\nbeta = 2\n", func(c *sim.Config) { c.Train.Beta = 2 }},
		{
			"a named table replaces the default whole",
			"primary = \"only\"\n[signals.only]\nkind = \"spec\"\ndetection = 0.5\n",
			func(c *sim.Config) {
				s := reward.Default(reward.KindSpec)
				s.Detection = 0.5
				c.Primary, c.Signals = "only", map[string]reward.Spec{"only": s}
			},
		},
		{
			"baseline's signals restated by kind alone are baseline's",
			"[signals.correctness]\nkind = \"correctness\"\n[signals.spec]\nkind = \"spec\"\n",
			func(c *sim.Config) {},
		},
		{
			"contexts replaced whole",
			"[contexts.all]\nshare = 1.0\nwrong = 0.3\n",
			func(c *sim.Config) {
				c.Contexts = map[string]sim.Context{"all": {Share: 1, Wrong: 0.3, CueAccuracy: 0.5}}
			},
		},
		{
			"responses replaced whole",
			"[responses.a]\nagree = 1.0\n[responses.b]\nprior = 0.5\n",
			func(c *sim.Config) { c.Responses = map[string]sim.Response{"a": {Agree: 1}, "b": {Prior: 0.5}} },
		},
		{
			"a new segment gets harm_multiplier 1",
			"[segments.everyone]\nshare = 1.0\nfeedback_rate = 0.1\n",
			func(c *sim.Config) {
				c.Segments = map[string]sim.Segment{"everyone": {Share: 1, FeedbackRate: 0.1, HarmMultiplier: 1}}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustLoad(t, "test.toml", tc.text, nil)
			want := configs.Default()
			tc.edit(want)
			diffConfigs(t, got, want)
		})
	}
}

func TestLoadExtendsMerges(t *testing.T) {
	base := "# base\nseed = 11\n[train]\nsteps = 200\nbeta = 0.3\n[signals.spec]\nkind = \"spec\"\ndetection = 0.7\n[signals.extra]\nkind = \"correctness\"\nnoise = 0.2\n"
	fs := map[string]string{"base.toml": base}
	tests := []struct {
		name string
		text string
		from string // the preset or file the expected config starts from
		edit func(c *sim.Config)
	}{
		{"nothing changed", "extends = \"incident\"\n", "incident", func(c *sim.Config) {}},
		{
			"one field of an inherited signal",
			"extends = \"incident\"\n[signals.thumbs]\nweight = 3.0\n",
			"incident",
			func(c *sim.Config) {
				s := c.Signals["thumbs"]
				s.Weight = 3
				c.Signals["thumbs"] = s
			},
		},
		{
			"one field of an inherited context, dotted",
			"extends = \"incident\"\ncontexts.opinion.wrong = 0.25\n",
			"incident",
			func(c *sim.Config) {
				x := c.Contexts["opinion"]
				x.Wrong = 0.25
				c.Contexts["opinion"] = x
			},
		},
		{
			"a new signal gets its kind's defaults",
			"extends = \"baseline\"\n[signals.grader]\nkind = \"thumbs\"\nweight = 0.5\n",
			"baseline",
			func(c *sim.Config) {
				s := reward.Default(reward.KindThumbs)
				s.Weight = 0.5
				c.Signals["grader"] = s
			},
		},
		{
			"a new spec signal gets the spec defaults",
			"extends = \"baseline\"\n[signals.spec2]\nkind = \"spec\"\n",
			"baseline",
			func(c *sim.Config) { c.Signals["spec2"] = reward.Default(reward.KindSpec) },
		},
		{
			"a changed kind starts from the new kind's defaults",
			"extends = \"baseline\"\n[signals.spec]\nkind = \"thumbs\"\nweight = 2.0\n",
			"baseline",
			func(c *sim.Config) {
				s := reward.Default(reward.KindThumbs)
				s.Weight = 2
				c.Signals["spec"] = s
			},
		},
		{
			"a new segment gets harm_multiplier 1",
			"extends = \"baseline\"\n[segments.typical]\nshare = 0.8\n[segments.newcomer]\nshare = 0.08\n",
			"baseline",
			func(c *sim.Config) {
				s := c.Segments["typical"]
				s.Share = 0.8
				c.Segments["typical"] = s
				c.Segments["newcomer"] = sim.Segment{Share: 0.08, HarmMultiplier: 1}
			},
		},
		{
			"a path through the resolver",
			"extends = \"base.toml\"\n[signals.spec]\nfalse_positive = 0.1\n",
			"base.toml",
			func(c *sim.Config) {
				s := c.Signals["spec"]
				s.FalsePositive = 0.1
				c.Signals["spec"] = s
			},
		},
		{
			"a path to a file that extends a preset",
			"extends = \"inc.toml\"\nseed = 5\n",
			"inc.toml",
			func(c *sim.Config) { c.Seed = 5 },
		},
	}
	fs["inc.toml"] = "extends = \"incident\"\n[memory]\nrate = 0.5\n"
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &files{data: fs}
			got := mustLoad(t, "dir/test.toml", tc.text, r.resolve)
			var want *sim.Config
			if configs.IsPreset(tc.from) {
				want = mustPreset(t, tc.from)
			} else {
				want = mustLoad(t, tc.from, fs[tc.from], (&files{data: fs}).resolve)
			}
			tc.edit(want)
			diffConfigs(t, got, want)
		})
	}
}

// TestLoadBaseFile checks what a file extended through the resolver
// contributes: its own settings over the defaults, its named tables whole,
// and the name of the file that refers to it.
func TestLoadBaseFile(t *testing.T) {
	r := &files{data: map[string]string{
		"base.toml": "seed = 11\nprimary = \"only\"\n[signals.only]\nkind = \"spec\"\ndetection = 0.7\n",
	}}
	got := mustLoad(t, "dir/derived.toml", "extends = \"base.toml\"\n[train]\nsteps = 200\n", r.resolve)
	if want := []string{"dir/derived.toml -> base.toml"}; !reflect.DeepEqual(r.calls, want) {
		t.Errorf("resolver calls %q, want %q", r.calls, want)
	}
	want := configs.Default()
	want.Seed, want.Primary, want.Train.Steps = 11, "only", 200
	spec := reward.Default(reward.KindSpec)
	spec.Detection = 0.7
	want.Signals = map[string]reward.Spec{"only": spec}
	diffConfigs(t, got, want)
}

func TestLoadWithoutResolver(t *testing.T) {
	_, err := configs.Load("x.toml", []byte("extends = \"base.toml\"\n"), nil)
	var ce *configs.Error
	if !errors.As(err, &ce) || ce.Key != "extends" || !strings.Contains(ce.Msg, "no file access") {
		t.Fatalf("got %v, want an extends error saying there is no file access", err)
	}
}

// TestDefaultIsFresh: each call returns a config of its own.
func TestDefaultIsFresh(t *testing.T) {
	a := configs.Default()
	a.Signals["spec"] = reward.Spec{}
	a.Contexts["opinion"] = sim.Context{}
	b := configs.Default()
	if b.Signals["spec"].Kind != reward.KindSpec || b.Contexts["opinion"].Share == 0 {
		t.Fatal("Default shares its maps between calls")
	}
}

func TestPresets(t *testing.T) {
	names := configs.PresetNames()
	for _, want := range []string{"baseline", "incident"} {
		if !configs.IsPreset(want) {
			t.Errorf("IsPreset(%q) = false", want)
		}
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("PresetNames() = %q, missing %q", names, want)
		}
	}
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			cfg := mustPreset(t, n)
			if err := cfg.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			src, ok := configs.PresetSource(n)
			if !ok {
				t.Fatal("PresetSource: no source")
			}
			diffConfigs(t, mustLoad(t, n+".toml", string(src), nil), cfg)
			if cfg.Name != n {
				t.Errorf("name = %q, want the preset's name %q", cfg.Name, n)
			}
		})
	}
	for _, n := range []string{"", "nosuch", "baseline.toml", "presets/baseline", "../baseline", "BASELINE"} {
		if configs.IsPreset(n) {
			t.Errorf("IsPreset(%q) = true", n)
		}
		if _, err := configs.Preset(n); err == nil {
			t.Errorf("Preset(%q) succeeded", n)
		}
	}
}

func TestBaselineIsDefault(t *testing.T) {
	diffConfigs(t, mustPreset(t, "baseline"), configs.Default())
	// Baseline writes every key: its encoding, read without extends, is the
	// default again, and it writes the same keys as the encoding does.
	enc := configs.Encode(configs.Default())
	diffConfigs(t, mustLoad(t, "encoded.toml", string(enc), nil), configs.Default())
	src, _ := configs.PresetSource("baseline")
	if got, want := tomlKeys(t, src), tomlKeys(t, enc); !reflect.DeepEqual(got, want) {
		t.Errorf("baseline.toml writes keys\n%q\nthe encoded default writes\n%q", got, want)
	}
}

func TestIncident(t *testing.T) {
	inc := mustPreset(t, "incident")
	u := inc.Train.UpdateStep
	if u <= 0 || u >= inc.Train.Steps {
		t.Fatalf("update_step %d not inside (0, %d)", u, inc.Train.Steps)
	}
	for _, n := range []string{"thumbs", "memory"} {
		s, ok := inc.Signals[n]
		if !ok {
			t.Errorf("no signal %q", n)
			continue
		}
		if string(s.Kind) != n || s.StartStep != u || !s.Active(u) || s.Active(u-1) {
			t.Errorf("signal %s: kind %q, start_step %d; want kind %q starting at update_step %d", n, s.Kind, s.StartStep, n, u)
		}
	}
	if !inc.Memory.Enabled || inc.Memory.StartStep != u {
		t.Errorf("memory enabled=%v start_step=%d, want enabled from update_step %d", inc.Memory.Enabled, inc.Memory.StartStep, u)
	}
	// Nothing else differs from baseline.
	base := mustPreset(t, "baseline")
	for n, s := range base.Signals {
		if s.StartStep != 0 {
			t.Errorf("baseline signal %s starts at %d, want 0", n, s.StartStep)
		}
	}
	inc.Name, inc.Description = base.Name, base.Description
	inc.Memory.Enabled, inc.Memory.StartStep = base.Memory.Enabled, base.Memory.StartStep
	delete(inc.Signals, "thumbs")
	delete(inc.Signals, "memory")
	diffConfigs(t, inc, base)
}
