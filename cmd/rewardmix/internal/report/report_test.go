package report

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim"
)

// TestHandout: a preset's report carries every step of the story, each
// with its title, its text and its question, in order.
func TestHandout(t *testing.T) {
	cfg, err := configs.Preset("incident")
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := OfRun(t.Context(), res, "incident", "incident", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Story) < 5 || len(rep.Figures) != 4 || rep.Headline == nil || rep.Review == nil {
		t.Fatalf("%d story steps, %d figures, headline %v, review %v", len(rep.Story), len(rep.Figures), rep.Headline, rep.Review)
	}
	var b bytes.Buffer
	if err := rep.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	at := 0
	for i, st := range rep.Story {
		if st.N != i+1 || st.Text == "" || st.Ask == "" {
			t.Errorf("step %d: %+v", i+1, st)
		}
		k := strings.Index(html[at:], strings.ReplaceAll(st.Title, "'", "&#39;"))
		if k < 0 {
			t.Fatalf("the handout lacks step %q after the steps before it", st.Title)
		}
		at += k
	}
	noHandout, err := OfRun(t.Context(), res, "incident", "my.toml", false)
	if err != nil || noHandout.Story != nil {
		t.Errorf("a report without the handout: %v, %d steps", err, len(noHandout.Story))
	}
}
