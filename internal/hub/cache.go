package hub

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Cache is a Hugging Face cache directory (what HF_HUB_CACHE names) in the layout huggingface_hub writes and
// engines read offline (file_download.py hf_hub_download docstring, repo_folder_name, _create_symlink,
// _cache_commit_hash_for_specific_revision):
//
//	<Dir>/models--{org}--{name}/
//	  blobs/<etag>                      file contents, named by the normalized ETag
//	  refs/<revision>                   the commit sha a branch or tag pointed at, no newline
//	  snapshots/<sha>/<path>            relative symlinks: ../../blobs/<etag>, one more ../ per directory in path
type Cache struct {
	// Dir is the cache root.
	Dir string
}

// RepoFolderName is repo_folder_name for a model: "models--" and the repo id with '/' replaced by "--".
func RepoFolderName(repo string) string {
	return strings.Join(append([]string{"models"}, strings.Split(repo, "/")...), "--")
}

// RepoDir is <Dir>/models--{org}--{name}.
func (c Cache) RepoDir(repo string) string { return filepath.Join(c.Dir, RepoFolderName(repo)) }

// BlobPath is <repo dir>/blobs/<etag>.
func (c Cache) BlobPath(repo, etag string) string {
	return filepath.Join(c.RepoDir(repo), "blobs", etag)
}

// SnapshotDir is <repo dir>/snapshots/<commit>.
func (c Cache) SnapshotDir(repo, commit string) string {
	return filepath.Join(c.RepoDir(repo), "snapshots", commit)
}

// SnapshotPath is where a repo file appears: <repo dir>/snapshots/<commit>/<path>.
func (c Cache) SnapshotPath(repo, commit, path string) string {
	return filepath.Join(c.SnapshotDir(repo, commit), filepath.FromSlash(path))
}

// RefPath is <repo dir>/refs/<revision> (a revision such as "refs/pr/1" makes subdirectories).
func (c Cache) RefPath(repo, revision string) string {
	return filepath.Join(c.RepoDir(repo), "refs", filepath.FromSlash(revision))
}

// ReadRef returns the commit sha stored for a branch or tag, or an error wrapping fs.ErrNotExist.
func (c Cache) ReadRef(repo, revision string) (string, error) {
	b, err := os.ReadFile(c.RefPath(repo, revision))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// normalizeETag strips a weak-validator prefix and the quotes, as file_download.py _normalize_etag does
// (etag.lstrip("W/").strip('"')).
func normalizeETag(etag string) string {
	return strings.Trim(strings.TrimLeft(etag, "W/"), `"`)
}

// validBlobName reports whether an etag can be used as a file name under blobs/.
func validBlobName(etag string) bool {
	return etag != "" && etag != "." && etag != ".." && len(etag) <= 255 &&
		!strings.ContainsAny(etag, "/\\\x00") && !strings.HasSuffix(etag, ".incomplete")
}

// writeRef stores commit under refs/<revision> atomically (a temporary file renamed into place), unless the
// revision is the commit itself or the ref already says so.
func (c Cache) writeRef(repo, revision, commit string) error {
	if revision == commit {
		return nil
	}
	p := c.RefPath(repo, revision)
	if b, err := os.ReadFile(p); err == nil && string(b) == commit {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp := p + "." + randSuffix() + ".tmp"
	if err := os.WriteFile(tmp, []byte(commit), 0o644); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(p))
}

// link points pointer at blob with a relative symlink (file_download.py _create_symlink: os.path.relpath from the
// pointer's directory), replacing whatever is there atomically. A correct link is left alone.
func link(pointer, blob string) error {
	dir := filepath.Dir(pointer)
	rel, err := filepath.Rel(dir, blob)
	if err != nil {
		return err
	}
	if got, err := os.Readlink(pointer); err == nil && got == rel {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp := pointer + "." + randSuffix() + ".tmp"
	if err := os.Symlink(rel, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, pointer); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// linkedBlob returns the size of the regular file a snapshot pointer leads to, if it is a relative symlink into
// the repo's blobs/ directory; ok is false otherwise (missing, dangling, absolute, a plain file).
func linkedBlob(repoDir, pointer string) (target string, size int64, ok bool) {
	dest, err := os.Readlink(pointer)
	if err != nil || filepath.IsAbs(dest) {
		return "", 0, false
	}
	target = filepath.Clean(filepath.Join(filepath.Dir(pointer), dest))
	if filepath.Dir(target) != filepath.Join(repoDir, "blobs") {
		return "", 0, false
	}
	fi, err := os.Stat(target)
	if err != nil || !fi.Mode().IsRegular() {
		return "", 0, false
	}
	return target, fi.Size(), true
}

// regularSize returns a regular file's size, ok false if it is missing or not a regular file.
func regularSize(p string) (int64, bool) {
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return 0, false
	}
	return fi.Size(), true
}

// writeCachedirTag writes CACHEDIR.TAG at the cache root if absent, as huggingface_hub does
// (_local_folder.py _create_cachedir_tag, CACHEDIR_TAG_CONTENT); failures are ignored like there.
func (c Cache) writeCachedirTag() {
	p := filepath.Join(c.Dir, "CACHEDIR.TAG")
	if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
		return
	}
	_ = os.WriteFile(p, []byte("Signature: 8a477f597d28d172789f06886806bc55\n"+
		"# This file is a cache directory tag created by huggingface_hub.\n"+
		"# For information about cache directory tags, see:\n"+
		"#\thttps://bford.info/cachedir/\n"), 0o644)
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
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

func randSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
