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

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim/results"
)

// The files of a boundary search's folder: its definition, its result,
// and one ordinary sweep folder per round of probes (round-0, round-1, ...).
const (
	BoundarySpecFile = "boundary.toml"
	BoundaryFile     = "boundary.csv"
)

// BoundaryRow is one point's search: the other axes' values, the bracket
// [Low, High] that holds the crossing (to the search's tolerance, unless
// Status says otherwise), the crossing interpolated linearly in it, and
// the runs it took.
type BoundaryRow struct {
	Point               int
	Params              []string // the other axes' values, in axis order
	Crossing, Low, High float64  // NaN without a crossing
	AtLow, AtHigh       float64  // the metric's mean at Low and High
	Runs                int
	Status              string // "ok", or why there is no crossing
}

// point is one search's state.
type point struct {
	lo, hi, flo, fhi float64
	probes           int
	status           string // "" while open
}

// Boundary runs a boundary search (configs mode "boundary") into dir. For
// each point of its other axes, the metric's mean final value over the
// seeds is probed at both ends of the bracket (round 0); if it is on the
// same side of the level at both, the point has no crossing in the
// bracket and says so. Otherwise each later round probes the midpoint of
// every open bracket and keeps the half whose ends straddle the level,
// until the bracket is no wider than the tolerance: ceil(log2(width /
// tolerance)) rounds. Each round is an ordinary sweep of its probes, run
// on opt.Workers into dir/round-K: a crash loses at most a round's
// unfinished runs, and since a round's probes follow from the rounds
// before, opt.Resume repeats the same probes and picks up where it
// stopped. opt.Shard takes the points i, i+n, ... and searches them to the
// end; MergeBoundary joins the shards' tables. It writes BoundaryFile and
// returns its rows.
//
// Boundary holds dir as Run does (a *BusyError if another holds it), and
// each round's Run holds its round folder. opt.Progress, if set, is called
// only with the first report of a resumed round whose run log was
// repaired (Progress.Repair set).
func Boundary(ctx context.Context, s *configs.Sweep, dir string, opt Options) ([]BoundaryRow, error) {
	if s.Mode != configs.ModeBoundary {
		panic("sweep: Boundary of a sweep that is not a boundary search")
	}
	sh := opt.Shard.normal()
	spec := append(configs.EncodeSweep(s), fmt.Sprintf("# shard %d/%d\n", sh.Index, sh.Count)...)
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer lock.unlock()
	if err := prepareBoundaryDir(dir, spec, opt.Resume, opt.Force); err != nil {
		return nil, err
	}
	pts := sh.Indices(s.Points())
	ax := s.Axes[s.Search]
	state := make([]point, len(pts))
	for k := range state {
		state[k] = point{lo: ax.Lo, hi: ax.Hi}
	}
	roundOpt := Options{Workers: opt.Workers, FailFast: opt.FailFast}
	if opt.Progress != nil {
		roundOpt.Progress = func(p Progress) {
			if p.Repair != nil {
				opt.Progress(p)
			}
		}
	}
	for round := 0; ; round++ {
		var probePts []int
		var xs []float64
		var owner []int
		for k, st := range state {
			switch {
			case round == 0:
				probePts, xs, owner = append(probePts, pts[k], pts[k]), append(xs, st.lo, st.hi), append(owner, k, k)
			case st.status == "":
				probePts, xs, owner = append(probePts, pts[k]), append(xs, (st.lo+st.hi)/2), append(owner, k)
			}
		}
		if len(probePts) == 0 {
			break
		}
		means, err := runRound(ctx, s.Probes(probePts, xs), filepath.Join(dir, fmt.Sprintf("round-%d", round)), s.Metric, roundOpt)
		if err != nil {
			return nil, err
		}
		for p, k := range owner {
			st := &state[k]
			st.probes++
			f := means[p]
			if math.IsNaN(f) {
				st.status = fmt.Sprintf("every run at %s = %s failed", ax.Key, configs.FormatParam(xs[p]))
				continue
			}
			if round == 0 {
				if xs[p] == st.lo {
					st.flo = f
				} else {
					st.fhi = f
				}
				continue
			}
			if st.status != "" {
				continue
			}
			if side(f, s.Level) == side(st.flo, s.Level) {
				st.lo, st.flo = xs[p], f
			} else {
				st.hi, st.fhi = xs[p], f
			}
		}
		for k := range state {
			st := &state[k]
			if st.status != "" {
				continue
			}
			switch {
			case round == 0 && side(st.flo, s.Level) == side(st.fhi, s.Level):
				st.status = fmt.Sprintf("no crossing in the bracket: %s is %s at %s = %s and %s at %s", s.Metric,
					fmtValue(st.flo), ax.Key, configs.FormatParam(st.lo), fmtValue(st.fhi), configs.FormatParam(st.hi))
			case st.hi-st.lo <= s.Tolerance:
				st.status = "ok"
			}
		}
	}
	rows := make([]BoundaryRow, len(pts))
	for k, p := range pts {
		st := state[k]
		r := BoundaryRow{Point: p, Low: math.NaN(), High: math.NaN(), Crossing: math.NaN(), AtLow: st.flo, AtHigh: st.fhi,
			Runs: st.probes * len(s.Seeds), Status: st.status}
		for i, v := range s.SearchPoint(p) {
			if i != s.Search {
				r.Params = append(r.Params, configs.FormatParam(v))
			}
		}
		if st.status == "ok" {
			r.Low, r.High = st.lo, st.hi
			r.Crossing = st.lo + (s.Level-st.flo)/(st.fhi-st.flo)*(st.hi-st.lo)
		}
		rows[k] = r
	}
	if err := results.WriteFile(filepath.Join(dir, BoundaryFile), BoundaryTable(s, rows)); err != nil {
		return nil, err
	}
	return rows, nil
}

