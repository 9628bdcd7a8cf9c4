package main

import (
	"context"
	"fmt"
	"io"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim/results"
)

const checkSynopsis = `check <config.toml | preset>...

Validates each config or sweep file (syntax, unknown keys, types, ranges,
and for a sweep every run's config) without running it, and prints one line
per file. Exits 2 at the first invalid one.`

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", checkSynopsis)
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return inputErrorf("want at least one config file (see 'rewardmix check --help')")
	}
	for _, p := range pos {
		// A file that ReadConfig refuses (or a preset's name) is reported by loadConfig.
		if data, err := results.ReadConfig(p); err == nil && configs.HasSweep(data) {
			s, err := loadSweep(p, configs.DefaultMaxRuns)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: ok (sweep, mode %s: %d runs = %d points x %d seeds)\n", p, s.Mode, s.Len(), s.Points(), len(s.Seeds))
			continue
		}
		cfg, _, err := loadConfig(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: ok (%s, %d signals, %d steps, update at step %d)\n",
			p, cfg.Train.Algorithm, len(cfg.Signals), cfg.Train.Steps, cfg.Train.UpdateStep)
	}
	return nil
}
