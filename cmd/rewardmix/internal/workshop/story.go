package workshop

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/url"
	"strings"
	"text/template"

	"github.com/rewardmix/rewardmix/sim"
)

// A storyStep is one stop of the workshop's story mode: a scenario, the
// part of the page to look at, and a sentence or two for the room whose
// numbers come from the scenario's own run (never typed in), with a
// question to ask. The words that are not numbers make claims (it rises,
// the launch is blocked); story_test.go checks each claim against the run.
type storyStep struct {
	Title string
	Query string // scenario parameters
	Focus string // headline, drift, segments, influence, review or deployment
	Text  string // text/template over storyData
	Ask   string
}

// story walks through the incident in order: the mix before, the update,
// the drift, the review, monitoring and rollback, then the fixes.
var story = []storyStep{
	{
		Title: "The mix before the update",
		Query: "preset=baseline",
		Focus: "influence",
		Text: `Two rewards train the model: correctness, and the Model Spec reward, which penalises sycophancy. ` +
			`The Model Spec reward carries {{pct .H.InfluenceBefore}} of each policy update, and {{pct .H.SycophancyAfter}} of responses end up sycophantic.`,
		Ask: "What in this mix keeps sycophancy low?",
	},
	{
		Title: "The update",
		Query: "preset=incident",
		Focus: "influence",
		Text: `At step {{.H.UpdateStep}} a thumbs-up reward from users and a memory reward join the mix, and the weights are renormalised to sum to one: ` +
			`the Model Spec reward's effective weight falls from {{num .H.WeightBefore}} to {{num .H.WeightAfter}}, its share of the update from {{pct .H.InfluenceBefore}} to {{pct .H.InfluenceUpdate}}. ` +
			`Nothing was removed, and each change looked good alone.`,
		Ask: "Nothing was taken away from the Model Spec reward. Why did it lose ground?",
	},
	{
		Title: "The drift",
		Query: "preset=incident",
		Focus: "segments",
		Text: `Sycophancy rises from {{pct .H.SycophancyBefore}} to {{pct .H.SycophancyAfter}} of responses while the thumbs-up rate rises from {{pct .H.ThumbsBefore}} to {{pct .H.ThumbsAfter}}: users like it. ` +
			`For {{.H.Segment}} users ({{pct .H.SegmentShare}} of all), who give feedback most often and whose stance memory lets the model recall, it reaches {{pct .H.SegmentAfter}}.`,
		Ask: "Which dashboard would have shown this? Which would have hidden it?",
	},
	{
		Title: "The release review",
		Query: "preset=incident",
		Focus: "review",
		Text: `Offline evals pass, and the A/B test prefers the candidate in {{pct .H.ABPreference}} of comparisons{{if .H.ABSignificant}}, significantly{{end}}. ` +
			`{{.R.VibeFlags}} of {{.R.VibeChecks}} expert testers said it felt off, but vibe checks could not block: {{.H.Decision}}.`,
		Ask: "The testers were right. What would have let their judgement count?",
	},
	{
		Title: "Monitoring and rollback",
		Query: "preset=incident",
		Focus: "deployment",
		Text: `The thumbs-up rate rises after launch ({{signed .D.ThumbsTrend}}), so that dashboard stays quiet; complaints reveal the drift {{hours .D.HoursToDetection}} into the rollout, ` +
			`and the rollback is complete at {{hours .D.HoursToRollbackDone}}. By then {{count .H.TotalServed}} sycophantic responses were served, {{count .H.SegmentServed}} of them to {{.H.Segment}} users.`,
		Ask: "What did the monitoring measure, and what should it have measured?",
	},
	{
		Title: "Fix 1: absolute weights",
		Query: "preset=incident&weights=absolute",
		Focus: "headline",
		Text: `With absolute weights, adding signals no longer shrinks the Model Spec reward's weight (it stays {{num .H.WeightAfter}}), but thumbs at weight {{weight "thumbs"}} still outbid it: ` +
			`sycophancy ends at {{pct .H.SycophancyAfter}} ({{pct .Incident.SycophancyAfter}} in the incident). Dilution is gone; competition is not.`,
		Ask: "Move the thumbs slider down. Where does the Model Spec reward win again?",
	},
	{
		Title: "Fix 1, with a smaller thumbs weight",
		Query: "preset=incident&weights=absolute&w.thumbs=0.25",
		Focus: "segments",
		Text: `At thumbs weight {{weight "thumbs"}} the Model Spec reward wins the competition: sycophancy ends at {{pct .H.SycophancyAfter}} of all responses ` +
			`and {{pct .H.SegmentAfter}} for {{.H.Segment}} users, while the thumbs-up rate still rises to {{pct .H.ThumbsAfter}}.`,
		Ask: "The closed form predicts a critical weight ratio. What does it depend on?",
	},
	{
		Title: "Fix 2: normalise, then sum",
		Query: "preset=incident&aggregation=normalize_then_sum",
		Focus: "segments",
		Text: `Normalising each signal's rewards before summing them (GDPO) gives each signal a say by its weight rather than by its spread: ` +
			`here sycophancy ends at {{pct .H.SycophancyAfter}} against {{pct .Incident.SycophancyAfter}} in the incident, {{if lt .H.SycophancyAfter (half .Incident.SycophancyAfter)}}a real help{{else}}little change{{end}}, ` +
			`and {{.H.Segment}} users meet {{pct .H.SegmentAfter}}{{if eq .H.Decision "block"}}; users now prefer the incumbent in the A/B test, which blocks the launch{{end}}.`,
		Ask: "Which mechanism does this fix address, and which does it leave?",
	},
	{
		Title: "Fix 3: a sycophancy eval that blocks",
		Query: "preset=incident-gated",
		Focus: "review",
		Text: `Judged by the process adopted afterwards, the same training fails a targeted sycophancy eval with a remembered stance ` +
			`({{pct (gate "sycophancy_memory")}} against a threshold of {{pct (threshold "sycophancy_memory")}}), and behaviour issues now block. ` +
			`Decision: {{.H.Decision}}; nothing reaches users.`,
		Ask: "What does it cost to have an eval for every behaviour we care about?",
	},
	{
		Title: "Fix 4: an opt-in alpha",
		Query: "preset=incident-alpha",
		Focus: "deployment",
		Text: `The launch goes ahead, but first to volunteers asked to report what feels off: ` +
			`{{if .D.CaughtInAlpha}}the drift is caught in the alpha{{else}}the alpha misses the drift{{end}}, and {{count .H.SegmentServed}} sycophantic responses reach {{.H.Segment}} users, ` +
			`against {{count .Incident.SegmentServed}} in the incident.`,
		Ask: "Which of these fixes would you ship first?",
	},
}

