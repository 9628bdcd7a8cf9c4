//go:build linux || darwin

package results_test

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim/results"
)

// TestReadConfigNamedPipe: a named pipe is refused without being opened,
// which would wait for a writer.
func TestReadConfigNamedPipe(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pipe.toml")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := results.ReadConfig(p); done <- err }()
	select {
	case err := <-done:
		if err == nil || err.Error() != p+": a named pipe, not a regular file: a config is a .toml file" {
			t.Errorf("got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadConfig of a named pipe did not return")
	}
	_, err := configs.Load("a.toml", []byte("extends = \"pipe.toml\"\n"), func(from, ref string) (string, []byte, error) {
		data, err := results.ReadConfig(p)
		return p, data, err
	})
	if err == nil || !strings.HasPrefix(err.Error(), "a.toml:1:1: extends: "+p+": a named pipe") {
		t.Errorf("extends of a named pipe: %v", err)
	}
}
