package hub

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// DefaultConcurrency is how many files download at once (huggingface_hub's snapshot_download uses 8 workers;
// fewer keeps a Job's memory and connection count small while still overlapping per-file latency).
const DefaultConcurrency = 4

// copyBufferSize is the write size of the verifying copy.
const copyBufferSize = 1 << 20

// DownloadRequest says what to download where.
type DownloadRequest struct {
	// CacheDir is the Hugging Face cache root (HF_HUB_CACHE of the engines).
	CacheDir string
	// Repo is the model repo id, "org/name".
	Repo string
	// Revision is a branch, tag or commit sha; empty means DefaultRevision.
	Revision string
	// Filter picks the files; the zero Filter takes them all.
	Filter Filter
	// Concurrency is the number of files downloaded at once; 0 means DefaultConcurrency.
	Concurrency int
	// VerifyExisting re-hashes files already in the cache before skipping them. Without it a file is skipped when
	// its snapshot link leads to a blob of the right size: blobs are only ever renamed into place after their size
	// and hash were checked, so this catches only later damage to the volume.
	VerifyExisting bool
	// Progress, if set, is called after the listing, after every chunk written and after every file, one call at
	// a time (from the download goroutines: keep it short, throttle in the caller).
	Progress func(Progress)
}

// Progress is a snapshot of a download's advance.
type Progress struct {
	// FilesDone counts files present and verified (downloaded or already there) out of FilesTotal selected.
	FilesDone, FilesTotal int
	// BytesDone counts bytes on disk for the selected files, partial files included, out of BytesTotal. It goes
	// back when a partial file has to be restarted from zero.
	BytesDone, BytesTotal int64
	// BytesDownloaded counts bytes received in this run.
	BytesDownloaded int64
	// File is the repo path this report is about, "" for the first and last report.
	File string
	// Commit is the commit the revision resolved to (every report comes after resolving), so a watcher can
	// show what is being downloaded before it ends.
	Commit string
}

// Snapshot is the result of a download.
type Snapshot struct {
	// Repo, Revision and Commit say what was downloaded; Commit is the resolved sha.
	Repo, Revision, Commit string
	// Dir is <cache>/models--{org}--{name}/snapshots/<commit>, the directory an engine can load.
	Dir string
	// Files are the selected files, sorted by path.
	Files []File
	// Downloaded and Skipped count the files fetched and those already in the cache.
	Downloaded, Skipped int
	// BytesDownloaded counts bytes received in this run.
	BytesDownloaded int64
}

// Download resolves the revision to a commit, lists the repo's files, keeps those the filter selects and brings
// each into the cache: blobs/<etag> written to <etag>.incomplete (resumed with Range when a partial file is
// there), checked for size and hash while written (LFS: sha256; other files: the git blob sha1), fsynced and
// renamed; then snapshots/<commit>/<path> linked to it. Files already there are skipped without a request, so a
// second run downloads nothing. refs/<revision> is written last: when it exists, the selected files are all in
// the snapshot. The first failure stops the other downloads and is returned.
func (c *Client) Download(ctx context.Context, req DownloadRequest) (*Snapshot, error) {
	if req.Revision == "" {
		req.Revision = DefaultRevision
	}
	if req.CacheDir == "" {
		return nil, &Error{Reason: ReasonInvalidArgument, Repo: req.Repo, Detail: "no cache directory given"}
	}
	if err := ValidateRepoID(req.Repo); err != nil {
		return nil, err
	}
	if err := validateRevision(req.Repo, req.Revision); err != nil {
		return nil, err
	}
	if err := req.Filter.Validate(); err != nil {
		return nil, err
	}
	commit, err := c.ResolveRevision(ctx, req.Repo, req.Revision)
	if err != nil {
		return nil, err
	}
	all, err := c.ListFiles(ctx, req.Repo, commit)
	if err != nil {
		return nil, err
	}
	files, err := SelectFiles(all, req.Filter)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, &Error{Reason: ReasonNoMatchingFiles, Repo: req.Repo, Revision: req.Revision,
			Detail: fmt.Sprintf("the file filter keeps none of the %d files of %s at %s: fix the include/exclude patterns",
				len(all), req.Repo, req.Revision)}
	}
	for _, f := range files {
		if err := ValidatePath(f.Path); err != nil {
			return nil, &Error{Reason: ReasonBadResponse, Repo: req.Repo, Revision: req.Revision, Path: f.Path, Err: err,
				Detail: fmt.Sprintf("%s lists a file with an unsafe path %q: exclude it with the file filter", req.Repo, f.Path)}
		}
		if !validBlobName(f.ETag()) {
			return nil, &Error{Reason: ReasonBadResponse, Repo: req.Repo, Revision: req.Revision, Path: f.Path,
				Detail: fmt.Sprintf("the listing of %s gives %s no usable blob id: check HF_ENDPOINT", req.Repo, f.Path)}
		}
	}

	cache := Cache{Dir: req.CacheDir}
	if err := os.MkdirAll(filepath.Join(cache.RepoDir(req.Repo), "blobs"), 0o755); err != nil {
		return nil, cacheError(req.Repo, "", 0, err)
	}
	cache.writeCachedirTag()

	d := &downloader{c: c, cache: cache, repo: req.Repo, revision: req.Revision, commit: commit,
		verifyExisting: req.VerifyExisting, report: req.Progress}
	d.progress.FilesTotal, d.progress.Commit = len(files), commit
	for _, f := range files {
		d.progress.BytesTotal += f.ContentSize()
	}
	d.emit("", 0, 0, 0)
	if err := d.run(ctx, files, req.Concurrency); err != nil {
		return nil, err
	}
	if err := cache.writeRef(req.Repo, req.Revision, commit); err != nil {
		return nil, cacheError(req.Repo, "", 0, err)
	}
	d.emit("", 0, 0, 0)
	return &Snapshot{
		Repo: req.Repo, Revision: req.Revision, Commit: commit, Dir: cache.SnapshotDir(req.Repo, commit),
		Files: files, Downloaded: d.downloaded, Skipped: d.skipped, BytesDownloaded: d.progress.BytesDownloaded,
	}, nil
}

