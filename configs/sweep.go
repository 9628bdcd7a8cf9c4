package configs

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/rewardmix/rewardmix/reward"
	"github.com/rewardmix/rewardmix/sim"
)

// SweepMode is how a sweep makes its parameter points from its axes.
type SweepMode string

// The sweep modes.
const (
	ModeGrid   SweepMode = "grid"   // the cartesian product of the axes
	ModeZip    SweepMode = "zip"    // the i-th value of every axis together
	ModeRandom SweepMode = "random" // samples points drawn from the axes' distributions
	// ModeSobol is a Saltelli design for Sobol sensitivity indices: samples
	// blocks of len(axes)+2 points (A, B, and A with each axis taken from
	// B) from a scrambled Sobol sequence over the axes' ranges.
	ModeSobol SweepMode = "sobol"
	// ModeBoundary searches, for each point of the other axes (a grid),
	// the value of one axis (given by its bracket) at which a final metric
	// crosses a level, by bisection; sim/sweep.Boundary runs it.
	ModeBoundary SweepMode = "boundary"
)

// SweepModes lists the accepted modes.
var SweepModes = []SweepMode{ModeGrid, ModeZip, ModeRandom, ModeSobol, ModeBoundary}

// DefaultMaxRuns bounds the size of a sweep unless the caller says otherwise.
const DefaultMaxRuns = 1_000_000

// Sweep is a config file with a [sweep] table: a base config and the runs
// that vary it. Runs are numbered in a fixed order (parameter points in
// axis order, the replicate seeds innermost), so that shards, workers and
// resumes agree on what run i is.
type Sweep struct {
	Base    *sim.Config
	Mode    SweepMode
	Seeds   []uint64 // replicate seeds; each run's own seed derives from one of them and its parameters
	Samples int      // points drawn in random mode
	Seed    uint64   // seeds the random mode's draws
	Axes    []Axis
	// A boundary search: the final metric whose crossing of Level it looks
	// for, to within Tolerance along the axis Search (whose bracket is
	// Axes[Search].Lo, Hi).
	Metric           string
	Level, Tolerance float64
	Search           int

	points [][]any // parameter points, each aligned with Axes
	checks int     // configs validated to check the runs (see validWith)
}

// Axis is one swept key and its values (for random mode, its distribution).
type Axis struct {
	Key string
	// Values holds the axis's values as TOML values (float64, int64, bool
	// or string); nil for a random-mode distribution.
	Values []any
	// Dist is "uniform" or "loguniform" with its bounds Lo, Hi (random
	// and sobol modes), or "bracket" (boundary mode's search axis).
	Dist   string
	Lo, Hi float64
	kind   reflect.Kind
}

// Run is one run of a sweep.
type Run struct {
	Index  int    // position in the sweep's run order
	ID     string // "r" + zero-padded index
	Seed   uint64 // the run's own seed
	Params []any  // one value per axis
}

// LoadSweep parses a sweep file: a normal config (with extends and
// overrides) plus a [sweep] table. Every run's config is valid in a sweep
// it returns (a boundary search's at both ends of its bracket), so that a
// sweep that loads runs without config errors; otherwise the error is the
// first invalid run's, in run order. It checks this without building each
// run's config, from the axes' values (see sweepcheck.go), in about the
// time of one config per distinct value of each axis for axes whose keys
// are checked independently of each other. It refuses more than maxRuns
// runs.
func LoadSweep(name string, data []byte, resolve Resolver, maxRuns int) (*Sweep, error) {
	return loadSweep(name, data, resolve, maxRuns, false)
}

