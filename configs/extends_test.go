package configs_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rewardmix/rewardmix/configs"
)

// TestExtendsCycleNamesChain: a cycle of extends is placed at the extends
// line of the file that closes it, and lists the chain from the file
// loaded.
func TestExtendsCycleNamesChain(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		start string
		want  string
	}{
		{"self", map[string]string{"self.toml": "seed = 2\nextends = \"self.toml\"\n"}, "self.toml",
			"self.toml:2:1: extends: a cycle: self.toml -> self.toml"},
		{"a -> b -> a", map[string]string{"a.toml": "extends = \"b.toml\"\n", "b.toml": "# b\n  extends = \"a.toml\"\n"}, "a.toml",
			"b.toml:2:3: extends: a cycle: a.toml -> b.toml -> a.toml"},
		{"a -> b -> c -> b", map[string]string{
			"a.toml": "extends = \"b.toml\"\n",
			"b.toml": "extends = \"c.toml\"\n",
			"c.toml": "# c\n\nextends = \"b.toml\"\n[train]\nsteps = 10\n",
		}, "a.toml", "c.toml:3:1: extends: a cycle: a.toml -> b.toml -> c.toml -> b.toml"},
		{"through a preset", map[string]string{"a.toml": "extends = \"incident\"\n"}, "a.toml", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &files{data: tc.files}
			_, err := configs.Load(tc.start, []byte(tc.files[tc.start]), r.resolve)
			if fmt.Sprint(err) != tc.want && !(tc.want == "" && err == nil) {
				t.Errorf("got %v\nwant %s", err, tc.want)
			}
			if len(r.calls) > 4 {
				t.Errorf("resolver called %d times: %v", len(r.calls), r.calls)
			}
		})
	}
}

// TestExtendsTooDeep: a chain of more than 16 extends (without a cycle) is
// placed at the extends that goes too far, and lists the chain.
func TestExtendsTooDeep(t *testing.T) {
	fs := map[string]string{}
	var chain []string
	for i := range 18 {
		n := fmt.Sprintf("f%02d.toml", i)
		chain = append(chain, n)
		fs[n] = fmt.Sprintf("extends = \"f%02d.toml\"\n", i+1)
	}
	fs["f18.toml"] = "extends = \"incident\"\n"
	r := &files{data: fs}
	_, err := configs.Load("f00.toml", []byte(fs["f00.toml"]), r.resolve)
	want := "f16.toml:1:1: extends: more than 16 levels: " + strings.Join(chain[:17], " -> ") + " -> f17.toml"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
