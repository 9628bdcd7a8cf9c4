package results

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim"
	"github.com/rewardmix/rewardmix/sim/internal/atomicfile"
)

// RunFiles renders a finished run's data files: steps.csv, summary.json
// and config.toml (the resolved config, which reproduces the run).
func RunFiles(res *sim.Result) (map[string][]byte, error) {
	summary, err := marshalJSON(Summary{res.Summary, res.Review, res.Deployment})
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		StepsFile:   AppendSteps([]byte(RunStepsHeader), "", res.Metrics, res.Values),
		SummaryFile: summary,
		ConfigFile:  configs.Encode(res.Config()),
	}, nil
}

// runFolderFiles are the files a run folder may hold; an existing folder is
// replaced only if it holds nothing else.
var runFolderFiles = map[string]bool{
	StepsFile: true, SummaryFile: true, ConfigFile: true,
	"drift.png": true, "drift.svg": true, "drift.pdf": true,
	"segments.png": true, "influence.png": true, "frontier.png": true,
}

// CheckRunDir returns an *Error if dir exists and may not be replaced by a
// run folder: it is the working or root folder, it is not a folder, or it
// holds anything but a run's files.
func CheckRunDir(dir string) error {
	if abs, err := filepath.Abs(dir); err == nil {
		if wd, err := os.Getwd(); err == nil && (abs == wd || abs == filepath.Dir(abs)) {
			return errorf("output folder %s is the working or root folder; name a subfolder with -o", dir)
		}
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return errorf("output folder %s exists and is not a folder; choose another folder with -o", dir)
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !runFolderFiles[e.Name()] || !e.Type().IsRegular() {
			return errorf("output folder %s exists and holds %s, which is not a rewardmix output; choose another folder with -o", dir, e.Name())
		}
	}
	return nil
}

// WriteRunDir makes dir hold exactly files: it writes them into a fresh
// temporary folder beside dir and renames it into place, so that an
// interrupted or failed write never leaves a mix of old and new files. An
// existing dir is replaced only when CheckRunDir allows it.
func WriteRunDir(dir string, files map[string][]byte) error {
	dir = filepath.Clean(dir)
	if err := CheckRunDir(dir); err != nil {
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
		if err := writeNewFile(filepath.Join(tmp, name), data); err != nil {
			return err
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

// writeNewFile creates path (which must not exist), writes data and syncs.
func writeNewFile(path string, data []byte) error {
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

// WriteFile writes data to path (creating its folder) through a temporary
// file renamed into place, so that path never holds a partial file: how
// figures and reports are written.
func WriteFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data)
}