// loadSweep is LoadSweep; everyRun validates every run's config in turn
// instead (for the tests, which compare).
func loadSweep(name string, data []byte, resolve Resolver, maxRuns int, everyRun bool) (*Sweep, error) {
	src, err := parseSource(name, data)
	if err != nil {
		return nil, err
	}
	rawSweep, ok := src.raw["sweep"]
	if !ok {
		return nil, &Error{File: name, Key: "sweep", Msg: "no [sweep] table: this is a single run (use `rewardmix run`)"}
	}
	base, err := loadSource(src, resolve, nil)
	if err != nil {
		return nil, err
	}
	tbl, ok := rawSweep.(map[string]any)
	if !ok {
		return nil, src.fail(typeErr("sweep", rawSweep, "a table"))
	}
	s := &Sweep{Base: base}
	if err := s.parse(tbl, maxRuns); err != nil {
		return nil, src.fail(err)
	}
	if err := s.validateRuns(everyRun); err != nil {
		return nil, src.fail(err)
	}
	return s, nil
}

func (s *Sweep) parse(tbl map[string]any, maxRuns int) error {
	fe := func(key, format string, a ...any) error {
		return &sim.FieldError{Key: key, Msg: fmt.Sprintf(format, a...)}
	}
	allowed := map[string]bool{"mode": true, "seeds": true, "replicates": true, "samples": true, "seed": true, "axis": true,
		"metric": true, "level": true, "tolerance": true}
	for _, k := range sim.Names(tbl) {
		if !allowed[k] {
			return fe("sweep."+k, "unknown key (the keys of [sweep]: axis, level, metric, mode, replicates, samples, seed, seeds, tolerance)")
		}
	}
	s.Mode = ModeGrid
	if v, ok := tbl["mode"]; ok {
		m, ok := v.(string)
		if !ok {
			return typeErr("sweep.mode", v, "a string")
		}
		if err := sim.OneOf("sweep.mode", SweepMode(m), SweepModes); err != nil {
			return err
		}
		s.Mode = SweepMode(m)
	}
	s.Seed = s.Base.Seed
	if v, ok := tbl["seed"]; ok {
		n, ok := v.(int64)
		if !ok || n < 0 {
			return fe("sweep.seed", "want an integer >= 0")
		}
		s.Seed = uint64(n)
	}
	_, hasSeeds := tbl["seeds"]
	_, hasReps := tbl["replicates"]
	switch {
	case hasSeeds && hasReps:
		return fe("sweep.replicates", "give seeds or replicates, not both")
	case hasSeeds:
		arr, ok := tbl["seeds"].([]any)
		if !ok || len(arr) == 0 {
			return fe("sweep.seeds", "want a non-empty array of integers >= 0")
		}
		seen := map[int64]bool{}
		for i, v := range arr {
			n, ok := v.(int64)
			if !ok || n < 0 {
				return fe(fmt.Sprintf("sweep.seeds[%d]", i), "want an integer >= 0")
			}
			if seen[n] {
				return fe(fmt.Sprintf("sweep.seeds[%d]", i), "seed %d appears twice", n)
			}
			seen[n] = true
			s.Seeds = append(s.Seeds, uint64(n))
		}
	case hasReps:
		n, ok := tbl["replicates"].(int64)
		if !ok || n < 1 || n > int64(maxRuns) {
			return fe("sweep.replicates", "want an integer from 1 to %d", maxRuns)
		}
		for i := int64(1); i <= n; i++ {
			s.Seeds = append(s.Seeds, uint64(i))
		}
	default:
		s.Seeds = []uint64{s.Base.Seed}
	}
	sampled := s.Mode == ModeRandom || s.Mode == ModeSobol
	if v, ok := tbl["samples"]; ok {
		n, ok := v.(int64)
		if !sampled {
			return fe("sweep.samples", "samples applies to mode = \"random\" or \"sobol\" only")
		}
		if !ok || n < 1 || n > int64(maxRuns) {
			return fe("sweep.samples", "want an integer from 1 to %d", maxRuns)
		}
		if s.Mode == ModeSobol && (n < 2 || n&(n-1) != 0) {
			up := int64(2)
			for up < n {
				up *= 2
			}
			return fe("sweep.samples", "%d is not a power of two, which a Sobol design needs to keep its balance: use %d", n, up)
		}
		s.Samples = int(n)
	} else if sampled {
		return fe("sweep.samples", "mode = %q needs samples = N", s.Mode)
	}

	if err := s.parseBoundary(tbl); err != nil {
		return err
	}

	rawAxes, ok := tbl["axis"]
	if !ok {
		return fe("sweep.axis", "no [[sweep.axis]] tables: a sweep needs at least one axis")
	}
	axes, ok := rawAxes.([]map[string]any)
	if arr, isArr := rawAxes.([]any); isArr { // axis = [{...}, ...], inline
		ok = true
		for _, e := range arr {
			m, isMap := e.(map[string]any)
			ok = ok && isMap
			axes = append(axes, m)
		}
	}
	if !ok {
		return typeErr("sweep.axis", rawAxes, "an array of tables ([[sweep.axis]])")
	}
	if len(axes) == 0 {
		return fe("sweep.axis", "no axes: a sweep needs at least one")
	}
	keys := map[string]int{}
	for i, a := range axes {
		ax, err := s.parseAxis(a, fmt.Sprintf("sweep.axis[%d]", i))
		if err != nil {
			return err
		}
		if j, dup := keys[ax.Key]; dup {
			return fe(fmt.Sprintf("sweep.axis[%d].key", i), "%s is already swept by axis %d", ax.Key, j)
		}
		keys[ax.Key] = i
		s.Axes = append(s.Axes, ax)
	}
	if s.Mode == ModeBoundary {
		s.Search = -1
		for i, ax := range s.Axes {
			if ax.Dist == "bracket" {
				if s.Search >= 0 {
					return fe(fmt.Sprintf("sweep.axis[%d].bracket", i), "a boundary search runs along one axis; axis %d has a bracket too", s.Search)
				}
				s.Search = i
			}
		}
		if s.Search < 0 {
			return fe("sweep.axis", "mode = \"boundary\" needs one axis with bracket = [low, high]: the key searched along")
		}
		if ax := s.Axes[s.Search]; s.Tolerance >= ax.Hi-ax.Lo {
			return fe("sweep.tolerance", "%g is not less than the bracket's width %g: nothing to search", s.Tolerance, ax.Hi-ax.Lo)
		}
	}
	if s.Mode == ModeSobol && (len(s.Axes) < 2 || 2*len(s.Axes) > sobolMaxDims) {
		return fe("sweep.axis", "mode = \"sobol\" takes 2 to %d axes, got %d", sobolMaxDims/2, len(s.Axes))
	}
	return s.expand(maxRuns)
}

