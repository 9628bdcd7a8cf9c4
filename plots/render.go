package plots

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"
)

func init() {
	// PDFs byte-identical run to run, like PNG and SVG: a fixed creation
	// and modification date instead of the clock, and sorted catalogs.
	epoch := time.Unix(0, 0).UTC()
	fpdf.SetDefaultCreationDate(epoch)
	fpdf.SetDefaultModificationDate(epoch)
	fpdf.SetDefaultCatalogSort(true)
}

// Formats are the formats Render writes, named as file extensions.
var Formats = []string{"png", "svg", "pdf"}

// FormatOf returns the format a file name's extension asks for, and
// whether it is one of Formats.
func FormatOf(path string) (string, bool) {
	f := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	for _, g := range Formats {
		if f == g {
			return f, true
		}
	}
	return f, false
}

// Render draws fig in format (png at 150 dpi, svg or pdf) at w x h and
// writes it to out. A zero size is the figure's own, except that a height
// not given follows a given width, staying tall enough for the key below
// the plots. The same figure and size give the same bytes.
func Render(out io.Writer, fig *Figure, format string, w, h vg.Length) error {
	if w != 0 && h == 0 {
		h = max(fig.Height*w/fig.Width, fig.Height*6/10)
	}
	if w == 0 {
		w = fig.Width
	}
	if h == 0 {
		h = fig.Height
	}
	var c interface {
		vg.CanvasSizer
		io.WriterTo
	}
	switch format {
	case "png":
		img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(150))
		c = vgimg.PngCanvas{Canvas: img}
	case "svg":
		c = vgsvg.New(w, h)
	case "pdf":
		c = vgpdf.New(w, h)
	default:
		return fmt.Errorf("plots: unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
	}
	fig.Draw(draw.New(c))
	_, err := c.WriteTo(out)
	return err
}
