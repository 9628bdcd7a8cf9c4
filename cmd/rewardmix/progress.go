package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress reports a sweep's progress on stderr: a redrawn bar with runs
// done, rate and ETA when stderr is a terminal, nothing otherwise (progress
// is for a person watching; a log gets the notes of failed runs and the
// final summary on stdout), nothing with --quiet.
type progress struct {
	w                   io.Writer
	total, done, start0 int
	tty, quiet          bool
	began, last         time.Time
}

func newProgress(w io.Writer, total, done int, quiet bool) *progress {
	p := &progress{w: w, total: total, done: done, start0: done, quiet: quiet, began: time.Now()}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	p.last = p.began
	if !quiet && done > 0 {
		fmt.Fprintf(w, "resuming: %d of %d runs already done\n", done, total)
	}
	return p
}

func (p *progress) step() {
	p.done++
	if p.quiet {
		return
	}
	now := time.Now()
	switch {
	case p.tty && (now.Sub(p.last) > 100*time.Millisecond || p.done == p.total):
		p.last = now
		fmt.Fprintf(p.w, "\r\033[K%s", p.line(now)) // cleared: the line may get shorter
	}
}

// note prints a message on its own line without breaking the bar.
func (p *progress) note(msg string) {
	if p.quiet {
		return
	}
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintln(p.w, msg)
}

func (p *progress) finish() {
	if p.quiet {
		return
	}
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

func (p *progress) line(now time.Time) string {
	el := now.Sub(p.began).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(p.done-p.start0) / el
	}
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(p.total-p.done)/rate) * time.Second).Round(time.Second).String()
	}
	const width = 30
	filled := 0
	if p.total > 0 {
		filled = width * p.done / p.total
	}
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	return fmt.Sprintf("[%s] %d/%d runs  %.1f runs/s  ETA %s", bar, p.done, p.total, rate, eta)
}
