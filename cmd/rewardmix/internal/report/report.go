package report

import (
	"context"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"

	"codeberg.org/go-fonts/liberation/liberationserifregular"

	"github.com/rewardmix/rewardmix/cmd/rewardmix/internal/workshop"
	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/plots"
	"github.com/rewardmix/rewardmix/sim"
	"github.com/rewardmix/rewardmix/sim/results"
)

// maxRows caps the sweep table; the rest is in agg.csv.
const maxRows = 60

// Report is what the HTML template lays out.
type Report struct {
	Title       string
	Kind        string // "run" (simulated or read) or "sweep"
	Source      string
	Description string
	Version     string
	Headline    *workshop.Headline
	Figures     []Figure
	Review      *sim.Review
	Deployment  *sim.Deployment
	Sweep       *SweepTable
	Story       []workshop.HandoutStep
	Config      string
	Font        template.URL
}

// Figure is one figure of a report, with its caption.
type Figure struct {
	Kind, Caption string
	SVG           template.HTML
}

// SweepTable is a sweep's final sycophancy at each parameter point.
type SweepTable struct {
	Axes   []string
	Rows   [][]string
	Metric string
	More   int
	Runs   int
	Failed int
}

var captions = map[plots.Kind]string{
	plots.KindDrift:     "Drift over training: sycophancy overall and per segment, gold utility (not trained on), and the primary signal's share of the update. The dashed line marks the update.",
	plots.KindSegments:  "Sycophancy per user segment: the targeted minority beside the population average.",
	plots.KindInfluence: "Each signal's share of the policy update over training (stacked): the primary reward's share shrinks when signals join.",
	plots.KindFrontier:  "Goodhart frontier: gold utility and proxy reward against d = sqrt(KL), over the last stretch of training in which the reward is fixed (for a sweep, one point per run), with the Gao et al. (2022) fit R = d(a - b ln d).",
	plots.KindHeatmap:   "Final sycophancy over the two swept axes, with the analytic critical line and the simulated contour where both are signal weights.",
}

func newReport() *Report {
	return &Report{Version: sim.Version,
		Font: template.URL("data:font/ttf;base64," + base64.StdEncoding.EncodeToString(liberationserifregular.TTF))}
}

// OfRun is the report of a run just simulated, titled title, from source
// (the preset or file it was configured by); with handout, it carries the
// story handout (which runs every step of the story).
func OfRun(ctx context.Context, res *sim.Result, title, source string, handout bool) (*Report, error) {
	rep := newReport()
	cfg := res.Config()
	kinds := []plots.Kind{plots.KindDrift, plots.KindSegments, plots.KindInfluence, plots.KindFrontier}
	figs, err := workshop.RunFigures(res, kinds...)
	if err != nil {
		return nil, err
	}
	for _, k := range kinds {
		rep.Figures = append(rep.Figures, Figure{Kind: string(k), Caption: captions[k], SVG: template.HTML(figs[k])})
	}
	h := workshop.HeadlineOf(cfg, &res.Summary, res.Review, res.Deployment)
	rep.Title, rep.Kind, rep.Source, rep.Description = title, "run", source, cfg.Description
	rep.Headline, rep.Review, rep.Deployment = &h, res.Review, res.Deployment
	rep.Config = string(configs.Encode(cfg))
	if handout {
		if rep.Story, err = workshop.Handout(ctx); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// OfFolder is the report of a run or sweep folder.
func OfFolder(dir string) (*Report, error) {
	rep := newReport()
	src, err := results.Open(dir)
	if err != nil {
		return nil, err
	}
	rep.Title, rep.Source, rep.Description = src.Label(), dir, src.Config().Description
	rep.Config = string(configs.Encode(src.Config()))
	if src.Sweep() {
		rep.Kind = "sweep"
		if rep.Sweep, err = sweepTable(src); err != nil {
			return nil, err
		}
	} else {
		rep.Kind = "run"
		sf, err := results.ReadSummary(dir)
		if err != nil {
			return nil, err
		}
		h := workshop.HeadlineOf(src.Config(), &sf.Summary, sf.Review, sf.Deployment)
		rep.Headline, rep.Review, rep.Deployment = &h, sf.Review, sf.Deployment
	}
	kinds, figs, err := plots.StandardSet(src, plots.Options{})
	if err != nil {
		return nil, err
	}
	for i, k := range kinds {
		svg, err := workshop.SVG(figs[i])
		if err != nil {
			return nil, err
		}
		rep.Figures = append(rep.Figures, Figure{Kind: string(k), Caption: captions[k], SVG: template.HTML(svg)})
	}
	return rep, nil
}

// sweepTable tabulates the final sycophancy of each parameter point.
func sweepTable(src results.Source) (*SweepTable, error) {
	t := &SweepTable{Axes: src.Axes(), Metric: "sycophancy_rate"}
	for _, r := range src.Runs() {
		t.Runs++
		if !r.OK {
			t.Failed++
		}
	}
	points, err := src.Points(t.Metric)
	if err != nil {
		return nil, err
	}
	for i, p := range points {
		if len(t.Rows) == maxRows {
			t.More = len(points) - i
			break
		}
		row := make([]string, 0, len(p.Params)+1)
		for _, v := range p.Params {
			row = append(row, plots.ShortNumber(v))
		}
		t.Rows = append(t.Rows, append(row, workshop.Percent(p.Mean)))
	}
	return t, nil
}

// WriteHTML writes the report as one HTML page.
func (r *Report) WriteHTML(w io.Writer) error { return page.Execute(w, r) }

//go:embed report.html
var pageHTML string

var page = template.Must(template.New("report.html").Funcs(template.FuncMap{
	"pct":    workshop.Percent,
	"count":  workshop.CountWords,
	"hours":  func(x float64) string { return fmt.Sprintf("%.0f h", x) },
	"points": func(x float64) string { return fmt.Sprintf("%+.1f points", 100*x) },
	"gateValue": func(r *sim.Review, g sim.Gate) string {
		switch g.Name {
		case "vibe_checks":
			return fmt.Sprintf("%d of %d", r.VibeFlags, r.VibeChecks)
		case "ab_thumbs_delta":
			return fmt.Sprintf("%+.1f points", 100*g.Value)
		}
		return workshop.Percent(g.Value)
	},
	"gateThreshold": func(g sim.Gate) string {
		if g.Name == "vibe_checks" {
			return fmt.Sprintf("%s %d", g.Op, int(g.Threshold))
		}
		return g.Op + " " + workshop.Percent(g.Threshold)
	},
	"words": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
}).Parse(pageHTML))