// side says which side of level a value is on: true for at or above.
func side(f, level float64) bool { return f >= level }

func fmtValue(f float64) string { return strconv.FormatFloat(f, 'g', 4, 64) }

// runRound runs (or, in a finished round folder, reads) a round's probes
// and returns the metric's mean over the seeds at each, NaN where every
// run failed.
func runRound(ctx context.Context, probes *configs.Sweep, dir, metric string, opt Options) ([]float64, error) {
	if _, err := results.Open(dir); err != nil {
		_, merr := ReadManifest(dir)
		opt.Resume = merr == nil // an unfinished round: go on with it
		if _, err := Run(ctx, probes, dir, opt); err != nil {
			return nil, err
		}
	}
	src, err := results.Open(dir)
	if err != nil {
		return nil, err
	}
	mean, err := results.PointMeans(src, metric)
	if err != nil {
		return nil, err
	}
	out := make([]float64, probes.Points())
	for p := range out {
		v, ok := mean(probes.Run(p * len(probes.Seeds)).Params)
		if !ok {
			v = math.NaN()
		}
		out[p] = v
	}
	return out, nil
}

// boundaryFiles are the files of a boundary folder besides its rounds.
var boundaryFiles = []string{BoundarySpecFile, BoundaryFile, "boundary.png"}

// prepareBoundaryDir makes dir, which the caller holds (lockDir), ready
// for a boundary search whose definition is spec: new (or empty), or
// holding the same search to go on with (resume), or any boundary search
// to start over (force). The lock file and the temporary files a killed
// search left do not count, and the latter are removed.
func prepareBoundaryDir(dir string, spec []byte, resume, force bool) error {
	ents, err := os.ReadDir(dir)
	ents = slices.DeleteFunc(ents, func(e os.DirEntry) bool { return isOurs(e.Name(), boundaryFiles) })
	if errors.Is(err, os.ErrNotExist) || err == nil && len(ents) == 0 {
		if err == nil {
			if err := removeTemps(dir, boundaryFiles); err != nil {
				return err
			}
		}
		return results.WriteFile(filepath.Join(dir, BoundarySpecFile), spec)
	}
	if err != nil {
		return results.Errorf("output folder %s: %v", dir, err)
	}
	old, err := os.ReadFile(filepath.Join(dir, BoundarySpecFile))
	switch {
	case err != nil:
		return results.Errorf("output folder %s exists and does not hold a rewardmix boundary search; choose another folder with -o", dir)
	case force:
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "round-") || e.Name() == BoundaryFile {
				if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
					return err
				}
			}
		}
		if err := removeTemps(dir, boundaryFiles); err != nil {
			return err
		}
		return results.WriteFile(filepath.Join(dir, BoundarySpecFile), spec)
	case !bytes.Equal(old, spec):
		return results.Errorf("output folder %s holds a different boundary search (or shard): resuming it would mix results; use --force to discard it, or choose another folder", dir)
	case !resume:
		return results.Errorf("output folder %s already holds this boundary search; continue it with --resume or start over with --force", dir)
	}
	return removeTemps(dir, boundaryFiles)
}

