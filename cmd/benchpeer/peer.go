package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/reward"
	"github.com/rewardmix/rewardmix/sim"
)

// Python is the interpreter the peers run under: Debian's python3 with
// python3-numpy (the python3 first on PATH may be another one).
const Python = "/usr/bin/python3"

// srcDir is the folder of this command's sources.
func srcDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("cmd", "benchpeer")
	}
	return filepath.Dir(file)
}

// peerDir is sim/testdata/peer, where the NumPy peers live.
func peerDir() string { return filepath.Join(srcDir(), "..", "..", "sim", "testdata", "peer") }

// moduleRoot is the folder of go.mod.
func moduleRoot() string { return filepath.Join(srcDir(), "..", "..") }

// numpyMissing returns a non-nil error when python cannot import numpy.
func numpyMissing(python string) error {
	out, err := exec.Command(python, "-c", "import numpy, tomllib").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s cannot import numpy and tomllib: %v: %s", python, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// peerCase makes cfg the special case of sim's pipeline that the peers
// implement, the closest to its first model: every thumbs signal direct (a
// user's thumb per rollout, no reward model) and every cue exact
// (cue_accuracy 1: a situation is a cell, 2*context + wrong). Remembered
// stances move only at deployments, as sim always has them.
func peerCase(cfg *sim.Config) {
	for n, s := range cfg.Signals {
		if s.Kind == reward.KindThumbs {
			s.Source = reward.SourceDirect
			cfg.Signals[n] = s
		}
	}
	for n, x := range cfg.Contexts {
		x.CueAccuracy = 1
		cfg.Contexts[n] = x
	}
}

// writeConfig writes cfg resolved, as `rewardmix run` does, to path.
func writeConfig(path string, cfg *sim.Config) error {
	return os.WriteFile(path, configs.Encode(cfg), 0o644)
}

// promptRecorder collects the prompts of a Go run in the peers' format: a
// 16-byte header (b"rmprompt", int32 steps+1, int32 batch), then per step
// int32 users[batch] and situations[batch], little-endian (in peerCase a
// situation is a cell of positive probability).
type promptRecorder struct {
	steps, batch int
	buf          bytes.Buffer
	n            int
}

func newPromptRecorder(cfg *sim.Config) *promptRecorder {
	p := &promptRecorder{steps: cfg.Train.Steps + 1, batch: cfg.Train.BatchSize}
	p.buf.WriteString("rmprompt")
	binary.Write(&p.buf, binary.LittleEndian, [2]int32{int32(p.steps), int32(p.batch)})
	return p
}

func (p *promptRecorder) onBatch(step int, users, situations []int) {
	if step != p.n || len(users) != p.batch {
		panic(fmt.Sprintf("benchpeer: batch of step %d (%d prompts) out of order", step, len(users)))
	}
	var b [4]byte
	for _, xs := range [][]int{users, situations} {
		for _, x := range xs {
			binary.LittleEndian.PutUint32(b[:], uint32(int32(x)))
			p.buf.Write(b[:])
		}
	}
	p.n++
}

// memoryRecorder collects the remembered stances each deployment of a Go
// run leaves, in the peers' format: a 16-byte header (b"rmmemory", int32
// deployments, int32 users), then per deployment int64 step and float64
// memory[users], little-endian.
type memoryRecorder struct {
	users int
	steps []int
	mem   [][]float64
}

func (r *memoryRecorder) onDeploy(step int, memory []float64) {
	if len(memory) != r.users {
		panic(fmt.Sprintf("benchpeer: the deployment of step %d left %d stances, want %d", step, len(memory), r.users))
	}
	r.steps = append(r.steps, step)
	r.mem = append(r.mem, slices.Clone(memory))
}

func (r *memoryRecorder) bytes() []byte {
	var b bytes.Buffer
	b.WriteString("rmmemory")
	binary.Write(&b, binary.LittleEndian, [2]int32{int32(len(r.steps)), int32(r.users)})
	for k, step := range r.steps {
		binary.Write(&b, binary.LittleEndian, int64(step))
		binary.Write(&b, binary.LittleEndian, r.mem[k])
	}
	return b.Bytes()
}

// goRun runs cfg and writes into dir its config, prompts, the stances
// after each deployment and the outcomes of its review's draws, as
// config.toml, prompts.bin, memory.bin and draws.json.
func goRun(ctx context.Context, cfg *sim.Config, dir string) (*sim.Result, error) {
	rec, mem := newPromptRecorder(cfg), &memoryRecorder{users: cfg.Population.Users}
	res, err := sim.RunWith(ctx, cfg, sim.Options{OnBatch: rec.onBatch, OnDeploy: mem.onDeploy})
	if err != nil {
		return nil, err
	}
	if rec.n != rec.steps {
		return nil, fmt.Errorf("the Go run reported %d batches, want %d", rec.n, rec.steps)
	}
	if want := cfg.Deployments(); !slices.Equal(mem.steps, want) {
		return nil, fmt.Errorf("the Go run reported deployments at steps %v, want %v", mem.steps, want)
	}
	if err := writeConfig(filepath.Join(dir, "config.toml"), cfg); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "memory.bin"), mem.bytes(), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "draws.json"), reviewDraws(res), 0o644); err != nil {
		return nil, err
	}
	return res, os.WriteFile(filepath.Join(dir, "prompts.bin"), rec.buf.Bytes(), 0o644)
}

