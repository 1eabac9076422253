package s3

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/privatellm/privatellm/internal/hub"
)

// DefaultConcurrency is how many objects download at once (as internal/hub).
const DefaultConcurrency = 4

// DownloadRequest says what to download where.
type DownloadRequest struct {
	// Bucket and Prefix name the source folder s3://<bucket>/<prefix>. The prefix is a folder: a '/' is added
	// when it lacks one, so "models/llama" does not also take "models/llama-chat/…"; empty takes the bucket.
	Bucket, Prefix string
	// Dir receives the objects at their paths below the prefix, e.g. /cache/s3/<bucket>/<prefix>.
	Dir string
	// Filter picks the objects by their path below the prefix, with the Hub's glob rules; the zero Filter takes
	// them all.
	Filter hub.Filter
	// Concurrency is the number of objects downloaded at once; 0 means DefaultConcurrency.
	Concurrency int
	// Progress, if set, is called after the listing, after every chunk and after every file, one call at a
	// time; Commit carries the content id.
	Progress func(hub.Progress)
}

// Result is a complete download folder.
type Result struct {
	// Source is s3://<bucket>/<prefix>; ContentID identifies the selected objects' versions (ContentID).
	Source, ContentID string
	// Dir is the folder, Files what its manifest lists.
	Dir   string
	Files []ManifestFile
	// Downloaded and Skipped count the files fetched and those already in place.
	Downloaded, Skipped int
	// BytesDownloaded counts bytes received in this run.
	BytesDownloaded int64
}

