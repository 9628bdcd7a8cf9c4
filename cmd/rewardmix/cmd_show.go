package main

import (
	"context"
	"io"
	"path/filepath"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim/results"
)

const showSynopsis = `show <sweep folder> <run_id>

Prints the fully resolved config of one run of a sweep, as 'rewardmix run'
accepts it: running it reproduces that run's rows of the steps table.`

func runShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("show", showSynopsis)
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return inputErrorf("want a sweep folder and a run_id (see 'rewardmix show --help')")
	}
	path := filepath.Join(pos[0], results.SweepFile)
	data, err := results.ReadConfig(path)
	if err != nil {
		return inputErrorf("%s is not a sweep folder: %v", pos[0], err)
	}
	s, err := configs.LoadSweep(path, data, nil, configs.DefaultMaxRuns)
	if err != nil {
		return err
	}
	for i := 0; i < s.Len(); i++ {
		if r := s.Run(i); r.ID == pos[1] {
			cfg, err := s.Config(r)
			if err != nil {
				return err
			}
			_, err = stdout.Write(configs.Encode(cfg))
			return err
		}
	}
	return inputErrorf("%s has no run %q (its run ids are %s to %s; see runs.csv)", pos[0], pos[1], s.Run(0).ID, s.Run(s.Len()-1).ID)
}
