package loader

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestMakeWritableDirs: nested folders are created group-writable and setgid whatever the umask; an existing
// folder gets the mode; a file in the way is an error.
func TestMakeWritableDirs(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	root := t.TempDir()
	nested := filepath.Join(root, "compile", "vllm-0.11.0")
	existing := filepath.Join(root, "existing")
	if err := os.Mkdir(existing, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := MakeWritableDirs([]string{nested, existing}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{nested, existing} {
		fi, err := os.Stat(d)
		if err != nil || !fi.IsDir() || fi.Mode()&(fs.ModeSetgid|fs.ModePerm) != fs.ModeSetgid|0o775 {
			t.Errorf("%s: %v (%v), want drwxrwsr-x", d, fi.Mode(), err)
		}
	}
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := MakeWritableDirs([]string{file}); err == nil {
		t.Error("a file in the way must be an error")
	}
}
