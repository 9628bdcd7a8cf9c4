package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"

	"codeberg.org/go-fonts/liberation/liberationserifregular"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim"
)

const reportSynopsis = `report [flags] PRESET|CONFIG|DIR -o FILE.html

Writes one self-contained HTML file (figures as inline SVG, the font
embedded, no network needed) that prints legibly to PDF from a browser. For a
preset or config file it runs the simulation first; for a run or sweep folder
it reads the results. A preset's report includes the workshop handout (one
printed page): the incident's story in ten steps, with the numbers of each
step's run.`

// maxReportRows caps the sweep table; the rest is in agg.csv.
const maxReportRows = 60

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", reportSynopsis)
	out := fs.String("o", "", "output file, .html (default NAME.html, or DIR-report.html beside a folder)")
	rest, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return inputErrorf("want one preset, config file or result folder (see 'rewardmix report --help')")
	}
	arg := rest[0]
	path := *out
	if fi, err := os.Stat(arg); err == nil && fi.IsDir() {
		if path == "" {
			path = filepath.Clean(arg) + "-report.html"
		}
	} else if path == "" {
		path = stem(arg) + ".html"
	}
	if ext := strings.ToLower(filepath.Ext(path)); ext != ".html" && ext != ".htm" {
		return inputErrorf("%s: a report is HTML: want a .html file name", path)
	}
	rep, err := buildReport(ctx, arg)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := reportTemplate.Execute(&b, rep); err != nil {
		return err
	}
	if err := writeFigure(path, b.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d KB)\n", path, (b.Len()+1023)/1024)
	return nil
}

// report is what the HTML template lays out.
type report struct {
	Title       string
	Kind        string // "run" (simulated or read) or "sweep"
	Source      string
	Description string
	Version     string
	Headline    *headline
	Figures     []reportFigure
	Review      *sim.Review
	Deployment  *sim.Deployment
	Sweep       *sweepTable
	Story       []reportStoryStep
	Config      string
	Font        template.URL
}

type reportFigure struct {
	Kind, Caption string
	SVG           template.HTML
}

type sweepTable struct {
	Axes   []string
	Rows   [][]string
	Metric string
	More   int
	Runs   int
	Failed int
}

type reportStoryStep struct {
	N                int
	Title, Text, Ask string
	H                headline
	R                *sim.Review
	D                *sim.Deployment
}

var figureCaptions = map[string]string{
	"drift":     "Drift over training: sycophancy overall and per segment, gold utility (not trained on), and the primary signal's share of the update. The dashed line marks the update.",
	"segments":  "Sycophancy per user segment: the targeted minority beside the population average.",
	"influence": "Each signal's share of the policy update over training (stacked): the primary reward's share shrinks when signals join.",
	"frontier":  "Goodhart frontier: gold utility and proxy reward against d = sqrt(KL), with the Gao et al. (2022) fit R = d(a - b ln d).",
	"heatmap":   "Final sycophancy over the two swept axes, with the analytic critical line and the simulated contour where both are signal weights.",
}

