package sweep

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/rewardmix/rewardmix/sim/internal/atomicfile"
	"github.com/rewardmix/rewardmix/sim/results"
)

// LockFile is the file in a sweep or boundary folder through which Run,
// Merge, Boundary and MergeBoundary hold the folder for the whole of their
// work: an advisory lock (flock) on it, which the operating system
// releases if the process dies, and the holder's pid in it. The holder
// removes it when it is done; one left by a killed process is not a lock
// and is taken over. It is none of the folder's results.
const LockFile = ".rewardmix.lock"

// ErrBusy is what errors.Is finds in the error of a Run, Merge, Boundary
// or MergeBoundary whose folder another one (in this process or another)
// is working on; the error is a *BusyError.
var ErrBusy = errors.New("folder in use")

// BusyError reports a folder that another sweep, merge or boundary search
// holds. Nothing in the folder was touched.
type BusyError struct {
	Dir string
	PID int // the holder's process, 0 if it could not be read
}

func (e *BusyError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who = fmt.Sprintf("pid %d", e.PID)
	}
	return fmt.Sprintf("%s is in use by %s (a rewardmix sweep, merge or boundary search is writing it); wait for it to end, or stop it first: --resume and --force do not override this", e.Dir, who)
}

// Is makes errors.Is(err, ErrBusy) true.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// dirLock is a folder held by this process.
type dirLock struct {
	dir  string
	id   os.FileInfo // the folder, to find it however its path is spelled
	f    *os.File    // the lock file, nil where there is no file lock
	path string
}

// held are the folders this process holds: a second Run on one of them in
// the same process is refused whatever the file system's locks do.
var held struct {
	sync.Mutex
	locks []*dirLock
}

// lockDir takes the folder dir (creating it if need be) for this process,
// or returns a *BusyError if another Run, Merge or Boundary holds it. The
// caller releases it with unlock, on every path (defer).
func lockDir(dir string) (*dirLock, error) {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		fi, err = os.Stat(dir)
	}
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, results.Errorf("output folder %s exists and is not a folder", dir)
	}
	held.Lock()
	defer held.Unlock()
	for _, h := range held.locks {
		if os.SameFile(h.id, fi) {
			return nil, &BusyError{Dir: dir, PID: os.Getpid()}
		}
	}
	l := &dirLock{dir: dir, id: fi, path: filepath.Join(dir, LockFile)}
	if err := l.lockFile(); err != nil {
		return nil, err
	}
	held.locks = append(held.locks, l)
	return l, nil
}

// unlock releases the folder: the lock file is removed while still locked,
// then closed, which releases its lock.
func (l *dirLock) unlock() {
	held.Lock()
	held.locks = slices.DeleteFunc(held.locks, func(h *dirLock) bool { return h == l })
	held.Unlock()
	if l.f != nil {
		os.Remove(l.path)
		l.f.Close()
	}
}

// isOurs reports whether name, in a folder whose files are files, is one
// of the files this package puts there besides them: the lock file, or a
// temporary file of atomicfile that a killed process left.
func isOurs(name string, files []string) bool {
	return name == LockFile || isTemp(name, files)
}

// isTemp reports whether name is the temporary file atomicfile.Create
// makes for one of files.
func isTemp(name string, files []string) bool {
	for _, f := range files {
		if ok, _ := filepath.Match(atomicfile.TempPattern(f), name); ok {
			return true
		}
	}
	return false
}

// removeTemps removes the temporary files of files that a process killed
// while writing them left in dir. Only the folder's holder may call it:
// no one else is writing them.
func removeTemps(dir string, files []string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if isTemp(e.Name(), files) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}
