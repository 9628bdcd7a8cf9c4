package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rewardmix/rewardmix/cmd/rewardmix/internal/report"
	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim"
	"github.com/rewardmix/rewardmix/sim/results"
)

const reportSynopsis = `report [flags] PRESET|CONFIG|DIR -o FILE.html

Writes one self-contained HTML file (figures as inline SVG, the font
embedded, no network needed) that prints legibly to PDF from a browser. For a
preset or config file it runs the simulation first; for a run or sweep folder
it reads the results. A preset's report includes the workshop handout (one
printed page): the incident's story in ten steps, with the numbers of each
step's run.`

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", reportSynopsis)
	out := fs.String("o", "", "output file, .html (default NAME.html in the current folder for a preset or config, DIR-report.html beside a folder)")
	rest, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return inputErrorf("want one preset, config file or result folder (see 'rewardmix report --help')")
	}
	arg := rest[0]
	path := *out
	fi, err := os.Stat(arg)
	folder := err == nil && fi.IsDir()
	switch {
	case path != "":
	case folder:
		path = filepath.Clean(arg) + "-report.html"
	default:
		path = stem(arg) + ".html"
	}
	if ext := strings.ToLower(filepath.Ext(path)); ext != ".html" && ext != ".htm" {
		return inputErrorf("%s: a report is HTML: want a .html file name", path)
	}
	var rep *report.Report
	if folder {
		rep, err = report.OfFolder(arg)
	} else {
		rep, err = simulatedReport(ctx, arg)
	}
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := rep.WriteHTML(&b); err != nil {
		return err
	}
	if err := results.WriteFile(path, b.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d KB)\n", path, (b.Len()+1023)/1024)
	return nil
}

// simulatedReport runs a preset or config file and reports it; a preset's
// report carries the workshop handout.
func simulatedReport(ctx context.Context, arg string) (*report.Report, error) {
	cfg, name, err := loadConfig(arg)
	if err != nil {
		return nil, err
	}
	res, err := sim.Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return report.OfRun(ctx, res, name, arg, configs.IsPreset(arg))
}
