package main

import (
	"context"
	"fmt"
	"io"
)

const checkSynopsis = `check <config.toml | preset>...

Validates each config (syntax, unknown keys, types, ranges) without running
it, and prints one line per config. Exits 2 at the first invalid one.`

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
		cfg, _, err := loadConfig(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: ok (%s, %d signals, %d steps, update at step %d)\n",
			p, cfg.Train.Algorithm, len(cfg.Signals), cfg.Train.Steps, cfg.Train.UpdateStep)
	}
	return nil
}