var generators = []string{"values", "linspace", "logspace", "range", "uniform", "loguniform", "bracket"}

func (s *Sweep) parseAxis(a map[string]any, path string) (Axis, error) {
	fe := func(key, format string, args ...any) error {
		return &sim.FieldError{Key: path + key, Msg: fmt.Sprintf(format, args...)}
	}
	var ax Axis
	for _, k := range sim.Names(a) {
		if k != "key" && !slices.Contains(generators, k) {
			return ax, fe("."+k, "unknown key (an axis has key and one of %s)", strings.Join(generators, ", "))
		}
	}
	k, ok := a["key"].(string)
	if !ok {
		return ax, fe(".key", "want the dotted key to sweep, for example \"signals.thumbs.weight\"")
	}
	ax.Key = k
	kind, err := keyKind(s.Base, k)
	if err != nil {
		return ax, fe(".key", "%v", err)
	}
	ax.kind = kind
	var gen string
	for _, g := range generators {
		if _, ok := a[g]; ok {
			if gen != "" {
				return ax, fe("."+g, "an axis takes one of %s; this one has %s and %s", strings.Join(generators, ", "), gen, g)
			}
			gen = g
		}
	}
	if gen == "" {
		return ax, fe("", "axis %s has no values: give one of %s", k, strings.Join(generators, ", "))
	}
	gp := path + "." + gen
	random := gen == "uniform" || gen == "loguniform"
	switch {
	case gen == "bracket" && s.Mode != ModeBoundary:
		return ax, fe("."+gen, "bracket applies to mode = \"boundary\" only")
	case s.Mode == ModeBoundary && random:
		return ax, fe("."+gen, "mode = \"boundary\" takes one axis with bracket = [low, high] and grid axes (values, linspace, logspace, range)")
	case s.Mode == ModeSobol && !random:
		return ax, fe("."+gen, "mode = \"sobol\" draws every axis from a range: give uniform = [low, high] or loguniform = [low, high]")
	case s.Mode == ModeRandom && !random && gen != "values":
		return ax, fe("."+gen, "mode = \"random\" takes uniform, loguniform or values")
	case random && s.Mode != ModeRandom && s.Mode != ModeSobol:
		return ax, fe("."+gen, "%s applies to mode = \"random\" or \"sobol\" only", gen)
	}
	switch gen {
	case "values":
		arr, ok := a[gen].([]any)
		if !ok {
			return ax, typeErr(gp, a[gen], "an array")
		}
		if len(arr) == 0 {
			return ax, fe("."+gen, "empty axis: give at least one value")
		}
		for i, v := range arr {
			cv, err := convertValue(v, kind, fmt.Sprintf("%s[%d]", gp, i), k)
			if err != nil {
				return ax, err
			}
			ax.Values = append(ax.Values, cv)
		}
	case "linspace", "logspace", "range":
		nums, err := floatTriple(a[gen], gp)
		if err != nil {
			return ax, err
		}
		var vals []float64
		switch gen {
		case "linspace", "logspace":
			n := nums[2]
			if n != math.Trunc(n) || n < 1 || n > DefaultMaxRuns {
				return ax, fe("."+gen, "the count %g must be a whole number from 1 to %d", n, DefaultMaxRuns)
			}
			vals = linspace(nums[0], nums[1], int(n))
			if gen == "logspace" {
				for i, v := range vals {
					vals[i] = math.Pow(10, v)
				}
			}
		case "range":
			a0, b, step := nums[0], nums[1], nums[2]
			if step == 0 || (b-a0)/step < 0 {
				return ax, fe("."+gen, "step %g does not lead from %g towards %g", step, a0, b)
			}
			n := math.Ceil((b-a0)/step - 1e-9)
			if n < 1 {
				return ax, fe("."+gen, "empty axis: range [%g, %g) with step %g has no values", a0, b, step)
			}
			if n > DefaultMaxRuns {
				return ax, fe("."+gen, "range has %g values, more than %d", n, DefaultMaxRuns)
			}
			for i := 0; i < int(n); i++ {
				vals = append(vals, a0+float64(i)*step)
			}
		}
		for i, v := range vals {
			cv, err := convertValue(v, kind, gp, k)
			if err != nil {
				return ax, fmt.Errorf("%w (value %d of the axis)", err, i)
			}
			ax.Values = append(ax.Values, cv)
		}
	case "uniform", "loguniform", "bracket":
		if kind != reflect.Float64 {
			return ax, fe("."+gen, "%s draws real numbers, but %s is not a real-valued key", gen, k)
		}
		arr, ok := a[gen].([]any)
		if !ok || len(arr) != 2 {
			return ax, fe("."+gen, "want [low, high]")
		}
		lo, ok1 := toFloat(arr[0])
		hi, ok2 := toFloat(arr[1])
		if !ok1 || !ok2 || !(lo < hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
			return ax, fe("."+gen, "want finite numbers low < high")
		}
		if gen == "loguniform" && !(lo > 0) {
			return ax, fe("."+gen, "loguniform needs low > 0")
		}
		ax.Dist, ax.Lo, ax.Hi = gen, lo, hi
	}
	return ax, nil
}

