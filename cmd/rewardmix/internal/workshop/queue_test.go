package workshop

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeQueue pins what Handler's documentation says: with every slot
// taken, MaxQueued distinct scenarios wait for one; the next is refused
// at once with 503; the waiting ones run when a slot frees.
func TestServeQueue(t *testing.T) {
	srv, w := testServer(t, 1, time.Minute)
	w.slots <- struct{}{} // every slot taken
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	codes := make(chan int, MaxQueued)
	for i := range MaxQueued {
		go func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/scene?steps=20&update_step=10&users=50&seed=%d", srv.URL, 100+i), nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				codes <- -1
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		w.mu.Lock()
		n := w.queued
		w.mu.Unlock()
		if n == MaxQueued {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d runs waiting, want %d", n, MaxQueued)
		}
	}
	start := time.Now()
	code, m, _ := get(t, srv.URL+"/api/scene?steps=20&update_step=10&users=50&seed=99")
	if msg, _ := m["error"].(string); code != http.StatusServiceUnavailable || !strings.Contains(msg, "busy") {
		t.Errorf("with %d runs waiting: status %d, %v; want 503 busy", MaxQueued, code, m)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the refusal took %v; want it at once", d)
	}
	<-w.slots // a slot frees: the waiting runs go, one at a time
	for range MaxQueued {
		if c := <-codes; c != http.StatusOK {
			t.Errorf("a waiting request got %d, want 200", c)
		}
	}
}
