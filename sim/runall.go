package sim

import (
	"context"

	"github.com/rewardmix/rewardmix/sim/internal/ordered"
)

// RunAll runs n configurations on up to workers goroutines and hands each
// result to emit in index order (0, 1, ..., n-1), whatever order they finish
// in, so that output written by emit does not depend on scheduling. config(i)
// returns the i-th configuration; a run that fails reaches emit with its
// error and does not stop the others. At most a small window of finished
// results waits for an earlier one, so memory stays bounded however large n
// is. RunAll stops at the first error emit returns, or when ctx is done, and
// returns that error; emit is never called concurrently.
func RunAll(ctx context.Context, n, workers int, config func(i int) (*Config, error),
	emit func(i int, res *Result, err error) error) error {
	type outcome struct {
		res *Result
		err error
	}
	return ordered.Run(ctx, n, workers,
		func(ctx context.Context, i int) (outcome, error) {
			res, err := runConfig(ctx, config, i)
			if err != nil && ctx.Err() != nil && err == ctx.Err() {
				return outcome{}, err // cut short: no result
			}
			return outcome{res, err}, nil
		},
		func(i int, o outcome) error { return emit(i, o.res, o.err) })
}

func runConfig(ctx context.Context, config func(i int) (*Config, error), i int) (*Result, error) {
	cfg, err := config(i)
	if err != nil {
		return nil, err
	}
	return Run(ctx, cfg)
}
