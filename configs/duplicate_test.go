package configs_test

import (
	"errors"
	"testing"

	"github.com/rewardmix/rewardmix/configs"
)

// TestDuplicateKey: a key or table written twice is our error, placed at
// the second definition and naming the first's line, not BurntSushi/toml's
// wording.
func TestDuplicateKey(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"key", "seed = 1\nseed = 2\n", "d.toml:2:1: seed: defined twice (first at line 1)"},
		{"key in a table", "[train]\nsteps = 1\nbeta = 0.1\n  steps = 2\n", "d.toml:4:3: train.steps: defined twice (first at line 2)"},
		{"table", "[train]\nsteps = 1\n[gold]\n[train]\nbeta = 1.0\n", "d.toml:4:2: train: defined twice (first at line 1)"},
		{"dotted key, then a table's key", "train.steps = 1\n[train]\nsteps = 3\n", "d.toml:3:1: train.steps: defined twice (first at line 1)"},
		{"value, then a table", "seed = 1\nname = \"x\"\n[name]\n", "d.toml:3:2: name: defined twice (first at line 2)"},
		{"value, then a table below it", "[memory]\nrate = 0.1\n[memory.rate.x]\n", "d.toml:3:2: memory.rate: defined twice (first at line 2)"},
		{"table, then an array of tables", "[sweep]\n[[sweep]]\n", "d.toml:2:3: sweep: defined twice (first at line 1)"},
		{"quoted entry", "[signals.x]\nkind = 'spec'\n[signals.'x']\n", "d.toml:3:2: signals.x: defined twice (first at line 1)"},
		{"key with a newline", "\"a\\nb\" = 1\n\"a\\nb\" = 2\n", `d.toml:2:2: a\nb: defined twice (first at line 1)`}, // the parser points inside the quotes
		{"key with an escaped quote", "\"a\\\"b\" = 1\n\"a\\\"b\" = 2\n", `d.toml:2:2: a"b: defined twice (first at line 1)`},
		{"key with a dot", "[contexts.'a.b']\n[contexts.\"a.b\"]\n", "d.toml:2:2: contexts.a.b: defined twice (first at line 1)"},
		{"in an inline table", "[contexts]\nx = { share = 1.0, share = 0.5 }\n", "d.toml:2:20: contexts.x.share: defined twice (first at line 2)"},
		{"in an array of tables", "[sweep]\n[[sweep.axis]]\nkey = 'seed'\n[[sweep.axis]]\nkey = 'a'\nvalues = [1]\nkey = 'b'\n",
			"d.toml:7:1: sweep.axis[1].key: defined twice (first at line 5)"},
		{"after a byte order mark", "\ufeffseed = 1\nseed = 2\n", "d.toml:2:1: seed: defined twice (first at line 1)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := configs.Load("d.toml", []byte(tc.text), nil)
			var ce *configs.Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *configs.Error", err)
			}
			if err.Error() != tc.want {
				t.Errorf("got  %s\nwant %s", err, tc.want)
			}
			if ce.Key == "" {
				t.Errorf("no key in %q", err)
			}
		})
	}
	// A sweep file's duplicates read the same.
	_, err := configs.LoadSweep("s.toml", []byte("extends = \"incident\"\n[sweep]\nmode = \"grid\"\nmode = \"zip\"\n"), nil, 10)
	if want := "s.toml:4:1: sweep.mode: defined twice (first at line 3)"; err == nil || err.Error() != want {
		t.Errorf("LoadSweep: got %v, want %s", err, want)
	}
}
