package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
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

// Dashes are the line patterns given to series in turn beside their
// colour, so that curves which coincide stay visible (a dashed line over a
// solid one) and a greyscale print keeps them apart. Six patterns and seven
// colours give 42 distinct pairs.
var Dashes = [][]vg.Length{
	nil,
	{vg.Points(6), vg.Points(2.5)},
	{vg.Points(1.5), vg.Points(2)},
	{vg.Points(7), vg.Points(2), vg.Points(1.5), vg.Points(2)},
	{vg.Points(3), vg.Points(3)},
	{vg.Points(10), vg.Points(3)},
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
	// Key is the figure's legend, drawn outside the data areas so that it
	// covers no data (nil: none).
	Key *Key
	// Notes say what the figure could not show (an analytic line that
	// has no closed form here, say), for the caller to pass on.
	Notes []string
	// texts and strokes are the text and line styles of plotters (marker
	// labels, data lines) that Draw scales with the plots' own.
	texts   []*draw.TextStyle
	strokes []*draw.LineStyle
}

// scaled registers plotters' styles for Draw to scale.
func (f *Figure) scaled(strokes ...*draw.LineStyle) { f.strokes = append(f.strokes, strokes...) }

// addMarker adds a marker line to p, its label and stroke scaled with the
// figure.
func (f *Figure) addMarker(p *plot.Plot, v *VLine) {
	p.Add(v)
	f.texts = append(f.texts, &v.TextStyle)
	f.scaled(&v.LineStyle)
}

// styleLine gives a series line its look: an emphasised one (the
// population, a total) black, heavier and dashed; the others the next
// Palette colour and Dashes pattern, counted by colour.
func styleLine(l *plotter.Line, emphasis bool, colour *int) {
	if emphasis {
		l.Color, l.Width = color.Black, vg.Points(2)
		l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		return
	}
	l.Color, l.Width = Palette[*colour%len(Palette)], vg.Points(1.5)
	l.Dashes = Dashes[*colour%len(Dashes)]
	*colour++
}

// textScale is the factor its text and lines take when the figure is
// drawn at w x h: the smaller of the two ratios to its default size,
// clamped to [minTextScale, maxTextScale]; 1 without a default size.
func (f *Figure) textScale(w, h vg.Length) float64 {
	if f.Width <= 0 || f.Height <= 0 {
		return 1
	}
	s := min(float64(w/f.Width), float64(h/f.Height))
	return math.Max(minTextScale, math.Min(maxTextScale, s))
}

