package sweep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim"
	"github.com/rewardmix/rewardmix/sim/results"
)

// TestDeterminism: runs.csv, steps.csv and agg.csv are byte-identical for
// one worker, two workers, three shards merged, and sweeps interrupted in
// several ways and resumed.
func TestDeterminism(t *testing.T) {
	t.Parallel()
	s := load(t, gridSweep)
	ref := filepath.Join(t.TempDir(), "ref")
	var reports []Progress
	sum := mustRun(t, s, ref, Options{Workers: 1, Progress: func(p Progress) { reports = append(reports, p) }})
	if *sum != (Summary{Runs: gridRuns, Ran: gridRuns}) {
		t.Errorf("summary %+v", sum)
	}
	if len(reports) != gridRuns+1 || reports[0] != (Progress{Total: gridRuns}) {
		t.Fatalf("%d progress reports, the first %+v; want %d, the first with nothing done", len(reports), reports[0], gridRuns+1)
	}
	for k, p := range reports[1:] {
		if p.Done != k+1 || p.Total != gridRuns || p.Run == nil || p.Run.Index != k || p.Run.Status != "ok" {
			t.Fatalf("progress report %d: %+v", k+1, p)
		}
	}
	names, err := os.ReadDir(ref)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range names {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != "agg.csv manifest.json runs.csv runs.log steps.csv sweep.toml" {
		t.Errorf("the sweep folder holds %v", got)
	}
	refLog := readFile(t, filepath.Join(ref, results.RunLogFile))
	ends, _ := logEnds(t, filepath.Join(ref, results.RunLogFile))
	if len(ends) != gridRuns || ends[len(ends)-1] != int64(len(refLog)) {
		t.Fatalf("the run log holds %d valid records in %d of its %d bytes, want %d in all", len(ends), ends[len(ends)-1], len(refLog), gridRuns)
	}

	t.Run("workers 2", func(t *testing.T) {
		t.Parallel()
		d := filepath.Join(t.TempDir(), "w2")
		mustRun(t, s, d, Options{Workers: 2})
		sameFiles(t, ref, d, resultCSVs...)
	})

	t.Run("shards", func(t *testing.T) {
		t.Parallel()
		tmp := t.TempDir()
		var shards []string
		for i := 0; i < 3; i++ {
			d := filepath.Join(tmp, fmt.Sprintf("shard-%d", i))
			if sum := mustRun(t, s, d, Options{Workers: 2, Shard: Shard{i, 3}}); sum.Runs != 6 || sum.Ran != 6 {
				t.Errorf("shard %d: %+v", i, sum)
			}
			if got, want := logIndices(filepath.Join(d, results.RunLogFile)), []int{i, i + 3, i + 6, i + 9, i + 12, i + 15}; !slices.Equal(got, want) {
				t.Errorf("shard %d/3 ran %v, want %v", i, got, want)
			}
			shards = append(shards, d)
		}
		merged := filepath.Join(tmp, "merged")
		// Shards in any order.
		sum, err := Merge(merged, []string{shards[2], shards[0], shards[1]}, false)
		if err != nil || *sum != (Summary{Runs: gridRuns}) {
			t.Fatalf("merge: %+v, %v", sum, err)
		}
		sameFiles(t, ref, merged, resultCSVs...)
		sameFiles(t, ref, merged, results.RunLogFile, results.SweepFile)
		// The merged folder is a whole sweep: resuming it does nothing.
		if sum := mustRun(t, s, merged, Options{Resume: true}); sum.Ran != 0 {
			t.Errorf("resuming the merged sweep ran %d runs", sum.Ran)
		}
		sameFiles(t, ref, merged, resultCSVs...)
	})

	// resumeFrom sets up a folder as a crash leaves it, with the reference
	// run log cut or damaged by damage, resumes it, and checks that
	// exactly the runs after the last intact record are run again. It
	// returns what the resume reported it cut off the log.
	resumeFrom := func(t *testing.T, intact int, damage func([]byte) []byte) (*LogRepair, string) {
		t.Helper()
		d := filepath.Join(t.TempDir(), "crashed")
		startedFolder(t, ref, d)
		logPath := filepath.Join(d, results.RunLogFile)
		writeFile(t, logPath, damage(bytes.Clone(refLog)))
		writeParts(t, ref, d)
		var first *Progress
		sum := mustRun(t, s, d, Options{Resume: true, Workers: 2, Progress: func(p Progress) {
			if first == nil {
				first = &p
			} else if p.Repair != nil {
				t.Errorf("progress report %d has a repair", p.Done)
			}
		}})
		if first.Done != intact || sum.Ran != gridRuns-intact {
			t.Errorf("resumed with %d runs done and ran %d; want %d and %d", first.Done, sum.Ran, intact, gridRuns-intact)
		}
		if first.Repair != sum.Repair {
			t.Errorf("the first progress report has repair %v, the summary %v", first.Repair, sum.Repair)
		}
		sameFiles(t, ref, d, resultCSVs...)
		sameFiles(t, ref, d, results.RunLogFile)
		return sum.Repair, logPath
	}
	for _, tc := range []struct {
		name   string
		intact int
		damage func([]byte) []byte
		// The repair reported: nil for none; its Path is not checked,
		// and its String must contain say (with LOG for its path).
		repair *LogRepair
		say    string
	}{
		// Cut in the middle of record 7's payload.
		{"torn record", 7, func(b []byte) []byte { return b[:(ends[6]+ends[7])/2] },
			&LogRepair{Record: 8, Offset: ends[6], Bytes: (ends[7] - ends[6]) / 2, Torn: true},
			"LOG: the last record, record 8, is cut short"},
		{"torn header", 7, func(b []byte) []byte { return b[:ends[6]+5] },
			&LogRepair{Record: 8, Offset: ends[6], Bytes: 5, Torn: true, Reason: "is cut short in its header"},
			"LOG: the last record, record 8, is cut short in its header, as a crash leaves it: dropped it (5 bytes); it will be run again"},
		{"cut between records", 12, func(b []byte) []byte { return b[:ends[11]] }, nil, ""},
		{"garbage appended", 9, func(b []byte) []byte {
			g := append(b[:ends[8]:ends[8]], "\x00\xff R 9 12 deadbeef\nnot a record"...)
			return append(g, "R 9 5 00000000\n{}\n\n\n"...)
		}, &LogRepair{Record: 10, Offset: ends[8], Bytes: 51, Reason: "has an unreadable header"},
			fmt.Sprintf("LOG: record 10 (at byte %d) has an unreadable header: dropped the log from there on (51 bytes); it will be run again", ends[8])},
		{"garbage after the last record", gridRuns, func(b []byte) []byte { return append(b, bytes.Repeat([]byte("R 1 2 3\n"), 1<<16)...) },
			&LogRepair{Record: 19, Offset: ends[17], Bytes: 8 << 16, Reason: "fails its checksum", Complete: true},
			"record 19 (at byte %d) fails its checksum: dropped the log from there on (512.0 KiB); every run is still in the log, none is lost"},
		// A header that promises more bytes than a disk holds.
		{"huge length", 4, func(b []byte) []byte { return append(b[:ends[3]:ends[3]], "R 4 9999999999 00000000\n{}"...) },
			&LogRepair{Record: 5, Offset: ends[3], Bytes: 26, Torn: true, Reason: "is cut short (2 of its 9999999999 bytes)"}, ""},
		// A flipped byte in record 5 fails its checksum: 5 and later are
		// run again.
		{"corrupt record", 5, func(b []byte) []byte { b[ends[5]-10] ^= 1; return b },
			&LogRepair{Record: 6, Offset: ends[4], Bytes: ends[17] - ends[4], After: 12, Reason: "fails its checksum"},
			fmt.Sprintf("LOG: record 6 (at byte %d) fails its checksum: dropped it and the 12 records after it (", ends[4])},
		// 14 bytes overwritten in the middle of record 3's step series.
		{"overwritten bytes", 2, func(b []byte) []byte { copy(b[(ends[1]+ends[2])/2:], "overwritten!!!"); return b },
			&LogRepair{Record: 3, Offset: ends[1], Bytes: ends[17] - ends[1], After: 15, Reason: "fails its checksum"},
			"fails its checksum: dropped it and the 15 records after it ("},
		// ... or over record 11's header: the records after it are found
		// all the same.
		{"overwritten header", 10, func(b []byte) []byte { copy(b[ends[9]+2:], "overwritten!!!"); return b },
			&LogRepair{Record: 11, Offset: ends[9], Bytes: ends[17] - ends[9], After: 7, Reason: "has an unreadable header"},
			"has an unreadable header: dropped it and the 7 records after it ("},
		// The zeros some file systems leave at the end of a file after a
		// power loss.
		{"zeros", 12, func(b []byte) []byte { return append(b[:ends[11]:ends[11]], make([]byte, 5000)...) },
			&LogRepair{Record: 13, Offset: ends[11], Bytes: 5000, Torn: true, Reason: "is 4.9 KiB of zeros"},
			"LOG: the last record, record 13, is 4.9 KiB of zeros, as a crash leaves it: dropped it (4.9 KiB); it will be run again"},
		{"empty log", 0, func(b []byte) []byte { return nil }, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, logPath := resumeFrom(t, tc.intact, tc.damage)
			switch {
			case tc.repair == nil && got != nil:
				t.Errorf("reported a repair: %v", got)
			case tc.repair == nil:
			case got == nil:
				t.Errorf("reported no repair; want %+v", tc.repair)
			default:
				if got.Path != logPath {
					t.Errorf("repair of %s, want %s", got.Path, logPath)
				}
				want := *tc.repair
				want.Path = got.Path
				if tc.name == "torn record" {
					head := int64(bytes.IndexByte(refLog[ends[6]:], '\n') + 1)
					want.Reason = fmt.Sprintf("is cut short (%d of its %d bytes)", want.Bytes-head, ends[7]-ends[6]-head)
				}
				if *got != want {
					t.Errorf("repair\n %+v\nwant\n %+v", *got, want)
				}
				say := strings.ReplaceAll(tc.say, "LOG", logPath)
				if strings.Contains(say, "%d") {
					say = fmt.Sprintf(say, ends[17])
				}
				if !strings.Contains(got.String(), say) {
					t.Errorf("repair says\n %s\nwant it to contain\n %s", got, say)
				}
			}
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		for attempt := 0; ; attempt++ {
			d := filepath.Join(t.TempDir(), "cancelled")
			done := cancelAfter(t, s, d, Options{Workers: 1}, 3)
			if done < 0 {
				if attempt < 3 {
					continue // the sweep ended before the cancel reached it
				}
				t.Fatal("the sweep always ended before it could be cancelled")
			}
			if exists(filepath.Join(d, results.RunsFile)) {
				t.Error("an interrupted sweep wrote runs.csv")
			}
			if sum := mustRun(t, s, d, Options{Resume: true, Workers: 2}); sum.Ran != gridRuns-done {
				t.Errorf("resumed after %d runs, ran %d", done, sum.Ran)
			}
			sameFiles(t, ref, d, resultCSVs...)
			return
		}
	})
}

// cancelAfter runs sweep s with a context that it cancels once the run log
// holds at least n records. It checks that Run then reports an
// interruption and returns the number of runs in the log, or -1 if the
// sweep finished first.
func cancelAfter(t *testing.T, s *configs.Sweep, dir string, opt Options, n int) int {
	t.Helper()
	logPath := filepath.Join(dir, results.RunLogFile)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if countRecords(logPath) >= n {
				cancel()
				return
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()
	_, err := Run(ctx, s, dir, opt)
	if err == nil && len(logIndices(logPath)) == s.Len() {
		return -1
	}
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("cancelled sweep: %v, want ErrInterrupted", err)
	}
	got := logIndices(logPath)
	for k, i := range got {
		if i != k {
			t.Fatalf("the log of the cancelled sweep holds runs %v", got)
		}
	}
	return len(got)
}

// TestFiles checks the columns of runs.csv and agg.csv against the sweep's
// runs and steps.csv, one confidence interval by hand, and the manifest.
func TestFiles(t *testing.T) {
	t.Parallel()
	s := load(t, gridSweep)
	d := filepath.Join(t.TempDir(), "out")
	mustRun(t, s, d, Options{})
	axes := []string{"signals.thumbs.weight", "train.learning_rate"}

	// steps.csv: run_id,step,metric,value, runs in order; its metric names
	// in order are runs.csv's metric columns.
	steps := readCSV(t, filepath.Join(d, "steps.csv"))
	if got := strings.Join(steps[0], ","); got != "run_id,step,metric,value" {
		t.Fatalf("steps.csv header %q", got)
	}
	var metrics []string
	final := map[string]map[string]string{} // run id -> metric -> last value
	for _, row := range steps[1:] {
		if row[0] == "r00" && row[1] == "0" {
			metrics = append(metrics, row[2])
		}
		if final[row[0]] == nil {
			final[row[0]] = map[string]string{}
		}
		if row[1] == "40" {
			final[row[0]][row[2]] = row[3]
		}
	}
	if len(metrics) < 10 || len(steps)-1 != gridRuns*41*len(metrics) {
		t.Fatalf("steps.csv has %d rows and %d metrics, want %d runs x 41 steps x each metric", len(steps)-1, len(metrics), gridRuns)
	}

	// After the step metrics, runs.csv holds each run's release outcome
	// (sim.Result.Outcome), under the same names for every run.
	var outcomes []string
	seen := map[string]bool{}
	for i := 0; i < gridRuns; i++ {
		cfg, err := s.Config(s.Run(i))
		if err != nil {
			t.Fatal(err)
		}
		res, err := sim.Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		names, values := res.Outcome()
		for k, n := range names {
			final[s.Run(i).ID][n] = results.FormatValue(values[k])
			if !seen[n] {
				seen[n] = true
				outcomes = append(outcomes, n)
			}
		}
	}
	if len(outcomes) == 0 {
		t.Fatal("the sweep's runs have no release outcome")
	}
	metrics = append(append([]string(nil), metrics...), outcomes...)

	runs := readCSV(t, filepath.Join(d, "runs.csv"))
	wantHead := append(append(append([]string{"run_id", "seed"}, axes...), metrics...), "status", "error")
	if got := strings.Join(runs[0], ","); got != strings.Join(wantHead, ",") {
		t.Fatalf("runs.csv header\n %s\nwant\n %s", got, strings.Join(wantHead, ","))
	}
	if len(runs)-1 != gridRuns {
		t.Fatalf("runs.csv has %d rows, want %d", len(runs)-1, gridRuns)
	}
	for i, row := range runs[1:] {
		r := s.Run(i)
		want := []string{r.ID, strconv.FormatUint(r.Seed, 10), configs.FormatParam(r.Params[0]), configs.FormatParam(r.Params[1])}
		for _, m := range metrics {
			want = append(want, final[r.ID][m])
		}
		want = append(want, "ok", "")
		if strings.Join(row, ",") != strings.Join(want, ",") {
			t.Errorf("runs.csv row %d\n %v\nwant\n %v", i, row, want)
		}
	}
	if runs[4][2] != "0.5" || runs[4][3] != "0.04" {
		t.Errorf("run r03 has %s = %s, %s = %s; want 0.5, 0.04", axes[0], runs[4][2], axes[1], runs[4][3])
	}

	// agg.csv: per point and metric, in run order.
	agg := readCSV(t, filepath.Join(d, "agg.csv"))
	if got := strings.Join(agg[0], ","); got != strings.Join(axes, ",")+",metric,n,mean,sd,ci_low,ci_high" {
		t.Fatalf("agg.csv header %q", got)
	}
	if len(agg)-1 != s.Points()*len(metrics) {
		t.Fatalf("agg.csv has %d rows, want %d points x %d metrics", len(agg)-1, s.Points(), len(metrics))
	}
	for k, row := range agg[1:] {
		p, m := k/len(metrics), metrics[k%len(metrics)]
		r := s.Run(p * len(s.Seeds))
		if row[0] != configs.FormatParam(r.Params[0]) || row[1] != configs.FormatParam(r.Params[1]) || row[2] != m || row[3] != "3" {
			t.Errorf("agg.csv row %d: %v, want point %s metric %s n 3", k, row, s.Describe(r), m)
		}
	}
	// By hand, point 4 (thumbs weight 2, learning rate 0.04), seeds in
	// rows 12, 13, 14 of runs.csv.
	tq := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: 2}.Quantile(0.975)
	if math.Abs(tq-4.302652729911275) > 1e-9 {
		t.Fatalf("t quantile %v, want 4.3027 (two-sided 95%%, 2 degrees of freedom)", tq)
	}
	for mi, m := range metrics {
		var xs []float64
		for _, row := range runs[13:16] {
			xs = append(xs, parseFloat(t, row[4+mi]))
		}
		mean := (xs[0] + xs[1] + xs[2]) / 3
		sd := math.Sqrt(((xs[0]-mean)*(xs[0]-mean) + (xs[1]-mean)*(xs[1]-mean) + (xs[2]-mean)*(xs[2]-mean)) / 2)
		half := tq * sd / math.Sqrt(3)
		row := agg[1+4*len(metrics)+mi]
		if row[0] != "2.0" || row[1] != "0.04" || row[2] != m {
			t.Fatalf("agg.csv row for point 4, %s: %v", m, row)
		}
		for j, want := range []float64{mean, sd, mean - half, mean + half} {
			got := parseFloat(t, row[4+j])
			if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
				t.Errorf("agg.csv %s of %s at point 4: %v, want %v", agg[0][4+j], m, got, want)
			}
		}
	}

	// manifest.json describes the sweep.
	man, err := ReadManifest(d)
	if err != nil {
		t.Fatal(err)
	}
	if man.Tool != "rewardmix" || man.Version != sim.Version || man.SweepHash != s.Hash() || man.Runs != gridRuns ||
		man.Points != 6 || man.Mode != "grid" || fmt.Sprint(man.Seeds) != "[1 2 3]" ||
		man.Shard != (ShardInfo{Index: 0, Count: 1, Runs: gridRuns}) || man.BaseConfig != string(configs.Encode(s.Base)) ||
		len(man.Axes) != 2 || man.Axes[1].Key != axes[1] || fmt.Sprint(man.Axes[1].Values) != "[0.02 0.04 0.06]" {
		t.Errorf("manifest.json: %+v", man)
	}
	// sweep.toml is the resolved sweep.
	s2, err := configs.LoadSweep("sweep.toml", readFile(t, filepath.Join(d, results.SweepFile)), nil, configs.DefaultMaxRuns)
	if err != nil || s2.Hash() != s.Hash() {
		t.Errorf("sweep.toml does not load to the same sweep: %v", err)
	}
}

