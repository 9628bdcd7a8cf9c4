package configs

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
)

// A sweep is checked without building every run's config. Validity is a
// conjunction of checks (those of sim.Config.Validate, and of decoding a
// run's values), each of which reads a few keys. Two swept keys are
// coupled when one check reads both (see couplings); the axes then fall
// into groups, the connected components of that relation, and no check
// reads the axes of two groups. So a run is valid if and only if, for each
// group, the base config with only that group's values of the run is
// valid (the base itself being valid). LoadSweep therefore validates, for
// each group, the combinations of its axes' values that the runs hold:
// each value of an axis alone, for an axis coupled with no other; the
// product of the group's values for a grid; the distinct tuples the points
// hold, for the other modes. A sweep over two uncoupled axes of 1000
// values each checks 2000 configs rather than a million, while coupled
// axes (train.steps and train.update_step, say) are checked in every
// combination the runs hold.
//
// A real-valued axis drawn from a range (random and sobol modes), coupled
// with no other axis, is checked at the smallest and largest value drawn:
// every check of one real-valued key is an interval (a probability, a
// positive number, a range), so that those two values stand for the
// others. A zip, random or sobol sweep whose groups would need more checks
// than it has points is checked point by point.
//
// The first invalid run, in run order, is then found from the failing
// combinations (the first run that holds one), and its error is the one
// Config gives for it: the same error as validating every run in order.

// coupling is a check, or a family of checks, of sim.Config.Validate (or
// of decoding) that reads more than one key that a sweep can set. Keys
// are dotted patterns: "*" stands for any one part (an entry of a named
// table), "$" for the same entry throughout one coupling, and a final
// "**" for one or more parts.
type coupling struct {
	// keys are read together: any two of them are coupled.
	keys []string
	// gated are checked only when keys say so (their values being read,
	// or their checks applying, only then): each is coupled with every one
	// of keys, but not with the others of gated.
	gated []string
}

// deploymentGate are the keys that decide whether there is a deployment
// loop, and from which step (sim.Config.FirstDeployment): [feedback] is
// read only when there is one.
var deploymentGate = []string{"train.steps", "memory.enabled", "memory.start_step", "signals.*.start_step", "signals.*.source"}

// couplings lists every check of sim.Config.Validate that reads two keys
// or more. A check added there that reads two sweepable keys must be added
// here, or a sweep could load with a run that does not validate;
// TestSweepCouplingsComplete probes every pair of keys not listed.
var couplings = []coupling{
	// A signal's kind decides which keys it has, which of them are checked,
	// whether it needs memory or a deployment loop: a swept kind is
	// checked with every other axis.
	{keys: []string{"signals.*.kind"}, gated: []string{"**"}},
	// train.update_step and memory.start_step in [1 or 0, train.steps]; a
	// signal's start_step in [0, train.steps], its end_step after it.
	{keys: []string{"train.steps", "train.update_step"}},
	{keys: []string{"train.steps", "memory.start_step"}},
	{keys: []string{"train.steps", "signals.$.start_step", "signals.$.end_step"}},
	// A full batch (0) needs the expected trainer; grpo needs groups of 2.
	{keys: []string{"train.algorithm", "train.batch_size"}},
	{keys: []string{"train.algorithm", "train.group_size"}},
	// The bound on a run's work (validateSize).
	{keys: []string{"train.steps", "population.users", "train.batch_size", "train.group_size", "train.algorithm"}},
	// A reward model's l2 is checked when the signal's source is one.
	{keys: []string{"signals.$.source", "signals.$.l2"}},
	// Shares sum to 1.
	{keys: []string{"contexts.*.share"}},
	{keys: []string{"segments.*.share"}},
	// Every segment gets users; per_feedback needs some feedback
	// (validatePopulation).
	{keys: []string{"population.users", "segments.*.share", "segments.*.feedback_rate", "signals.*.per_feedback"}},
	// The deployment loop (validateFeedback): [feedback] is read when
	// there is one, its rounds fit in the steps after the first, and a
	// reward model's log holds enough thumbs at the segments' rates.
	{keys: deploymentGate, gated: []string{"feedback.rounds", "feedback.seed", "feedback.log_policy", "feedback.log_size"}},
	{keys: append(slices.Clone(deploymentGate), "feedback.log_size", "segments.*.share", "segments.*.feedback_rate")},
	// [review] and [deployment] are checked when the review is enabled.
	{keys: []string{"review.enabled"}, gated: []string{"review.**", "deployment.**"}},
	{keys: []string{"review.vibe.testers", "review.vibe.threshold"}},
	{keys: []string{"deployment.alpha_hours", "deployment.alpha_share"}},
}

// coupled reports whether some check reads both keys a and b.
func coupled(a, b string) bool {
	for _, c := range couplings {
		if matchPair(c.keys, c.keys, a, b) || matchPair(c.keys, c.gated, a, b) || matchPair(c.gated, c.keys, a, b) {
			return true
		}
	}
	return false
}