// Draw draws the figure onto dc, aligning the plots' axes. Drawn smaller
// or larger than its default size, its text and lines are scaled with it
// (down to 3/4 for a paper column, up to 2.5 times for a projector), so
// that it keeps the proportions it was designed with.
func (f *Figure) Draw(dc draw.Canvas) {
	if s := f.textScale(dc.Max.X-dc.Min.X, dc.Max.Y-dc.Min.Y); s != 1 {
		defer f.scale(s)()
	}
	if f.Key != nil && len(f.Key.Entries) > 0 {
		kc := f.Key.place(&dc, f.Side == nil)
		defer f.Key.draw(kc)
	}
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

// The range of text scales Draw applies.
const (
	minTextScale = 0.75
	maxTextScale = 2.5
)

// scale multiplies every font size and line width (and dash) of the
// figure by s and returns a function that restores them.
func (f *Figure) scale(s float64) (restore func()) {
	var sizes []*vg.Length
	strokes := f.strokes
	add := func(p *plot.Plot) {
		if p == nil {
			return
		}
		sizes = append(sizes, &p.Title.TextStyle.Font.Size) // no plot has a legend: the Key replaces it
		for _, ax := range []*plot.Axis{&p.X, &p.Y} {
			sizes = append(sizes, &ax.Label.TextStyle.Font.Size, &ax.Tick.Label.Font.Size, &ax.Tick.Length)
			strokes = append(strokes, &ax.LineStyle, &ax.Tick.LineStyle)
		}
	}
	for _, r := range f.Rows {
		for _, p := range r {
			add(p)
		}
	}
	add(f.Side)
	sizes = append(sizes, &f.SideWidth)
	if f.Key != nil {
		sizes = append(sizes, &f.Key.Font.Size, &f.Key.ThumbnailWidth)
	}
	for _, t := range f.texts {
		sizes = append(sizes, &t.Font.Size)
	}
	old := make([]vg.Length, len(sizes))
	for i, sz := range sizes {
		old[i] = *sz
		*sz = vg.Length(float64(*sz) * s)
	}
	// A style's dashes may be shared (Dashes): they are replaced, never
	// changed in place.
	oldStrokes := make([]draw.LineStyle, len(strokes))
	for i, ls := range strokes {
		oldStrokes[i] = *ls
		ls.Width = vg.Length(float64(ls.Width) * s)
		if ls.Dashes != nil {
			d := make([]vg.Length, len(ls.Dashes))
			for k, v := range ls.Dashes {
				d[k] = vg.Length(float64(v) * s)
			}
			ls.Dashes = d
		}
	}
	return func() {
		for i, sz := range sizes {
			*sz = old[i]
		}
		for i, ls := range strokes {
			*ls = oldStrokes[i]
		}
	}
}

// Key is a legend drawn beside the plots rather than over them: right of
// them when the figure is wide and the key narrow enough, otherwise below
// them in as many columns as fit the width.
type Key struct {
	// Title, when set, heads the key on a line of its own.
	Title   string
	Entries []KeyEntry
	text.Style
	// ThumbnailWidth is the width of each entry's thumbnail.
	ThumbnailWidth vg.Length
	// MaxColumns, when positive, bounds the columns below the plots (1
	// keeps a note under the entry it explains).
	MaxColumns int
}

// KeyEntry is one labelled entry; its thumbnails are drawn on top of each
// other (a band and its line). An entry without thumbnails is a note.
type KeyEntry struct {
	Label  string
	Thumbs []plot.Thumbnailer
}

// NewKey returns an empty key in the house style.
func NewKey() *Key {
	sty := plot.NewLegend().TextStyle
	sty.Font.Size = vg.Points(9)
	return &Key{Style: sty, ThumbnailWidth: vg.Points(22)}
}

// Add appends an entry.
func (k *Key) Add(label string, thumbs ...plot.Thumbnailer) {
	k.Entries = append(k.Entries, KeyEntry{Label: label, Thumbs: thumbs})
}

// keyLayout is where a key is drawn: its canvas and its columns.
type keyLayout struct {
	c          draw.Canvas
	cols, rows int
	colWidth   vg.Length
}

const (
	keyGap     = 3 * vg.Millimeter // between the key and the plots, and between columns
	keyMinWide = 13 * vg.Centimeter
)

func (k *Key) lineHeight() vg.Length { return k.FontExtents().Height * 1.15 }

func (k *Key) entryWidth(e KeyEntry) vg.Length {
	return k.ThumbnailWidth + k.Width(" "+e.Label)
}

// place takes the key's room from dc (right of it or below it) and
// returns the layout to draw it in. right allows the right side.
func (k *Key) place(dc *draw.Canvas, right bool) keyLayout {
	wmax := vg.Length(0)
	for _, e := range k.Entries {
		wmax = max(wmax, k.entryWidth(e))
	}
	titleW := k.Width(k.Title)
	lh := k.lineHeight()
	n := len(k.Entries)
	width := dc.Max.X - dc.Min.X
	if right && width >= keyMinWide && max(wmax, titleW) <= width*3/10 {
		kc := *dc
		kc.Min.X = dc.Max.X - max(wmax, titleW) - keyGap
		kc.Max.Y -= keyGap
		dc.Max.X = kc.Min.X
		return keyLayout{c: kc, cols: 1, rows: n, colWidth: wmax}
	}
	avail := width - 2*keyGap
	cols := max(1, int(math.Floor(float64((avail+keyGap)/(wmax+keyGap)))))
	cols = min(cols, n)
	if k.MaxColumns > 0 {
		cols = min(cols, k.MaxColumns)
	}
	rows := (n + cols - 1) / cols
	cols = (n + rows - 1) / rows // as few columns as the rows need
	lines := rows
	if k.Title != "" {
		lines++
	}
	kc := *dc
	kc.Max.Y = dc.Min.Y + vg.Length(lines)*lh + keyGap
	kc.Min.X += keyGap
	dc.Min.Y = kc.Max.Y
	return keyLayout{c: kc, cols: cols, rows: rows, colWidth: wmax}
}

// draw draws the key column by column from the top of l's canvas.
func (k *Key) draw(l keyLayout) {
	c := l.c
	lh := k.lineHeight()
	asc := k.FontExtents().Ascent
	sty := k.Style
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YTop
	y := c.Max.Y
	if k.Title != "" {
		c.FillText(sty, vg.Point{X: c.Min.X, Y: y}, k.Title)
		y -= lh
	}
	// Thumbnails are as tall as the text's ascent and centred on its
	// lower-case letters.
	mid := k.FontExtents().Height * 0.55
	for i, e := range k.Entries {
		col, row := i/l.rows, i%l.rows
		x := c.Min.X + vg.Length(col)*(l.colWidth+keyGap)
		top := y - vg.Length(row)*lh
		th := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: x, Y: top - mid - asc/2},
			Max: vg.Point{X: x + k.ThumbnailWidth, Y: top - mid + asc/2},
		}}
		for _, t := range e.Thumbs {
			t.Thumbnail(&th)
		}
		// A note without a thumbnail is indented as the labels are.
		c.FillText(sty, vg.Point{X: x + k.ThumbnailWidth + k.Width(" "), Y: top}, e.Label)
	}
}

// DataError reports data a figure cannot be drawn from (mismatched lengths,
// non-finite values, too few points): a problem with the input, not with
// the program.
type DataError struct{ Msg string }

func (e *DataError) Error() string { return "plots: " + e.Msg }

func dataErr(format string, a ...any) error { return &DataError{Msg: fmt.Sprintf(format, a...)} }
