package workshop

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
// mode, revisit the same scenarios); identical requests share one run,
// which goes on apart from any one request, so a client that leaves
// fails no one else. At most `slots` runs go at once. A run that finds
// every slot taken waits for one, for at most `wait` (QueueWait in a
// server), with at most MaxQueued runs waiting at a time; a run that
// arrives when MaxQueued already wait, or that waits `wait` without a slot,
// fails with errBusy (503), and its failure is not cached.
type workshop struct {
	slots chan struct{}
	wait  time.Duration
	base  context.Context // cancelled when the server stops

	mu     sync.Mutex
	cache  map[string]*list.Element // query -> *sceneEntry in lru
	lru    *list.List
	max    int
	queued int // runs waiting for a slot (at most MaxQueued)
}

type sceneEntry struct {
	key  string
	done chan struct{} // closed when sc or err is set
	sc   *scene
	took time.Duration
	err  error
}

// errBusy is returned for a run that finds MaxQueued runs already waiting
// for a slot, or that waits its time without getting one.
var errBusy = errors.New("the server is busy with other simulations; try again")

// errSlow is returned when a scenario's run and figures take longer than
// sceneTimeout.
var errSlow = errors.New("the simulation took too long")

// sceneTimeout bounds one scenario's run and figures (the largest one
// allowed takes about half a second on this project's 2-core machine).
const sceneTimeout = 30 * time.Second

// Queue limits: how many runs may wait for a simulation slot at once, and
// how long each may wait. A run that arrives when MaxQueued already wait is
// refused at once; one that waits QueueWait without a slot is refused then.
// Both get 503 (busy).
const (
	MaxQueued = 32
	QueueWait = 10 * time.Second
)

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

// scene returns the scene of s and, when this request started its run, the
// time the run and its figures took (zero from the cache or a shared run).
// ctx is the request's: when it ends, the caller stops waiting; the run
// goes on for the others and the cache.
func (w *workshop) scene(ctx context.Context, s scenario) (*scene, time.Duration, error) {
	key := s.query().Encode()
	w.mu.Lock()
	el, hit := w.cache[key]
	if hit {
		w.lru.MoveToFront(el)
	} else {
		el = w.lru.PushFront(&sceneEntry{key: key, done: make(chan struct{})})
		w.cache[key] = el
		for w.lru.Len() > w.max {
			old := w.lru.Back()
			w.lru.Remove(old)
			delete(w.cache, old.Value.(*sceneEntry).key)
		}
	}
	e := el.Value.(*sceneEntry)
	w.mu.Unlock()
	if !hit {
		go w.run(e, s)
	}
	select {
	case <-e.done:
		if hit {
			return e.sc, 0, e.err
		}
		return e.sc, e.took, e.err
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
}

// run computes e and closes e.done. A failure is not cached: a busy server
// says nothing about the scenario.
func (w *workshop) run(e *sceneEntry, s scenario) {
	e.sc, e.took, e.err = w.compute(s)
	if e.err != nil {
		w.mu.Lock()
		if el, ok := w.cache[e.key]; ok && el.Value == e {
			w.lru.Remove(el)
			delete(w.cache, e.key)
		}
		w.mu.Unlock()
	}
	close(e.done)
}

func (w *workshop) compute(s scenario) (*scene, time.Duration, error) {
	cfg, err := s.config()
	if err != nil {
		return nil, 0, err
	}
	w.mu.Lock()
	if w.queued >= MaxQueued {
		w.mu.Unlock()
		return nil, 0, errBusy
	}
	w.queued++
	w.mu.Unlock()
	timer := time.NewTimer(w.wait)
	defer timer.Stop()
	select {
	case w.slots <- struct{}{}:
		err = nil
	case <-timer.C:
		err = errBusy
	case <-w.base.Done():
		err = w.base.Err()
	}
	w.mu.Lock()
	w.queued--
	w.mu.Unlock()
	if err != nil {
		return nil, 0, err
	}
	defer func() { <-w.slots }()
	start := time.Now()
	rctx, cancel := context.WithTimeout(w.base, sceneTimeout)
	defer cancel()
	sc, _, err := simulateScene(rctx, cfg)
	if errors.Is(err, context.DeadlineExceeded) && w.base.Err() == nil {
		return nil, 0, fmt.Errorf("%w (more than %v)", errSlow, sceneTimeout)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("simulation: %w", err)
	}
	sc.Scenario = &s
	sc.Query = s.query().Encode()
	return sc, time.Since(start), nil
}
