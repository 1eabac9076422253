package s3

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const (
	// ManifestName is the file that marks a download folder complete. It is written last, after every file is
	// in place, and removed before any file is changed, so its presence means the folder holds what it lists.
	ManifestName = ".privatellm-manifest.json"
	// journalName records the files already in place while a download runs, so a run that was cut resumes
	// without fetching them again; it becomes obsolete once the manifest is written.
	journalName = ManifestName + ".incomplete"
)

// Manifest lists a complete download folder.
type Manifest struct {
	// Source is s3://<bucket>/<prefix>.
	Source string `json:"source"`
	// ContentID identifies the files and their versions (see ContentID).
	ContentID string `json:"contentId"`
	// Files are sorted by path.
	Files []ManifestFile `json:"files"`
}

// ManifestFile is one file of the folder.
type ManifestFile struct {
	// Path is relative to the folder, '/'-separated: the key without the source's prefix.
	Path string `json:"path"`
	// Key is the object's key in the bucket.
	Key string `json:"key"`
	// Size in bytes, ETag as listed, SHA256 the hex sha256 of the content (computed while written, and checked
	// against the server's checksum when it had one).
	Size   int64  `json:"size"`
	ETag   string `json:"etag"`
	SHA256 string `json:"sha256,omitempty"`
}

// ContentID is a content id of a selection of objects: the hex sha256 of the lines "<path>\x00<etag>\x00<size>\n"
// sorted by path. It changes whenever a selected object is added, removed or replaced, and not when the bucket
// or prefix is renamed, so the operator can pin it like a commit.
func ContentID(files []ManifestFile) string {
	sorted := append([]ManifestFile(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	h := sha256.New()
	for _, f := range sorted {
		fmt.Fprintf(h, "%s\x00%s\x00%s\n", f.Path, f.ETag, strconv.FormatInt(f.Size, 10))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ReadManifest reads dir's manifest; (nil, nil) when there is none.
func ReadManifest(dir string) (*Manifest, error) {
	return readManifestFile(filepath.Join(dir, ManifestName))
}

func readManifestFile(p string) (*Manifest, error) {
	raw, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return &m, nil
}

// complete reports whether the manifest describes this selection and every file is on disk with its size.
func (m *Manifest) complete(dir, source, contentID string) bool {
	if m == nil || m.Source != source || m.ContentID != contentID {
		return false
	}
	for _, f := range m.Files {
		if got, ok := regularSize(filepath.Join(dir, filepath.FromSlash(f.Path))); !ok || got != f.Size {
			return false
		}
	}
	return true
}

// writeJSONAtomic writes v to p through a temporary file, fsynced and renamed, then fsyncs the directory.
func writeJSONAtomic(p string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := p + "." + randSuffix() + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(append(raw, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(p))
}

// regularSize returns a regular file's size (links followed), ok false if it is missing or not a regular file.
func regularSize(p string) (int64, bool) {
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return 0, false
	}
	return fi.Size(), true
}

// syncDir fsyncs a directory so a rename in it survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func randSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// reservedPath reports whether a path is one of the folder's own files, which an object may not overwrite.
func reservedPath(p string) bool {
	return strings.HasPrefix(p, ".privatellm-")
}