// TestRefusals: a sweep folder is resumed only when asked, only for the
// same sweep, and foreign folders are never touched.
func TestRefusals(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	const small = sweepHead + `
[sweep]
[[sweep.axis]]
key = "signals.thumbs.weight"
values = [0.5, 2.0]
`
	s, changed := load(t, small), load(t, strings.Replace(small, "[0.5, 2.0]", "[0.5, 3.0]", 1))
	d := filepath.Join(tmp, "out")
	mustRun(t, s, d, Options{})
	finished := snapshot(t, d)

	refuse := func(what, want string, s *configs.Sweep, dir string, opt Options) {
		t.Helper()
		_, err := Run(t.Context(), s, dir, opt)
		var re *results.Error
		if !errors.As(err, &re) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want a *results.Error saying %q", what, err, want)
		}
	}
	refuse("again without resume", "--resume", s, d, Options{})
	sameSnapshot(t, "refused rerun", snapshot(t, d), finished)
	refuse("changed sweep with resume", "--force", changed, d, Options{Resume: true})
	refuse("changed sweep", "different sweep", changed, d, Options{})
	refuse("another shard", "different sweep", s, d, Options{Resume: true, Shard: Shard{1, 2}})
	sameSnapshot(t, "refused resume of a changed sweep", snapshot(t, d), finished)

	// A finished sweep resumed does nothing and changes nothing.
	if sum := mustRun(t, s, d, Options{Resume: true}); *sum != (Summary{Runs: 2}) {
		t.Errorf("resuming a finished sweep: %+v", sum)
	}
	sameSnapshot(t, "resumed finished sweep", snapshot(t, d), finished)

	// Force starts over with the new sweep.
	if sum := mustRun(t, changed, d, Options{Force: true}); *sum != (Summary{Runs: 2, Ran: 2}) {
		t.Errorf("force: %+v", sum)
	}
	fresh := filepath.Join(tmp, "fresh")
	mustRun(t, changed, fresh, Options{})
	sameFiles(t, fresh, d, append(resultCSVs, results.RunLogFile, results.SweepFile)...)

	// Folders that do not hold a sweep.
	foreign := filepath.Join(tmp, "foreign")
	writeFile(t, filepath.Join(foreign, "notes.txt"), []byte("mine\n"))
	writeFile(t, filepath.Join(foreign, "runs.csv"), []byte("mine too\n"))
	before := snapshot(t, foreign)
	refuse("foreign folder", "does not hold a rewardmix sweep", s, foreign, Options{})
	refuse("foreign folder, resume", "does not hold a rewardmix sweep", s, foreign, Options{Resume: true})
	refuse("foreign folder, force", "does not hold a rewardmix sweep", s, foreign, Options{Force: true})
	sameSnapshot(t, "foreign folder", snapshot(t, foreign), before)
	notDir := filepath.Join(tmp, "file")
	writeFile(t, notDir, []byte("x"))
	refuse("a file as the folder", "not a folder", s, notDir, Options{})
	if string(readFile(t, notDir)) != "x" {
		t.Error("the file given as the output folder changed")
	}
	// An empty folder is fine.
	empty := filepath.Join(tmp, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	mustRun(t, s, empty, Options{})
}

