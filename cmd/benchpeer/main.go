// Command benchpeer runs the incident workload through the Go simulator and
// through the NumPy peers of sim/testdata/peer (perrun.py: one run,
// vectorised over the batch; sweep.py, the strong peer, and sweep_basic.py,
// a first vectorisation kept for comparison: a whole sweep vectorised across
// runs, on 2 processes), checks that they agree, and prints how fast each
// is.
//
//	go run ./cmd/benchpeer [-reps 3] [-quick]
//
// The peers implement one special case of sim's pipeline, the closest to
// its first model, and every config benchpeer runs is set to it (peerCase):
// every thumbs signal source = "direct" (a user's thumb per rollout, no
// reward model) and every context's cue_accuracy = 1 (the cue reveals
// whether the stance is wrong, so a situation is a cell); remembered
// stances move only at the deployments of [feedback], as in sim.
//
// The sweep peers do the work `rewardmix sweep` does on that sweep: every
// metric at every step, the deployments of [feedback], and sim.Run's
// release review of the final policy against the incumbent (offline eval,
// behaviour eval, A/B preference and thumbs, vibe checks, the sycophancy
// eval where enabled, the decision) and, where it launches, the
// deployment's timeline; then they write every metric at every step, the
// final parameters, the reviews, the runs' final rows and the aggregates
// over seeds. They write raw little-endian float64 files, not CSV (nor
// Parquet: no Parquet library is installed for the peers), and no t
// intervals in their aggregates. What they cannot mirror is Go's random
// streams: they draw the prompts, deployments and review with NumPy's
// generator, in distribution as sim draws them.
//
// It prints, in order: the agreement of each peer with Go on runs whose
// prompts, post-deployment stances and review draws (eval samples, A/B wins
// and thumbs, vibe flags, the alarm's hour) it replays: every metric at
// every step and the final theta within 1e-9, and the review and deployment
// within 1e-9 relative to values over 1, but for Go's exact A/B preference,
// a mean over its own draws of comparisons, which must lie within PrefZ
// standard errors of the peers' population mean (it exits 1 otherwise);
// run-steps/s of each; the Go sweep's scaling from 1 to 2 workers; the Go
// speedup against perrun.py at batch sizes 16 to 1024; the Go step's
// GFLOP/s against a floats.Dot loop; both sweep peers' and rewardmix's wall
// and CPU times on the 200-run sweep of the incident preset in that case
// (20 thumbs weights x 10 seeds; the peers with 2 processes, rewardmix with
// --workers 2, whole processes with their output, medians of -reps
// repetitions); `speedup_vs_numpy_basic: X`, sweep_basic.py's wall time over
// rewardmix's; and last `speedup_vs_numpy: X`, sweep.py's over rewardmix's.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/reward"
	"github.com/rewardmix/rewardmix/sim"
)

func main() {
	reps := flag.Int("reps", 3, "repetitions of each timing (medians are printed)")
	quick := flag.Bool("quick", false, "1 repetition, a 20-run sweep and a short step benchmark: a smoke test, not the figures")
	python := flag.String("python", Python, "interpreter with numpy")
	keep := flag.Bool("keep", false, "keep the temporary folder")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the Go sweep (sim.RunAll, 2 workers) to this file")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Stderr, opts{reps: *reps, quick: *quick, python: *python, keep: *keep, cpuprofile: *cpuprofile}); err != nil {
		fmt.Fprintln(os.Stderr, "benchpeer:", err)
		os.Exit(1)
	}
}

type opts struct {
	reps       int
	quick      bool
	python     string
	keep       bool
	cpuprofile string
}

// The timed sweep: thumbs weights x seeds over the incident preset.
var (
	sweepWeights = []float64{0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3, 3.25, 3.5, 3.75, 4, 4.25, 4.5, 4.75}
	sweepSeeds   = 10
	batchSizes   = []int{16, 64, 256, 1024}
)

// PrefZ bounds how many standard errors Go's exact A/B preference (the mean
// over its own 2000 or so draws of comparisons) may lie from the peers'
// population mean: beyond it, the peers' preferences are not Go's.
const PrefZ = 5.0

// errDisagree reports peers that do not match Go within Tolerance.
var errDisagree = errors.New("the peers disagree with Go")

