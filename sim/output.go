package sim

import (
	"fmt"
	"slices"
	"strings"
)

// Output is the [output] table: which steps and metrics a run's steps table
// records, and in which file format. It decides what is written, never
// what is simulated: every metric is still computed at every step, and the
// final values (runs.csv, summary.json) are always whole.
type Output struct {
	// Format is the steps table's file format: "csv", "parquet", or
	// "auto" (Parquet for a sweep, CSV for a single run).
	Format Format `toml:"format"`
	// Every records every Every-th step (from step 0), and besides those
	// the update step, each signal's first and last active step, each
	// deployment, and the last step: every step where the mix changes.
	Every int `toml:"every"`
	// Metrics are the metrics recorded, as patterns in which * stands for
	// any run of characters, "/" included, and ? for any one character
	// ("sycophancy_rate*" is the rate and its every segment); each must
	// match at least one metric.
	Metrics []string `toml:"metrics"`
}

// Format is a steps table's file format.
type Format string

// The formats.
const (
	FormatAuto    Format = "auto"
	FormatCSV     Format = "csv"
	FormatParquet Format = "parquet"
)

// Formats lists the valid Output.Format values.
var Formats = []Format{FormatAuto, FormatCSV, FormatParquet}

// Resolve returns the format a steps table is written in: f itself, or for
// "auto" Parquet for a sweep and CSV for a single run.
func (f Format) Resolve(sweep bool) Format {
	switch {
	case f != FormatAuto:
		return f
	case sweep:
		return FormatParquet
	default:
		return FormatCSV
	}
}

func (c *Config) validateOutput() error {
	o := &c.Output
	if err := OneOf("output.format", o.Format, Formats); err != nil {
		return err
	}
	if o.Every < 1 {
		return &FieldError{"output.every", fmt.Sprintf("%d: want at least 1 (1 records every step)", o.Every)}
	}
	if len(o.Metrics) == 0 {
		return &FieldError{"output.metrics", "empty: name at least one pattern (\"*\" records every metric)"}
	}
	if len(o.Metrics) == 1 && o.Metrics[0] == "*" {
		return nil
	}
	names := newMetricIndex(c).names
	for _, p := range o.Metrics {
		if !slices.ContainsFunc(names, func(n string) bool { return Match(p, n) }) {
			return &FieldError{"output.metrics", fmt.Sprintf("%q matches no metric of this config (its metrics: %s)", p, strings.Join(names, ", "))}
		}
	}
	return nil
}

// Records reports whether Output.Metrics selects metric m.
func (o *Output) Records(m string) bool {
	return slices.ContainsFunc(o.Metrics, func(p string) bool { return Match(p, m) })
}

// RecordedMetrics returns the indices, in order, of the metrics (a run's
// Result.Metrics) that Output.Metrics selects.
func (o *Output) RecordedMetrics(metrics []string) []int {
	var out []int
	for i, m := range metrics {
		if o.Records(m) {
			out = append(out, i)
		}
	}
	return out
}

// RecordedSteps returns, in order, the steps 0..cfg.Train.Steps that a
// run's steps table records: those Output.Every apart from step 0, the
// update step, each step where a signal starts or stops being active, each
// deployment, and the last step.
func (c *Config) RecordedSteps() []int {
	n, every := c.Train.Steps, max(c.Output.Every, 1)
	keep := make([]bool, n+1)
	for t := 0; t <= n; t += every {
		keep[t] = true
	}
	mark := func(t int) {
		if t >= 0 && t <= n {
			keep[t] = true
		}
	}
	mark(c.Train.UpdateStep)
	mark(n)
	for _, s := range c.Signals {
		mark(s.StartStep)
		if s.EndStep > 0 {
			mark(s.EndStep)
		}
	}
	if c.Memory.Enabled {
		mark(c.Memory.StartStep)
	}
	for _, t := range c.Deployments() {
		mark(t)
	}
	var out []int
	for t, k := range keep {
		if k {
			out = append(out, t)
		}
	}
	return out
}

// Match reports whether name matches pattern, in which * stands for any
// run of characters (none included) and ? for any one character; every
// other character stands for itself.
func Match(pattern, name string) bool {
	// Greedy matching with backtracking to the last star: linear in
	// practice, and never worse than len(pattern) x len(name).
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == name[n]) && pattern[p] != '*':
			p++
			n++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