// divergeSweep's second point diverges: absolute weights of 1e200.
var divergeSweep = strings.Replace(sweepHead, "update_step = 20\n", "update_step = 20\nweights = \"absolute\"\n", 1) + `
[sweep]
seeds = [1, 2]

[[sweep.axis]]
key = "signals.spec.weight"
values = [1.0, 1e200, 2.0]
`

// TestFailedRuns: a run that diverges is recorded as failed, the others
// complete, and the summary says so; FailFast stops at it.
func TestFailedRuns(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	s := load(t, divergeSweep)

	// First, the point on its own diverges.
	cfg, err := s.Config(s.Run(2))
	if err != nil {
		t.Fatal(err)
	}
	_, err = sim.Run(t.Context(), cfg)
	var de *sim.DivergedError
	if !errors.As(err, &de) {
		t.Fatalf("run of the diverging point: %v, want a *sim.DivergedError", err)
	}

	d := filepath.Join(tmp, "out")
	var failed []string
	sum := mustRun(t, s, d, Options{Workers: 2, Progress: func(p Progress) {
		if p.Run != nil && p.Run.Status != "ok" {
			failed = append(failed, p.Run.ID+": "+p.Run.Error)
		}
	}})
	if *sum != (Summary{Runs: 6, Ran: 6, Failed: 2}) {
		t.Errorf("summary %+v", sum)
	}
	if want := []string{"r2: " + de.Error(), "r3: " + de.Error()}; !slices.Equal(failed, want) {
		t.Errorf("progress reported failures %q, want %q", failed, want)
	}
	runs := readCSV(t, filepath.Join(d, "runs.csv"))
	for i, row := range runs[1:] {
		status, msg := row[len(row)-2], row[len(row)-1]
		isFailed := i == 2 || i == 3
		switch {
		case isFailed && (status != "failed" || msg != de.Error()):
			t.Errorf("run %d: status %q, error %q; want failed, %q", i, status, msg, de.Error())
		case isFailed && strings.Join(row[3:len(row)-2], "") != "":
			t.Errorf("run %d failed but has metric values %v", i, row[3:len(row)-2])
		case !isFailed && (status != "ok" || msg != "" || row[3] == ""):
			t.Errorf("run %d: status %q, error %q, first metric %q; want ok", i, status, msg, row[3])
		}
	}
	// agg.csv has no rows for the failed point; steps.csv no rows of its runs.
	for _, row := range readCSV(t, filepath.Join(d, "agg.csv"))[1:] {
		if row[0] == "1e+200" {
			t.Errorf("agg.csv aggregates failed runs: %v", row)
			break
		}
		if row[2] != "2" {
			t.Errorf("agg.csv row %v: n is not 2", row)
			break
		}
	}
	if steps := string(readFile(t, filepath.Join(d, "steps.csv"))); strings.Contains(steps, "\nr2,") || strings.Contains(steps, "\nr3,") {
		t.Error("steps.csv holds rows of failed runs")
	}
	// Resuming does not retry them.
	if sum := mustRun(t, s, d, Options{Resume: true}); *sum != (Summary{Runs: 6, Failed: 2}) {
		t.Errorf("resume of a sweep with failed runs: %+v", sum)
	}

	// FailFast stops at run 2, the first failure, and resuming goes on.
	ff := filepath.Join(tmp, "ff")
	if _, err := Run(t.Context(), s, ff, Options{Workers: 2, FailFast: true}); !errors.Is(err, ErrFailFast) {
		t.Errorf("FailFast: %v, want ErrFailFast", err)
	}
	// Run 2 has no series, so it closes no part (of one run here): it is
	// in the part the stop cut short, and run again on resume.
	if got := logIndices(filepath.Join(ff, results.RunLogFile)); fmt.Sprint(got) != "[0 1]" {
		t.Errorf("FailFast left runs %v in the log, want [0 1]", got)
	}
	if exists(filepath.Join(ff, "runs.csv")) {
		t.Error("FailFast wrote runs.csv")
	}
	if sum := mustRun(t, s, ff, Options{Resume: true}); *sum != (Summary{Runs: 6, Ran: 4, Failed: 2}) {
		t.Errorf("resume after FailFast: %+v", sum)
	}
	sameFiles(t, d, ff, resultCSVs...)
}