// matchPair reports whether a matches a pattern of pa and b one of pb,
// with the same entry for "$".
func matchPair(pa, pb []string, a, b string) bool {
	for _, x := range pa {
		ea, ok := matchKey(x, a)
		if !ok {
			continue
		}
		for _, y := range pb {
			if eb, ok := matchKey(y, b); ok && (ea == "" || eb == "" || ea == eb) {
				return true
			}
		}
	}
	return false
}

// matchKey reports whether key matches pattern, and the part "$" stands
// for ("" if none).
func matchKey(pattern, key string) (entry string, ok bool) {
	ps, ks := strings.Split(pattern, "."), strings.Split(key, ".")
	for i, p := range ps {
		if p == "**" {
			return entry, i == len(ps)-1 && len(ks) > i
		}
		if i >= len(ks) {
			return "", false
		}
		switch p {
		case "*":
		case "$":
			entry = ks[i]
		default:
			if p != ks[i] {
				return "", false
			}
		}
	}
	return entry, len(ks) == len(ps)
}

// groups partitions the axes into groups of coupled axes, each in axis
// order, the groups in the order of their first axis.
func (s *Sweep) groups() [][]int {
	parent := make([]int, len(s.Axes))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	for i := range s.Axes {
		for j := i + 1; j < len(s.Axes); j++ {
			if coupled(s.Axes[i].Key, s.Axes[j].Key) || coupled(s.Axes[j].Key, s.Axes[i].Key) {
				parent[find(j)] = find(i)
			}
		}
	}
	byRoot := map[int]int{}
	var out [][]int
	for i := range s.Axes {
		r := find(i)
		g, ok := byRoot[r]
		if !ok {
			g = len(out)
			byRoot[r] = g
			out = append(out, nil)
		}
		out[g] = append(out[g], i)
	}
	return out
}

// validWith reports whether the base config with the given axes set to
// vals decodes and validates, as Config would build it.
func (s *Sweep) validWith(axes []int, vals []any) bool {
	s.checks++
	cfg := s.Base.Clone()
	raw := map[string]any{}
	for k, i := range axes {
		setPath(raw, strings.Split(s.Axes[i].Key, "."), vals[k])
	}
	if err := (&decoder{merge: true}).decodeStruct(raw, rvalue(cfg), ""); err != nil {
		return false
	}
	return cfg.Validate() == nil
}

// validateRuns returns the error of the first run, in run order, whose
// config Config refuses, or nil: for a boundary search, of the first
// probe at either end of the bracket of a point, after checking the
// metric on the first probe's config. everyRun builds and validates every
// run's config in turn (as LoadSweep once did; the tests compare).
func (s *Sweep) validateRuns(everyRun bool) error {
	if s.Mode == ModeBoundary {
		return s.validateBoundary(everyRun)
	}
	if everyRun {
		for _, r := range s.Runs() {
			if _, err := s.Config(r); err != nil {
				return err
			}
		}
		return nil
	}
	var first int
	if s.Mode == ModeGrid {
		values := make([][]any, len(s.Axes))
		order := make([]int, len(s.Axes))
		for i, ax := range s.Axes {
			values[i], order[i] = ax.Values, i
		}
		first = s.gridFirstInvalid(values, order)
	} else {
		first = s.listFirstInvalid()
	}
	if first < 0 {
		return nil
	}
	if _, err := s.Config(s.Run(first * len(s.Seeds))); err != nil {
		return err
	}
	return s.validateRuns(true) // the checks disagree with Config: trust Config
}

// validateBoundary checks a boundary search: every point of the grid of
// the other axes at both ends of the bracket, as the probes of Probes
// run them, and the metric.
func (s *Sweep) validateBoundary(everyRun bool) error {
	search := s.Axes[s.Search]
	probes := func() *Sweep {
		var pts []int
		var xs []float64
		for p := range s.points {
			pts, xs = append(pts, p, p), append(xs, search.Lo, search.Hi)
		}
		return s.Probes(pts, xs)
	}
	if everyRun {
		check := probes()
		for i, r := range check.Runs() {
			cfg, err := check.Config(r)
			if err != nil {
				return err
			}
			if i == 0 {
				if err := checkMetric(cfg, s.Metric); err != nil {
					return err
				}
			}
		}
		return nil
	}
	// The probes in order are the grid of the other axes, in axis order,
	// with the search axis at {Lo, Hi} varying fastest.
	values := make([][]any, len(s.Axes))
	var order []int
	for i, ax := range s.Axes {
		values[i] = ax.Values
		if i == s.Search {
			values[i] = []any{search.Lo, search.Hi}
		} else {
			order = append(order, i)
		}
	}
	order = append(order, s.Search)
	first := s.gridFirstInvalid(values, order)
	probeErr := func(k int) error {
		check := probes()
		_, err := check.Config(check.Run(k * len(s.Seeds)))
		return err
	}
	if first == 0 {
		if err := probeErr(0); err != nil {
			return err
		}
		return s.validateBoundary(true)
	}
	p0 := s.Probes([]int{0}, []float64{search.Lo})
	cfg, err := p0.Config(p0.Run(0))
	if err != nil {
		return s.validateBoundary(true)
	}
	if err := checkMetric(cfg, s.Metric); err != nil {
		return err
	}
	if first < 0 {
		return nil
	}
	if err := probeErr(first); err != nil {
		return err
	}
	return s.validateBoundary(true)
}

