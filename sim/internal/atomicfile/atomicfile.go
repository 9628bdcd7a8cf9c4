package atomicfile

import (
	"bufio"
	"os"
	"path/filepath"
)

// A File is written through a temporary file beside its path and takes its
// path only at Commit. It is buffered.
type File struct {
	path string
	f    *os.File
	*bufio.Writer
}

// bufferSize is a File's buffer: writes of small pieces (CSV lines, log
// records) are gathered to this size; larger ones (Parquet column chunks)
// go to the file directly.
const bufferSize = 64 << 10

// Create starts a file that Commit will put at path.
func Create(path string) (*File, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return nil, err
	}
	return &File{path: path, f: f, Writer: bufio.NewWriterSize(f, bufferSize)}, nil
}

// Sync flushes the buffer and syncs what was written so far to disk. It
// may run while another goroutine prepares other files, but not
// concurrently with Write.
func (a *File) Sync() error {
	if err := a.Flush(); err != nil {
		return err
	}
	return a.f.Sync()
}

// Commit syncs the file and renames it to its path (mode 0644). On error
// the temporary file is removed.
func (a *File) Commit() error {
	if err := a.Sync(); err != nil {
		a.Abort()
		return err
	}
	if err := a.f.Close(); err != nil {
		os.Remove(a.f.Name())
		return err
	}
	if err := os.Chmod(a.f.Name(), 0o644); err != nil {
		os.Remove(a.f.Name())
		return err
	}
	return os.Rename(a.f.Name(), a.path)
}

// Abort discards the file; after Commit it does nothing.
func (a *File) Abort() {
	a.f.Close()
	os.Remove(a.f.Name())
}

// WriteFile writes data to path as a File.
func WriteFile(path string, data []byte) error {
	a, err := Create(path)
	if err != nil {
		return err
	}
	if _, err := a.Write(data); err != nil {
		a.Abort()
		return err
	}
	return a.Commit()
}

// TempPattern matches the temporary files Create leaves if the process
// dies before Commit or Abort, for a file at path.
func TempPattern(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
}

// Size flushes the buffer and returns the size of what was written.
func (a *File) Size() (int64, error) {
	if err := a.Flush(); err != nil {
		return 0, err
	}
	fi, err := a.f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// SyncDir syncs a folder, so that the files renamed into it (Commit) are
// there after a power loss, not only their contents.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
