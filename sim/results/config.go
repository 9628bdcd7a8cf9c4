package results

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/rewardmix/rewardmix/configs"
)

// ReadConfig reads the config file at path: a regular file (a symbolic
// link to one will do) whose name ends in .toml, of at most
// configs.MaxFileSize bytes, read with that bound so that a device or a
// file that grows never fills memory. Every error is a *configs.Error
// naming path and saying why; one from the file system (no such file,
// permission denied) wraps it, so that errors.Is(err, fs.ErrNotExist)
// tells a missing file. It is the one way rewardmix reads a config.
func ReadConfig(path string) ([]byte, error) {
	fail := func(err error) error { return &configs.Error{File: path, Msg: fsReason(err), Err: err} }
	fi, err := os.Stat(path) // before opening: opening a named pipe would wait for a writer
	if err != nil {
		return nil, fail(err)
	}
	if err := configs.CheckFileInfo(path, fi); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fail(err)
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil { // what was opened, should path have changed since
		return nil, fail(err)
	}
	if err := configs.CheckFileInfo(path, fi); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, configs.MaxFileSize+1))
	if err != nil {
		return nil, fail(err)
	}
	if err := configs.CheckRead(path, data); err != nil {
		return nil, err
	}
	return data, nil
}

// ReadRelative is the configs.Resolver of files on disk: it reads an
// extends path relative to the file that names it, with ReadConfig (a
// regular .toml file, of bounded size).
func ReadRelative(from, ref string) (string, []byte, error) {
	p := ref
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(from), ref)
	}
	data, err := ReadConfig(p)
	return p, data, err
}

// fsReason is the reason a file system error gives, without the operation
// and path that the *configs.Error already names.
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
