// Package plots draws rewardmix's figures with gonum.org/v1/plot, from
// results: it knows nothing of training.
//
// Build draws one kind of figure (Kinds) from one results.Source, or from
// several for KindCompare: the drift of a metric over training (one line
// per value of a swept key, with the mean and 95% band across runs),
// sycophancy per user segment, each signal's share of the update (stacked),
// a final metric over two swept axes with the analytic critical line, the
// Goodhart frontier with the Gao et al. (2022) fit, or one metric of
// several sources overlaid. StandardSet draws a source's standard set with
// one pass over its steps, and RunDrift a run's drift panels. A Source may
// be a run or sweep folder (results.Open) or a run in memory
// (results.FromResult), so the workshop draws a live run as a command draws
// a folder.
//
// The figure kinds are also usable directly from data: Lines, Panels,
// Influence, Heatmap and Frontier each build a Figure, and Band, Stack and
// VLine are plotters in gonum/plot's style. Figures use a colour-blind-safe
// palette with a dash pattern per series, keep their key outside the data,
// and scale their text and lines with the size they are drawn at.
//
// Render draws a Figure as PNG, SVG or PDF (FormatOf maps a file name to
// its format) at the figure's own size or one given; the same figure gives
// the same bytes, PDFs included. The package writes no files.
package plots