// BoundaryTable writes rows as boundary.csv: the other axes (named by
// their keys), the crossing and its bracket (named by the search key:
// KEY, KEY_low, KEY_high), the metric's mean at the bracket's ends, the
// runs used and the status, one row per point in point order.
func BoundaryTable(s *configs.Sweep, rows []BoundaryRow) []byte {
	var b strings.Builder
	var head []string
	for i, ax := range s.Axes {
		if i != s.Search {
			head = append(head, ax.Key)
		}
	}
	k := s.Axes[s.Search].Key
	m := s.Metric
	head = append(head, k, k+"_low", k+"_high", m+"_at_low", m+"_at_high", "runs", "status")
	b.WriteString(csvLine(head))
	num := func(f float64) string {
		if math.IsNaN(f) {
			return ""
		}
		return results.FormatValue(f)
	}
	for _, r := range rows {
		rec := append(slices.Clone(r.Params), num(r.Crossing), num(r.Low), num(r.High), num(r.AtLow), num(r.AtHigh), strconv.Itoa(r.Runs), r.Status)
		b.WriteString(csvLine(rec))
	}
	return []byte(b.String())
}

// csvLine joins fields as one CSV line, quoting those that need it.
func csvLine(fields []string) string {
	out := make([]string, len(fields))
	for i, f := range fields {
		if strings.ContainsAny(f, ",\"\n") {
			f = `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
		}
		out[i] = f
	}
	return strings.Join(out, ",") + "\n"
}

// MergeBoundary joins the folders of a sharded boundary search (every
// shard 0..n-1 once, each finished) into out: its definition and one
// boundary.csv with every point's row, in point order, as the search run
// unsharded writes it. The shards' round folders stay where they are. It
// holds out as Boundary does.
func MergeBoundary(out string, dirs []string, force bool) error {
	type shard struct {
		index, count int
		rows         []string
	}
	var spec []byte
	var head string
	shards := map[int]shard{}
	count := -1
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, BoundarySpecFile))
		if err != nil {
			return results.Errorf("%s does not hold a boundary search (no %s)", d, BoundarySpecFile)
		}
		body, line, ok := cutShardLine(b)
		var sh shard
		if !ok {
			return results.Errorf("%s: %s has no shard line", d, BoundarySpecFile)
		}
		if _, err := fmt.Sscanf(line, "# shard %d/%d", &sh.index, &sh.count); err != nil {
			return results.Errorf("%s: %s: shard line %q", d, BoundarySpecFile, line)
		}
		switch {
		case spec == nil:
			spec, count = body, sh.count
		case !bytes.Equal(body, spec) || sh.count != count:
			return results.Errorf("%s holds a different boundary search (or shard count) from %s", d, dirs[0])
		}
		if _, dup := shards[sh.index]; dup {
			return results.Errorf("shard %d/%d is given twice", sh.index, count)
		}
		table, err := os.ReadFile(filepath.Join(d, BoundaryFile))
		if err != nil {
			return results.Errorf("%s: shard %d/%d is not finished (no %s); finish it with --resume", d, sh.index, count, BoundaryFile)
		}
		lines := strings.SplitAfter(string(table), "\n")
		head = lines[0]
		for _, l := range lines[1:] {
			if l != "" {
				sh.rows = append(sh.rows, l)
			}
		}
		shards[sh.index] = sh
	}
	for i := 0; i < count; i++ {
		if _, ok := shards[i]; !ok {
			return results.Errorf("shard %d/%d is missing", i, count)
		}
	}
	var b strings.Builder
	b.WriteString(head)
	for r := 0; ; r++ { // point p is row p/count of shard p%count
		sh, ok := shards[r%count]
		if !ok || r/count >= len(sh.rows) {
			break
		}
		b.WriteString(sh.rows[r/count])
	}
	lock, err := lockDir(out)
	if err != nil {
		return err
	}
	defer lock.unlock()
	if err := prepareBoundaryDir(out, append(spec, "# shard 0/1\n"...), false, force); err != nil {
		return err
	}
	return results.WriteFile(filepath.Join(out, BoundaryFile), []byte(b.String()))
}

// cutShardLine splits a boundary.toml into its definition and its last
// line, the shard's.
func cutShardLine(b []byte) (body []byte, line string, ok bool) {
	t := bytes.TrimSuffix(b, []byte("\n"))
	i := bytes.LastIndexByte(t, '\n')
	if i < 0 {
		return nil, "", false
	}
	return b[:i+1], string(t[i+1:]), strings.HasPrefix(string(t[i+1:]), "# shard ")
}
