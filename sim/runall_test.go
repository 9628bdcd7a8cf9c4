package sim_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rewardmix/rewardmix/sim"
)

// smallRun is the incident preset shrunk to 40 steps and 50 users, with
// seed and learning rate set from i so that every run differs.
func smallRun(t testing.TB, i int) *sim.Config {
	t.Helper()
	cfg := preset(t, "incident")
	cfg.Train.Steps, cfg.Train.UpdateStep = 40, 20
	setStart(cfg, 20)
	cfg.Population.Users = 50
	cfg.Seed = uint64(i + 1)
	cfg.Train.LearningRate = 0.02 + 0.01*float64(i%5)
	return cfg
}

// emitted records what RunAll hands to emit, and fails the test if emit is
// ever called concurrently.
type emitted struct {
	t       *testing.T
	busy    atomic.Bool
	indices []int
	results []*sim.Result
	errs    []error
	hook    func(i int) error // optional, called inside emit
}

func (e *emitted) emit(i int, res *sim.Result, err error) error {
	if !e.busy.CompareAndSwap(false, true) {
		e.t.Error("emit called concurrently")
	}
	defer e.busy.Store(false)
	e.indices = append(e.indices, i)
	e.results = append(e.results, res)
	e.errs = append(e.errs, err)
	if e.hook != nil {
		return e.hook(i)
	}
	return nil
}

func sameResult(a, b *sim.Result) bool {
	return reflect.DeepEqual(a.Metrics, b.Metrics) && reflect.DeepEqual(a.Values, b.Values) &&
		reflect.DeepEqual(a.Summary, b.Summary) && reflect.DeepEqual(a.Policy.Theta, b.Policy.Theta)
}

// TestRunAllOrder: whatever order runs finish in, emit sees them in index
// order, each with its own result, equal to a sequential sim.Run. Run 0 is
// held back until a worker has finished another run and asked for its next
// configuration, so that with two or more workers runs finish out of order.
func TestRunAllOrder(t *testing.T) {
	const n = 24
	want := make([]*sim.Result, n)
	for i := range want {
		want[i] = run(t, smallRun(t, i))
	}
	for _, workers := range []int{1, 2, 8} {
		t.Run(fmt.Sprint(workers, " workers"), func(t *testing.T) {
			later := make(chan struct{}) // closed when config(workers) is called
			var once sync.Once
			var heldBack atomic.Bool
			config := func(i int) (*sim.Config, error) {
				if workers > 1 && i == workers {
					once.Do(func() { close(later) })
				}
				if workers > 1 && i == 0 {
					select {
					case <-later:
						heldBack.Store(true)
					case <-time.After(20 * time.Second):
						t.Error("no worker asked for another run while run 0 was held back")
					}
				}
				return smallRun(t, i), nil
			}
			e := &emitted{t: t}
			if err := sim.RunAll(context.Background(), n, workers, config, e.emit); err != nil {
				t.Fatalf("RunAll: %v", err)
			}
			if workers > 1 && !heldBack.Load() {
				t.Error("run 0 was not held back: the test did not make runs finish out of order")
			}
			checkOrder(t, e.indices, n)
			for i, res := range e.results {
				if e.errs[i] != nil || res == nil {
					t.Fatalf("run %d: result %v, error %v", i, res, e.errs[i])
				}
				if !sameResult(res, want[i]) {
					t.Errorf("run %d: result differs from sequential sim.Run of config %d", i, i)
				}
			}
		})
	}
}

func checkOrder(t *testing.T, got []int, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("emit called %d times, want %d", len(got), n)
	}
	for k, i := range got {
		if i != k {
			t.Fatalf("emit order %v, want 0..%d", got, n-1)
		}
	}
}

// TestRunAllFailures: a run whose config cannot be made, or that sim.Run
// refuses, reaches emit with its error; the others complete.
func TestRunAllFailures(t *testing.T) {
	const n = 10
	errBuild := errors.New("no config for run 3")
	config := func(i int) (*sim.Config, error) {
		switch i {
		case 3:
			return nil, errBuild
		case 6:
			cfg := smallRun(t, i)
			cfg.Train.Beta = -1
			return cfg, nil
		}
		return smallRun(t, i), nil
	}
	for _, workers := range []int{1, 3} {
		e := &emitted{t: t}
		if err := sim.RunAll(context.Background(), n, workers, config, e.emit); err != nil {
			t.Fatalf("%d workers: RunAll returned %v; failed runs must not stop it", workers, err)
		}
		checkOrder(t, e.indices, n)
		var fe *sim.FieldError
		for i := range e.indices {
			switch {
			case i == 3:
				if !errors.Is(e.errs[i], errBuild) || e.results[i] != nil {
					t.Errorf("run 3: %v, %v; want the config error and no result", e.results[i], e.errs[i])
				}
			case i == 6:
				if !errors.As(e.errs[i], &fe) || fe.Key != "train.beta" || e.results[i] != nil {
					t.Errorf("run 6: %v, %v; want a FieldError for train.beta and no result", e.results[i], e.errs[i])
				}
			case e.errs[i] != nil || e.results[i] == nil:
				t.Errorf("run %d: %v, %v; want a result", i, e.results[i], e.errs[i])
			}
		}
	}
}

