package results

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteRunDirRechecksAtTheSwap: a file a user saves into the folder
// after the first check and before the swap stops the swap: the folder,
// with the user's file and rewardmix's, is put back as it was.
func TestWriteRunDirRechecksAtTheSwap(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := WriteRunDir(dir, map[string][]byte{"steps.csv": []byte("a\n")}); err != nil {
		t.Fatal(err)
	}
	testHookBeforeSwap = func(d string) {
		if err := os.WriteFile(filepath.Join(d, "notes.txt"), []byte("mine"), 0o644); err != nil {
			t.Error(err)
		}
	}
	defer func() { testHookBeforeSwap = nil }()
	err := WriteRunDir(dir, map[string][]byte{"steps.csv": []byte("b\n")})
	if err == nil || !strings.Contains(err.Error(), "notes.txt") {
		t.Fatalf("WriteRunDir: %v, want a refusal naming notes.txt", err)
	}
	for name, want := range map[string]string{"notes.txt": "mine", "steps.csv": "a\n"} {
		if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
	ents, _ := os.ReadDir(filepath.Dir(dir))
	if len(ents) != 1 {
		t.Errorf("left beside the folder: %v", ents)
	}
}