// expand fixes the parameter points.
func (s *Sweep) expand(maxRuns int) error {
	count := func(points int) error {
		if points*len(s.Seeds) > maxRuns || points > maxRuns {
			return &sim.FieldError{Key: "sweep", Msg: fmt.Sprintf("%d parameter points x %d seeds is more than the limit of %d runs (see --max-runs)", points, len(s.Seeds), maxRuns)}
		}
		return nil
	}
	switch s.Mode {
	case ModeGrid, ModeBoundary: // a boundary search starts from each point of the grid, at the bracket's low end
		points := 1
		for i := range s.Axes {
			if s.Mode == ModeBoundary && i == s.Search {
				s.Axes[i].Values = []any{s.Axes[i].Lo}
			}
			points *= len(s.Axes[i].Values)
			if err := count(points); err != nil {
				return err
			}
		}
		idx := make([]int, len(s.Axes))
		for p := 0; p < points; p++ {
			pt := make([]any, len(s.Axes))
			for i, ax := range s.Axes {
				pt[i] = ax.Values[idx[i]]
			}
			s.points = append(s.points, pt)
			for i := len(idx) - 1; i >= 0; i-- { // the last axis varies fastest
				idx[i]++
				if idx[i] < len(s.Axes[i].Values) {
					break
				}
				idx[i] = 0
			}
		}
	case ModeZip:
		n := len(s.Axes[0].Values)
		for i, ax := range s.Axes {
			if len(ax.Values) != n {
				return &sim.FieldError{Key: fmt.Sprintf("sweep.axis[%d]", i), Msg: fmt.Sprintf("zip mode needs axes of equal length: %s has %d values, %s has %d", ax.Key, len(ax.Values), s.Axes[0].Key, n)}
			}
		}
		if err := count(n); err != nil {
			return err
		}
		for p := 0; p < n; p++ {
			pt := make([]any, len(s.Axes))
			for i, ax := range s.Axes {
				pt[i] = ax.Values[p]
			}
			s.points = append(s.points, pt)
		}
	case ModeSobol:
		d := len(s.Axes)
		if s.Samples > maxRuns/(d+2) {
			return count(maxRuns + 1)
		}
		if err := count(s.Samples * (d + 2)); err != nil {
			return err
		}
		for _, u := range SaltelliPoints(s.Samples, d, s.Seed) {
			pt := make([]any, d)
			for i, ax := range s.Axes {
				pt[i] = ax.Lo + u[i]*(ax.Hi-ax.Lo)
				if ax.Dist == "loguniform" {
					pt[i] = math.Exp(math.Log(ax.Lo) + u[i]*(math.Log(ax.Hi)-math.Log(ax.Lo)))
				}
			}
			s.points = append(s.points, pt)
		}
	case ModeRandom:
		if err := count(s.Samples); err != nil {
			return err
		}
		rng := rand.New(rand.NewPCG(s.Seed, 0x5eed5eed))
		for p := 0; p < s.Samples; p++ {
			pt := make([]any, len(s.Axes))
			for i, ax := range s.Axes {
				u := rng.Float64()
				switch ax.Dist {
				case "uniform":
					pt[i] = ax.Lo + u*(ax.Hi-ax.Lo)
				case "loguniform":
					pt[i] = math.Exp(math.Log(ax.Lo) + u*(math.Log(ax.Hi)-math.Log(ax.Lo)))
				default: // values: a uniform choice
					pt[i] = ax.Values[int(u*float64(len(ax.Values)))%len(ax.Values)]
				}
			}
			s.points = append(s.points, pt)
		}
	}
	return nil
}

