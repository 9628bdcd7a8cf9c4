package configs_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/rewardmix/rewardmix/configs"
)

// fuzzFiles are the files a fuzzed config can extend besides the presets.
var fuzzFiles = map[string]string{
	"base.toml": "extends = \"incident\"\n[signals.judge]\nkind = \"table\"\n[signals.judge.table]\nopinion = [1.0, 0.0, 0.5, -1.0]\n",
	"loop.toml": "extends = \"loop.toml\"\n",
}

func fuzzResolve(from, ref string) (string, []byte, error) {
	s, ok := fuzzFiles[ref]
	if !ok {
		return "", nil, errors.New("no such file")
	}
	return ref, []byte(s), nil
}

// FuzzLoad checks that Load never panics, that its errors are one-line
// *configs.Error values placed inside the file, and that what it accepts
// encodes to a file that loads back to an equal config.
func FuzzLoad(f *testing.F) {
	for _, n := range configs.PresetNames() {
		src, _ := configs.PresetSource(n)
		f.Add(src)
		cfg, err := configs.Preset(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(configs.Encode(cfg))
	}
	for _, s := range []string{
		"",
		"[train",
		"extends = \"base.toml\"\n[signals.judge.table]\npersonal = [0.0, 0.0, 0.0, 1e-7]\n",
		"extends = \"loop.toml\"\n",
		"extends = \"baseline\"\n[signals.spec]\nkind = \"thumbs\"\n",
		"extends = \"baseline\"\nsignals.x = 3\n",
		"extends = \"baseline\"\n\"a\\nb\" = 1\n",
		"extends = \"baseline\"\ndescription = \"\"\"\n[train]\nsteps = 'x'\n\"\"\"\n[train]\nbeta = nan\n",
		"extends = \"incident\"\ncontexts = { opinion = {\n  wrong = 1.5,\n} }\n",
		"seed = 1\nseed = 2\n",
		"\ufeff[train]\nsteps = -1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := configs.Load("fuzz.toml", data, fuzzResolve)
		if err != nil {
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
			if ce.File == "fuzz.toml" && ce.Line > 0 {
				lines := strings.Split(string(data), "\n")
				if ce.Line > len(lines) || ce.Col > len(lines[ce.Line-1])+1 {
					t.Fatalf("position %d:%d outside the input: %q", ce.Line, ce.Col, err)
				}
			}
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