// reviewDraws is what the random numbers of a run's release review and
// deployment came to, as JSON for the peers' --review-draws (see
// sim/testdata/peer/review.py): the sampled eval values, the A/B
// comparisons won and thumbs-up rates, the vibe flags, the hour of the alarm
// (-1: none, or no launch) and the complaints counted. Given them, the rest
// of the review and the deployment is deterministic. Without a review, it
// is {}.
func reviewDraws(res *sim.Result) []byte {
	d := map[string]float64{}
	if r := res.Review; r != nil {
		for _, g := range r.Gates {
			switch g.Name {
			case "offline_correctness":
				d["offline"] = g.Value
			case "behaviour_sycophancy":
				d["behaviour"] = g.Value
			case "sycophancy_no_memory", "sycophancy_memory":
				d[g.Name] = g.Value
			}
		}
		d["ab_won"] = math.Round(r.AB.Preference * float64(r.AB.Comparisons))
		d["thumbs_candidate"], d["thumbs_incumbent"] = r.AB.ThumbsCand, r.AB.ThumbsInc
		d["vibe_flags"] = float64(r.VibeFlags)
		d["hours_to_alarm"], d["complaints"] = -1, 0
		if dep := res.Deployment; dep != nil {
			d["hours_to_alarm"], d["complaints"] = dep.HoursToAlarm, dep.Complaints
		}
	}
	b, err := json.Marshal(d)
	if err != nil {
		panic("benchpeer: " + err.Error())
	}
	return b
}

