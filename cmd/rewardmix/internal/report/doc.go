// Package report lays out one self-contained HTML report of a run or a
// sweep for `rewardmix report`: figures as inline SVG, the font embedded,
// no network needed, legible when printed to PDF from a browser. A
// preset's report carries the workshop's story as a one-page handout.
package report