// Len returns the number of runs.
func (s *Sweep) Len() int { return len(s.points) * len(s.Seeds) }

// Points returns the number of distinct parameter points.
func (s *Sweep) Points() int { return len(s.points) }

// Run returns run i: parameter point i / len(Seeds), replicate i % len(Seeds).
func (s *Sweep) Run(i int) Run {
	p := i / len(s.Seeds)
	pt := s.points[p]
	rep := s.Seeds[i%len(s.Seeds)]
	width := len(strconv.Itoa(max(s.Len()-1, 0)))
	seed := runSeed(rep, s.Axes, pt)
	if s.Mode == ModeSobol {
		seed = blockSeed(rep, p/(len(s.Axes)+2))
	}
	return Run{Index: i, ID: fmt.Sprintf("r%0*d", width, i), Seed: seed, Params: pt}
}

// Runs returns every run in order.
func (s *Sweep) Runs() []Run {
	out := make([]Run, s.Len())
	for i := range out {
		out[i] = s.Run(i)
	}
	return out
}

// trainingKey reports whether a key can change training: every key but the
// release review's and the deployment's, which judge the trained policy.
// Runs that differ only in those share their seed, so a sweep over gate
// settings compares them on the same trained candidates.
func trainingKey(key string) bool {
	return !strings.HasPrefix(key, "review.") && !strings.HasPrefix(key, "deployment.")
}

