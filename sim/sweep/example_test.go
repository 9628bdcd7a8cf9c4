package sweep_test

import (
	"context"
	"fmt"
	"os"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim/results"
	"github.com/rewardmix/rewardmix/sim/sweep"
)

// Sweep the thumbs weight of a shortened incident with two seeds per
// point, then read the results back: the mean final sycophancy of each
// point (agg.csv), and the drift of one point over training, averaged over
// its seeds with a 95% confidence interval (steps.csv).
func Example() {
	const grid = `extends = "incident"
[train]
steps = 60
update_step = 30
[memory]
start_step = 30
[signals.thumbs]
start_step = 30
[signals.memory]
start_step = 30

[sweep]
seeds = [1, 2]
[[sweep.axis]]
key = "signals.thumbs.weight"
values = [0.0, 1.0, 3.0]
`
	s, err := configs.LoadSweep("grid.toml", []byte(grid), nil, configs.DefaultMaxRuns)
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "sweep-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	sum, err := sweep.Run(context.Background(), s, dir, sweep.Options{Workers: 2})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d runs, %d failed\n", sum.Runs, sum.Failed)

	src, err := results.Open(dir)
	if err != nil {
		panic(err)
	}
	points, err := src.Points("sycophancy_rate")
	if err != nil {
		panic(err)
	}
	for _, p := range points {
		fmt.Printf("thumbs weight %s: final sycophancy %.3f\n", p.Params[0], p.Mean)
	}

	byWeight, err := results.GroupBy(src, "signals.thumbs.weight")
	if err != nil {
		panic(err)
	}
	st, err := src.Steps([]string{"sycophancy_rate"}, byWeight, results.AllSteps)
	if err != nil {
		panic(err)
	}
	x, mean, lo, hi, n := st.Series("sycophancy_rate", 2) // thumbs weight 3
	for _, t := range []int{29, 60} {
		fmt.Printf("weight %s, step %.0f: %.3f [%.3f, %.3f] over %d seeds\n", byWeight.Labels[2], x[t], mean[t], lo[t], hi[t], n)
	}
	// Output:
	// 6 runs, 0 failed
	// thumbs weight 0.0: final sycophancy 0.057
	// thumbs weight 1.0: final sycophancy 0.136
	// thumbs weight 3.0: final sycophancy 0.209
	// weight 3.0, step 29: 0.066 [0.060, 0.072] over 2 seeds
	// weight 3.0, step 60: 0.209 [-0.018, 0.436] over 2 seeds
}
