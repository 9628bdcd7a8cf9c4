package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/rewardmix/rewardmix/configs"
)

// smallTOML is the incident scaled down to 30 steps, for tests that need a
// run but not the full preset.
const smallTOML = `extends = "incident"
name = "small"

[train]
steps = 30
update_step = 15

[memory]
start_step = 15

[signals.thumbs]
start_step = 15

[signals.memory]
start_step = 15
`

// outputs are the files every run folder holds.
var outputs = []string{"config.toml", "drift.png", "frontier.png", "influence.png", "rewardmix.sha256", "segments.png", "steps.csv", "summary.json"}

// dataOutputs are the files of a run folder written with --no-plots.
var dataOutputs = []string{"config.toml", "rewardmix.sha256", "steps.csv", "summary.json"}

type result struct {
	code           int
	stdout, stderr string
}

// rewardmix runs the command in-process, as main would with args.
func rewardmix(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := dispatch(t.Context(), args, &out, &errb)
	return result{code, out.String(), errb.String()}
}

// mustRun runs the command and fails the test unless it exits 0.
func mustRun(t *testing.T, args ...string) result {
	t.Helper()
	r := rewardmix(t, args...)
	if r.code != exitOK {
		t.Fatalf("rewardmix %s: exit %d\nstderr: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// listDir returns the sorted names in dir.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, e := range ents {
		ns = append(ns, e.Name())
	}
	sort.Strings(ns)
	return ns
}

// snapshot returns every regular file under dir, by relative path.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	s := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		s[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sameSnapshot(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: holds %d files, want %d", what, len(got), len(want))
	}
	for n, w := range want {
		g, ok := got[n]
		switch {
		case !ok:
			t.Errorf("%s: %s is gone", what, n)
		case g != w:
			t.Errorf("%s: %s changed", what, n)
		}
	}
}

func TestDispatchExitCodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	unknownKey := writeFile(t, dir, "unknown_key.toml", "extends = \"incident\"\n[train]\nlearning_rat = 0.1\n")
	syntax := writeFile(t, dir, "syntax.toml", "seed = 1\n[train\nsteps = 3\n")
	rng := writeFile(t, dir, "range.toml", "extends = \"incident\"\n\n[train]\nlearning_rate = -1\n")
	badType := writeFile(t, dir, "type.toml", "extends = \"incident\"\nseed = \"one\"\n")
	badExtends := writeFile(t, dir, "extends.toml", "extends = \"nosuchpreset\"\n")
	missing := filepath.Join(dir, "missing.toml")

	tests := []struct {
		name string
		args []string
		code int
		// stderrRE, if set, must match the whole of stderr.
		stderrRE string
		// stdoutHas, if set, must occur in stdout.
		stdoutHas string
	}{
		// No args is an error (exit 2): the usage goes to stderr.
		{name: "no args", args: nil, code: exitInput, stderrRE: `^usage: rewardmix`},
		{name: "help", args: []string{"help"}, code: exitOK, stdoutHas: "usage: rewardmix"},
		{name: "--help", args: []string{"--help"}, code: exitOK, stdoutHas: "usage: rewardmix"},
		{name: "-h", args: []string{"-h"}, code: exitOK, stdoutHas: "usage: rewardmix"},
		{name: "unknown command", args: []string{"frobnicate"}, code: exitInput,
			stderrRE: `(?s)^rewardmix: unknown command "frobnicate"\nusage: rewardmix.*`},
		{name: "unknown flag", args: []string{"run", "--bogus", "incident", "-o", out}, code: exitInput,
			stderrRE: `^rewardmix run: flag provided but not defined: -bogus \(see 'rewardmix run --help'\)\n$`},
		{name: "unknown flag after positional", args: []string{"run", "incident", "-o", out, "-x"}, code: exitInput,
			stderrRE: `^rewardmix run: flag provided but not defined: -x \(see 'rewardmix run --help'\)\n$`},
		{name: "flag without value", args: []string{"run", "incident", "-o"}, code: exitInput,
			stderrRE: `^rewardmix run: flag needs an argument: -o \(see 'rewardmix run --help'\)\n$`},
		{name: "bad seed", args: []string{"run", "--seed", "many", "incident", "-o", out}, code: exitInput},
		{name: "negative seed", args: []string{"run", "--seed", "-2", "incident", "-o", out}, code: exitInput},
		{name: "run without config", args: []string{"run", "-o", out}, code: exitInput,
			stderrRE: `^rewardmix run: want one preset name or config file, got 0 arguments \(see 'rewardmix run --help'\)\n$`},
		{name: "run two configs", args: []string{"run", "incident", "baseline", "-o", out}, code: exitInput,
			stderrRE: `^rewardmix run: want one preset name or config file, got 2 arguments \(see 'rewardmix run --help'\)\n$`},
		{name: "missing file", args: []string{"run", missing, "-o", out}, code: exitInput,
			stderrRE: `^rewardmix run: ` + regexp.QuoteMeta(missing) + `: no such file, and no preset of that name \(presets: baseline, goodhart, incident, incident-alpha, incident-gated\)\n$`},
		{name: "folder as config", args: []string{"run", dir, "-o", out}, code: exitInput},
		{name: "unknown key", args: []string{"run", unknownKey, "-o", out}, code: exitInput,
			stderrRE: `^rewardmix run: ` + regexp.QuoteMeta(unknownKey) + `:3:1: train\.learning_rat: unknown key[^\n]*\n$`},
		{name: "syntax error", args: []string{"run", syntax, "-o", out}, code: exitInput,
			stderrRE: `^rewardmix run: ` + regexp.QuoteMeta(syntax) + `:[23]:\d+: [^\n]+\n$`},
		{name: "out of range", args: []string{"run", rng, "-o", out}, code: exitInput,
			stderrRE: `^rewardmix run: ` + regexp.QuoteMeta(rng) + `:4:1: train\.learning_rate: [^\n]+\n$`},
		{name: "wrong type", args: []string{"run", badType, "-o", out}, code: exitInput,
			stderrRE: `^rewardmix run: ` + regexp.QuoteMeta(badType) + `:2:1: seed: [^\n]+\n$`},
		{name: "unknown extends", args: []string{"run", badExtends, "-o", out}, code: exitInput,
			stderrRE: `^rewardmix run: ` + regexp.QuoteMeta(badExtends) + `:1:1: extends: no preset named "nosuchpreset"[^\n]*\n$`},
		{name: "check bad file", args: []string{"check", unknownKey}, code: exitInput,
			stderrRE: `^rewardmix check: ` + regexp.QuoteMeta(unknownKey) + `:3:1: train\.learning_rat: unknown key[^\n]*\n$`},
		{name: "check missing file", args: []string{"check", missing}, code: exitInput},
		{name: "check nothing", args: []string{"check"}, code: exitInput,
			stderrRE: `^rewardmix check: want at least one config file \(see 'rewardmix check --help'\)\n$`},
		{name: "presets unknown", args: []string{"presets", "nosuch"}, code: exitInput,
			stderrRE: `^rewardmix presets: no preset named "nosuch" \(presets: baseline, goodhart, incident, incident-alpha, incident-gated\)\n$`},
		{name: "presets two", args: []string{"presets", "baseline", "incident"}, code: exitInput},
		{name: "empty -o", args: []string{"run", "incident", "-o", ""}, code: exitInput,
			stderrRE: `^rewardmix run: -o "": want a name \(leave the flag out for the default\)\n$`},
		{name: "empty -o of a sweep", args: []string{"sweep", "-o", "", "x.toml"}, code: exitInput,
			stderrRE: `^rewardmix sweep: -o "": want a name`},
		{name: "presets ok", args: []string{"presets"}, code: exitOK, stdoutHas: "incident"},
		{name: "check ok", args: []string{"check", "incident"}, code: exitOK, stdoutHas: "incident: ok"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rewardmix(t, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			if tc.code == exitOK && r.stderr != "" {
				t.Errorf("stderr on success: %q", r.stderr)
			}
			if tc.code != exitOK && r.stderr == "" && tc.args != nil {
				t.Errorf("exit %d with nothing on stderr", r.code)
			}
			if tc.stderrRE != "" && !regexp.MustCompile(tc.stderrRE).MatchString(r.stderr) {
				t.Errorf("stderr %q does not match %s", r.stderr, tc.stderrRE)
			}
			if !strings.Contains(r.stdout, tc.stdoutHas) {
				t.Errorf("stdout %q lacks %q", r.stdout, tc.stdoutHas)
			}
		})
	}
	// None of the failures above may have written anything.
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed command created %s (stat: %v)", out, err)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	flags := map[string][]string{
		"run":         {"-o", "-seed", "-no-plots"},
		"check":       nil,
		"presets":     nil,
		"sweep":       {"-o", "-workers", "-resume", "-force", "-shard", "-dry-run", "-max-runs", "-fail-fast", "-quiet", "-no-plots"},
		"merge":       {"-o", "-force", "-no-plots"},
		"show":        nil,
		"review":      {"-gates"},
		"plot":        {"-o", "-kind", "-metric", "-by", "-x", "-y", "-level", "-width", "-height", "-title", "-step-range"},
		"serve":       {"-addr", "-max-sims"},
		"report":      {"-o"},
		"sensitivity": {"-metric", "-resamples", "-o", "-no-plots"},
	}
	if len(flags) != len(commands) {
		t.Fatalf("test knows %d commands, dispatch has %d", len(flags), len(commands))
	}
	for _, c := range commands {
		want, ok := flags[c.name]
		if !ok {
			t.Errorf("no flags listed for command %q", c.name)
			continue
		}
		for _, h := range []string{"--help", "-h", "-help"} {
			// Help wins wherever it appears, and nothing runs.
			for _, args := range [][]string{{c.name, h}, {c.name, "incident", h}} {
				r := rewardmix(t, args...)
				if r.code != exitOK {
					t.Errorf("%v: exit %d, want 0 (stderr %q)", args, r.code, r.stderr)
				}
				if r.stderr != "" {
					t.Errorf("%v: stderr %q, want none", args, r.stderr)
				}
				if !strings.HasPrefix(r.stdout, "usage: rewardmix "+c.name+" ") {
					t.Errorf("%v: stdout does not start with the usage line:\n%s", args, r.stdout)
				}
				for _, f := range want {
					if !strings.Contains(r.stdout, "  "+f+" ") && !strings.Contains(r.stdout, "  "+f+"\n") {
						t.Errorf("%v: help does not name flag %s:\n%s", args, f, r.stdout)
					}
				}
				if strings.Contains(r.stdout, "wrote ") || strings.Contains(r.stdout, ": ok (") {
					t.Errorf("%v: help also ran the command:\n%s", args, r.stdout)
				}
			}
		}
	}
	// The top-level usage names every command.
	r := rewardmix(t, "--help")
	for _, c := range commands {
		if !strings.Contains(r.stdout, "  "+c.name+" ") {
			t.Errorf("top-level usage does not name %s:\n%s", c.name, r.stdout)
		}
	}
}