// runSeed derives a run's seed from its replicate seed and its parameters
// (never from scheduling), as a non-negative int64 so that it can be
// written back to TOML.
func runSeed(rep uint64, axes []Axis, pt []any) uint64 {
	h := sha256.New()
	fmt.Fprintf(h, "rewardmix-run-seed\x00%d", rep)
	// In key order, so that listing the axes in another order keeps seeds.
	order := make([]int, len(axes))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(axes[a].Key, axes[b].Key) })
	for _, i := range order {
		if !trainingKey(axes[i].Key) {
			continue // review and deployment settings do not change training
		}
		fmt.Fprintf(h, "\x00%s=%s", axes[i].Key, FormatParam(pt[i]))
	}
	sum := h.Sum(nil)
	return binary.BigEndian.Uint64(sum[:8]) >> 1
}

// blockSeed is the seed the runs of one block of a Sobol design share (A,
// B and each A with one axis from B, for one replicate): the simulator's
// own randomness is then common to the runs whose differences the indices
// compare, rather than noise in each.
func blockSeed(rep uint64, block int) uint64 {
	h := sha256.New()
	fmt.Fprintf(h, "rewardmix-sobol-block-seed\x00%d\x00%d", rep, block)
	sum := h.Sum(nil)
	return binary.BigEndian.Uint64(sum[:8]) >> 1
}

// SobolBlock returns, for parameter point p of a Sobol design, its block
// (the base sample j) and its role in the block: 0 for A, 1 for B, 2+i for
// A with axis i taken from B.
func (s *Sweep) SobolBlock(p int) (block, role int) {
	if s.Mode != ModeSobol {
		panic("configs: SobolBlock of a sweep that is not a Sobol design")
	}
	return p / (len(s.Axes) + 2), p % (len(s.Axes) + 2)
}

// Config returns run r's resolved config: the base with r's parameters set
// and r's seed, validated.
func (s *Sweep) Config(r Run) (*sim.Config, error) {
	cfg := s.Base.Clone()
	raw := map[string]any{}
	for i, ax := range s.Axes {
		setPath(raw, strings.Split(ax.Key, "."), r.Params[i])
	}
	err := (&decoder{merge: true}).decodeStruct(raw, rvalue(cfg), "")
	if err == nil {
		cfg.Seed = r.Seed
		err = cfg.Validate()
	}
	if err != nil {
		var fe *sim.FieldError
		if errors.As(err, &fe) {
			// Point at the axis that set the bad key, if one did.
			key := "sweep"
			for i, ax := range s.Axes {
				if ax.Key == fe.Key {
					key = fmt.Sprintf("sweep.axis[%d]", i)
				}
			}
			return nil, &sim.FieldError{Key: key, Msg: fmt.Sprintf("run %s (%s) is not a valid config: %s: %s", r.ID, s.Describe(r), fe.Key, fe.Msg)}
		}
		return nil, err
	}
	return cfg, nil
}

