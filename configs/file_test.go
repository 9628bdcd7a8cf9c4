package configs_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/rewardmix/rewardmix/configs"
)

// TestLoadRefusesOversizedData: data over MaxFileSize is refused whoever
// read it, before it is parsed.
func TestLoadRefusesOversizedData(t *testing.T) {
	big := make([]byte, configs.MaxFileSize+1)
	for i := range big {
		big[i] = '#'
	}
	want := "big.toml: 16777217 bytes, more than the 16 MB (16777216 bytes) a config file may hold"
	if _, err := configs.Load("big.toml", big, nil); err == nil || err.Error() != want {
		t.Errorf("Load: %v, want %q", err, want)
	}
	if _, err := configs.LoadSweep("big.toml", big, nil, 10); err == nil || err.Error() != want {
		t.Errorf("LoadSweep: %v, want %q", err, want)
	}
	if _, err := configs.ApplyReview(mustPreset(t, "incident"), "big.toml", big); err == nil || err.Error() != want {
		t.Errorf("ApplyReview: %v, want %q", err, want)
	}
	// Served by a resolver, it is refused at the extends that reached it.
	resolve := func(from, ref string) (string, []byte, error) { return ref, big, nil }
	_, err := configs.Load("a.toml", []byte("extends = \"big.toml\"\n"), resolve)
	if want := "a.toml:1:1: extends: " + want; err == nil || err.Error() != want {
		t.Errorf("extends of oversized data: %v, want %q", err, want)
	}
}

// TestExtendsOnlyTOMLFiles: an extends path is a preset or a .toml file;
// anything else (a device, a system file, standard input) is refused at the
// extends line without being read.
func TestExtendsOnlyTOMLFiles(t *testing.T) {
	for _, ref := range []string{"/dev/zero", "/etc/passwd", "/dev/stdin", "../notes.txt", "sub/config.toml.bak", "C:\\x\\base.ini"} {
		t.Run(ref, func(t *testing.T) {
			r := &files{data: map[string]string{}}
			text := "seed = 4\nextends = " + quoteTOML(ref) + "\n"
			_, err := configs.Load("a.toml", []byte(text), r.resolve)
			want := "a.toml:2:1: extends: " + strconv.Quote(ref) + " is not a .toml file: extends names a preset (" + strings.Join(configs.PresetNames(), ", ") + ") or a config file ending in .toml"
			if err == nil || err.Error() != want {
				t.Errorf("got %v\nwant %s", err, want)
			}
			if len(r.calls) > 0 {
				t.Errorf("resolver called: %v", r.calls)
			}
		})
	}
}

func quoteTOML(s string) string { return "'" + s + "'" }
