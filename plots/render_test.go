package plots

import (
	"bytes"
	"testing"
	"time"

	"gonum.org/v1/plot/vg"
)

// TestPDFDeterministic: a PDF figure is byte-identical when rendered again
// later (fpdf would otherwise stamp the clock into it).
func TestPDFDeterministic(t *testing.T) {
	render := func() []byte {
		t.Helper()
		fig, err := (&Panels{X: []float64{0, 1, 2}, Panels: []Panel{{YLabel: "y", Lines: []Line{{Label: "a", Y: []float64{1, 2, 3}}}}}}).Figure()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := Render(&b, fig, "pdf", 0, 0); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a := render()
	time.Sleep(1100 * time.Millisecond) // PDF dates have one-second resolution
	if b := render(); !bytes.Equal(a, b) {
		t.Error("two renderings of one figure as PDF differ")
	}
}

// TestRenderSize: a width alone sets a height that keeps the figure's
// proportions, but not below six tenths of its own height (room for the
// key); a zero size is the figure's own.
func TestRenderSize(t *testing.T) {
	fig, err := (&Panels{X: []float64{0, 1}, Panels: []Panel{{YLabel: "y", Lines: []Line{{Label: "a", Y: []float64{1, 2}}}}}}).Figure()
	if err != nil {
		t.Fatal(err)
	}
	size := func(w, h float64) string {
		var b bytes.Buffer
		if err := Render(&b, fig, "svg", vg.Length(w), vg.Length(h)); err != nil {
			t.Fatal(err)
		}
		s := b.String()
		i := bytes.Index(b.Bytes(), []byte("viewBox="))
		return s[i : i+bytes.IndexByte(b.Bytes()[i+9:], '"')+10]
	}
	own := size(0, 0)
	if own != size(float64(fig.Width), float64(fig.Height)) {
		t.Errorf("zero size %s is not the figure's own", own)
	}
	if a, b := size(float64(fig.Width)/2, 0), size(float64(fig.Width)/2, float64(fig.Height)*6/10); a != b {
		t.Errorf("half the width: %s, want the floor of six tenths of the height %s", a, b)
	}
	if a, b := size(float64(fig.Width)*2, 0), size(float64(fig.Width)*2, float64(fig.Height)*2); a != b {
		t.Errorf("twice the width: %s, want twice the height %s", a, b)
	}
}