// reviewValues returns the values of a Go run's review and deployment under
// the peers' names (review.output_names), and which of them are compared
// with the peers' exactly (all but the exact mean preference of the A/B
// comparisons drawn, which depends on Go's draws, and the peers' own
// population figures). A blocked candidate's deployment is zeros, its hours
// -1, as the peers write it.
func reviewValues(res *sim.Result, names []string) (vals []float64, exact []bool, err error) {
	r, dep := res.Review, res.Deployment
	gates := map[string]sim.Gate{}
	for _, g := range r.Gates {
		gates[g.Name] = g
	}
	if dep == nil {
		dep = &sim.Deployment{HoursToAlarm: -1, HoursToDetection: -1, HoursToMitigation: -1, HoursToRollback: -1, HoursToRollbackDone: -1}
	}
	b := func(x bool) float64 {
		if x {
			return 1
		}
		return 0
	}
	fixed := map[string]float64{
		"review/launched": b(r.Launched()), "review/vibe_flags": float64(r.VibeFlags), "review/ab_preference": r.AB.Preference,
		"deployment/sycophantic_served": dep.SycophanticTotal, "deployment/harm_weighted": dep.HarmWeightedTotal,
		"ab/ci_low": r.AB.CILow, "ab/ci_high": r.AB.CIHigh, "ab/significant": b(r.AB.Significant),
		"ab/thumbs_up_candidate": r.AB.ThumbsCand, "ab/thumbs_up_incumbent": r.AB.ThumbsInc,
		"ab/exact_preference": r.AB.ExactPref, "ab/exact_thumbs_up_candidate": r.AB.ExactThumbsCa,
		"ab/exact_thumbs_up_incumbent": r.AB.ExactThumbsIn,
		"deployment/hours_to_alarm":    dep.HoursToAlarm, "deployment/hours_to_detection": dep.HoursToDetection,
		"deployment/hours_to_mitigation": dep.HoursToMitigation, "deployment/hours_to_rollback_start": dep.HoursToRollback,
		"deployment/hours_to_rollback_done": dep.HoursToRollbackDone, "deployment/peak_exposure": dep.PeakExposure,
		"deployment/excess_complaints": dep.Complaints, "deployment/caught_in_alpha": b(dep.CaughtInAlpha),
		"deployment/thumbs_trend": dep.ThumbsTrend,
	}
	for _, n := range names {
		v, ok := fixed[n]
		cmp := n != "ab/exact_preference" && n != "gate/ab_preference/exact" && !strings.HasPrefix(n, "ab/preference_population")
		switch part := strings.Split(n, "/"); {
		case ok:
		case !cmp:
		case len(part) == 3 && part[0] == "gate":
			g, found := gates[part[1]]
			if !found {
				return nil, nil, fmt.Errorf("the peers' review has a gate %q that Go's has not", part[1])
			}
			v = map[string]float64{"value": g.Value, "exact": g.Exact, "passed": b(g.Passed), "blocking": b(g.Blocking)}[part[2]]
		case len(part) == 3 && part[0] == "deployment":
			m := map[string]map[string]float64{"sycophantic_served": dep.Sycophantic, "harm_weighted": dep.HarmWeighted,
				"responses_served": dep.Served}[part[1]]
			v, ok = m[part[2]]
			if !ok && res.Deployment != nil {
				return nil, nil, fmt.Errorf("Go's deployment has no %s", n)
			}
		default:
			return nil, nil, fmt.Errorf("the peers' review has %s, which benchpeer does not know", n)
		}
		vals, exact = append(vals, v), append(exact, cmp)
	}
	if len(gates) != countGates(names) {
		return nil, nil, fmt.Errorf("Go's review has %d gates, the peers' %d", len(gates), countGates(names))
	}
	return vals, exact, nil
}

func countGates(names []string) int {
	n := 0
	for _, s := range names {
		if strings.HasPrefix(s, "gate/") && strings.HasSuffix(s, "/value") {
			n++
		}
	}
	return n
}

// peerReport is the JSON line a peer prints.
type peerReport struct {
	Runs    int       `json:"runs"`
	Steps   int       `json:"steps"`
	Batch   int       `json:"batch"`
	Seconds []float64 `json:"seconds"`
	Wall    float64   `json:"-"` // the whole process, measured here
	CPU     float64   `json:"-"` // its user and system time
}

