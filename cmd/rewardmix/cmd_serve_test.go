package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestServeCommand: the command refuses bad flags with exit 2, and warns
// when it listens beyond loopback.
func TestServeCommand(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--addr", "nonsense"},
		{"serve", "--max-sims", "0"},
		{"serve", "extra"},
	} {
		if r := rewardmix(t, args...); r.code != exitInput {
			t.Errorf("%v: exit %d, want %d (%s)", args, r.code, exitInput, r.stderr)
		}
	}
	for addr, warn := range map[string]bool{"127.0.0.1:0": false, "0.0.0.0:0": true} {
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		var out, errb bytes.Buffer
		err := runServe(ctx, []string{"--addr", addr}, &out, &errb)
		cancel()
		if err != nil {
			t.Errorf("serve --addr %s: %v", addr, err)
		}
		if !strings.Contains(out.String(), "http://") {
			t.Errorf("serve --addr %s printed no URL: %q", addr, out.String())
		}
		if got := strings.Contains(errb.String(), "warning"); got != warn {
			t.Errorf("serve --addr %s: warning printed %v, want %v (%q)", addr, got, warn, errb.String())
		}
	}
}
