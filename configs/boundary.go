package configs

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"

	"github.com/rewardmix/rewardmix/sim"
)

// parseBoundary reads a boundary search's keys of [sweep] (metric, level,
// tolerance), which only mode = "boundary" takes and which it needs.
func (s *Sweep) parseBoundary(tbl map[string]any) error {
	fe := func(key, format string, a ...any) error {
		return &sim.FieldError{Key: key, Msg: fmt.Sprintf(format, a...)}
	}
	for _, k := range []string{"metric", "level", "tolerance"} {
		_, has := tbl[k]
		switch {
		case has && s.Mode != ModeBoundary:
			return fe("sweep."+k, "%s applies to mode = \"boundary\" only", k)
		case !has && s.Mode == ModeBoundary:
			return fe("sweep", "mode = \"boundary\" needs metric, level and tolerance: the final metric whose crossing of level it looks for, to within tolerance along the bracket's key")
		}
	}
	if s.Mode != ModeBoundary {
		return nil
	}
	m, ok := tbl["metric"].(string)
	if !ok || m == "" {
		return typeErr("sweep.metric", tbl["metric"], "a metric name")
	}
	level, ok1 := toFloat(tbl["level"])
	tol, ok2 := toFloat(tbl["tolerance"])
	if !ok1 || math.IsNaN(level) || math.IsInf(level, 0) {
		return fe("sweep.level", "want a finite number")
	}
	if !ok2 || !(tol > 0) || math.IsInf(tol, 0) {
		return fe("sweep.tolerance", "want a number > 0")
	}
	if lo, hi, bounded := metricRange(m); bounded && !(level > lo && level < hi) {
		return fe("sweep.level", "%g is outside (%g, %g), the range of %s: it is never crossed", level, lo, hi, m)
	}
	s.Metric, s.Level, s.Tolerance = m, level, tol
	return nil
}

// metricRange returns the range of a metric that is a probability or a
// share.
func metricRange(m string) (lo, hi float64, bounded bool) {
	base, _, _ := strings.Cut(m, "/")
	switch base {
	case "sycophancy_rate", "thumbs_up_rate", "eval", "response_share", "influence", "weight", "rm_accuracy", "rm_agreement":
		return 0, 1, base != "weight"
	case "review":
		return 0, 1, m == "review/launched"
	}
	return 0, 0, false
}

// Probes returns the sweep of a boundary search's probes: for each probe k,
// the parameters of point points[k] of s with the search axis at xs[k],
// run with s's seeds (a zip sweep). Its runs are ordinary runs, with the
// seeds ordinary runs of those parameters get.
func (s *Sweep) Probes(points []int, xs []float64) *Sweep {
	if s.Mode != ModeBoundary || len(points) != len(xs) {
		panic("configs: Probes of a sweep that is not a boundary search, or of unequal lists")
	}
	p := &Sweep{Base: s.Base, Mode: ModeZip, Seeds: s.Seeds, Seed: s.Seed, Axes: make([]Axis, len(s.Axes))}
	for i, ax := range s.Axes {
		p.Axes[i] = Axis{Key: ax.Key, kind: ax.kind}
		if i == s.Search {
			p.Axes[i].kind = reflect.Float64
		}
	}
	for k, pt := range points {
		q := append([]any(nil), s.points[pt]...)
		q[s.Search] = xs[k]
		p.points = append(p.points, q)
		for i := range p.Axes {
			p.Axes[i].Values = append(p.Axes[i].Values, q[i])
		}
	}
	return p
}

// SearchPoint returns point p of a boundary search's grid of the other
// axes: its parameters, with the search axis's entry nil.
func (s *Sweep) SearchPoint(p int) []any {
	q := append([]any(nil), s.points[p]...)
	q[s.Search] = nil
	return q
}

// checkMetric refuses a boundary search's metric that its runs do not
// record.
func checkMetric(cfg *sim.Config, metric string) error {
	names, err := sim.MetricNames(cfg)
	if err != nil {
		return err
	}
	if !slices.Contains(names, metric) {
		return &sim.FieldError{Key: "sweep.metric", Msg: fmt.Sprintf("its runs record no metric %q (they record %s)", metric, strings.Join(names, ", "))}
	}
	return nil
}
