// Package configs loads simulation configs from TOML, strictly and with a
// position in every error, writes them back fully resolved, expands sweeps
// into runs, and holds the built-in presets.
//
// Load parses a config. Unknown keys, wrong types, values out of range and
// non-finite numbers are errors (*Error) naming the file, the line and
// column where they can be placed, and the dotted key, with a suggestion for
// a misspelt one. A file without extends starts from the defaults, which
// are the baseline preset (Default); a named table it writes
// ([contexts.*], [segments.*], [responses.*], [signals.*]) replaces the
// default table whole, and a new entry starts from its kind's defaults
// (reward.Default, sim.DefaultSegment and its kin). A file with extends (a
// preset name, or a path read through the caller's Resolver) starts from
// that config and merges entry by entry. Encode writes a config back with
// every key, so that loading its output reproduces it exactly.
//
// LoadSweep parses a config with a [sweep] table: grid, zip or random
// modes over axes given as values, linspace, logspace, range, uniform or
// loguniform, with replicate seeds. A Sweep enumerates its runs in a fixed
// order, derives each run's seed from its parameters (never from
// scheduling), and gives each run's Config; package sim/sweep runs them.
// LoadSweep refuses a sweep with an invalid run, checking the axes' values
// rather than building every run's config (see sweepcheck.go).
//
// A config file is a regular file named .toml, of at most MaxFileSize
// bytes (CheckFileInfo and CheckRead say so of a file; results.ReadConfig
// reads one). The package does no file I/O: callers hand it data, and
// files reached through extends are read by the Resolver the caller
// supplies (results.ReadRelative reads them from disk); an extends
// value names a preset or a .toml file, and a cycle of extends is an error
// at the extends that closes it. The presets are embedded (Preset,
// PresetNames, PresetSource).
package configs