// gridFirstInvalid returns the rank of the first invalid point of the
// grid in which axis i takes values[i], or -1. order lists the axes from
// the slowest varying to the fastest, which ranks the points.
func (s *Sweep) gridFirstInvalid(values [][]any, order []int) int {
	stride := make([]int, len(values))
	st := 1
	for k := len(order) - 1; k >= 0; k-- {
		stride[order[k]] = st
		st *= len(values[order[k]])
	}
	best := -1
	for _, g := range s.groups() {
		// The distinct values of each axis, with the first index of each:
		// the first point that holds a combination has its values there,
		// and every axis outside the group at its first value.
		vals := make([][]any, len(g))
		firsts := make([][]int, len(g))
		for k, i := range g {
			seen := map[any]bool{}
			for j, v := range values[i] {
				if key := valueKey(v); !seen[key] {
					seen[key] = true
					vals[k] = append(vals[k], v)
					firsts[k] = append(firsts[k], j)
				}
			}
		}
		idx := make([]int, len(g))
		combo := make([]any, len(g))
		for {
			rank := 0
			for k, i := range g {
				combo[k] = vals[k][idx[k]]
				rank += firsts[k][idx[k]] * stride[i]
			}
			if (best < 0 || rank < best) && !s.validWith(g, combo) {
				best = rank
			}
			k := len(g) - 1
			for ; k >= 0; k-- {
				if idx[k]++; idx[k] < len(vals[k]) {
					break
				}
				idx[k] = 0
			}
			if k < 0 {
				break
			}
		}
	}
	return best
}

// valueKey is a parameter value as a map key: a float by its bits, so
// that -0 and 0 stay apart as the runs keep them.
func valueKey(v any) any {
	if f, ok := v.(float64); ok {
		return math.Float64bits(f)
	}
	return v
}

// listFirstInvalid returns the index of the first invalid point of a zip,
// random or sobol sweep, or -1.
func (s *Sweep) listFirstInvalid() int {
	type plan struct {
		axes   []int
		drawn  bool  // a real-valued axis drawn from a range, alone
		firsts []int // the first point of each distinct tuple of the group's values
	}
	var plans []plan
	cost := 0
	for _, g := range s.groups() {
		if len(g) == 1 && (s.Axes[g[0]].Dist == "uniform" || s.Axes[g[0]].Dist == "loguniform") {
			plans = append(plans, plan{axes: g, drawn: true})
			cost += 2
			continue
		}
		seen := map[string]bool{}
		var firsts []int
		var key []byte
		for p, pt := range s.points {
			key = key[:0]
			for _, i := range g {
				key = appendValueKey(key, pt[i])
			}
			if !seen[string(key)] {
				seen[string(key)] = true
				firsts = append(firsts, p)
				if cost++; cost > len(s.points) {
					return s.scanPoints() // cheaper point by point
				}
			}
		}
		plans = append(plans, plan{axes: g, firsts: firsts})
	}
	best := -1
	vals := make([]any, len(s.Axes))
	project := func(g []int, p int) []any {
		for k, i := range g {
			vals[k] = s.points[p][i]
		}
		return vals[:len(g)]
	}
	for _, pl := range plans {
		if pl.drawn {
			i := pl.axes[0]
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, pt := range s.points {
				x := pt[i].(float64)
				lo, hi = min(lo, x), max(hi, x)
			}
			if s.validWith(pl.axes, []any{lo}) && s.validWith(pl.axes, []any{hi}) {
				continue
			}
			for p := range s.points { // find the first value out of bounds
				if best >= 0 && p >= best {
					break
				}
				if !s.validWith(pl.axes, project(pl.axes, p)) {
					best = p
					break
				}
			}
			continue
		}
		for _, p := range pl.firsts { // in point order: the first failure is this group's first
			if best >= 0 && p >= best {
				break
			}
			if !s.validWith(pl.axes, project(pl.axes, p)) {
				best = p
				break
			}
		}
	}
	return best
}

// scanPoints returns the index of the first invalid point, validating
// each in turn, or -1.
func (s *Sweep) scanPoints() int {
	all := make([]int, len(s.Axes))
	for i := range all {
		all[i] = i
	}
	for p, pt := range s.points {
		if !s.validWith(all, pt) {
			return p
		}
	}
	return -1
}

// appendValueKey appends an encoding of a parameter value that tells
// apart any two values (and types) that differ.
func appendValueKey(b []byte, v any) []byte {
	switch x := v.(type) {
	case float64:
		return binary.LittleEndian.AppendUint64(append(b, 'f'), math.Float64bits(x))
	case int64:
		return binary.LittleEndian.AppendUint64(append(b, 'i'), uint64(x))
	case bool:
		if x {
			return append(b, 't')
		}
		return append(b, 'b')
	case string:
		return append(binary.AppendUvarint(append(b, 's'), uint64(len(x))), x...)
	}
	return append(b, '?')
}
