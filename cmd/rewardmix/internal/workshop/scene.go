package workshop

import (
	"bytes"
	"context"
	"fmt"
	"math"

	"github.com/rewardmix/rewardmix/plots"
	"github.com/rewardmix/rewardmix/sim"
	"github.com/rewardmix/rewardmix/sim/results"
)

// A scene is what the workshop shows of one run: the numbers that matter,
// the drift, segments and influence figures as inline SVG, the release
// review and the deployment. `serve` sends it as JSON, `report` lays it
// out as HTML.
type scene struct {
	Name       string                `json:"name"`
	Query      string                `json:"query"` // the canonical scenario, as query parameters
	Scenario   *scenario             `json:"scenario,omitempty"`
	Headline   Headline              `json:"headline"`
	Figures    map[plots.Kind]string `json:"figures"` // kind -> <svg> element
	Review     *sim.Review           `json:"review,omitempty"`
	Deployment *sim.Deployment       `json:"deployment,omitempty"`
}

// Headline holds the numbers of a run the page and the report show as
// large text.
type Headline struct {
	Primary    string `json:"primary"`
	UpdateStep int    `json:"update_step"`
	// The primary signal's share of the update and effective weight just
	// before the update, at it, and at the end.
	InfluenceBefore float64 `json:"influence_before"`
	InfluenceUpdate float64 `json:"influence_update"`
	InfluenceAfter  float64 `json:"influence_after"`
	WeightBefore    float64 `json:"weight_before"`
	WeightAfter     float64 `json:"weight_after"`
	// Sycophancy over all users, and in Segment: the smallest segment, the
	// minority where targeted sycophancy hides from population averages.
	SycophancyBefore float64 `json:"sycophancy_before"`
	SycophancyAfter  float64 `json:"sycophancy_after"`
	Segment          string  `json:"segment"`
	SegmentShare     float64 `json:"segment_share"`
	SegmentBefore    float64 `json:"segment_before"`
	SegmentAfter     float64 `json:"segment_after"`
	ThumbsBefore     float64 `json:"thumbs_before"`
	ThumbsAfter      float64 `json:"thumbs_after"`
	// The review (empty Decision when there was none): the A/B preference
	// for the candidate, whether it was significant, and the decision.
	Decision      string  `json:"decision"`
	ABPreference  float64 `json:"ab_preference"`
	ABSignificant bool    `json:"ab_significant"`
	// Sycophantic responses served before the rollback completed, to
	// Segment and in all (zero when the launch was blocked).
	SegmentServed float64 `json:"segment_served"`
	TotalServed   float64 `json:"total_served"`
}

// HeadlineOf picks the headline numbers out of a run's summary, review and
// deployment.
func HeadlineOf(cfg *sim.Config, s *sim.Summary, rev *sim.Review, dep *sim.Deployment) Headline {
	h := Headline{
		Primary:          s.Primary,
		UpdateStep:       s.UpdateStep,
		InfluenceBefore:  s.Before["influence/"+s.Primary],
		InfluenceUpdate:  s.AtUpdate["influence/"+s.Primary],
		InfluenceAfter:   s.After["influence/"+s.Primary],
		WeightBefore:     s.Before["weight/"+s.Primary],
		WeightAfter:      s.After["weight/"+s.Primary],
		SycophancyBefore: s.Before["sycophancy_rate"],
		SycophancyAfter:  s.After["sycophancy_rate"],
		ThumbsBefore:     s.Before["thumbs_up_rate"],
		ThumbsAfter:      s.After["thumbs_up_rate"],
	}
	h.SegmentShare = math.Inf(1)
	for _, seg := range s.Segments { // sorted, so ties go to the first name
		if sh := cfg.Segments[seg].Share; sh < h.SegmentShare {
			h.Segment, h.SegmentShare = seg, sh
		}
	}
	if h.Segment == "" {
		h.SegmentShare = 0
	}
	h.SegmentBefore = s.Before["sycophancy_rate/"+h.Segment]
	h.SegmentAfter = s.After["sycophancy_rate/"+h.Segment]
	if rev != nil {
		h.Decision = rev.Decision
		h.ABPreference = rev.AB.Preference
		h.ABSignificant = rev.AB.Significant
	}
	if dep != nil {
		h.SegmentServed = dep.Sycophantic[h.Segment]
		h.TotalServed = dep.SycophanticTotal
	}
	return h
}

// simulateScene runs cfg and builds its scene.
func simulateScene(ctx context.Context, cfg *sim.Config) (*scene, *sim.Result, error) {
	res, err := sim.Run(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	figs, err := RunFigures(res, plots.KindDrift, plots.KindSegments, plots.KindInfluence)
	if err != nil {
		return nil, nil, err
	}
	return &scene{
		Name:       cfg.Name,
		Headline:   HeadlineOf(cfg, &res.Summary, res.Review, res.Deployment),
		Figures:    figs,
		Review:     res.Review,
		Deployment: res.Deployment,
	}, res, nil
}

// RunFigures draws the named figures of a finished run as SVG elements,
// ready to be placed in HTML: "drift" is the run's drift panels (as
// drift.png of `rewardmix run`), the other kinds are those of `rewardmix
// plot`.
func RunFigures(res *sim.Result, kinds ...plots.Kind) (map[plots.Kind]string, error) {
	src := results.FromResult(res)
	figs := make(map[plots.Kind]string, len(kinds))
	for _, k := range kinds {
		var fig *plots.Figure
		var err error
		if k == plots.KindDrift {
			fig, err = plots.RunDrift(src)
		} else {
			fig, err = plots.Build(k, plots.Options{}, src)
		}
		if err != nil {
			return nil, fmt.Errorf("%s figure: %w", k, err)
		}
		if figs[k], err = SVG(fig); err != nil {
			return nil, err
		}
	}
	return figs, nil
}

// SVG renders a figure as an <svg> element for inline HTML: the XML
// prolog and generator comment dropped, the size left to the page (the
// viewBox keeps the aspect ratio).
func SVG(fig *plots.Figure) (string, error) {
	var b bytes.Buffer
	if err := plots.Render(&b, fig, "svg", 0, 0); err != nil {
		return "", err
	}
	out := b.Bytes()
	if i := bytes.Index(out, []byte("<svg")); i >= 0 {
		out = out[i:]
	}
	return string(out), nil
}
