package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/rewardmix/rewardmix/configs"
)

const presetsSynopsis = `presets [name]

Without a name, lists the built-in presets with one line each. With a name,
prints that preset's commented TOML (a starting point for your own config).`

func runPresets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("presets", presetsSynopsis)
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	switch len(pos) {
	case 0:
		width := 0
		for _, n := range configs.PresetNames() {
			width = max(width, len(n))
		}
		for _, n := range configs.PresetNames() {
			cfg, err := configs.Preset(n)
			if err != nil {
				return fmt.Errorf("preset %s: %w", n, err)
			}
			fmt.Fprintf(stdout, "%-*s  %s\n", width, n, cfg.Description)
		}
		return nil
	case 1:
		src, ok := configs.PresetSource(pos[0])
		if !ok {
			return inputErrorf("no preset named %q (presets: %s)", pos[0], strings.Join(configs.PresetNames(), ", "))
		}
		_, err := stdout.Write(src)
		return err
	}
	return inputErrorf("want at most one preset name")
}
