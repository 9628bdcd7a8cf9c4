package configs_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rewardmix/rewardmix/configs"
)

func TestApplyReview(t *testing.T) {
	base := mustPreset(t, "incident")
	got, err := configs.ApplyReview(base, "gates.toml", []byte("[review]\nrule = \"post_incident\"\n[review.vibe]\ntesters = 9\n[deployment]\nlag_hours = 2.0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Review.Rule != "post_incident" || got.Review.Vibe.Testers != 9 || got.Deployment.LagHours != 2 {
		t.Errorf("applied: rule %q testers %d lag %g", got.Review.Rule, got.Review.Vibe.Testers, got.Deployment.LagHours)
	}
	// Keys not written keep their values; the input is not modified.
	if got.Review.Vibe.Prompts != base.Review.Vibe.Prompts || got.Review.Offline != base.Review.Offline {
		t.Error("keys the gates file does not write changed")
	}
	if base.Review.Rule != "incident" || base.Review.Vibe.Testers == 9 {
		t.Error("ApplyReview modified its input")
	}
	want := mustPreset(t, "incident")
	want.Review.Rule, want.Review.Vibe.Testers, want.Deployment.LagHours = "post_incident", 9, 2
	diffConfigs(t, got, want)

	tests := []struct {
		name, text, key, at, msg string
	}{
		{"another table", "[review]\nrule = \"incident\"\n\n[train]\nsteps = 3\n", "train", "[train]", "a gates file sets only [review] and [deployment]"},
		{"a top-level key", "seed = 3\n", "seed", "seed", "a gates file sets only"},
		{"out of range", "[review.ab]\n  alpha = 0.0\n", "review.ab.alpha", "alpha", "0 must be in (0, 1)"},
		{"unknown key", "[deployment]\nlag = 3.0\n", "deployment.lag", "lag", "unknown key"},
		{"syntax", "[review\n", "", "", "expected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := configs.ApplyReview(base, "gates.toml", []byte(tc.text))
			var ce *configs.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v, want a *configs.Error", err, err)
			}
			if ce.File != "gates.toml" || ce.Key != tc.key {
				t.Errorf("file %q key %q, want gates.toml and %q", ce.File, ce.Key, tc.key)
			}
			if tc.at != "" {
				line, col := posOf(t, tc.text, tc.at)
				if ce.Line != line || ce.Col != col {
					t.Errorf("position %d:%d, want %d:%d", ce.Line, ce.Col, line, col)
				}
				if want := fmt.Sprintf("gates.toml:%d:%d: %s: ", line, col, tc.key); !strings.HasPrefix(err.Error(), want) {
					t.Errorf("Error() = %q, want it to start %q", err, want)
				}
			} else if ce.Line == 0 {
				t.Errorf("no position: %v", err)
			}
			if !strings.Contains(ce.Msg, tc.msg) {
				t.Errorf("Msg = %q, want it to contain %q", ce.Msg, tc.msg)
			}
		})
	}
}
