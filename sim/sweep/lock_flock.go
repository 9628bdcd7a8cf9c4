//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package sweep

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive flock on the folder's lock file and writes
// this process's pid into it, or returns a *BusyError naming the holder.
// flock locks belong to an open file, so a second lock in the same process
// is refused too.
func (l *dirLock) lockFile() error {
	for range 100 {
		f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("locking %s: %w", l.dir, err)
		}
		err = flock(f, unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case errors.Is(err, unix.EWOULDBLOCK):
			pid := readPID(f)
			f.Close()
			return &BusyError{Dir: l.dir, PID: pid}
		case errors.Is(err, unix.ENOLCK), errors.Is(err, unix.ENOTSUP), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENOSYS):
			// A file system without flock (some network and FUSE file
			// systems): held against this process's other sweeps only.
			l.f = f
			writePID(f)
			return nil
		case err != nil:
			f.Close()
			return fmt.Errorf("locking %s: %w", l.dir, err)
		}
		// The holder before us removes the file before it unlocks it: if
		// it did so between our open and our lock, we hold a file no one
		// else will see. Start again.
		fi, err1 := f.Stat()
		cur, err2 := os.Stat(l.path)
		if err1 != nil || err2 != nil || !os.SameFile(fi, cur) {
			f.Close()
			continue
		}
		if err := writePID(f); err != nil {
			os.Remove(l.path)
			f.Close()
			return fmt.Errorf("locking %s: %w", l.dir, err)
		}
		l.f = f
		return nil
	}
	return fmt.Errorf("locking %s: its lock file %s keeps changing", l.dir, LockFile)
}

func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// readPID reads the holder's pid from its lock file, waiting a little for
// a holder that has just taken the lock to write it; 0 if it cannot.
func readPID(f *os.File) int {
	buf := make([]byte, 32)
	for range 20 {
		n, _ := f.ReadAt(buf, 0)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n]))); err == nil && pid > 0 {
			return pid
		}
		time.Sleep(5 * time.Millisecond)
	}
	return 0
}

// fileLocks is true where folders are held against other processes.
const fileLocks = true