// buildReport reads or runs what arg names and gathers the report.
func buildReport(ctx context.Context, arg string) (*report, error) {
	rep := &report{Version: version,
		Font: template.URL("data:font/ttf;base64," + base64.StdEncoding.EncodeToString(liberationserifregular.TTF))}
	if fi, err := os.Stat(arg); err == nil && fi.IsDir() {
		return rep, folderReport(rep, arg)
	}
	cfg, name, err := loadConfig(arg)
	if err != nil {
		return nil, err
	}
	res, err := sim.Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	kinds := []string{"drift", "segments", "influence", "frontier"}
	figs, err := sceneFigures(cfg, res, kinds...)
	if err != nil {
		return nil, err
	}
	for _, k := range kinds {
		rep.Figures = append(rep.Figures, reportFigure{Kind: k, Caption: figureCaptions[k], SVG: template.HTML(figs[k])})
	}
	h := headlineOf(cfg, &res.Summary, res.Review, res.Deployment)
	rep.Title, rep.Kind, rep.Source, rep.Description = name, "run", arg, cfg.Description
	rep.Headline, rep.Review, rep.Deployment = &h, res.Review, res.Deployment
	rep.Config = string(configs.Encode(cfg))
	if configs.IsPreset(arg) {
		if rep.Story, err = storyHandout(ctx); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// folderReport fills a report from a run or sweep folder.
func folderReport(rep *report, dir string) error {
	rd, err := openResults(dir)
	if err != nil {
		return err
	}
	rep.Title, rep.Source, rep.Description = folderName(rd), dir, rd.cfg.Description
	rep.Config = string(configs.Encode(rd.cfg))
	if rd.sweep {
		rep.Kind = "sweep"
		if rep.Sweep, err = sweepSummary(rd); err != nil {
			return err
		}
	} else {
		rep.Kind = "run"
		var sf summaryFile
		data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
		if err == nil {
			err = json.Unmarshal(data, &sf)
		}
		if err != nil {
			return inputErrorf("%s: a run folder without a readable summary.json: %v", dir, err)
		}
		h := headlineOf(rd.cfg, &sf.Summary, sf.Review, sf.Deployment)
		rep.Headline, rep.Review, rep.Deployment = &h, sf.Review, sf.Deployment
	}
	kinds, figs, err := standardSet(plotOpts{steps: allSteps}, rd, io.Discard, nil)
	if err != nil {
		return err
	}
	for _, k := range kinds {
		svg, err := svgElement(figs[k])
		if err != nil {
			return err
		}
		rep.Figures = append(rep.Figures, reportFigure{Kind: k, Caption: figureCaptions[k], SVG: template.HTML(svg)})
	}
	return nil
}

// sweepSummary tabulates the final sycophancy of each parameter point.
func sweepSummary(rd *resultDir) (*sweepTable, error) {
	t := &sweepTable{Axes: rd.axes, Metric: "sycophancy_rate"}
	for _, r := range rd.runs {
		t.Runs++
		if !r.ok {
			t.Failed++
		}
	}
	params, means, err := rd.aggRows(t.Metric)
	if err != nil {
		return nil, err
	}
	for i, p := range params {
		if len(t.Rows) == maxReportRows {
			t.More = len(params) - i
			break
		}
		row := make([]string, 0, len(p)+1)
		for _, v := range p {
			row = append(row, shortNumber(v))
		}
		t.Rows = append(t.Rows, append(row, pct(means[i])))
	}
	return t, nil
}

// storyHandout runs every story step (each scenario once) and renders its
// text.
func storyHandout(ctx context.Context) ([]reportStoryStep, error) {
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
		sc := &scene{Headline: headlineOf(cfg, &res.Summary, res.Review, res.Deployment), Review: res.Review, Deployment: res.Deployment}
		done[key] = sc
		return sc, nil
	}
	inc, err := run(mustStoryScenario("preset=incident"))
	if err != nil {
		return nil, err
	}
	var out []reportStoryStep
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
		out = append(out, reportStoryStep{N: i + 1, Title: st.Title, Text: text, Ask: st.Ask, H: sc.Headline, R: sc.Review, D: sc.Deployment})
	}
	return out, nil
}

var reportTemplate = template.Must(template.New("report.html").Funcs(template.FuncMap{
	"pct":    pct,
	"count":  countWords,
	"hours":  func(x float64) string { return fmt.Sprintf("%.0f h", x) },
	"points": func(x float64) string { return fmt.Sprintf("%+.1f points", 100*x) },
	"gateValue": func(r *sim.Review, g sim.Gate) string {
		switch g.Name {
		case "vibe_checks":
			return fmt.Sprintf("%d of %d", r.VibeFlags, r.VibeChecks)
		case "ab_thumbs_delta":
			return fmt.Sprintf("%+.1f points", 100*g.Value)
		}
		return pct(g.Value)
	},
	"gateThreshold": func(g sim.Gate) string {
		if g.Name == "vibe_checks" {
			return fmt.Sprintf("%s %d", g.Op, int(g.Threshold))
		}
		return g.Op + " " + pct(g.Threshold)
	},
	"words": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
}).ParseFS(webFiles, "web/report.html"))