func run(ctx context.Context, stdout, stderr io.Writer, o opts) error {
	if o.reps < 1 {
		return fmt.Errorf("-reps %d: want at least 1", o.reps)
	}
	weights, seeds := sweepWeights, sweepSeeds
	if o.quick {
		o.reps = 1
		weights, seeds = []float64{0, 1, 2, 4}, 5
	}
	if err := numpyMissing(o.python); err != nil {
		return fmt.Errorf("%v (install python3-numpy)", err)
	}
	dir, err := os.MkdirTemp("", "benchpeer-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(stderr, "benchpeer: keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "benchpeer: "+format+"\n", a...) }

	base, err := configs.Preset("incident")
	if err != nil {
		return err
	}
	peerCase(base)
	if err := base.Validate(); err != nil {
		return err
	}
	sweepFile := filepath.Join(dir, "sweep.toml")
	src := sweepTOML(base, weights, seeds)
	if err := os.WriteFile(sweepFile, src, 0o644); err != nil {
		return err
	}
	sw, err := configs.LoadSweep(sweepFile, src, nil, configs.DefaultMaxRuns)
	if err != nil {
		return err
	}
	if !bytes.Equal(configs.Encode(sw.Base), configs.Encode(base)) {
		return errors.New("the timed sweep's base config is not the incident preset in the peers' case")
	}
	nv, _ := exec.Command(o.python, "-c", "import numpy; print(numpy.__version__)").Output()
	fmt.Fprintf(stdout, "benchpeer: incident preset (%d steps, batch %d, %d users, deployments at steps %v of %d conversations) in the peers' case: thumbs source = \"direct\", cue_accuracy = 1 in every context; sweep of %d runs (%d thumbs weights x %d seeds); numpy %s under %s; %d CPUs; medians of %d\n",
		base.Train.Steps, base.Train.BatchSize, base.Population.Users, base.Deployments(), base.Feedback.LogSize, sw.Len(), len(weights), seeds,
		strings.TrimSpace(string(nv)), o.python, runtime.NumCPU(), o.reps)

	// 1. Agreement on the deterministic workload: the incident preset for
	// perrun.py, and four runs of the sweep (different weights and seeds)
	// for sweep.py, all replaying the Go runs' prompts and the stances
	// their deployments left.
	progress("agreement: Go runs, then both peers replaying their prompts and stances")
	agreeCfgs := []*sim.Config{base}
	for _, i := range []int{0, sw.Len() / 3, 2 * sw.Len() / 3, sw.Len() - 1} {
		c, err := sw.Config(sw.Run(i))
		if err != nil {
			return err
		}
		agreeCfgs = append(agreeCfgs, c)
	}
	ag, err := agreement(ctx, o.python, agreeCfgs, filepath.Join(dir, "agree"))
	if err != nil {
		return err
	}
	verdict := "ok"
	if !(ag.perrun.max <= Tolerance && ag.basic.max <= Tolerance && ag.sweep.max <= Tolerance &&
		ag.basicReview.max <= Tolerance && ag.sweepReview.max <= Tolerance && ag.prefZ <= PrefZ) {
		verdict = "FAIL"
	}
	fmt.Fprintf(stdout, "agreement (prompts and post-deployment stances replayed), every metric at every step and the final theta: perrun max|diff| %.3g (%s) over %d values; sweep_basic %.3g (%s) and sweep %.3g (%s) over %d values of %d runs each; tolerance %g\n",
		ag.perrun.max, ag.perrun.where, ag.perrun.n, ag.basic.max, ag.basic.where, ag.sweep.max, ag.sweep.where, ag.sweep.n, len(agreeCfgs), Tolerance)
	fmt.Fprintf(stdout, "agreement of the release review and deployment (the outcomes of Go's draws replayed: eval samples, A/B wins and thumbs, vibe flags, alarm hour): sweep_basic max rel|diff| %.3g (%s), sweep %.3g (%s) over %d values (tolerance %g); Go's exact A/B preference (a mean over its own draws) within %.2f standard errors of the peers' population mean (at most %g): %s\n",
		ag.basicReview.max, ag.basicReview.where, ag.sweepReview.max, ag.sweepReview.where, ag.sweepReview.n, Tolerance, ag.prefZ, PrefZ, verdict)
	if verdict != "ok" {
		return errDisagree
	}

	// 2. Per-run timings at each batch size (Go in process, one goroutine;
	// perrun.py's own timing of world compilation and training).
	type batchTime struct{ goSec, peerSec float64 }
	perBatch := map[int]batchTime{}
	for _, b := range batchSizes {
		progress("batch %d: Go and perrun.py, %d repetitions each", b, 3*o.reps)
		cfg := base.Clone()
		cfg.Train.BatchSize = b
		cfgFile := filepath.Join(dir, fmt.Sprintf("batch%d.toml", b))
		if err := writeConfig(cfgFile, cfg); err != nil {
			return err
		}
		n := 3 * o.reps // single runs are short: more repetitions steady the medians
		g, err := timeGoRun(ctx, cfg, n)
		if err != nil {
			return err
		}
		rep, err := runPeer(ctx, o.python, "perrun.py", "--config", cfgFile, "--repeat", strconv.Itoa(n+1))
		if err != nil {
			return err
		}
		perBatch[b] = batchTime{g, median(rep.Seconds[1:])} // the first repetition warms up
	}

	// 3. The sweep: sweep.py (2 processes) against the rewardmix binary (2
	// workers), both as whole processes writing their outputs, interleaved.
	progress("building rewardmix")
	bin := filepath.Join(dir, "rewardmix")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/rewardmix")
	build.Dir = moduleRoot()
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/rewardmix: %v\n%s", err, out)
	}
	grid := make([]string, len(weights))
	for i, w := range weights {
		grid[i] = strconv.FormatFloat(w, 'g', -1, 64)
	}
	type peerTimes struct{ wall, inner, cpu []float64 }
	peers := map[string]*peerTimes{}
	for _, p := range sweepPeers {
		peers[p] = &peerTimes{}
	}
	var goWall, goCPU []float64
	for r := 0; r < o.reps; r++ {
		for _, script := range sweepPeers {
			progress("sweep %d/%d: %s --workers 2", r+1, o.reps, script)
			out := filepath.Join(dir, fmt.Sprintf("peer-sweep-%d", r))
			rep, err := runPeer(ctx, o.python, script, "--config", filepath.Join(dir, "batch64.toml"),
				"--grid", "signals.thumbs.weight="+strings.Join(grid, ","), "--replicates", strconv.Itoa(seeds),
				"--workers", "2", "--out", out)
			if err != nil {
				return err
			}
			if rep.Runs != sw.Len() {
				return fmt.Errorf("%s ran %d runs, want %d", script, rep.Runs, sw.Len())
			}
			pt := peers[script]
			pt.wall, pt.inner, pt.cpu = append(pt.wall, rep.Wall), append(pt.inner, rep.Seconds[0]), append(pt.cpu, rep.CPU)
			os.RemoveAll(out)
		}

		progress("sweep %d/%d: rewardmix sweep --workers 2", r+1, o.reps)
		out := filepath.Join(dir, fmt.Sprintf("go-sweep-%d", r))
		cmd := exec.CommandContext(ctx, bin, "sweep", sweepFile, "-o", out, "--workers", "2", "--quiet", "--no-plots") // the peers draw no figures either
		start := time.Now()
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("rewardmix sweep: %v\n%s", err, b)
		}
		goWall, goCPU = append(goWall, time.Since(start).Seconds()), append(goCPU, cpuSeconds(cmd.ProcessState))
		os.RemoveAll(out)
	}

	steps := float64(base.Train.Steps)
	b64 := perBatch[64]
	basic, strong := peers["sweep_basic.py"], peers["sweep.py"]
	fmt.Fprintf(stdout, "run-steps/s: go (1 worker) %.0f; perrun peer %.0f; sweep_basic peer %.0f and sweep peer %.0f (%d runs at once on 2 processes; %.2f and %.2f s in training, deployments and reviews)\n",
		steps/b64.goSec, steps/b64.peerSec, float64(sw.Len())*steps/median(basic.inner), float64(sw.Len())*steps/median(strong.inner),
		sw.Len(), median(basic.inner), median(strong.inner))

	// 4. Go sweep scaling: sim.RunAll over the sweep, 1 then 2 workers.
	var t1, t2 []float64
	for r := 0; r < o.reps; r++ {
		progress("scaling %d/%d: sim.RunAll with 1, then 2 workers", r+1, o.reps)
		a, err := timeRunAll(ctx, sw, 1)
		if err != nil {
			return err
		}
		b, err := timeRunAll(ctx, sw, 2)
		if err != nil {
			return err
		}
		t1, t2 = append(t1, a), append(t2, b)
	}
	if o.cpuprofile != "" {
		progress("profiling sim.RunAll with 2 workers into %s", o.cpuprofile)
		if err := profileRunAll(ctx, sw, o.cpuprofile); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "go sweep scaling: sim.RunAll over %d runs: 1 worker %.2f s, 2 workers %.2f s: %.2fx (this machine: a floats.Dot loop on 2 goroutines %.2fx)\n",
		sw.Len(), median(t1), median(t2), median(t1)/median(t2), dotScaling(o.reps))

	for _, b := range batchSizes {
		bt := perBatch[b]
		fmt.Fprintf(stdout, "go vs perrun peer at batch %d: go %.1f ms/run, perrun %.1f ms/run: go %.2fx faster\n",
			b, 1e3*bt.goSec, 1e3*bt.peerSec, bt.peerSec/bt.goSec)
	}

	// 5. The Go step against the dot ceiling.
	progress("step: go test -bench BenchmarkStep/expected, and a floats.Dot loop")
	fl := stepFlops(base)
	benchtime := "20000x"
	if o.quick {
		benchtime = "2000x"
	}
	stepSec, stepErr := benchStep(ctx, benchtime, o.reps)
	if stepErr != nil {
		fmt.Fprintf(stdout, "step: unavailable: %v\n", stepErr)
	} else {
		dot := dotGFLOPs(fl.macs(), o.reps)
		stepG := float64(fl.total()) / stepSec / 1e9
		fmt.Fprintf(stdout, "step: go %.2f us/step = %.2f GFLOP/s; floats.Dot over the same %d multiply-adds %.2f GFLOP/s; the step at %.1f%% of the dot ceiling (%s)\n",
			stepSec*1e6, stepG, fl.macs(), dot, 100*stepG/dot, fl)
	}

	fmt.Fprintf(stdout, "sweep of %d runs, wall (CPU), medians of %d: sweep_basic peer (2 processes) %.2f s (%.2f s), sweep peer (2 processes) %.2f s (%.2f s), rewardmix sweep --workers 2 %.2f s (%.2f s); each repetition's wall: sweep_basic %s, sweep %s, go %s\n",
		sw.Len(), len(goWall), median(basic.wall), median(basic.cpu), median(strong.wall), median(strong.cpu), median(goWall), median(goCPU),
		secs(basic.wall), secs(strong.wall), secs(goWall))
	fmt.Fprintln(stdout, "(what each writes: rewardmix steps.parquet (zstd), runs.log, runs.csv, agg.csv and manifest.json; the peers raw float64 files of the same tables, metrics.f64 (every metric at every step), theta.f64, review.f64, runs.f64 and agg.f64 (mean and sd, without t intervals), as no Parquet library is installed for them)")
	if o.quick {
		fmt.Fprintln(stdout, "(quick: a 20-run sweep and one repetition; not the benchmark figure)")
	}
	fmt.Fprintf(stdout, "speedup_vs_numpy_basic: %.2f\n", median(basic.wall)/median(goWall))
	fmt.Fprintf(stdout, "speedup_vs_numpy: %.2f\n", median(strong.wall)/median(goWall))
	return stepErr
}

