package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/rewardmix/rewardmix/plots"
	"github.com/rewardmix/rewardmix/sim"
)

func init() {
	// PDFs byte-identical run to run, like PNG and SVG: a fixed creation
	// and modification date instead of the clock, and sorted catalogs.
	epoch := time.Unix(0, 0).UTC()
	fpdf.SetDefaultCreationDate(epoch)
	fpdf.SetDefaultModificationDate(epoch)
	fpdf.SetDefaultCatalogSort(true)
}

// readRelative resolves an extends path relative to the file that names it.
func readRelative(from, ref string) (string, []byte, error) {
	p := ref
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(from), ref)
	}
	data, err := os.ReadFile(p)
	return p, data, err
}

func stem(path string) string {
	b := filepath.Base(path)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// stepsCSV writes a result as tidy long CSV: step,metric,value.
func stepsCSV(res *sim.Result) []byte {
	return appendSteps([]byte("step,metric,value\n"), "", res.Metrics, res.Values)
}

func marshalJSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// renderFigure draws fig into the format named by path's extension (.png,
// .svg or .pdf), at w x h: the figure's default size where zero, except
// that a height not given follows a given width, staying tall enough for
// the key below the plots.
func renderFigure(fig *plots.Figure, path string, w, h vg.Length) ([]byte, error) {
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
	}
	var write func(*bytes.Buffer) error
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(150))
		c = img
		write = func(b *bytes.Buffer) error { _, err := vgimg.PngCanvas{Canvas: img}.WriteTo(b); return err }
	case ".svg":
		s := vgsvg.New(w, h)
		c = s
		write = func(b *bytes.Buffer) error { _, err := s.WriteTo(b); return err }
	case ".pdf":
		p := vgpdf.New(w, h)
		c = p
		write = func(b *bytes.Buffer) error { _, err := p.WriteTo(b); return err }
	default:
		return nil, inputErrorf("%s: unknown figure format %q (use .png, .svg or .pdf)", path, ext)
	}
	fig.Draw(draw.New(c))
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// outputFiles are the files a run folder may hold; an existing folder is
// replaced only if it holds nothing else.
var outputFiles = map[string]bool{
	"steps.csv": true, "summary.json": true, "config.toml": true,
	"drift.png": true, "drift.svg": true, "drift.pdf": true,
	"segments.png": true, "influence.png": true, "frontier.png": true,
}

// checkOutDir returns an error if dir exists and may not be replaced by a
// run folder: it is not a folder, or it holds anything but run outputs.
func checkOutDir(dir string) error {
	if abs, err := filepath.Abs(dir); err == nil {
		if wd, err := os.Getwd(); err == nil && (abs == wd || abs == filepath.Dir(abs)) {
			return inputErrorf("output folder %s is the working or root folder; name a subfolder with -o", dir)
		}
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return inputErrorf("output folder %s exists and is not a folder; choose another folder with -o", dir)
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !outputFiles[e.Name()] || !e.Type().IsRegular() {
			return inputErrorf("output folder %s exists and holds %s, which is not a rewardmix output; choose another folder with -o", dir, e.Name())
		}
	}
	return nil
}

// writeDirAtomic makes dir hold exactly files: it writes them into a fresh
// temporary folder beside dir and renames it into place, so that an
// interrupted or failed write never leaves a mix of old and new files. An
// existing dir is replaced only when it is empty or a previous run folder.
//
// more, if not nil, is called with the temporary folder once files are in
// it, and what it returns is written there too (figures drawn from the
// folder's own files).
func writeDirAtomic(dir string, files map[string][]byte, more func(tmp string) (map[string][]byte, error)) error {
	dir = filepath.Clean(dir)
	if err := checkOutDir(dir); err != nil {
		return err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // no-op once renamed
	for name, data := range files {
		if err := writeFileSync(filepath.Join(tmp, name), data); err != nil {
			return err
		}
	}
	if more != nil {
		extra, err := more(tmp)
		if err != nil {
			return err
		}
		for name, data := range extra {
			if err := writeFileSync(filepath.Join(tmp, name), data); err != nil {
				return err
			}
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if _, err := os.Stat(dir); err == nil {
		old := tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("replacing %s: %w", dir, err)
		}
		if err := os.Rename(tmp, dir); err != nil {
			_ = os.Rename(old, dir) // put the old results back
			return fmt.Errorf("replacing %s: %w", dir, err)
		}
		return os.RemoveAll(old)
	}
	return os.Rename(tmp, dir)
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
