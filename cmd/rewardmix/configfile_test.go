package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigFilesChecked: a config or extends file must be a regular .toml
// file of at most 16 MB; anything else (a device, which would never end, a
// system file, a file too big) is refused at once, naming the file and why,
// with exit 2. So are cycles of extends and duplicate keys, in our words.
func TestConfigFilesChecked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notes := writeFile(t, dir, "notes.txt", "seed = 1\n")
	big := filepath.Join(dir, "big.toml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(16<<20 + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	extDev := writeFile(t, dir, "ext_dev.toml", "extends = \"/dev/zero\"\n")
	extPasswd := writeFile(t, dir, "ext_passwd.toml", "# x\nextends = \"/etc/passwd\"\n")
	zero := filepath.Join(dir, "zero.toml")
	haveZero := os.Symlink("/dev/zero", zero) == nil
	extZero := writeFile(t, dir, "ext_zero.toml", "extends = \"zero.toml\"\n")
	a := writeFile(t, dir, "a.toml", "extends = \"b.toml\"\n")
	b := writeFile(t, dir, "b.toml", "# b\nextends = \"a.toml\"\n")
	dup := writeFile(t, dir, "dup.toml", "extends = \"incident\"\n[train]\nsteps = 100\nsteps = 200\n")
	run := writeFile(t, dir, "run.toml", "extends = \"incident\"\n[train]\nsteps = 20\nupdate_step = 10\n[memory]\nstart_step = 10\n[signals.thumbs]\nstart_step = 10\n[signals.memory]\nstart_step = 10\n")
	out := filepath.Join(dir, "out")
	mustRun(t, "run", "--no-plots", run, "-o", out)

	tests := []struct {
		name string
		args []string
		want string // stderr, after "rewardmix <command>: "
		skip bool
	}{
		{"check a device", []string{"check", "/dev/zero"}, "/dev/zero: a character device, not a regular file: a config is a .toml file", !haveZero},
		{"run a device", []string{"run", "--no-plots", "/dev/zero", "-o", filepath.Join(dir, "o1")}, "/dev/zero: a character device, not a regular file: a config is a .toml file", !haveZero},
		{"sweep a device", []string{"sweep", "/dev/zero", "-o", filepath.Join(dir, "o2")}, "/dev/zero: a character device, not a regular file: a config is a .toml file", !haveZero},
		{"check a link to a device", []string{"check", zero}, zero + ": a character device, not a regular file: a config is a .toml file", !haveZero},
		{"check a file not named .toml", []string{"check", notes}, notes + ": not a .toml file: a config file's name ends in .toml (or name a preset: baseline, goodhart, incident, incident-alpha, incident-gated)", false},
		{"check a file too big", []string{"check", big}, big + ": 16777217 bytes, more than the 16 MB (16777216 bytes) a config file may hold", false},
		{"check a folder", []string{"check", dir + "/"}, dir + "/: a folder, not a config file", false},
		{"extends a device", []string{"check", extDev}, extDev + `:1:1: extends: "/dev/zero" is not a .toml file: extends names a preset (baseline, goodhart, incident, incident-alpha, incident-gated) or a config file ending in .toml`, false},
		{"extends a system file", []string{"check", extPasswd}, extPasswd + `:2:1: extends: "/etc/passwd" is not a .toml file: extends names a preset (baseline, goodhart, incident, incident-alpha, incident-gated) or a config file ending in .toml`, false},
		{"extends a link to a device", []string{"check", extZero}, extZero + ":1:1: extends: " + zero + ": a character device, not a regular file: a config is a .toml file", !haveZero},
		{"extends cycle", []string{"check", a}, b + ":2:1: extends: a cycle: " + a + " -> " + b + " -> " + a, false},
		{"duplicate key", []string{"check", dup}, dup + ":4:1: train.steps: defined twice (first at line 3)", false},
		{"gates not a .toml file", []string{"review", out, "--gates", notes}, notes + ": not a .toml file: a config file's name ends in .toml (or name a preset: baseline, goodhart, incident, incident-alpha, incident-gated)", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skip {
				t.Skip("no /dev/zero or no symbolic links here")
			}
			r := rewardmix(t, tc.args...)
			want := "rewardmix " + tc.args[0] + ": " + tc.want + "\n"
			if r.code != exitInput || r.stderr != want {
				t.Errorf("exit %d, stderr %q\nwant exit 2, stderr %q", r.code, r.stderr, want)
			}
			if strings.Contains(r.stderr, "goroutine") {
				t.Errorf("a runtime trace: %s", r.stderr)
			}
		})
	}
}
