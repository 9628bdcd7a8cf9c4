package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/rewardmix/rewardmix/plots"
)

// TestPDFDeterministic: a PDF figure is byte-identical when rendered again
// later (fpdf would otherwise stamp the clock into it).
func TestPDFDeterministic(t *testing.T) {
	render := func() []byte {
		t.Helper()
		fig, err := (&plots.Panels{X: []float64{0, 1, 2}, Panels: []plots.Panel{{YLabel: "y", Lines: []plots.Line{{Label: "a", Y: []float64{1, 2, 3}}}}}}).Figure()
		if err != nil {
			t.Fatal(err)
		}
		b, err := renderFigure(fig, "x.pdf", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := render()
	time.Sleep(1100 * time.Millisecond) // PDF dates have one-second resolution
	if b := render(); !bytes.Equal(a, b) {
		t.Error("two renderings of one figure as PDF differ")
	}
}
