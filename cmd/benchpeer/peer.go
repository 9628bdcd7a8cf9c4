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

// goRun runs cfg and writes into dir its config, prompts and the stances
// after each deployment, as config.toml, prompts.bin and memory.bin.
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
	return res, os.WriteFile(filepath.Join(dir, "prompts.bin"), rec.buf.Bytes(), 0o644)
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
}

// readPeerOutput reads runs runs' outputs from dir, where metrics.txt must
// list names.
func readPeerOutput(dir string, runs, steps int, names []string, dim int) ([]peerOutput, error) {
	txt, err := os.ReadFile(filepath.Join(dir, "metrics.txt"))
	if err != nil {
		return nil, err
	}
	got := strings.Fields(string(txt))
	if strings.Join(got, " ") != strings.Join(names, " ") {
		return nil, fmt.Errorf("the peer's metrics differ from Go's:\n  peer %v\n  go   %v", got, names)
	}
	M := len(names)
	vals, err := readF64(filepath.Join(dir, "metrics.f64"), runs*(steps+1)*M)
	if err != nil {
		return nil, err
	}
	th, err := readF64(filepath.Join(dir, "theta.f64"), runs*dim)
	if err != nil {
		return nil, err
	}
	out := make([]peerOutput, runs)
	for r := range out {
		out[r].theta = th[r*dim : (r+1)*dim]
		for t := 0; t <= steps; t++ {
			off := (r*(steps+1) + t) * M
			out[r].values = append(out[r].values, vals[off:off+M])
		}
	}
	return out, nil
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

// Tolerance is the largest absolute difference allowed between Go and a peer.
const Tolerance = 1e-9

// agreement runs cfgs (in peerCase) through Go, recording their prompts and
// the stances each deployment leaves, then replays both through both peers,
// which hold the replayed stances from each deployment step on instead of
// simulating the deployment, and returns the largest difference of each
// peer, over every metric at every step and the final theta. perrun.py
// replays the first config; sweep.py all of them at once, on 2 processes.
func agreement(ctx context.Context, python string, cfgs []*sim.Config, dir string) (perrun, sweep diff, err error) {
	var results []*sim.Result
	var cfgFiles, promptFiles, memFiles []string
	for i, cfg := range cfgs {
		d := filepath.Join(dir, fmt.Sprintf("go%d", i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			return diff{}, diff{}, err
		}
		res, err := goRun(ctx, cfg, d)
		if err != nil {
			return diff{}, diff{}, fmt.Errorf("go run %d: %w", i, err)
		}
		results = append(results, res)
		cfgFiles = append(cfgFiles, filepath.Join(d, "config.toml"))
		promptFiles = append(promptFiles, filepath.Join(d, "prompts.bin"))
		memFiles = append(memFiles, filepath.Join(d, "memory.bin"))
	}
	steps := cfgs[0].Train.Steps
	dim := len(results[0].Policy.Theta)
	for _, c := range cfgs[1:] {
		if c.Train.Steps != steps {
			return diff{}, diff{}, errors.New("agreement: runs of different lengths")
		}
	}

	pd := filepath.Join(dir, "perrun")
	if _, err := runPeer(ctx, python, "perrun.py", "--config", cfgFiles[0], "--prompts", promptFiles[0], "--memory", memFiles[0], "--out", pd); err != nil {
		return diff{}, diff{}, err
	}
	outs, err := readPeerOutput(pd, 1, steps, results[0].Metrics, dim)
	if err != nil {
		return diff{}, diff{}, err
	}
	perrun = compare(results[0], outs[0])

	sd := filepath.Join(dir, "sweep")
	args := append([]string{"--config"}, cfgFiles...)
	args = append(append(args, "--prompts"), promptFiles...)
	args = append(append(args, "--memory"), memFiles...)
	if _, err := runPeer(ctx, python, "sweep.py", append(args, "--workers", "2", "--out", sd)...); err != nil {
		return diff{}, diff{}, err
	}
	outs, err = readPeerOutput(sd, len(cfgs), steps, results[0].Metrics, dim)
	if err != nil {
		return diff{}, diff{}, err
	}
	for r, res := range results {
		d := compare(res, outs[r])
		d.where = fmt.Sprintf("run %d: %s", r, d.where)
		sweep.merge(d)
	}
	return perrun, sweep, nil
}
