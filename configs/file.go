package configs

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// MaxFileSize bounds a config file, and the data Load, LoadSweep and
// ApplyReview accept: 16 MB, far more than any config needs (a sweep that
// lists a million values is about 10 MB).
const MaxFileSize = 16 << 20

// CheckFileInfo refuses, as an *Error naming path, what fi (path's, from
// the file system) says is not a regular .toml file of at most MaxFileSize
// bytes. The reader of config files (results.ReadConfig) asks it before
// opening path and again of what it opened.
func CheckFileInfo(path string, fi fs.FileInfo) error {
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

// CheckRead refuses data read from path with a bound of MaxFileSize+1
// bytes that reached the bound: the file held more than its size said (it
// grew, or its file system does not tell sizes).
func CheckRead(path string, data []byte) error {
	if len(data) > MaxFileSize {
		return &Error{File: path, Msg: "more than " + sizeLimit}
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

// sizeLimit ends the message of a file or data over MaxFileSize.
var sizeLimit = fmt.Sprintf("the %d MB (%d bytes) a config file may hold", MaxFileSize>>20, MaxFileSize)