// sweepTOML is the timed sweep: the shipped incident preset, set to the
// peers' case as peerCase sets base (its thumbs signals and contexts), over
// thumbs weights x seeds.
func sweepTOML(base *sim.Config, weights []float64, seeds int) []byte {
	var b strings.Builder
	b.WriteString("# benchpeer: the incident preset in the peers' case, over thumbs weights x seeds.\nextends = \"incident\"\n")
	for _, n := range sim.Names(base.Signals) {
		if s := base.Signals[n]; s.Kind == reward.KindThumbs {
			fmt.Fprintf(&b, "\n[signals.%s]\nsource = %q\n", n, s.Source)
		}
	}
	for _, n := range sim.Names(base.Contexts) {
		fmt.Fprintf(&b, "\n[contexts.%s]\ncue_accuracy = %s\n", n, tomlFloat(base.Contexts[n].CueAccuracy))
	}
	b.WriteString("\n[sweep]\nmode = \"grid\"\nseeds = [")
	for i := 1; i <= seeds; i++ {
		if i > 1 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(i))
	}
	b.WriteString("]\n\n[[sweep.axis]]\nkey = \"signals.thumbs.weight\"\nvalues = [")
	for i, w := range weights {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tomlFloat(w))
	}
	b.WriteString("]\n")
	return []byte(b.String())
}

