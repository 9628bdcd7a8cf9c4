package configs_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/rewardmix/rewardmix/configs"
)

// fuzzFiles are the files a fuzzed config can extend besides the presets
// (which the resolver also serves as presets/<name>.toml).
var fuzzFiles = map[string]string{
	"base.toml":  "extends = \"incident\"\n[signals.judge]\nkind = \"table\"\n[signals.judge.table]\nopinion = [1.0, 0.0, 0.5, -1.0]\n",
	"loop.toml":  "extends = \"loop.toml\"\n",
	"a.toml":     "# a\nextends = \"b.toml\"\n[train]\nsteps = 200\n",
	"b.toml":     "extends = \"a.toml\"\n",
	"sweep.toml": "extends = \"incident\"\n[sweep]\n[[sweep.axis]]\nkey = \"train.beta\"\nvalues = [0.1, 0.2]\n",
	"bad.toml":   "[train]\nsteps = = 3\n",
	"dup.toml":   "seed = 1\n[train]\nsteps = 10\nsteps = 20\n",
	"deep.toml":  "extends = \"deep01.toml\"\n",
}

// fuzzHuge stands for a file over the size limit, served without being
// copied.
var fuzzHuge = sync.OnceValue(func() []byte { return bytes.Repeat([]byte("#"), configs.MaxFileSize+1) })

func init() {
	for i := 1; i < 20; i++ { // a chain too deep
		fuzzFiles[fmt.Sprintf("deep%02d.toml", i)] = fmt.Sprintf("extends = \"deep%02d.toml\"\n", i+1)
	}
	fuzzFiles["deep20.toml"] = "extends = \"baseline\"\n"
}

func fuzzResolve(from, ref string) (string, []byte, error) {
	if ref == "huge.toml" {
		return ref, fuzzHuge(), nil
	}
	if p, ok := strings.CutPrefix(ref, "presets/"); ok {
		if src, ok := configs.PresetSource(strings.TrimSuffix(p, ".toml")); ok {
			return ref, src, nil
		}
	}
	s, ok := fuzzFiles[ref]
	if !ok {
		return "", nil, errors.New("no such file")
	}
	return ref, []byte(s), nil
}

// checkError checks that err is a one-line *configs.Error placed inside the
// file it names, data being the fuzzed file's.
func checkError(t *testing.T, err error, data []byte) {
	t.Helper()
	var ce *configs.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %T %q, want a *configs.Error", err, err)
	}
	if s := err.Error(); strings.ContainsAny(s, "\r\n") {
		t.Fatalf("error is not one line: %q", s)
	}
	if (ce.Line > 0) != (ce.Col > 0) || ce.Line < 0 || ce.Col < 0 {
		t.Fatalf("bad position %d:%d in %q", ce.Line, ce.Col, err)
	}
	text, ok := fuzzFiles[ce.File]
	if ce.File == "fuzz.toml" {
		text, ok = string(data), true
	}
	if ok && ce.Line > 0 {
		lines := strings.Split(text, "\n")
		if ce.Line > len(lines) || ce.Col > len(lines[ce.Line-1])+1 {
			t.Fatalf("position %d:%d outside the input: %q", ce.Line, ce.Col, err)
		}
	}
}

// FuzzLoadConfig checks, on any TOML bytes, that Load never panics, that
// its errors are one-line *configs.Error values placed inside the file they
// name, and that what it accepts encodes to a file that loads back to an
// equal config; for a file with a [sweep] table, that LoadSweep's check of
// the runs agrees with validating every run. Its seeds are the presets
// (their sources and encodings) and testdata/fuzz/FuzzLoadConfig: broken
// TOML, chains and cycles of extends, files that are not configs, huge
// numbers, unicode keys, duplicate keys and sweeps of every mode.
func FuzzLoadConfig(f *testing.F) {
	for _, n := range configs.PresetNames() {
		src, _ := configs.PresetSource(n)
		f.Add(src)
		cfg, err := configs.Preset(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(configs.Encode(cfg))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if configs.HasSweep(data) {
			fuzzSweep(t, data)
			return
		}
		cfg, err := configs.Load("fuzz.toml", data, fuzzResolve)
		if err != nil {
			checkError(t, err, data)
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Load returned a config that does not validate: %v", err)
		}
		enc := configs.Encode(cfg)
		back, err := configs.Load("encoded.toml", enc, nil)
		if err != nil {
			t.Fatalf("Load(Encode(cfg)): %v\n%s", err, enc)
		}
		if !reflect.DeepEqual(back, cfg) {
			t.Fatalf("Load(Encode(cfg)) differs from cfg\n got: %+v\nwant: %+v\n%s", back, cfg, enc)
		}
		if again := configs.Encode(back); !bytes.Equal(again, enc) {
			t.Fatalf("Encode is not idempotent:\n%s\n---\n%s", enc, again)
		}
	})
}

// fuzzSweep checks a sweep file: LoadSweep's check agrees with validating
// every run (so that a sweep it accepts has only valid runs).
func fuzzSweep(t *testing.T, data []byte) {
	const maxRuns = 64
	s, err := configs.LoadSweep("fuzz.toml", data, fuzzResolve, maxRuns)
	slow, slowErr := configs.LoadSweepEveryRun("fuzz.toml", data, fuzzResolve, maxRuns)
	if fmt.Sprint(err) != fmt.Sprint(slowErr) {
		t.Fatalf("LoadSweep: %v\nevery run: %v", err, slowErr)
	}
	if err != nil {
		checkError(t, err, data)
		return
	}
	if s.Len() != slow.Len() || s.Hash() != slow.Hash() {
		t.Fatalf("LoadSweep and every run give different sweeps")
	}
}