// Describe writes a run's parameters as key=value pairs.
func (s *Sweep) Describe(r Run) string {
	parts := make([]string, len(s.Axes))
	for i, ax := range s.Axes {
		parts[i] = ax.Key + "=" + FormatParam(r.Params[i])
	}
	return strings.Join(parts, " ")
}

// Hash identifies the sweep's definition: the resolved base config, the
// mode, seeds and every parameter point. Resuming or merging checks it.
func (s *Sweep) Hash() string {
	h := sha256.New()
	h.Write(Encode(s.Base))
	fmt.Fprintf(h, "\x00mode=%s\x00seed=%d\x00seeds=%v", s.Mode, s.Seed, s.Seeds)
	if s.Mode == ModeBoundary {
		ax := s.Axes[s.Search]
		fmt.Fprintf(h, "\x00metric=%s\x00level=%s\x00tolerance=%s\x00bracket=%s,%s", s.Metric, formatFloat(s.Level), formatFloat(s.Tolerance), formatFloat(ax.Lo), formatFloat(ax.Hi))
	}
	for _, ax := range s.Axes {
		fmt.Fprintf(h, "\x00axis=%s", ax.Key)
	}
	for _, pt := range s.points {
		h.Write([]byte{0})
		for _, v := range pt {
			fmt.Fprintf(h, "%s;", FormatParam(v))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// FormatParam writes a parameter value as TOML would (floats shortest
// round-trip, always with a point or exponent).
func FormatParam(v any) string {
	switch x := v.(type) {
	case float64:
		return formatFloat(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

func setPath(m map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

// keyKind returns the kind of the config value at a dotted key, or an error
// if the key is not a scalar setting of cfg.
func keyKind(cfg *sim.Config, key string) (reflect.Kind, error) {
	parts := strings.Split(key, ".")
	v := reflect.ValueOf(cfg).Elem()
	for i, p := range parts {
		switch v.Kind() {
		case reflect.Struct:
			f, ok := fieldByTag(v, p)
			if !ok {
				return 0, fmt.Errorf("%s is not a key of the config (no %q in %s)", key, p, orTop(strings.Join(parts[:i], ".")))
			}
			v = f
		case reflect.Map:
			e := v.MapIndex(reflect.ValueOf(p))
			if !e.IsValid() {
				return 0, fmt.Errorf("%s is not a key of the config (%s has no entry %q; it has %s)", key, strings.Join(parts[:i], "."), p, strings.Join(mapKeys(v), ", "))
			}
			if spec, ok := e.Interface().(reward.Spec); ok && i+1 < len(parts) {
				if !slices.Contains(reward.Keys(spec.Kind), parts[i+1]) {
					return 0, fmt.Errorf("%s is not a key of the config (a %s signal has %s)", key, spec.Kind, strings.Join(reward.Keys(spec.Kind), ", "))
				}
			}
			v = e
		default:
			return 0, fmt.Errorf("%s is not a key of the config (%s is a value, not a table)", key, strings.Join(parts[:i], "."))
		}
	}
	switch k := v.Kind(); k {
	case reflect.Float64, reflect.Int, reflect.Bool, reflect.String:
		if key == "name" || key == "description" {
			return 0, fmt.Errorf("%s cannot be swept", key)
		}
		if strings.HasPrefix(key, "output.") {
			return 0, fmt.Errorf("%s cannot be swept: [output] says how a sweep's results are written, the same for every run", key)
		}
		return k, nil
	case reflect.Uint64:
		return 0, fmt.Errorf("%s cannot be swept: use seeds or replicates in [sweep]", key)
	}
	return 0, fmt.Errorf("%s is a table, not a single setting", key)
}

func orTop(s string) string {
	if s == "" {
		return "the top level"
	}
	return s
}

func fieldByTag(v reflect.Value, tagName string) (reflect.Value, bool) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if tag(t.Field(i)) == tagName {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// mapKeys returns the keys of a map with string keys, sorted.
func mapKeys(v reflect.Value) []string {
	var ks []string
	for _, k := range v.MapKeys() {
		ks = append(ks, k.String())
	}
	slices.Sort(ks)
	return ks
}

// convertValue checks that a TOML value (or a generated float) suits a key
// of the given kind and returns it as the TOML value to decode.
func convertValue(v any, kind reflect.Kind, path, key string) (any, error) {
	switch kind {
	case reflect.Float64:
		if f, ok := toFloat(v); ok {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, &sim.FieldError{Key: path, Msg: fmt.Sprintf("%v is not a finite number", f)}
			}
			return f, nil
		}
		return nil, typeErr(path, v, "a number, as "+key+" is")
	case reflect.Int:
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<31 {
				return int64(x), nil
			}
			return nil, &sim.FieldError{Key: path, Msg: fmt.Sprintf("%g is not a whole number, but %s is an integer", x, key)}
		}
		return nil, typeErr(path, v, "an integer, as "+key+" is")
	case reflect.Bool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, typeErr(path, v, "true or false, as "+key+" is")
	case reflect.String:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, typeErr(path, v, "a string, as "+key+" is")
	}
	return nil, &sim.FieldError{Key: path, Msg: "unsupported key type"}
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	}
	return 0, false
}

func floatTriple(v any, path string) ([3]float64, error) {
	var out [3]float64
	arr, ok := v.([]any)
	if !ok || len(arr) != 3 {
		return out, &sim.FieldError{Key: path, Msg: "want three numbers [start, stop, count or step]"}
	}
	for i, e := range arr {
		f, ok := toFloat(e)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return out, &sim.FieldError{Key: path, Msg: "want three finite numbers [start, stop, count or step]"}
		}
		out[i] = f
	}
	return out, nil
}

// linspace returns n evenly spaced values from a to b inclusive.
func linspace(a, b float64, n int) []float64 {
	if n == 1 {
		return []float64{a}
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = a + (b-a)*float64(i)/float64(n-1)
	}
	out[n-1] = b
	return out
}

// EncodeSweep writes the sweep as a self-contained file: the resolved base
// config and a [sweep] table whose axes list their values explicitly (or
// their distributions, for random mode). LoadSweep reads it back to a sweep
// with the same runs and Hash.
func EncodeSweep(s *Sweep) []byte {
	var b strings.Builder
	b.Write(Encode(s.Base))
	fmt.Fprintf(&b, "\n[sweep]\nmode = %s\nseed = %d\n", quote(string(s.Mode)), s.Seed)
	seeds := make([]string, len(s.Seeds))
	for i, v := range s.Seeds {
		seeds[i] = strconv.FormatUint(v, 10)
	}
	fmt.Fprintf(&b, "seeds = [%s]\n", strings.Join(seeds, ", "))
	if s.Mode == ModeRandom || s.Mode == ModeSobol {
		fmt.Fprintf(&b, "samples = %d\n", s.Samples)
	}
	if s.Mode == ModeBoundary {
		fmt.Fprintf(&b, "metric = %s\nlevel = %s\ntolerance = %s\n", quote(s.Metric), formatFloat(s.Level), formatFloat(s.Tolerance))
	}
	for _, ax := range s.Axes {
		fmt.Fprintf(&b, "\n[[sweep.axis]]\nkey = %s\n", quote(ax.Key))
		if ax.Dist != "" {
			fmt.Fprintf(&b, "%s = [%s, %s]\n", ax.Dist, formatFloat(ax.Lo), formatFloat(ax.Hi))
			continue
		}
		vals := make([]string, len(ax.Values))
		for i, v := range ax.Values {
			if str, ok := v.(string); ok {
				vals[i] = quote(str)
			} else {
				vals[i] = FormatParam(v)
			}
		}
		fmt.Fprintf(&b, "values = [%s]\n", strings.Join(vals, ", "))
	}
	return []byte(b.String())
}
