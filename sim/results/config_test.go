package results_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim/results"
)

// TestReadConfig: only a regular .toml file of at most MaxFileSize bytes is
// read; anything else is an *Error naming the file and saying why.
func TestReadConfig(t *testing.T) {
	dir := t.TempDir()
	ok := write(t, filepath.Join(dir, "ok.toml"), "seed = 3\n")
	if err := os.Mkdir(filepath.Join(dir, "folder.toml"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, msg string
		notExist        bool
	}{
		{"missing", filepath.Join(dir, "missing.toml"), "no such file", true},
		{"a folder", filepath.Join(dir, "folder.toml"), "a folder, not a config file", false},
		{"not .toml", write(t, filepath.Join(dir, "passwd"), "root:x:0:0::/root:/bin/sh\n"), "not a .toml file: a config file's name ends in .toml (or name a preset: ", false},
		{"not .toml, by its link's target either", symlink(t, ok, filepath.Join(dir, "notes.txt")), "not a .toml file", false},
		{"over the limit", sized(t, filepath.Join(dir, "big.toml"), configs.MaxFileSize+1), "16777217 bytes, more than the 16 MB (16777216 bytes) a config file may hold", false},
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		tests = append(tests,
			struct {
				name, path, msg string
				notExist        bool
			}{"a device", "/dev/zero", "a character device, not a regular file: a config is a .toml file", false},
			struct {
				name, path, msg string
				notExist        bool
			}{"a link to a device", symlink(t, "/dev/zero", filepath.Join(dir, "zero.toml")), "a character device, not a regular file: a config is a .toml file", false},
		)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := results.ReadConfig(tc.path)
			var ce *configs.Error
			if !errors.As(err, &ce) {
				t.Fatalf("ReadConfig(%s) = %d bytes, %v; want a *configs.Error", tc.path, len(data), err)
			}
			if ce.File != tc.path || ce.Line != 0 || ce.Key != "" || !strings.HasPrefix(ce.Msg, tc.msg) {
				t.Errorf("got %q, want %s: %s", err, tc.path, tc.msg)
			}
			if errors.Is(err, fs.ErrNotExist) != tc.notExist {
				t.Errorf("errors.Is(%q, fs.ErrNotExist) = %v", err, !tc.notExist)
			}
		})
	}

	data, err := results.ReadConfig(ok)
	if err != nil || string(data) != "seed = 3\n" {
		t.Errorf("ReadConfig(%s) = %q, %v", ok, data, err)
	}
	link := symlink(t, ok, filepath.Join(dir, "link.toml"))
	if data, err := results.ReadConfig(link); err != nil || string(data) != "seed = 3\n" {
		t.Errorf("ReadConfig of a link to a config = %q, %v", data, err)
	}
	full := sized(t, filepath.Join(dir, "full.toml"), configs.MaxFileSize)
	if data, err := results.ReadConfig(full); err != nil || len(data) != configs.MaxFileSize {
		t.Errorf("ReadConfig of a file at the limit = %d bytes, %v", len(data), err)
	}
}

func write(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// sized makes a file of n bytes without writing them (sparse).
func sized(t *testing.T, path string, n int64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(n); err != nil {
		t.Fatal(err)
	}
	return path
}

func symlink(t *testing.T, target, link string) string {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	return link
}

// TestExtendsFileErrors: what results.ReadConfig refuses in an extended file is
// placed at the extends line, naming the file and why.
func TestExtendsFileErrors(t *testing.T) {
	dir := t.TempDir()
	sized(t, filepath.Join(dir, "big.toml"), configs.MaxFileSize+1)
	if err := os.Mkdir(filepath.Join(dir, "folder.toml"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ ref, msg string }{
		{"missing.toml", filepath.Join(dir, "missing.toml") + ": no such file"},
		{"folder.toml", filepath.Join(dir, "folder.toml") + ": a folder, not a config file"},
		{"big.toml", filepath.Join(dir, "big.toml") + ": 16777217 bytes, more than the 16 MB (16777216 bytes) a config file may hold"},
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		symlink(t, "/dev/zero", filepath.Join(dir, "zero.toml"))
		tests = append(tests, struct{ ref, msg string }{"zero.toml", filepath.Join(dir, "zero.toml") + ": a character device, not a regular file: a config is a .toml file"})
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			name := filepath.Join(dir, "a.toml")
			_, err := configs.Load(name, []byte("# a\nextends = \""+tc.ref+"\"\n"), results.ReadRelative)
			want := name + ":2:1: extends: " + tc.msg
			if err == nil || err.Error() != want {
				t.Errorf("got %v\nwant %s", err, want)
			}
		})
	}
}

// TestExtendsCycleOnDisk: the same file reached by another spelling of its
// path closes a cycle.
func TestExtendsCycleOnDisk(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(sub, "a.toml"), "extends = \"./b.toml\"\n")
	write(t, filepath.Join(sub, "b.toml"), "extends = \"../sub/a.toml\"\n")
	start := filepath.Join(dir, ".", "sub", "a.toml")
	data, err := results.ReadConfig(start)
	if err != nil {
		t.Fatal(err)
	}
	_, err = configs.Load(start, data, results.ReadRelative)
	b, a := filepath.Join(sub, "b.toml"), filepath.Join(sub, "a.toml")
	want := b + ":1:1: extends: a cycle: " + start + " -> " + b + " -> " + a
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
