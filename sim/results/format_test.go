package results_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rewardmix/rewardmix/sim"
	"github.com/rewardmix/rewardmix/sim/results"
)

// TestStepsCSV: tidy step,metric,value lines, every value in the shortest
// form that reads back as the same float64 (signed zero too), a value
// repeated from the step before copied rather than formatted.
func TestStepsCSV(t *testing.T) {
	values := [][]float64{
		{0.1, math.Copysign(0, -1)},
		{1e-300, 1.0000000000000002},
		{12345678, -2.5},
		{12345678, 0},
	}
	s := &results.Series{Metrics: []string{"a", "b/c"}, Steps: []int{0, 1, 2, 3}}
	for k := range s.Metrics {
		for i := range s.Steps {
			s.Values = append(s.Values, values[i][k])
		}
	}
	write := func(id string, sweep bool, s *results.Series) string {
		var b strings.Builder
		w := results.NewStepsWriter(&b, sim.FormatCSV, sweep, true)
		if err := w.Write(id, s); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	want := "step,metric,value\n" +
		"0,a,0.1\n0,b/c,-0\n" +
		"1,a,1e-300\n1,b/c,1.0000000000000002\n" +
		"2,a,1.2345678e+07\n2,b/c,-2.5\n" +
		"3,a,1.2345678e+07\n3,b/c,0\n"
	got := write("", false, s)
	if got != want {
		t.Fatalf("steps.csv =\n%s\nwant\n%s", got, want)
	}
	for i, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n")[1:] {
		f := strings.Split(line, ",")
		v, err := strconv.ParseFloat(f[2], 64)
		w := values[i/2][i%2]
		if err != nil || v != w || math.Signbit(v) != math.Signbit(w) {
			t.Errorf("line %q reads back as %v, want %v", line, v, w)
		}
	}
	one := &results.Series{Metrics: s.Metrics, Steps: s.Steps[:1], Values: []float64{values[0][0], values[0][1]}}
	if got := write("r07", true, one); got != "run_id,step,metric,value\nr07,0,a,0.1\nr07,0,b/c,-0\n" {
		t.Errorf("with a run id: %q", got)
	}
}

// noTempLeft checks that no temporary folder of WriteRunDir is left in
// parent.
func noTempLeft(t *testing.T, parent string) {
	t.Helper()
	ents, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") && strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary %s left in %s", e.Name(), parent)
		}
	}
}

func TestWriteRunDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "a", "b", "out")
	files := map[string][]byte{"steps.csv": []byte("x\n"), "summary.json": []byte("{}\n")}
	if err := results.WriteRunDir(out, files); err != nil {
		t.Fatal(err)
	}
	read := func(n string) string { b, _ := os.ReadFile(filepath.Join(out, n)); return string(b) }
	if read("steps.csv") != "x\n" || read("summary.json") != "{}\n" {
		t.Errorf("wrote %q and %q", read("steps.csv"), read("summary.json"))
	}
	// MkdirTemp makes the folder 0700; a run folder is readable like any other.
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("%s has mode %v, want 0755", out, fi.Mode().Perm())
	}
	// Replacing drops what the new files do not include; the manifest
	// lists what is there.
	if err := results.WriteRunDir(out, map[string][]byte{"config.toml": []byte("seed = 1\n")}); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 2 || ents[0].Name() != "config.toml" || ents[1].Name() != results.RunManifestFile {
		t.Errorf("%s holds %v, want config.toml and %s", out, ents, results.RunManifestFile)
	}
	// sha256sum's format: 64 hex digits, two spaces, the name.
	if m := read(results.RunManifestFile); !(len(m) == 64+2+len("config.toml")+1 && strings.HasSuffix(m, "  config.toml\n")) {
		t.Errorf("%s: %q", results.RunManifestFile, m)
	}
	// A file rewardmix wrote and the user then edited stops a replacement.
	if err := os.WriteFile(filepath.Join(out, "config.toml"), []byte("seed = 2 # mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var re *results.Error
	if err := results.WriteRunDir(out, files); !errors.As(err, &re) || !strings.Contains(err.Error(), "config.toml has changed since rewardmix wrote it") {
		t.Errorf("replacing an edited config.toml: %v", err)
	}
	if read("config.toml") != "seed = 2 # mine\n" {
		t.Error("the user's edit is lost")
	}
	noTempLeft(t, filepath.Dir(out))

	// A symbolic link to a run folder: the folder is replaced, the link kept.
	link := filepath.Join(dir, "link")
	target := filepath.Join(dir, "target")
	if err := results.WriteRunDir(target, files); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := results.WriteRunDir(link, map[string][]byte{"steps.csv": []byte("y\n")}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", fi, err)
	}
	if b, _ := os.ReadFile(filepath.Join(target, "steps.csv")); string(b) != "y\n" {
		t.Errorf("the link's folder holds steps.csv %q, want the new one", b)
	}
}