// TestRunAllEmitError: the first error emit returns stops RunAll, which
// returns it; emit is not called again.
func TestRunAllEmitError(t *testing.T) {
	errStop := errors.New("disk full")
	for _, workers := range []int{1, 4} {
		var configs atomic.Int32
		config := func(i int) (*sim.Config, error) {
			configs.Add(1)
			return smallRun(t, i), nil
		}
		e := &emitted{t: t, hook: func(i int) error {
			if i == 4 {
				return errStop
			}
			return nil
		}}
		const n = 200
		err := sim.RunAll(context.Background(), n, workers, config, e.emit)
		if !errors.Is(err, errStop) {
			t.Errorf("%d workers: RunAll returned %v, want the emit error", workers, err)
		}
		checkOrder(t, e.indices, 5)
		// RunAll stays a bounded window ahead of emission.
		if c := configs.Load(); c > 5+8*int32(workers) {
			t.Errorf("%d workers: %d configs made for 5 emitted runs", workers, c)
		}
	}
}

// TestRunAllCancel: a cancelled context stops RunAll, which returns
// ctx.Err(); what was emitted is a prefix of the runs, in order.
func TestRunAllCancel(t *testing.T) {
	config := func(i int) (*sim.Config, error) { return smallRun(t, i), nil }
	for _, workers := range []int{1, 3} {
		ctx, cancel := context.WithCancel(context.Background())
		e := &emitted{t: t, hook: func(i int) error {
			if i == 2 {
				cancel()
			}
			return nil
		}}
		const n = 200
		err := sim.RunAll(ctx, n, workers, config, e.emit)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%d workers: RunAll returned %v, want context.Canceled", workers, err)
		}
		if len(e.indices) < 3 || len(e.indices) == n {
			t.Errorf("%d workers: %d runs emitted after cancelling at the third of %d", workers, len(e.indices), n)
		}
		checkOrder(t, e.indices, len(e.indices))
		for k, err := range e.errs {
			if err != nil {
				t.Errorf("%d workers: run %d reached emit with %v; an interrupted run is not a result", workers, k, err)
			}
		}
		cancel()
	}

	// Cancelled before it starts: nothing runs.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e := &emitted{t: t}
	if err := sim.RunAll(ctx, 5, 2, config, e.emit); !errors.Is(err, context.Canceled) {
		t.Errorf("RunAll with a cancelled context returned %v", err)
	}
	if len(e.indices) != 0 {
		t.Errorf("RunAll with a cancelled context emitted %v", e.indices)
	}
}

// TestRunAllCancelMidRun: cancelling while long runs are in flight
// interrupts them; none reaches emit as a failure.
func TestRunAllCancelMidRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var started atomic.Int32
	config := func(i int) (*sim.Config, error) {
		cfg := smallRun(t, i)
		cfg.Train.Steps = 200_000 // far longer than the test
		if started.Add(1) == 2 {
			go func() { time.Sleep(50 * time.Millisecond); cancel() }()
		}
		return cfg, nil
	}
	e := &emitted{t: t}
	done := make(chan error)
	go func() { done <- sim.RunAll(ctx, 4, 2, config, e.emit) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("RunAll returned %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("RunAll did not stop after its context was cancelled")
	}
	if len(e.indices) != 0 {
		t.Errorf("interrupted runs reached emit: %v %v", e.indices, e.errs)
	}
}

func TestRunAllEmpty(t *testing.T) {
	e := &emitted{t: t}
	config := func(i int) (*sim.Config, error) { t.Error("config called"); return nil, nil }
	if err := sim.RunAll(context.Background(), 0, 0, config, e.emit); err != nil || len(e.indices) != 0 {
		t.Errorf("no runs: %v, emitted %v", err, e.indices)
	}
	// workers < 1 means one.
	config = func(i int) (*sim.Config, error) { return smallRun(t, i), nil }
	if err := sim.RunAll(context.Background(), 3, 0, config, e.emit); err != nil {
		t.Fatalf("0 workers: %v", err)
	}
	checkOrder(t, e.indices, 3)
}
