package configs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MaxFileSize bounds a config file, and the data Load, LoadSweep and
// ApplyReview accept: 16 MB, far more than any config needs (a sweep that
// lists a million values is about 10 MB).
const MaxFileSize = 16 << 20

// ReadFile reads the config file at path: a regular file (a symbolic link
// to one will do) whose name ends in .toml, of at most MaxFileSize bytes,
// read with that bound so that a device or a file that grows never fills
// memory. Every error is an *Error naming path and saying why; one from
// the file system (no such file, permission denied) wraps it, so that
// errors.Is(err, fs.ErrNotExist) tells a missing file. It is the one way
// the command line and results.ReadRelative read a config.
func ReadFile(path string) ([]byte, error) {
	fail := func(msg string, err error) error { return &Error{File: path, Msg: msg, Err: err} }
	fi, err := os.Stat(path) // before opening: opening a named pipe would wait for a writer
	if err != nil {
		return nil, fail(fsReason(err), err)
	}
	if err := checkFileInfo(path, fi); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fail(fsReason(err), err)
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil { // what was opened, should path have changed since
		return nil, fail(fsReason(err), err)
	}
	if err := checkFileInfo(path, fi); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fail(fsReason(err), err)
	}
	if len(data) > MaxFileSize {
		return nil, fail("more than "+sizeLimit, nil)
	}
	return data, nil
}

// checkFileInfo refuses what is not a regular .toml file of at most
// MaxFileSize bytes.
func checkFileInfo(path string, fi fs.FileInfo) error {
	fail := func(format string, a ...any) error { return &Error{File: path, Msg: fmt.Sprintf(format, a...)} }
	switch m := fi.Mode(); {
	case m.IsDir():
		return fail("a folder, not a config file")
	case !m.IsRegular():
		return fail("%s, not a regular file: a config is a .toml file", fileKind(m))
	}
	if !isTOMLName(path) {
		return fail("not a .toml file: a config file's name ends in .toml (or name a preset: %s)", strings.Join(PresetNames(), ", "))
	}
	if fi.Size() > MaxFileSize {
		return fail("%d bytes, more than %s", fi.Size(), sizeLimit)
	}
	return nil
}

// isTOMLName reports whether a path or an extends reference names a .toml
// file.
func isTOMLName(name string) bool {
	return strings.HasSuffix(filepath.Base(name), ".toml")
}

// checkSize refuses config data over MaxFileSize, whoever read it.
func checkSize(name string, data []byte) error {
	if len(data) > MaxFileSize {
		return &Error{File: name, Msg: fmt.Sprintf("%d bytes, more than %s", len(data), sizeLimit)}
	}
	return nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}

// fsReason is the reason a file system error gives, without the operation
// and path that the *Error already names.
func fsReason(err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return "no such file"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// sizeLimit ends the message of a file or data over MaxFileSize.
var sizeLimit = fmt.Sprintf("the %d MB (%d bytes) a config file may hold", MaxFileSize>>20, MaxFileSize)
