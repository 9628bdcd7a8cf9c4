package main

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// workshop computes scenes for `serve`: each scenario is run once and kept
// in a small LRU cache (a room moving sliders back and forth, and story
// mode, revisit the same scenarios), identical requests in flight share one
// run, and at most `slots` runs go at once; a request that cannot get a
// slot within `wait` is refused as busy.
type workshop struct {
	slots chan struct{}
	wait  time.Duration
	base  context.Context // cancelled when the server stops

	mu    sync.Mutex
	cache map[string]*list.Element // query -> *sceneEntry in lru
	lru   *list.List
	max   int
}

type sceneEntry struct {
	key  string
	done chan struct{} // closed when sc or err is set
	sc   *scene
	err  error
}

// errBusy is returned when every simulation slot stays taken.
var errBusy = errors.New("the server is busy with other simulations; try again")

// sceneTimeout bounds one scenario's run and figures (the largest one
// allowed takes about a second on this project's 2-core machine).
const sceneTimeout = 30 * time.Second

func newWorkshop(base context.Context, slots, cacheSize int, wait time.Duration) *workshop {
	return &workshop{
		slots: make(chan struct{}, slots),
		wait:  wait,
		base:  base,
		cache: map[string]*list.Element{},
		lru:   list.New(),
		max:   cacheSize,
	}
}

// scene returns the scene of s, from the cache (taking no time) or by
// running it (with the time the run and its figures took). ctx is
// the request's: when it ends, the caller stops waiting, but a run already
// started finishes for the cache.
func (w *workshop) scene(ctx context.Context, s scenario) (*scene, time.Duration, error) {
	key := s.query().Encode()
	w.mu.Lock()
	if el, ok := w.cache[key]; ok {
		w.lru.MoveToFront(el)
		e := el.Value.(*sceneEntry)
		w.mu.Unlock()
		select {
		case <-e.done:
			return e.sc, 0, e.err // from the cache: no time spent here
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
	e := &sceneEntry{key: key, done: make(chan struct{})}
	w.cache[key] = w.lru.PushFront(e)
	for w.lru.Len() > w.max {
		old := w.lru.Back()
		w.lru.Remove(old)
		delete(w.cache, old.Value.(*sceneEntry).key)
	}
	w.mu.Unlock()

	sc, took, err := w.compute(ctx, s)
	e.sc, e.err = sc, err
	if e.err != nil {
		// Failures are not cached: a busy server or a cancelled request
		// says nothing about the scenario.
		w.mu.Lock()
		if el, ok := w.cache[key]; ok && el.Value == e {
			w.lru.Remove(el)
			delete(w.cache, key)
		}
		w.mu.Unlock()
	}
	close(e.done)
	return sc, took, err
}

func (w *workshop) compute(ctx context.Context, s scenario) (*scene, time.Duration, error) {
	cfg, err := s.config()
	if err != nil {
		return nil, 0, err
	}
	timer := time.NewTimer(w.wait)
	defer timer.Stop()
	select {
	case w.slots <- struct{}{}:
	case <-timer.C:
		return nil, 0, errBusy
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	defer func() { <-w.slots }()
	start := time.Now()
	rctx, cancel := context.WithTimeout(w.base, sceneTimeout)
	defer cancel()
	sc, _, err := simulateScene(rctx, cfg)
	if err != nil {
		return nil, 0, fmt.Errorf("simulation: %w", err)
	}
	sc.Scenario = &s
	sc.Query = s.query().Encode()
	return sc, time.Since(start), nil
}