// TestMergeRefusals: Merge needs every shard of one sweep, once, complete.
func TestMergeRefusals(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	const small = sweepHead + `
[sweep]
seeds = [1, 2]
[[sweep.axis]]
key = "signals.thumbs.weight"
values = [0.5, 1.0, 2.0]
`
	a, b := load(t, small), load(t, strings.Replace(small, "seeds = [1, 2]", "seeds = [1, 3]", 1))
	shardsOf := func(s *configs.Sweep, base string, n int) []string {
		var dirs []string
		for i := 0; i < n; i++ {
			d := filepath.Join(tmp, fmt.Sprintf("%s-shard-%d", base, i))
			mustRun(t, s, d, Options{Shard: Shard{i, n}})
			dirs = append(dirs, d)
		}
		return dirs
	}
	sa, sb, s2 := shardsOf(a, "a", 3), shardsOf(b, "b", 3), shardsOf(a, "a2", 2)
	// An incomplete shard: a copy of shard 1 whose log lost its last run.
	inc := filepath.Join(tmp, "incomplete")
	startedFolder(t, sa[1], inc)
	ends, _ := logEnds(t, filepath.Join(sa[1], results.RunLogFile))
	writeFile(t, filepath.Join(inc, results.RunLogFile), readFile(t, filepath.Join(sa[1], results.RunLogFile))[:ends[0]])
	out := filepath.Join(tmp, "merged")
	for _, tc := range []struct {
		name   string
		shards []string
		msg    string
	}{
		{"missing shard", []string{sa[0], sa[2]}, "shard 1/3 is missing"},
		{"duplicate shard", []string{sa[0], sa[1], sa[1], sa[2]}, "are both shard 1/3"},
		{"different sweeps", []string{sa[0], sb[1], sa[2]}, "holds a different sweep"},
		{"different splits", []string{sa[0], s2[1], sa[2]}, "is shard 1/2"},
		{"incomplete shard", []string{sa[0], inc, sa[2]}, "is incomplete: 1 of its 2 runs"},
		{"not a sweep folder", []string{sa[0], tmp, sa[1], sa[2]}, "is not a sweep folder"},
		{"no shards", nil, "no shard folders"},
	} {
		_, err := Merge(out, tc.shards, false)
		var re *results.Error
		if !errors.As(err, &re) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v; want a *results.Error saying %q", tc.name, err, tc.msg)
		}
		if exists(out) {
			t.Fatalf("%s: merge wrote %s", tc.name, out)
		}
	}
	// Merging into a shard, even with force, would destroy it.
	before := snapshot(t, sa[0])
	for _, force := range []bool{false, true} {
		if _, err := Merge(sa[0]+"/", sa, force); err == nil || !strings.Contains(err.Error(), "is one of the shards") {
			t.Errorf("merge (force %v) into shard 0: %v", force, err)
		}
	}
	sameSnapshot(t, "shard 0 after a merge into it", snapshot(t, sa[0]), before)

	// A good merge, then not again over it without force.
	if _, err := Merge(out, sa, false); err != nil {
		t.Fatal(err)
	}
	merged := snapshot(t, out)
	if _, err := Merge(out, sa, false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("merge over a merged folder: %v", err)
	}
	sameSnapshot(t, "refused merge", snapshot(t, out), merged)
	if _, err := Merge(out, s2, true); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, out, s2[0], results.SweepFile)
	whole := filepath.Join(tmp, "whole")
	mustRun(t, a, whole, Options{})
	sameFiles(t, whole, out, resultCSVs...)
}

func TestShardFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want Shard // Count 0: an error
		ok   bool
	}{
		{name: "nothing", want: Shard{0, 1}},
		{name: "slurm", env: map[string]string{"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "8"}, want: Shard{5, 8}, ok: true},
		{name: "slurm from 0", env: map[string]string{"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "8", "SLURM_ARRAY_TASK_MIN": "0"}, want: Shard{0, 8}, ok: true},
		{name: "slurm from 1, first", env: map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"}, want: Shard{0, 4}, ok: true},
		{name: "slurm from 1, last", env: map[string]string{"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"}, want: Shard{3, 4}, ok: true},
		{name: "slurm past the end", env: map[string]string{"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"}, ok: true},
		{name: "slurm from 1 without min", env: map[string]string{"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4"}, ok: true},
		{name: "slurm without count", env: map[string]string{"SLURM_ARRAY_TASK_ID": "1"}, ok: true},
		{name: "slurm bad id", env: map[string]string{"SLURM_ARRAY_TASK_ID": "one", "SLURM_ARRAY_TASK_COUNT": "4"}, ok: true},
		{name: "slurm bad min", env: map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "x"}, want: Shard{1, 4}, ok: true},
		{name: "slurm count 0", env: map[string]string{"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "0"}, ok: true},
		{name: "slurm before k8s", env: map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2", "JOB_COMPLETION_INDEX": "0", "JOB_COMPLETIONS": "3"}, want: Shard{1, 2}, ok: true},
		{name: "k8s", env: map[string]string{"JOB_COMPLETION_INDEX": "2", "JOB_COMPLETIONS": "3"}, want: Shard{2, 3}, ok: true},
		{name: "k8s first", env: map[string]string{"JOB_COMPLETION_INDEX": "0", "JOB_COMPLETIONS": "1"}, want: Shard{0, 1}, ok: true},
		{name: "k8s without completions", env: map[string]string{"JOB_COMPLETION_INDEX": "2"}, ok: true},
		{name: "k8s index = completions", env: map[string]string{"JOB_COMPLETION_INDEX": "3", "JOB_COMPLETIONS": "3"}, ok: true},
		{name: "k8s bad completions", env: map[string]string{"JOB_COMPLETION_INDEX": "0", "JOB_COMPLETIONS": "many"}, ok: true},
	}
	for _, tc := range tests {
		got, ok, err := ShardFromEnv(func(k string) string { return tc.env[k] })
		if ok != tc.ok {
			t.Errorf("%s: ok %v, want %v", tc.name, ok, tc.ok)
		}
		if tc.want.Count == 0 {
			if err == nil {
				t.Errorf("%s: got %+v, want an error", tc.name, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestParseShard(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v    string
		want Shard // Count 0: an error
	}{
		{"3/16", Shard{3, 16}}, {" 1 / 2 ", Shard{1, 2}}, {"0/1", Shard{0, 1}},
		{"16/16", Shard{}}, {"-1/4", Shard{}}, {"0/0", Shard{}}, {"3", Shard{}}, {"a/4", Shard{}}, {"", Shard{}},
	} {
		got, err := ParseShard(tc.v)
		if (err != nil) != (tc.want.Count == 0) || (err == nil && got != tc.want) {
			t.Errorf("ParseShard(%q) = %+v, %v; want %+v", tc.v, got, err, tc.want)
		}
	}
	if got := (Shard{2, 5}).Indices(18); fmt.Sprint(got) != "[2 7 12 17]" {
		t.Errorf("shard 2/5 of 18 runs: %v", got)
	}
	if got := (Shard{}).Indices(3); fmt.Sprint(got) != "[0 1 2]" {
		t.Errorf("the zero shard of 3 runs: %v", got)
	}
}
