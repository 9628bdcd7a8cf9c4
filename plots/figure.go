// Package plots draws rewardmix figures with gonum.org/v1/plot. It builds
// plots from result data and knows nothing of training; it does no file I/O
// (the command renders a Figure to a file chosen by its extension).
package plots

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Palette is the Okabe-Ito colour-blind-safe palette, without black.
var Palette = []color.Color{
	color.RGBA{0x00, 0x72, 0xB2, 0xFF}, // blue
	color.RGBA{0xD5, 0x5E, 0x00, 0xFF}, // vermillion
	color.RGBA{0x00, 0x9E, 0x73, 0xFF}, // bluish green
	color.RGBA{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
	color.RGBA{0xE6, 0x9F, 0x00, 0xFF}, // orange
	color.RGBA{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
	color.RGBA{0xF0, 0xE4, 0x42, 0xFF}, // yellow
}

// Figure is a grid of aligned plots, drawn as one image.
type Figure struct {
	Rows [][]*plot.Plot
	// Width and Height are the default size when the caller does not set one.
	Width, Height vg.Length
	// Side, when set, is drawn right of the rows in a column SideWidth
	// wide (a colour bar beside its heat map).
	Side      *plot.Plot
	SideWidth vg.Length
	// RightMargin is kept free right of the plots (for a legend outside).
	RightMargin vg.Length
}

// Draw draws the figure onto dc, aligning the plots' axes.
func (f *Figure) Draw(dc draw.Canvas) {
	dc.Max.X -= f.RightMargin
	if f.Side != nil {
		side := dc
		side.Min.X = dc.Max.X - f.SideWidth
		dc.Max.X = side.Min.X - vg.Millimeter*2
		side = draw.Crop(side, 0, -vg.Millimeter*3, vg.Millimeter*2, -vg.Millimeter*2)
		defer f.Side.Draw(side)
	}
	rows, cols := len(f.Rows), 0
	for _, r := range f.Rows {
		cols = max(cols, len(r))
	}
	t := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 3,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 3}
	canvases := plot.Align(f.Rows, t, dc)
	for i, r := range f.Rows {
		for j, p := range r {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
}

// DataError reports data a figure cannot be drawn from (mismatched lengths,
// non-finite values, too few points): a problem with the input, not with
// the program.
type DataError struct{ Msg string }

func (e *DataError) Error() string { return "plots: " + e.Msg }

func dataErr(format string, a ...any) error { return &DataError{Msg: fmt.Sprintf(format, a...)} }
