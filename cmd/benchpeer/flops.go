package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"gonum.org/v1/gonum/floats"

	"github.com/rewardmix/rewardmix/sim"
)

// flops counts the floating-point additions, subtractions, multiplications
// and divisions of one training step of the expected algorithm as sim
// performs it (sim/run.go step, stepExpected, expectedRows and shareRows,
// the advantage shares' fast path under aggregation none; policy Logits
// and AddScore; reward.EffectiveWeights), with every signal active and
// memory on (BenchmarkStep's state after the update). Training no longer
// moves remembered stances
// (deployments do), so a prompt's P(sycophantic) and memory update are not
// part of the step. Exponentials, logarithms, square roots and comparisons
// are not counted.
type flops struct {
	B, A, S, D     int
	prompt, perRun int // per prompt; per step outside the prompts
	transcendental int // exp and log per step, not in the total
}

func stepFlops(cfg *sim.Config) flops {
	A, S, B := len(cfg.Responses), len(cfg.Signals), cfg.Train.BatchSize
	C := 2 * len(cfg.Contexts)
	D := (C + 1) * A // tabular and memory blocks
	f := flops{B: B, A: A, S: S, D: D}
	f.prompt = 3*A + // logits: tabular add; memory m*theta + add
		3*A + 1 + // softmax: subtract max, sum, 1/sum, scale
		2*S*A + // rewards r0 + m*slope
		2*S*A + // advantages: the pi-weighted mean
		2*S*A + // advantages: w * (r - mean)
		2*S*A + // coefficients weight * p * adv
		3*S*A + // AddScore per signal: tabular add; memory m*c + add
		6*A + // KL coefficients: l - log ref, kl = sum p v, p (v - kl)
		3*A + // AddScore of the KL term
		1 + 2*(S+1)*A + // variances v0 + m^2 v2 in every slot (the KL slot's zeros too), m^2
		2*S*A + // shareRows: X = sum_j w_j x_j
		4*S*A + 5*S // shareRows: sum c X, sum p v, and cov += cx + omega w^2 pv
	f.perRun = 2*S + // effective weights: sum and normalise
		1 + S + (S+1)*D + // scale by b/B (b = 1 under none) and -beta/B
		2*S + // advantage shares: Var(A) = sum_i cov_i, cov_i / Var(A)
		(S+1)*D + // total
		(S+1)*2*D + 2*D + S*2*D + 3*S + 1 + // decompose: norms, |g|, alignments, influences
		13*D // Adam
	f.transcendental = B * A
	return f
}

func (f flops) total() int { return f.B*f.prompt + f.perRun }

// macs is the number of multiply-adds the step's flops amount to.
func (f flops) macs() int { return (f.total() + 1) / 2 }

func (f flops) String() string {
	return fmt.Sprintf("one step = %d flops = %d prompts x %d + %d per step (scale, advantage shares, total, decomposition, Adam over %d parameters), "+
		"counting +,-,*,/ and not the %d exp/log", f.total(), f.B, f.prompt, f.perRun, f.D, f.transcendental)
}

// benchStep runs sim's BenchmarkStep/expected (one training step of the
// incident preset after the update, without evaluation) reps times and
// returns the median seconds per step.
func benchStep(ctx context.Context, benchtime string, reps int) (float64, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^BenchmarkStep$/^expected$",
		"-benchtime", benchtime, "-count", strconv.Itoa(reps), "./sim")
	cmd.Dir = moduleRoot()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("go test -bench BenchmarkStep ./sim: %v\n%s", err, out)
	}
	var ns []float64
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 4 && strings.HasPrefix(f[0], "BenchmarkStep/expected") && f[3] == "ns/op" {
			v, err := strconv.ParseFloat(f[2], 64)
			if err == nil {
				ns = append(ns, v)
			}
		}
	}
	if len(ns) == 0 {
		return 0, fmt.Errorf("go test -bench BenchmarkStep ./sim: no result in\n%s", out)
	}
	return median(ns) / 1e9, nil
}

// dotGFLOPs is the rate of floats.Dot over vectors of n elements (n
// multiply-adds, 2n flops), repeated for about 0.3 s, median of reps.
func dotGFLOPs(n, reps int) float64 {
	x, y := make([]float64, n), make([]float64, n)
	for i := range x {
		x[i], y[i] = 1+float64(i%7)/8, 1-float64(i%5)/8
	}
	var rates []float64
	sink := 0.0
	for r := 0; r < reps; r++ {
		iters := 0
		start := time.Now()
		for time.Since(start) < 300*time.Millisecond {
			for k := 0; k < 100; k++ {
				sink += floats.Dot(x, y)
			}
			iters += 100
		}
		rates = append(rates, 2*float64(n)*float64(iters)/time.Since(start).Seconds()/1e9)
	}
	if sink == 0 {
		panic("benchpeer: dot product vanished")
	}
	return median(rates)
}

// dotScaling is the speedup of a fixed amount of floats.Dot work on two
// goroutines over one, median of reps: what 2 workers can gain here.
func dotScaling(reps int) float64 {
	x := make([]float64, 4096)
	for i := range x {
		x[i] = float64(i%9) / 8
	}
	work := func(n int) (s float64) {
		for i := 0; i < n; i++ {
			s += floats.Dot(x, x)
		}
		return s
	}
	const n = 100_000 // about 0.15 s on one core
	var rs []float64
	for r := 0; r < reps; r++ {
		start := time.Now()
		work(2 * n)
		one := time.Since(start)
		start = time.Now()
		var wg sync.WaitGroup
		for g := 0; g < 2; g++ {
			wg.Add(1)
			go func() { defer wg.Done(); work(n) }()
		}
		wg.Wait()
		rs = append(rs, one.Seconds()/time.Since(start).Seconds())
	}
	return median(rs)
}