func TestPresets(t *testing.T) {
	t.Parallel()
	r := mustRun(t, "presets")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	names := configs.PresetNames()
	for _, want := range []string{"baseline", "incident"} {
		if !contains(names, want) {
			t.Errorf("configs.PresetNames() = %v lacks %s", names, want)
		}
	}
	if len(lines) != len(names) {
		t.Fatalf("presets printed %d lines for %d presets:\n%s", len(lines), len(names), r.stdout)
	}
	for i, n := range names {
		cfg, err := configs.Preset(n)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Description == "" {
			t.Errorf("preset %s has no description", n)
		}
		f := strings.Fields(lines[i])
		if len(f) < 2 || f[0] != n || strings.Join(f[1:], " ") != strings.Join(strings.Fields(cfg.Description), " ") {
			t.Errorf("line %d = %q, want %s and its description %q", i, lines[i], n, cfg.Description)
		}
	}

	for _, n := range names {
		r := mustRun(t, "presets", n)
		src, _ := configs.PresetSource(n)
		if r.stdout != string(src) {
			t.Errorf("presets %s does not print the preset's source", n)
		}
		if !strings.HasPrefix(r.stdout, "#") {
			t.Errorf("presets %s: want commented TOML, got %.60q", n, r.stdout)
		}
		got, err := configs.Load(n+".toml", []byte(r.stdout), nil)
		if err != nil {
			t.Fatalf("presets %s prints TOML that configs.Load rejects: %v", n, err)
		}
		want, err := configs.Preset(n)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(configs.Encode(got), configs.Encode(want)) {
			t.Errorf("presets %s: loading the printed TOML does not give the preset", n)
		}
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	small := writeFile(t, dir, "small.toml", smallTOML)
	bad := writeFile(t, dir, "bad.toml", "extends = \"incident\"\n[train]\nsteps = 0\n")

	r := mustRun(t, "check", small, "incident", "baseline")
	want := []string{
		small + ": ok (expected, 4 signals, 30 steps, update at step 15)",
		"incident: ok (expected, 4 signals, 300 steps, update at step 150)",
		"baseline: ok (expected, 2 signals, 300 steps, update at step 150)",
	}
	if got := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("check printed\n%s\nwant\n%s", r.stdout, strings.Join(want, "\n"))
	}

	// Check stops at the first invalid file, after the valid ones before it.
	r = rewardmix(t, "check", small, bad, "incident")
	if r.code != exitInput {
		t.Fatalf("check with a bad file: exit %d, want 2", r.code)
	}
	if r.stdout != want[0]+"\n" {
		t.Errorf("check printed %q, want only the line for %s", r.stdout, small)
	}
	if !strings.HasPrefix(r.stderr, "rewardmix check: "+bad+":3:1: train.steps: ") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %q, want one line naming %s:3:1 and train.steps", r.stderr, bad)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
