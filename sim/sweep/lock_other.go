//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package sweep

// lockFile does nothing where flock is not available: a folder is then
// held only against the other sweeps of this process.
func (l *dirLock) lockFile() error { return nil }

// fileLocks is true where folders are held against other processes.
const fileLocks = false
