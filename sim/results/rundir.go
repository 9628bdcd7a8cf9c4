package results

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim"
	"github.com/rewardmix/rewardmix/sim/internal/atomicfile"
)

// RunFiles renders a finished run's data files: its steps table
// (steps.csv, or steps.parquet as its [output] table says), summary.json
// and config.toml (the resolved config, which reproduces the run).
func RunFiles(res *sim.Result) (map[string][]byte, error) {
	summary, err := marshalJSON(Summary{res.Summary, res.Review, res.Deployment})
	if err != nil {
		return nil, err
	}
	cfg := res.Config()
	format := cfg.Output.Format.Resolve(false)
	var steps bytes.Buffer
	w := NewStepsWriter(&steps, format, false, true)
	if err := w.Write("", Record(cfg, res.Metrics, res.Values)); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return map[string][]byte{
		StepsFileName(format): steps.Bytes(),
		SummaryFile:           summary,
		ConfigFile:            configs.Encode(cfg),
	}, nil
}

// RunManifestFile lists, in sha256sum's format, every file rewardmix wrote
// into a run folder. A folder is replaced only if it holds nothing but
// those files, unchanged, so that what a user wrote or edited there is
// never lost; `sha256sum -c rewardmix.sha256` checks it by hand.
const RunManifestFile = "rewardmix.sha256"

// CheckRunDir returns an *Error if dir exists and may not be replaced by a
// run folder: it is the working or root folder, it is not a folder, or it
// holds anything that rewardmix did not write there or that has changed
// since (see RunManifestFile). An empty folder may be used.
func CheckRunDir(dir string) error {
	if abs, err := filepath.Abs(dir); err == nil {
		if wd, err := os.Getwd(); err == nil && (abs == wd || abs == filepath.Dir(abs)) {
			return errorf("output folder %s is the working or root folder; name a subfolder with -o", dir)
		}
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return errorf("output folder %s exists and is not a folder; choose another folder with -o", dir)
	}
	return checkWritten(dir, dir)
}

// checkWritten checks that folder (shown to the user as dir) holds only
// files its manifest lists, unchanged.
func checkWritten(folder, dir string) error {
	ents, err := os.ReadDir(folder)
	if errors.Is(err, os.ErrNotExist) || err == nil && len(ents) == 0 {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(folder, ManifestFile)); err == nil {
		return errorf("output folder %s is a sweep folder, which a run does not replace; choose another folder with -o", dir)
	}
	want, err := readManifest(filepath.Join(folder, RunManifestFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return errorf("output folder %s: %v; choose another folder with -o", dir, err)
	}
	for _, e := range ents {
		n := e.Name()
		if n == RunManifestFile {
			continue
		}
		sum, listed := want[n]
		if !listed || !e.Type().IsRegular() {
			return errorf("output folder %s holds %s, which rewardmix did not write (it lists what it writes in %s); choose another folder with -o", dir, n, RunManifestFile)
		}
		data, err := os.ReadFile(filepath.Join(folder, n))
		if err != nil {
			return err
		}
		if checksum(data) != sum {
			return errorf("output folder %s: %s has changed since rewardmix wrote it; choose another folder with -o, or move the file out", dir, n)
		}
	}
	return nil
}

// readManifest reads a RunManifestFile: file name -> hex sha256.
func readManifest(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 64 || name == "" {
			return nil, fmt.Errorf("%s is not a rewardmix manifest", filepath.Base(path))
		}
		out[name] = sum
	}
	return out, nil
}

func checksum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// WriteRunDir makes dir hold exactly files, and a RunManifestFile listing
// them: it writes them into a fresh temporary folder beside dir and renames
// it into place, so that an interrupted or failed write never leaves a mix
// of old and new files. An existing dir is replaced only when CheckRunDir
// allows it, and the check is made again after dir has been moved aside
// and before anything is removed, so that a file saved into dir while the
// run was drawing its figures stops the swap (dir is put back) rather than
// being lost. If dir is a symbolic link, the folder it points to is
// replaced and the link kept.
func WriteRunDir(dir string, files map[string][]byte) error {
	dir = filepath.Clean(dir)
	if fi, err := os.Lstat(dir); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		target, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return err
		}
		dir = target
	}
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
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	var manifest strings.Builder
	for _, name := range names {
		if err := writeNewFile(filepath.Join(tmp, name), files[name]); err != nil {
			return err
		}
		fmt.Fprintf(&manifest, "%s  %s\n", checksum(files[name]), name)
	}
	if err := writeNewFile(filepath.Join(tmp, RunManifestFile), []byte(manifest.String())); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if _, err := os.Stat(dir); err == nil {
		old := tmp + ".old"
		if testHookBeforeSwap != nil {
			testHookBeforeSwap(dir)
		}
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("replacing %s: %w", dir, err)
		}
		if err := checkWritten(old, dir); err != nil {
			if rerr := os.Rename(old, dir); rerr != nil {
				return fmt.Errorf("%w; and putting it back failed: %v (it is at %s)", err, rerr, old)
			}
			return err
		}
		if err := os.Rename(tmp, dir); err != nil {
			_ = os.Rename(old, dir) // put the old results back
			return fmt.Errorf("replacing %s: %w", dir, err)
		}
		return os.RemoveAll(old)
	}
	return os.Rename(tmp, dir)
}

// testHookBeforeSwap, if set, runs between WriteRunDir's first check and
// its swap (a test saves a user's file there).
var testHookBeforeSwap func(dir string)

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
