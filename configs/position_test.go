package configs

import (
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// at returns the position of the first occurrence of needle in text, which
// must occur exactly once.
func at(t *testing.T, text, needle string) position {
	t.Helper()
	i := strings.Index(text, needle)
	if i < 0 || strings.Contains(text[i+1:], needle) {
		t.Fatalf("test bug: %q must occur exactly once in the input", needle)
	}
	line := strings.Count(text[:i], "\n") + 1
	return position{line, i - (strings.LastIndexByte(text[:i], '\n') + 1) + 1}
}

// mustTOML fails the test if text is not TOML that BurntSushi/toml
// accepts: keyPositions only ever sees accepted text.
func mustTOML(t *testing.T, text string) {
	t.Helper()
	var v map[string]any
	if _, err := toml.Decode(text, &v); err != nil {
		t.Fatalf("test bug: input is not valid TOML: %v\n%s", err, text)
	}
}

func TestKeyPositions(t *testing.T) {
	tests := []struct {
		name string
		text string
		// want maps a key to a string whose first byte is where the key is
		// written.
		want map[string]string
		// absent lists keys that must not be found (text inside strings,
		// comments and values).
		absent []string
	}{
		{
			name: "headers",
			text: "seed = 1\n[train]\nsteps = 3\n\n  [signals.spec]\n  kind = \"spec\"\n[ signals . thumbs ] # [x] = 1\nup = 1.0\n",
			want: map[string]string{
				"seed": "seed", "train": "[train]", "train.steps": "steps",
				"signals.spec": "[signals.spec]", "signals.spec.kind": "kind",
				"signals.thumbs": "[ signals", "signals.thumbs.up": "up",
			},
			absent: []string{"x", "signals.spec.x", "signals.thumbs.x"},
		},
		{
			name: "dotted keys",
			text: "contexts.opinion.wrong = 1.5\n  a . b=2\n[train]\nx.y = 3\n",
			want: map[string]string{
				"contexts.opinion.wrong": "contexts", "a.b": "a . b", "train": "[train]", "train.x.y": "x.y",
			},
			absent: []string{"contexts", "contexts.opinion", "a", "x.y"},
		},
		{
			name: "quoted keys",
			text: "\"quoted key\" = 1\n'lit.eral' = 2\nsignals.\"my sig\".kind = \"x\"\n\"a=b\" = 3\n[\"t 1\".'u']\n\"#v\" = 4\n",
			want: map[string]string{
				"quoted key": `"quoted key"`, "lit.eral": "'lit", "signals.my sig.kind": "signals.",
				"a=b": `"a=b"`, "t 1.u": `["t 1"`, "t 1.u.#v": `"#v"`,
			},
			absent: []string{"a", "quoted", "t 1.u.b"},
		},
		{
			name: "multi-line arrays",
			text: "[signals.t.table]\nverifiable = [\n  1.0, # a = [\n  2.0,\n  # ] b = 1\n]\nopinion = [[1, 2],\n  [3, [4]]]\nnames = [\"]\", \"[\", '''\n''',\n  \"x = 1\"]\npersonal = [1]\n",
			want: map[string]string{
				"signals.t.table": "[signals", "signals.t.table.verifiable": "verifiable",
				"signals.t.table.opinion": "opinion", "signals.t.table.names": "names",
				"signals.t.table.personal": "personal",
			},
			absent: []string{"signals.t.table.a", "signals.t.table.b", "signals.t.table.x", "a", "b", "x"},
		},
		{
			name: "multi-line strings",
			text: "description = \"\"\"\nfoo = 1\n[bar]\n\"\"\"\nseed = 2\nname = '''\n[baz]\nqux = \"\n'''\nprimary = \"\"\"one line\"\"\"\nx = '''also one'''\nlater = \"\"\"\nend\"\"\" # z = 1\nw = 1\n",
			want: map[string]string{
				"description": "description", "seed": "seed", "name": "name", "primary": "primary",
				"x": "x = '''", "later": "later", "w": "w =",
			},
			absent: []string{"foo", "bar", "bar.seed", "baz", "baz.qux", "qux", "z"},
		},
		{
			name: "comments containing = and [",
			text: "# x = 1\n# [table]\nseed = 1 # y = [\nname = \"n\" # ]\n  # [[arr]] = 2\n[train] # [gold]\nbeta = 0.1 # = [ [\nsteps = 2\n",
			want: map[string]string{
				"seed": "seed", "name": "name", "train": "[train]", "train.beta": "beta", "train.steps": "steps",
			},
			absent: []string{"x", "table", "table.seed", "y", "arr", "gold", "gold.steps"},
		},
		{
			name: "strings containing = [ and #",
			text: "name = \"a = [b # c\"\nseed = 1\ndescription = 'x = ['\n[train]\nalgorithm = \"[x]\"\nsteps = 1\n",
			want: map[string]string{
				"name": "name", "seed": "seed", "description": "description",
				"train": "[train]", "train.algorithm": "algorithm", "train.steps": "steps",
			},
			absent: []string{"a", "b", "x", "x.steps"},
		},
		{
			name: "entries of a named table",
			text: "[contexts.a]\nshare = 1\n[contexts.b]\nshare = 2\n",
			want: map[string]string{"contexts.a": "[contexts.a]", "contexts.a.share": "share = 1", "contexts.b.share": "share = 2"},
		},
		{
			name: "CRLF line endings",
			text: "seed = 1\r\n[train]\r\n\tsteps = 2\r\n",
			want: map[string]string{"seed": "seed", "train": "[train]", "train.steps": "steps"},
		},
		{
			name: "inline tables",
			text: "gold = { helpfulness = 1.0, honesty = 2.0 }\nseed = 1\n",
			want: map[string]string{"gold": "gold", "seed": "seed"},
		},
		{
			// TOML 1.1 lets inline tables span lines; their keys belong to
			// the key that holds the table, not to the enclosing table.
			name: "multi-line inline tables",
			text: "[signals.t]\ntable = {\n  weight = [1.0,\n    2.0],\n  bar = { x = 1 },\n}\nweight = -1.0\n[train]\nx = { a = [\n  { steps = 1 },\n] }\nsteps = 3\n",
			want: map[string]string{
				"signals.t.table": "table", "signals.t.weight": "weight = -1", "train.x": "x = {",
				"train.steps": "steps = 3",
			},
			absent: []string{"signals.t.bar", "signals.t.bar.x"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustTOML(t, tc.text)
			pos := keyPositions(tc.text)
			for k, needle := range tc.want {
				want := at(t, tc.text, needle)
				if got, ok := pos[k]; !ok {
					t.Errorf("%q not found; found %v", k, pos)
				} else if got != want {
					t.Errorf("%q at %d:%d, want %d:%d", k, got.Line, got.Col, want.Line, want.Col)
				}
			}
			for _, k := range tc.absent {
				if p, ok := pos[k]; ok {
					t.Errorf("%q found at %d:%d, want absent", k, p.Line, p.Col)
				}
			}
		})
	}
}

func TestKeyPositionsBOM(t *testing.T) {
	// The parser skips a byte order mark, and so do the positions.
	pos := keyPositions("\ufeffseed = 1\n[train]\n")
	if p := pos["seed"]; p != (position{1, 1}) {
		t.Errorf("seed at %d:%d, want 1:1", p.Line, p.Col)
	}
	if p := pos["train"]; p != (position{2, 1}) {
		t.Errorf("train at %d:%d, want 2:1", p.Line, p.Col)
	}
}

func TestLocate(t *testing.T) {
	text := "seed = 1\n" +
		"contexts.opinion.wrong = 1.5\n" +
		"[train]\n" +
		"steps = 3\n" +
		"[trainer]\n" +
		"x = 1\n" +
		"[segments.b]\n" +
		"share = 0.5\n" +
		"[segments.a]\n" +
		"share = 0.5\n" +
		"[signals.t.table]\n" +
		"opinion = [\n  1.0,\n  2.0,\n]\n"
	mustTOML(t, text)
	pos := keyPositions(text)
	tests := []struct {
		name string
		key  string
		at   string // "" for no position
	}{
		{"exact key", "train.steps", "steps"},
		{"table header", "train", "[train]"},
		{"array element", "signals.t.table.opinion[1]", "opinion = ["},
		{"nested table given by headers: the first one written", "segments", "[segments.b]"},
		{"table given by a header below it", "signals.t", "[signals.t.table]"},
		{"table given by a dotted key", "contexts.opinion", "contexts.opinion"},
		{"unwritten key: its table", "train.update_step", "[train]"},
		{"unwritten key under a named entry", "segments.a.harm_multiplier", "[segments.a]"},
		{"unwritten deep key under a dotted key", "contexts.opinion.share", "contexts.opinion"},
		{"unwritten entry: its table", "segments.c", "[segments.b]"},
		{"a name that only prefixes another", "trai", ""},
		{"a table that only prefixes another", "trainer.y", "[trainer]"},
		{"nothing written", "gold.honesty", ""},
		{"empty key", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := locate(pos, tc.key)
			if tc.at == "" {
				if ok {
					t.Errorf("locate(%q) = %d:%d, want none", tc.key, got.Line, got.Col)
				}
				return
			}
			want := at(t, text, tc.at)
			if !ok || got != want {
				t.Errorf("locate(%q) = %d:%d, %v; want %d:%d", tc.key, got.Line, got.Col, ok, want.Line, want.Col)
			}
		})
	}
}
