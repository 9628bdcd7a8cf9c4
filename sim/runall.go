package sim

import (
	"context"
	"sync"
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
	return RunAllPrepared(ctx, n, workers, config,
		func(i int, res *Result, err error) outcome { return outcome{res, err} },
		func(i int, o outcome) error { return emit(i, o.res, o.err) })
}

// RunAllPrepared is RunAll with a prepare step that runs on the worker
// goroutine right after run i finishes, so that the work of turning a
// result into output (formatting, encoding) is done in parallel and emit,
// which keeps the order, only writes. prepare may be called concurrently.
func RunAllPrepared[T any](ctx context.Context, n, workers int, config func(i int) (*Config, error),
	prepare func(i int, res *Result, err error) T, emit func(i int, v T) error) error {
	if workers < 1 {
		workers = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type done struct {
		i       int
		v       T
		stopped bool // the run was cut short by ctx
	}
	window := 4 * workers // results that may be finished ahead of the next one to emit
	tokens := make(chan struct{}, window)
	jobs := make(chan int)
	results := make(chan done, window)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				cfg, err := config(i)
				var res *Result
				if err == nil {
					res, err = Run(ctx, cfg)
				}
				if err != nil && ctx.Err() != nil && err == ctx.Err() {
					results <- done{i: i, stopped: true}
					continue
				}
				results <- done{i: i, v: prepare(i, res, err)}
			}
		}()
	}
	go func() { // feed jobs, never more than window ahead of emission
		defer close(jobs)
		for i := 0; i < n; i++ {
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

	pending := map[int]done{}
	next := 0
	var firstErr error
	for d := range results {
		if firstErr != nil {
			continue // drain
		}
		pending[d.i] = d
		for {
			p, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			<-tokens
			if p.stopped {
				firstErr = ctx.Err()
				cancel()
				break
			}
			if err := emit(p.i, p.v); err != nil {
				firstErr = err
				cancel()
				break
			}
		}
	}
	if firstErr == nil && next < n {
		firstErr = ctx.Err()
	}
	return firstErr
}