// FolderPrefix is the listing prefix of a source path: no leading '/', a trailing one unless empty.
func FolderPrefix(p string) string {
	p = strings.TrimLeft(p, "/")
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// Download lists the folder, keeps the objects the filter selects and brings each into Dir: written to
// <path>.<etag id>.incomplete (resumed with Range, on If-Match of the listed ETag, when a partial file of the same
// version is there), checked for size and, when the server keeps one, sha256 while written, fsynced and renamed.
// The manifest is written last. When it is there and lists this very selection, nothing is fetched; files in
// place from a run that was cut are not fetched again. The first failure stops the other downloads.
func (c *Client) Download(ctx context.Context, req DownloadRequest) (*Result, error) {
	if req.Dir == "" {
		return nil, &hub.Error{Reason: hub.ReasonInvalidArgument, Repo: "s3://" + req.Bucket, Detail: "no destination directory given"}
	}
	if err := ValidateBucket(req.Bucket); err != nil {
		return nil, err
	}
	if err := req.Filter.Validate(); err != nil {
		return nil, err
	}
	prefix := FolderPrefix(req.Prefix)
	source := "s3://" + req.Bucket + "/" + prefix
	objects, err := c.ListObjects(ctx, req.Bucket, prefix)
	if err != nil {
		return nil, err
	}
	files, err := selectObjects(objects, req.Bucket, prefix, req.Filter)
	if err != nil {
		return nil, err
	}
	contentID := ContentID(files)
	d := &downloader{c: c, bucket: req.Bucket, dir: req.Dir, report: req.Progress}
	d.progress.FilesTotal, d.progress.Commit = len(files), contentID
	for _, f := range files {
		d.progress.BytesTotal += f.Size
	}
	res := &Result{Source: source, ContentID: contentID, Dir: req.Dir}

	old, _ := ReadManifest(req.Dir) // an unreadable manifest is no manifest: the folder is downloaded again
	if old.complete(req.Dir, source, contentID) {
		d.progress.FilesDone, d.progress.BytesDone = d.progress.FilesTotal, d.progress.BytesTotal
		d.emit("", 0, 0, 0)
		res.Files, res.Skipped = old.Files, len(old.Files)
		return res, nil
	}
	if err := os.MkdirAll(req.Dir, 0o755); err != nil {
		return nil, fsError(what{bucket: req.Bucket, prefix: prefix}, 0, err)
	}
	if err := d.startJournal(old, files); err != nil {
		return nil, err
	}
	d.emit("", 0, 0, 0)
	if err := d.run(ctx, files, req.Concurrency); err != nil {
		return nil, err
	}
	if err := d.finish(source, contentID, files); err != nil {
		return nil, err
	}
	d.emit("", 0, 0, 0)
	res.Files = d.manifestFiles(files)
	res.Downloaded, res.Skipped, res.BytesDownloaded = d.downloaded, d.skipped, d.progress.BytesDownloaded
	return res, nil
}

// selectObjects turns the listing into the folder's files: folder markers (keys ending in '/') and the
// folder's own reserved names are left out, the filter applied to the path below the prefix, and every
// selected path checked to stay inside the folder.
func selectObjects(objects []Object, bucket, prefix string, filter hub.Filter) ([]ManifestFile, error) {
	w := what{bucket: bucket, prefix: prefix}
	var files []ManifestFile
	for _, o := range objects {
		rel, ok := strings.CutPrefix(o.Key, prefix)
		if !ok || rel == "" || strings.HasSuffix(rel, "/") || reservedPath(rel) || !filter.Match(rel) {
			continue
		}
		if err := hub.ValidatePath(rel); err != nil {
			return nil, &hub.Error{Reason: hub.ReasonBadResponse, Repo: "s3://" + bucket, Path: o.Key, Err: err,
				Detail: fmt.Sprintf("%s lists an object with an unsafe path %q: exclude it with the file filter", w, rel)}
		}
		files = append(files, ManifestFile{Path: rel, Key: o.Key, Size: o.Size, ETag: o.ETag})
	}
	if len(files) == 0 {
		detail := fmt.Sprintf("the file filter keeps none of the %d objects under %s: fix the include/exclude patterns", len(objects), w)
		if len(objects) == 0 {
			detail = fmt.Sprintf("there are no objects under %s: check the bucket and the prefix", w)
		}
		return nil, &hub.Error{Reason: hub.ReasonNoMatchingFiles, Repo: "s3://" + bucket, Detail: detail}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// downloader holds one Download's state.
type downloader struct {
	c           *Client
	bucket, dir string
	report      func(hub.Progress)

	mu                  sync.Mutex
	progress            hub.Progress
	downloaded, skipped int
	// done are the files in place, by path, as the journal records them; previous are the files an earlier run
	// put in the folder (to remove those the selection no longer has).
	done     map[string]ManifestFile
	previous map[string]ManifestFile
}

// startJournal records which files an earlier run left in place (from the old manifest and journal) that are
// still the listed versions, then removes the old manifest: from now on the folder is being changed and must
// not look complete.
func (d *downloader) startJournal(old *Manifest, files []ManifestFile) error {
	d.previous = map[string]ManifestFile{}
	journal, _ := readManifestFile(filepath.Join(d.dir, journalName))
	for _, m := range []*Manifest{old, journal} {
		if m == nil {
			continue
		}
		for _, f := range m.Files {
			d.previous[f.Path] = f
		}
	}
	d.done = map[string]ManifestFile{}
	for _, f := range files {
		p, ok := d.previous[f.Path]
		if !ok || p.ETag != f.ETag || p.Size != f.Size || p.Key != f.Key {
			continue
		}
		if got, ok := regularSize(filepath.Join(d.dir, filepath.FromSlash(f.Path))); ok && got == f.Size {
			d.done[f.Path] = p
		}
	}
	if err := d.writeJournalLocked(); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(d.dir, ManifestName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fsError(what{bucket: d.bucket}, 0, err)
	}
	return nil
}

func (d *downloader) writeJournalLocked() error {
	m := Manifest{Files: make([]ManifestFile, 0, len(d.done))}
	for _, f := range d.done {
		m.Files = append(m.Files, f)
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	if err := writeJSONAtomic(filepath.Join(d.dir, journalName), m); err != nil {
		return fsError(what{bucket: d.bucket, key: journalName}, 0, err)
	}
	return nil
}

// record adds a file now in place to the journal.
func (d *downloader) record(f ManifestFile) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.done[f.Path] = f
	return d.writeJournalLocked()
}

// finish removes the files of earlier runs that the selection no longer has, writes the manifest and drops the
// journal.
func (d *downloader) finish(source, contentID string, files []ManifestFile) error {
	selected := map[string]bool{}
	for _, f := range files {
		selected[f.Path] = true
	}
	for p := range d.previous {
		if !selected[p] && hub.ValidatePath(p) == nil && !reservedPath(p) {
			_ = os.Remove(filepath.Join(d.dir, filepath.FromSlash(p)))
		}
	}
	m := Manifest{Source: source, ContentID: contentID, Files: d.manifestFiles(files)}
	if err := writeJSONAtomic(filepath.Join(d.dir, ManifestName), m); err != nil {
		return fsError(what{bucket: d.bucket, key: ManifestName}, 0, err)
	}
	_ = os.Remove(filepath.Join(d.dir, journalName))
	return nil
}

// manifestFiles are the selected files with the sha256 each got when written.
func (d *downloader) manifestFiles(files []ManifestFile) []ManifestFile {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]ManifestFile, len(files))
	for i, f := range files {
		out[i] = f
		out[i].SHA256 = d.done[f.Path].SHA256
	}
	return out
}

// emit adds to the counters and reports, under the lock so reports are ordered and one at a time.
func (d *downloader) emit(file string, doneBytes, gotBytes int64, doneFiles int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.progress.BytesDone += doneBytes
	d.progress.BytesDownloaded += gotBytes
	d.progress.FilesDone += doneFiles
	if d.report != nil {
		p := d.progress
		p.File = file
		d.report(p)
	}
}

func (d *downloader) count(downloaded bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if downloaded {
		d.downloaded++
	} else {
		d.skipped++
	}
}

// run downloads the files with n workers; the first error cancels the rest.
func (d *downloader) run(ctx context.Context, files []ManifestFile, n int) error {
	if n <= 0 {
		n = DefaultConcurrency
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan ManifestFile)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for range min(n, len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range jobs {
				if err := d.file(ctx, f); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		}()
	}
feed:
	for _, f := range files {
		select {
		case jobs <- f:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// file brings one file into the folder, unless the journal says this version is already there.
func (d *downloader) file(ctx context.Context, f ManifestFile) error {
	d.mu.Lock()
	_, inPlace := d.done[f.Path]
	d.mu.Unlock()
	if inPlace {
		d.count(false)
		d.emit(f.Path, f.Size, 0, 1)
		return nil
	}
	sum, err := d.fetch(ctx, f)
	if err != nil {
		return err
	}
	f.SHA256 = sum
	if err := d.record(f); err != nil {
		return err
	}
	d.count(true)
	d.emit(f.Path, 0, 0, 1)
	return nil
}