// runPeer runs a peer script with args and returns its report.
func runPeer(ctx context.Context, python, script string, args ...string) (*peerReport, error) {
	cmd := exec.CommandContext(ctx, python, append([]string{filepath.Join(peerDir(), script)}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start).Seconds()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v\n%s", script, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	var rep peerReport
	if err := json.Unmarshal(lastLine(stdout.Bytes()), &rep); err != nil {
		return nil, fmt.Errorf("%s: cannot read its report %q: %v", script, stdout.String(), err)
	}
	rep.Wall = wall
	rep.CPU = cpuSeconds(cmd.ProcessState)
	return &rep, nil
}

func cpuSeconds(ps *os.ProcessState) float64 {
	return (ps.UserTime() + ps.SystemTime()).Seconds()
}

func lastLine(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

// readF64 reads a raw little-endian float64 file of n values.
func readF64(path string, n int) ([]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) != 8*n {
		return nil, fmt.Errorf("%s: %d bytes, want %d float64 values", path, len(b), n)
	}
	x := make([]float64, n)
	for i := range x {
		x[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return x, nil
}

// peerOutput is one run's output of a peer.
type peerOutput struct {
	values [][]float64 // [step][metric]
	theta  []float64
	review []float64 // named by reviewNames (none without a review)
}

// readPeerOutput reads runs runs' outputs from dir, where metrics.txt must
// list names; and the review's outputs, named in review.txt, if the peer
// wrote them (the sweep peers do).
func readPeerOutput(dir string, runs, steps int, names []string, dim int) (outs []peerOutput, reviewNames []string, err error) {
	txt, err := os.ReadFile(filepath.Join(dir, "metrics.txt"))
	if err != nil {
		return nil, nil, err
	}
	got := strings.Fields(string(txt))
	if strings.Join(got, " ") != strings.Join(names, " ") {
		return nil, nil, fmt.Errorf("the peer's metrics differ from Go's:\n  peer %v\n  go   %v", got, names)
	}
	M := len(names)
	vals, err := readF64(filepath.Join(dir, "metrics.f64"), runs*(steps+1)*M)
	if err != nil {
		return nil, nil, err
	}
	th, err := readF64(filepath.Join(dir, "theta.f64"), runs*dim)
	if err != nil {
		return nil, nil, err
	}
	var rev []float64
	if txt, err := os.ReadFile(filepath.Join(dir, "review.txt")); err == nil {
		reviewNames = strings.Fields(string(txt))
		if rev, err = readF64(filepath.Join(dir, "review.f64"), runs*len(reviewNames)); err != nil {
			return nil, nil, err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	outs = make([]peerOutput, runs)
	for r := range outs {
		outs[r].theta = th[r*dim : (r+1)*dim]
		for t := 0; t <= steps; t++ {
			off := (r*(steps+1) + t) * M
			outs[r].values = append(outs[r].values, vals[off:off+M])
		}
		if n := len(reviewNames); n > 0 {
			outs[r].review = rev[r*n : (r+1)*n]
		}
	}
	return outs, reviewNames, nil
}

// diff is the largest absolute difference between a Go result and a peer's
// output, and where it is.
type diff struct {
	max   float64
	where string
	n     int // values compared
}

func (d *diff) add(a, b float64, where func() string) {
	d.n++
	e := math.Abs(a - b)
	switch {
	case a == b || math.IsNaN(a) && math.IsNaN(b):
		e = 0
	case math.IsNaN(e):
		e = math.Inf(1)
	}
	if e > d.max || d.where == "" {
		d.max = math.Max(d.max, e)
		d.where = where()
	}
}

func (d *diff) merge(o diff) {
	d.n += o.n
	if o.max > d.max || d.where == "" {
		d.max, d.where = o.max, o.where
	}
}

func compare(res *sim.Result, out peerOutput) diff {
	var d diff
	for t, row := range res.Values {
		for k, v := range row {
			d.add(v, out.values[t][k], func() string { return fmt.Sprintf("%s at step %d", res.Metrics[k], t) })
		}
	}
	for j, v := range res.Policy.Theta {
		d.add(v, out.theta[j], func() string { return fmt.Sprintf("theta[%d]", j) })
	}
	return d
}

// compareReview compares a Go run's release review and deployment with a
// peer's that replayed its draws (reviewDraws): every value but those that
// depend on Go's draws themselves (reviewValues), each as |Go - peer| /
// max(1, |Go|), since the counts of responses served run to millions. It
// also returns how many standard errors the exact mean preference of Go's
// A/B comparisons lies from the peer's population mean (each comparison's
// preference is a draw from that population).
func compareReview(res *sim.Result, out peerOutput, names []string) (d diff, prefZ float64, err error) {
	if res.Review == nil {
		if len(out.review) != 0 {
			return d, 0, errors.New("the peer reviewed a run that Go did not")
		}
		return d, 0, nil
	}
	vals, exact, err := reviewValues(res, names)
	if err != nil {
		return d, 0, err
	}
	var mean, sd float64
	for k, n := range names {
		switch n {
		case "ab/preference_population_mean":
			mean = out.review[k]
		case "ab/preference_population_sd":
			sd = out.review[k]
		}
		if !exact[k] {
			continue
		}
		s := math.Max(1, math.Abs(vals[k]))
		d.add(vals[k]/s, out.review[k]/s, func() string { return n })
	}
	se := sd / math.Sqrt(float64(res.Review.AB.Comparisons))
	prefZ = math.Abs(res.Review.AB.ExactPref-mean) / se
	if se == 0 {
		prefZ = 0
		if res.Review.AB.ExactPref != mean {
			prefZ = math.Inf(1)
		}
	}
	return d, prefZ, nil
}

// Tolerance is the largest absolute difference allowed between Go and a peer.
const Tolerance = 1e-9

// agreed is how far each peer is from Go on the replayed runs.
type agreed struct {
	perrun, basic, sweep diff // every metric at every step and the final theta
	// The release review and deployment, replaying the outcomes of Go's
	// draws (compareReview), of each sweep peer.
	basicReview, sweepReview diff
	// The largest distance, in standard errors, of Go's exact A/B
	// preference from a sweep peer's population mean, over runs and peers.
	prefZ float64
}

// sweepPeers are the two sweep peers, basic then strong.
var sweepPeers = []string{"sweep_basic.py", "sweep.py"}

// agreement runs cfgs (in peerCase) through Go, recording their prompts,
// the stances each deployment leaves and the outcomes of their review's
// draws, then replays them through the three peers, which hold the
// replayed stances from each deployment step on instead of simulating the
// deployment, and returns the largest difference of each peer, over every
// metric at every step and the final theta, and of each sweep peer's
// release review. perrun.py replays the first config; the sweep peers all
// of them at once, on 2 processes.
func agreement(ctx context.Context, python string, cfgs []*sim.Config, dir string) (agreed, error) {
	var ag agreed
	var results []*sim.Result
	var cfgFiles, promptFiles, memFiles, drawFiles []string
	for i, cfg := range cfgs {
		d := filepath.Join(dir, fmt.Sprintf("go%d", i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			return ag, err
		}
		res, err := goRun(ctx, cfg, d)
		if err != nil {
			return ag, fmt.Errorf("go run %d: %w", i, err)
		}
		results = append(results, res)
		cfgFiles = append(cfgFiles, filepath.Join(d, "config.toml"))
		promptFiles = append(promptFiles, filepath.Join(d, "prompts.bin"))
		memFiles = append(memFiles, filepath.Join(d, "memory.bin"))
		drawFiles = append(drawFiles, filepath.Join(d, "draws.json"))
	}
	steps := cfgs[0].Train.Steps
	dim := len(results[0].Policy.Theta)
	for _, c := range cfgs[1:] {
		if c.Train.Steps != steps {
			return ag, errors.New("agreement: runs of different lengths")
		}
	}

	pd := filepath.Join(dir, "perrun")
	if _, err := runPeer(ctx, python, "perrun.py", "--config", cfgFiles[0], "--prompts", promptFiles[0], "--memory", memFiles[0], "--out", pd); err != nil {
		return ag, err
	}
	outs, _, err := readPeerOutput(pd, 1, steps, results[0].Metrics, dim)
	if err != nil {
		return ag, err
	}
	ag.perrun = compare(results[0], outs[0])

	args := append([]string{"--config"}, cfgFiles...)
	args = append(append(args, "--prompts"), promptFiles...)
	args = append(append(args, "--memory"), memFiles...)
	if cfgs[0].Review.Enabled {
		args = append(append(args, "--review-draws"), drawFiles...)
	}
	for _, script := range sweepPeers {
		sd := filepath.Join(dir, strings.TrimSuffix(script, ".py"))
		if _, err := runPeer(ctx, python, script, append(args, "--workers", "2", "--out", sd)...); err != nil {
			return ag, err
		}
		outs, names, err := readPeerOutput(sd, len(cfgs), steps, results[0].Metrics, dim)
		if err != nil {
			return ag, err
		}
		var all, rev diff
		for r, res := range results {
			d := compare(res, outs[r])
			d.where = fmt.Sprintf("run %d: %s", r, d.where)
			all.merge(d)
			rd, z, err := compareReview(res, outs[r], names)
			if err != nil {
				return ag, fmt.Errorf("%s, run %d: %w", script, r, err)
			}
			rd.where = fmt.Sprintf("run %d: %s", r, rd.where)
			rev.merge(rd)
			ag.prefZ = math.Max(ag.prefZ, z)
		}
		if script == "sweep.py" {
			ag.sweep, ag.sweepReview = all, rev
		} else {
			ag.basic, ag.basicReview = all, rev
		}
	}
	return ag, nil
}