// cacheError classifies a file system error on the cache volume: DiskFull for ENOSPC/EDQUOT, else it is wrapped
// as is (a permission or I/O error the integrator reports as it sees fit).
func cacheError(repo, path string, size int64, err error) error {
	if isDiskFull(err) {
		return diskFullError(repo, path, size, err)
	}
	return fmt.Errorf("writing the cache for %s: %w", repo, err)
}

// downloader holds one Download's state.
type downloader struct {
	c                      *Client
	cache                  Cache
	repo, revision, commit string
	verifyExisting         bool
	report                 func(Progress)
	mu                     sync.Mutex
	progress               Progress
	downloaded, skipped    int
	blobLocks              map[string]*sync.Mutex
}

// lockBlob serializes the files that share a blob (identical content under two paths), so one downloads it and
// the other only links it.
func (d *downloader) lockBlob(etag string) func() {
	d.mu.Lock()
	if d.blobLocks == nil {
		d.blobLocks = map[string]*sync.Mutex{}
	}
	l, ok := d.blobLocks[etag]
	if !ok {
		l = &sync.Mutex{}
		d.blobLocks[etag] = l
	}
	d.mu.Unlock()
	l.Lock()
	return l.Unlock
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
func (d *downloader) run(ctx context.Context, files []File, n int) error {
	if n <= 0 {
		n = DefaultConcurrency
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan File)
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

// file brings one file into the snapshot.
func (d *downloader) file(ctx context.Context, f File) error {
	size := f.ContentSize()
	repoDir := d.cache.RepoDir(d.repo)
	pointer := d.cache.SnapshotPath(d.repo, d.commit, f.Path)

	// Already linked into this snapshot (file_download.py: "Pointer already exists -> ... return").
	if target, got, ok := linkedBlob(repoDir, pointer); ok && got == size && d.intact(target, f) {
		d.count(false)
		d.emit(f.Path, size, 0, 1)
		return nil
	}
	// The blob is there under the name the listing implies ("Blob exists but pointer must be created").
	defer d.lockBlob(f.ETag())()
	blob := d.cache.BlobPath(d.repo, f.ETag())
	if got, ok := regularSize(blob); ok && got == size && d.intact(blob, f) {
		if err := link(pointer, blob); err != nil {
			return cacheError(d.repo, f.Path, 0, err)
		}
		d.count(false)
		d.emit(f.Path, size, 0, 1)
		return nil
	}

	got, err := d.c.fetch(ctx, d, f)
	if err != nil {
		return err
	}
	if err := link(pointer, got); err != nil {
		return cacheError(d.repo, f.Path, 0, err)
	}
	d.count(true)
	d.emit(f.Path, 0, 0, 1)
	return nil
}

// intact re-hashes an existing blob when VerifyExisting asks for it.
func (d *downloader) intact(p string, f File) bool {
	if !d.verifyExisting {
		return true
	}
	fh, err := os.Open(p)
	if err != nil {
		return false
	}
	defer fh.Close()
	v := newVerifier(f)
	if _, err := io.Copy(v, fh); err != nil {
		return false
	}
	return v.check() == ""
}