// tomlFloat writes x as a TOML float (1.0, not the integer 1).
func tomlFloat(x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if x == math.Trunc(x) {
		s += ".0"
	}
	return s
}

// timeGoRun returns the median time of sim.Run on cfg, after one warm-up.
func timeGoRun(ctx context.Context, cfg *sim.Config, reps int) (float64, error) {
	var ts []float64
	for r := 0; r <= reps; r++ {
		start := time.Now()
		if _, err := sim.Run(ctx, cfg); err != nil {
			return 0, err
		}
		if r > 0 {
			ts = append(ts, time.Since(start).Seconds())
		}
	}
	return median(ts), nil
}

// timeRunAll times sim.RunAll over every run of sw on workers goroutines.
func timeRunAll(ctx context.Context, sw *configs.Sweep, workers int) (float64, error) {
	start := time.Now()
	err := sim.RunAll(ctx, sw.Len(), workers,
		func(i int) (*sim.Config, error) { return sw.Config(sw.Run(i)) },
		func(i int, res *sim.Result, err error) error { return err })
	return time.Since(start).Seconds(), err
}

// profileRunAll writes a CPU profile of sim.RunAll over sw on 2 workers.
func profileRunAll(ctx context.Context, sw *configs.Sweep, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	_, err = timeRunAll(ctx, sw, 2)
	pprof.StopCPUProfile()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func secs(x []float64) string {
	parts := make([]string, len(x))
	for i, v := range x {
		parts[i] = fmt.Sprintf("%.2f", v)
	}
	return strings.Join(parts, " ")
}
