package ordered

import (
	"context"
	"sync"
)

// Run calls work(ctx, i) for i = 0..n-1 on up to workers goroutines (at
// least one) and emit(i, v) with each result in index order, never
// concurrently. work may be called concurrently; an error from it means
// the job was cut short by ctx and has no result. Run stops at the first
// error emit returns, or when ctx is done (with ctx.Err()), and returns
// that error; it returns nil once every result was emitted.
func Run[T any](ctx context.Context, n, workers int, work func(ctx context.Context, i int) (T, error),
	emit func(i int, v T) error) error {
	if workers < 1 {
		workers = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type done struct {
		i       int
		v       T
		stopped bool // the job was cut short by ctx
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
				v, err := work(ctx, i)
				results <- done{i: i, v: v, stopped: err != nil}
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