// storyData is what a story step's text may use: the step's headline,
// review and deployment, and the incident's headline to compare against.
type storyData struct {
	H        Headline
	R        *sim.Review
	D        *sim.Deployment
	Incident Headline
}

// storyText renders a step's text for its scene, the signal weights of its
// scenario, and the incident's headline.
func storyText(st storyStep, sc *scene, weights map[string]float64, incident Headline) (string, error) {
	funcs := template.FuncMap{
		"pct":    Percent,
		"num":    func(x float64) string { return fmt.Sprintf("%.2f", x) },
		"signed": func(x float64) string { return fmt.Sprintf("%+.1f points", 100*x) },
		"hours":  func(x float64) string { return fmt.Sprintf("%.0f hours", x) },
		"count":  CountWords,
		"sub":    func(a, b int) int { return a - b },
		"half":   func(x float64) float64 { return x / 2 },
		"weight": func(s string) float64 { return weights[s] },
		"gate": func(n string) (float64, error) {
			g, err := findGate(sc.Review, n)
			return g.Value, err
		},
		"threshold": func(n string) (float64, error) {
			g, err := findGate(sc.Review, n)
			return g.Threshold, err
		},
	}
	t, err := template.New(st.Title).Funcs(funcs).Option("missingkey=error").Parse(st.Text)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	err = t.Execute(&b, storyData{H: sc.Headline, R: sc.Review, D: sc.Deployment, Incident: incident})
	return b.String(), err
}

func findGate(r *sim.Review, name string) (sim.Gate, error) {
	if r != nil {
		for _, g := range r.Gates {
			if g.Name == name {
				return g, nil
			}
		}
	}
	return sim.Gate{}, fmt.Errorf("no review gate %q", name)
}

// storyScenario parses a step's scenario.
func storyScenario(st storyStep) (scenario, error) {
	q, err := url.ParseQuery(st.Query)
	if err != nil {
		return scenario{}, err
	}
	return parseScenario(q)
}

// Percent formats a rate as a percentage with the precision it needs: two
// decimals below 1%, one below 10% and near 100% (99.6% must not read as
// 100%), none otherwise.
func Percent(x float64) string {
	switch p, a := 100*x, math.Abs(100*x); {
	case p == 0:
		return "0%"
	case a < 1:
		return fmt.Sprintf("%.2f%%", p)
	case a < 10 || (a > 99.5 && a < 100):
		return fmt.Sprintf("%.1f%%", p)
	default:
		return fmt.Sprintf("%.0f%%", p)
	}
}

// CountWords formats a count of responses in words a room reads at a glance.
func CountWords(x float64) string {
	switch a := math.Abs(x); {
	case a >= 1e9:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", x/1e9), ".0") + " billion"
	case a >= 1e6:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", x/1e6), ".0") + " million"
	case a >= 1e4:
		return fmt.Sprintf("%.0f thousand", x/1e3)
	default:
		return fmt.Sprintf("%.0f", x)
	}
}

// HandoutStep is one step of the story as the printed handout shows it.
type HandoutStep struct {
	N                int
	Title, Text, Ask string
	H                Headline
	R                *sim.Review
	D                *sim.Deployment
}

// Handout runs every step of the story (each scenario once) and renders
// its text, for the printed handout.
func Handout(ctx context.Context) ([]HandoutStep, error) {
	done := map[string]*scene{}
	run := func(s scenario) (*scene, error) {
		key := s.query().Encode()
		if sc, ok := done[key]; ok {
			return sc, nil
		}
		cfg, err := s.config()
		if err != nil {
			return nil, err
		}
		res, err := sim.Run(ctx, cfg)
		if err != nil {
			return nil, err
		}
		sc := &scene{Headline: HeadlineOf(cfg, &res.Summary, res.Review, res.Deployment), Review: res.Review, Deployment: res.Deployment}
		done[key] = sc
		return sc, nil
	}
	inc, err := run(mustStoryScenario("preset=incident"))
	if err != nil {
		return nil, err
	}
	var out []HandoutStep
	for i, st := range story {
		s, err := storyScenario(st)
		if err != nil {
			return nil, err
		}
		sc, err := run(s)
		if err != nil {
			return nil, fmt.Errorf("story step %d: %w", i+1, err)
		}
		text, err := storyText(st, sc, s.Weights, inc.Headline)
		if err != nil {
			return nil, fmt.Errorf("story step %d: %w", i+1, err)
		}
		out = append(out, HandoutStep{N: i + 1, Title: st.Title, Text: text, Ask: st.Ask, H: sc.Headline, R: sc.Review, D: sc.Deployment})
	}
	return out, nil
}
