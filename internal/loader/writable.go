package loader

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// WritableDirMode is the mode of the folders --writable-dir prepares: group-writable, so the engine (same
// fsGroup) can write its compile caches there, and setgid, so what it creates keeps the volume's group.
const WritableDirMode = fs.ModeSetgid | 0o775

// errNotDir is returned by MakeWritableDirs for a path that exists and is not a folder.
var errNotDir = errors.New("not a directory")

// MakeWritableDirs creates each folder (and its parents) and sets WritableDirMode on it. The umask would take
// the group's write bit away from MkdirAll's mode, hence the chmod. A folder that exists already and that this
// user may not chmod (another owner) is accepted if it has the mode already.
func MakeWritableDirs(dirs []string) error {
	for _, d := range dirs {
		if err := os.MkdirAll(d, WritableDirMode); err != nil {
			return fmt.Errorf("creating the writable folder %s: %w", d, err)
		}
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("creating the writable folder %s: %w", d, err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("the writable folder %s: %w", d, errNotDir)
		}
		if fi.Mode()&(fs.ModeSetgid|fs.ModePerm) == WritableDirMode {
			continue
		}
		if err := os.Chmod(d, WritableDirMode); err != nil {
			return fmt.Errorf("making %s group-writable (mode 02775): %w; it belongs to another user: remove it or "+
				"fix its mode", d, err)
		}
	}
	return nil
}
