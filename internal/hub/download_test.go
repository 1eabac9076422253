package hub

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/privatellm/privatellm/test/hubsim"
)

// weightsFilter is what a vLLM deployment asks for: safetensors and the config/tokenizer files, no
// consolidated original/ weights.
var weightsFilter = Filter{Include: []string{"*.safetensors", "*.json"}, Exclude: []string{"original/**"}}

func download(t *testing.T, c *Client, cache, repo string) (*Snapshot, error) {
	t.Helper()
	return c.Download(context.Background(), DownloadRequest{CacheDir: cache, Repo: repo, Revision: "main", Filter: weightsFilter})
}

// checkLayout asserts the Hugging Face cache layout for the files of want.
func checkLayout(t *testing.T, cache string, repo hubsim.Repo, sha string, want []string) {
	t.Helper()
	repoDir := filepath.Join(cache, "models--"+strings.ReplaceAll(repo.ID, "/", "--"))
	if b, err := os.ReadFile(filepath.Join(repoDir, "refs", "main")); err != nil || string(b) != sha {
		t.Errorf("refs/main = %q, %v; want %s without newline", b, err, sha)
	}
	for _, p := range want {
		f := repo.File(p)
		pointer := filepath.Join(repoDir, "snapshots", sha, filepath.FromSlash(p))
		target, err := os.Readlink(pointer)
		if err != nil {
			t.Errorf("%s: not a symlink: %v", p, err)
			continue
		}
		wantTarget := strings.Repeat("../", 2+strings.Count(p, "/")) + "blobs/" + f.ETag()
		if target != filepath.FromSlash(wantTarget) {
			t.Errorf("%s -> %s, want the relative %s", p, target, wantTarget)
		}
		got, err := os.ReadFile(pointer)
		if err != nil || !bytes.Equal(got, f.Content) {
			t.Errorf("%s: content through the link differs (%v)", p, err)
		}
		if fi, err := os.Lstat(filepath.Join(repoDir, "blobs", f.ETag())); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s: blob %s missing or not a regular file: %v", p, f.ETag(), err)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(repoDir, "blobs"))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".incomplete") {
			t.Errorf("partial file %s left in blobs/", e.Name())
		}
	}
	etags := map[string]bool{}
	for _, p := range want {
		etags[repo.File(p).ETag()] = true
	}
	if len(entries) != len(etags) {
		t.Errorf("%d blobs, want %d", len(entries), len(etags))
	}
}

var wantFiles = []string{"config.json", "extra/deep/adapter.safetensors", "model.safetensors", "tokenizer.json"}

func TestDownloadLayout(t *testing.T) {
	h := newHub(t)
	opts, sha := testRepo()
	opts.Private = true // the token must reach the Hub; the CDN refuses it
	repo := h.AddRepo("meta-llama/Tiny", opts)
	c, _ := client(h, goodToken)
	cache := t.TempDir()

	snap, err := download(t, c, cache, "meta-llama/Tiny")
	if err != nil {
		t.Fatal(err)
	}
	checkLayout(t, cache, repo, sha, wantFiles)
	if snap.Commit != sha || snap.Downloaded != 4 || snap.Skipped != 0 || len(snap.Files) != 4 ||
		snap.Dir != filepath.Join(cache, "models--meta-llama--Tiny", "snapshots", sha) {
		t.Errorf("snapshot = %+v", snap)
	}
	if _, err := os.Lstat(filepath.Join(snap.Dir, "original")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("original/ was downloaded despite the filter")
	}
	if _, err := os.Stat(filepath.Join(cache, "CACHEDIR.TAG")); err != nil {
		t.Errorf("no CACHEDIR.TAG: %v", err)
	}
	if n := len(h.Requests(hubsim.CDNServer, "/repos/")); n != 2 {
		t.Errorf("%d CDN requests, want one per LFS file", n)
	}
	for _, e := range h.Requests(hubsim.CDNServer, "") {
		if e.Status != http.StatusOK {
			t.Errorf("CDN answered %d to %s (an Authorization header would be refused)", e.Status, e.Path)
		}
	}
	// HEAD then GET on /resolve for files in git, HEAD only for LFS files (their GET goes to the CDN).
	if n := len(h.Requests(hubsim.HubServer, "/resolve/")); n != 6 {
		t.Errorf("%d resolve requests, want 6", n)
	}
}

func TestSecondRunDownloadsNothing(t *testing.T) {
	h := newHub(t)
	opts, sha := testRepo()
	repo := h.AddRepo("acme/tiny", opts)
	c, _ := client(h, "")
	cache := t.TempDir()
	if _, err := download(t, c, cache, "acme/tiny"); err != nil {
		t.Fatal(err)
	}
	h.ResetLog()
	snap, err := download(t, c, cache, "acme/tiny")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(h.Requests(hubsim.HubServer, "/resolve/")) + len(h.Requests(hubsim.CDNServer, "")); n != 0 {
		t.Errorf("second run made %d file requests, want 0", n)
	}
	if n := len(h.Requests(hubsim.HubServer, "")); n != 2 {
		t.Errorf("second run made %d Hub requests, want 2 (revision and tree)", n)
	}
	if snap.Downloaded != 0 || snap.Skipped != 4 || snap.BytesDownloaded != 0 {
		t.Errorf("snapshot = %+v, want everything skipped", snap)
	}
	checkLayout(t, cache, repo, sha, wantFiles)

	// A lost link is recreated from the blob, still without a request.
	h.ResetLog()
	if err := os.Remove(filepath.Join(snap.Dir, "model.safetensors")); err != nil {
		t.Fatal(err)
	}
	if _, err := download(t, c, cache, "acme/tiny"); err != nil {
		t.Fatal(err)
	}
	if n := len(h.Requests(hubsim.HubServer, "/resolve/")) + len(h.Requests(hubsim.CDNServer, "")); n != 0 {
		t.Errorf("relinking made %d file requests, want 0", n)
	}
	checkLayout(t, cache, repo, sha, wantFiles)
}

func TestResumeAfterCutConnection(t *testing.T) {
	h := newHub(t)
	opts, sha := testRepo()
	repo := h.AddRepo("acme/tiny", opts)
	model := repo.File("model.safetensors")
	const cut = 100_000
	h.CutBody("model.safetensors", cut, 1)
	c, slept := client(h, "")
	cache := t.TempDir()

	snap, err := download(t, c, cache, "acme/tiny")
	if err != nil {
		t.Fatal(err)
	}
	checkLayout(t, cache, repo, sha, wantFiles)
	gets := h.Requests(hubsim.CDNServer, model.SHA256())
	if len(gets) != 2 || gets[0].Range != "" || gets[1].Range != "bytes=100000-" ||
		gets[1].Status != http.StatusPartialContent {
		t.Errorf("CDN requests %+v, want a full GET then Range bytes=100000- answered 206", gets)
	}
	var total int64
	for _, f := range snap.Files {
		total += f.ContentSize()
	}
	if snap.BytesDownloaded != total {
		t.Errorf("BytesDownloaded = %d, want %d: nothing fetched twice", snap.BytesDownloaded, total)
	}
	if len(*slept) != 1 {
		t.Errorf("slept %v, want one pause before resuming", *slept)
	}
}

func TestStalledTransferIsCutAndResumed(t *testing.T) {
	h := newHub(t)
	opts, sha := testRepo()
	repo := h.AddRepo("acme/tiny", opts)
	model := repo.File("model.safetensors")
	h.StallBody("model.safetensors", 64_000, 1)
	c, _ := client(h, "")
	c.StallTimeout = 200 * time.Millisecond
	cache := t.TempDir()
	if _, err := download(t, c, cache, "acme/tiny"); err != nil {
		t.Fatal(err)
	}
	checkLayout(t, cache, repo, sha, wantFiles)
	gets := h.Requests(hubsim.CDNServer, model.SHA256())
	if len(gets) != 2 || gets[1].Range != "bytes=64000-" {
		t.Errorf("CDN requests %+v, want the stalled GET then Range bytes=64000-", gets)
	}
}

func TestResumeAcrossRuns(t *testing.T) {
	h := newHub(t)
	opts, _ := testRepo()
	repo := h.AddRepo("acme/tiny", opts)
	model := repo.File("model.safetensors")
	const cut = 123_457
	h.CutBody("model.safetensors", cut, 1)
	c, _ := client(h, "")
	cache := t.TempDir()
	only := Filter{Include: []string{"model.safetensors"}}

	// The first run stops at the cut, like a Job killed mid-transfer.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := c.Download(ctx, DownloadRequest{CacheDir: cache, Repo: "acme/tiny", Filter: only,
		Progress: func(p Progress) {
			if p.BytesDownloaded >= cut {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v, want context.Canceled", err)
	}
	partial := filepath.Join(cache, "models--acme--tiny", "blobs", model.SHA256()+".incomplete")
	if fi, err := os.Stat(partial); err != nil || fi.Size() != cut {
		t.Fatalf("partial file: %v, %v; want %d bytes kept", fi, err, cut)
	}
	if _, err := os.Stat(filepath.Join(cache, "models--acme--tiny", "refs", "main")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("refs/main written for an incomplete snapshot")
	}

	h.ResetLog()
	snap, err := c.Download(context.Background(), DownloadRequest{CacheDir: cache, Repo: "acme/tiny", Filter: only})
	if err != nil {
		t.Fatal(err)
	}
	gets := h.Requests(hubsim.CDNServer, model.SHA256())
	if len(gets) != 1 || gets[0].Range != "bytes=123457-" || gets[0].Status != http.StatusPartialContent {
		t.Errorf("second run CDN requests %+v, want one Range bytes=123457- answered 206", gets)
	}
	if want := int64(len(model.Content) - cut); snap.BytesDownloaded != want || h.SentBytes() != want {
		t.Errorf("second run received %d (CDN sent %d), want only the rest, %d", snap.BytesDownloaded, h.SentBytes(), want)
	}
	got, err := os.ReadFile(filepath.Join(snap.Dir, "model.safetensors"))
	if err != nil || !bytes.Equal(got, model.Content) {
		t.Errorf("resumed content differs: %v", err)
	}
}

func TestServerIgnoringRangeRestartsFromZero(t *testing.T) {
	h := newHub(t)
	opts, sha := testRepo()
	repo := h.AddRepo("acme/tiny", opts)
	h.IgnoreRange("", hubsim.Always)
	model := repo.File("model.safetensors")
	cache := t.TempDir()
	blobs := filepath.Join(cache, "models--acme--tiny", "blobs")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		t.Fatal(err)
	}
	// A partial file from an earlier run; its bytes are even wrong, which a restart from 0 must not keep.
	if err := os.WriteFile(filepath.Join(blobs, model.SHA256()+".incomplete"), bytes.Repeat([]byte{'x'}, 5000), 0o644); err != nil {
		t.Fatal(err)
	}
	c, _ := client(h, "")
	var mu sync.Mutex
	var reports []Progress
	_, err := c.Download(context.Background(), DownloadRequest{CacheDir: cache, Repo: "acme/tiny", Filter: weightsFilter,
		Progress: func(p Progress) { mu.Lock(); reports = append(reports, p); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	checkLayout(t, cache, repo, sha, wantFiles)
	gets := h.Requests(hubsim.CDNServer, model.SHA256())
	if len(gets) != 1 || gets[0].Range != "bytes=5000-" || gets[0].Status != http.StatusOK {
		t.Errorf("CDN requests %+v, want one Range request answered 200", gets)
	}
	last := reports[len(reports)-1]
	for _, p := range reports {
		if p.BytesDone > p.BytesTotal || p.BytesDone < 0 {
			t.Errorf("progress %+v out of bounds", p)
		}
	}
	if last.BytesDone != last.BytesTotal {
		t.Errorf("final progress %+v: BytesDone should equal BytesTotal after a restart", last)
	}
}

func TestVerifyFailed(t *testing.T) {
	for _, path := range []string{"model.safetensors", "config.json"} { // sha256 (LFS), git blob sha1
		t.Run(path, func(t *testing.T) {
			h := newHub(t)
			opts, sha := testRepo()
			repo := h.AddRepo("acme/tiny", opts)
			h.Corrupt(path, hubsim.Always)
			c, _ := client(h, "")
			cache := t.TempDir()
			_, err := download(t, c, cache, "acme/tiny")
			if !errors.Is(err, ErrVerifyFailed) || ReasonOf(err) != ReasonVerifyFailed {
				t.Fatalf("err = %v, want VerifyFailed", err)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "removed") {
				t.Errorf("message %q should name the file and say the partial file was removed", err)
			}
			etag := repo.File(path).ETag()
			for _, name := range []string{etag, etag + ".incomplete"} {
				if _, err := os.Lstat(filepath.Join(cache, "models--acme--tiny", "blobs", name)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s left behind: %v", name, err)
				}
			}
			if _, err := os.Lstat(filepath.Join(cache, "models--acme--tiny", "snapshots", sha, path)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a link to an unverified file was made")
			}
		})
	}
}

func TestVerifyExistingReplacesDamagedBlob(t *testing.T) {
	h := newHub(t)
	opts, sha := testRepo()
	repo := h.AddRepo("acme/tiny", opts)
	c, _ := client(h, "")
	cache := t.TempDir()
	if _, err := download(t, c, cache, "acme/tiny"); err != nil {
		t.Fatal(err)
	}
	model := repo.File("model.safetensors")
	blob := filepath.Join(cache, "models--acme--tiny", "blobs", model.SHA256())
	damaged := bytes.Repeat([]byte{0}, len(model.Content)) // same size: only a hash sees it
	if err := os.WriteFile(blob, damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	h.ResetLog()
	snap, err := c.Download(context.Background(), DownloadRequest{CacheDir: cache, Repo: "acme/tiny",
		Filter: weightsFilter, VerifyExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Downloaded != 1 || len(h.Requests(hubsim.CDNServer, model.SHA256())) != 1 {
		t.Errorf("snapshot %+v: want the damaged blob fetched again, the rest skipped", snap)
	}
	checkLayout(t, cache, repo, sha, wantFiles)
}

// enospcFile fails writes once `room` bytes have been written.
type enospcFile struct {
	*os.File
	room *int64
}

func (f enospcFile) Write(p []byte) (int, error) {
	if int64(len(p)) > *f.room {
		return 0, &fs.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	*f.room -= int64(len(p))
	return f.File.Write(p)
}

func TestDiskFull(t *testing.T) {
	h := newHub(t)
	opts, _ := testRepo()
	repo := h.AddRepo("acme/tiny", opts)
	c, _ := client(h, "")
	room := int64(50_000)
	c.openFile = func(name string, flag int, perm fs.FileMode) (blobFile, error) {
		f, err := os.OpenFile(name, flag, perm)
		if err != nil {
			return nil, err
		}
		return enospcFile{File: f, room: &room}, nil
	}
	cache := t.TempDir()
	_, err := c.Download(context.Background(), DownloadRequest{CacheDir: cache, Repo: "acme/tiny",
		Filter: Filter{Include: []string{"model.safetensors"}}})
	if !errors.Is(err, ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) || IsTransient(err) {
		t.Fatalf("err = %v, want DiskFull wrapping ENOSPC, not transient", err)
	}
	if !strings.Contains(err.Error(), "enlarge the cache volume") {
		t.Errorf("message %q should say what to do", err)
	}
	blob := filepath.Join(cache, "models--acme--tiny", "blobs", repo.File("model.safetensors").SHA256())
	if _, err := os.Lstat(blob); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a blob was renamed into place after ENOSPC")
	}
}

func TestProgress(t *testing.T) {
	h := newHub(t)
	opts, _ := testRepo()
	h.AddRepo("acme/tiny", opts)
	c, _ := client(h, "")
	var reports []Progress
	snap, err := c.Download(context.Background(), DownloadRequest{CacheDir: t.TempDir(), Repo: "acme/tiny",
		Filter: weightsFilter, Concurrency: 3, Progress: func(p Progress) { reports = append(reports, p) }})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, f := range snap.Files {
		total += f.ContentSize()
	}
	first, last := reports[0], reports[len(reports)-1]
	if first != (Progress{FilesTotal: 4, BytesTotal: total, Commit: snap.Commit}) {
		t.Errorf("first report %+v", first)
	}
	if last != (Progress{FilesDone: 4, FilesTotal: 4, BytesDone: total, BytesTotal: total, BytesDownloaded: total, Commit: snap.Commit}) {
		t.Errorf("last report %+v, want all done", last)
	}
	for i := 1; i < len(reports); i++ {
		if reports[i].FilesDone < reports[i-1].FilesDone || reports[i].BytesDownloaded < reports[i-1].BytesDownloaded {
			t.Errorf("report %d went back: %+v after %+v", i, reports[i], reports[i-1])
		}
	}
	if len(reports) < 6 {
		t.Errorf("%d reports, want at least one per file and chunk", len(reports))
	}
}

func TestRenamedRepoFollowsRelativeRedirect(t *testing.T) {
	h := newHub(t)
	opts, sha := testRepo()
	repo := h.AddRepo("acme/new-name", opts)
	h.RenameRepo("acme/old-name", "acme/new-name")
	c, _ := client(h, "")
	m, err := c.head(context.Background(), "acme/old-name", sha, File{Path: "config.json"})
	if err != nil {
		t.Fatal(err)
	}
	if want := h.URL() + "/acme/new-name/resolve/" + sha + "/config.json"; m.location != want ||
		m.etag != repo.File("config.json").GitOID() {
		t.Errorf("meta = %+v, want location %s", m, want)
	}
}

func TestExpiredCDNURLAsksAgain(t *testing.T) {
	h := newHub(t)
	opts, sha := testRepo()
	repo := h.AddRepo("acme/tiny", opts)
	h.ExpireCDNURLs(1) // the signed URL expired
	c, _ := client(h, "")
	cache := t.TempDir()
	if _, err := download(t, c, cache, "acme/tiny"); err != nil {
		t.Fatal(err)
	}
	checkLayout(t, cache, repo, sha, wantFiles)
}

func TestSharedBlobDownloadedOnce(t *testing.T) {
	h := newHub(t)
	opts, sha := testRepo()
	model, cfg := fileIn(opts, "model.safetensors"), fileIn(opts, "config.json")
	opts.Files = append(opts.Files,
		hubsim.LFSFile("copy/model.safetensors", model.Content),
		hubsim.GitFile("copy/config.json", cfg.Content))
	repo := h.AddRepo("acme/dup", opts)
	c, _ := client(h, "")
	cache := t.TempDir()
	snap, err := c.Download(context.Background(), DownloadRequest{CacheDir: cache, Repo: "acme/dup",
		Filter: weightsFilter, Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(h.Requests(hubsim.CDNServer, model.SHA256())); n != 1 {
		t.Errorf("%d CDN requests for a blob two paths share, want 1", n)
	}
	checkLayout(t, cache, repo, sha, []string{"config.json", "copy/config.json", "copy/model.safetensors",
		"extra/deep/adapter.safetensors", "model.safetensors", "tokenizer.json"})
	if snap.Downloaded+snap.Skipped != 6 {
		t.Errorf("snapshot %+v", snap)
	}
}

func TestCorruptPartialFromEarlierRunIsRedone(t *testing.T) {
	h := newHub(t)
	opts, sha := testRepo()
	repo := h.AddRepo("acme/tiny", opts)
	model := repo.File("model.safetensors")
	cache := t.TempDir()
	blobs := filepath.Join(cache, "models--acme--tiny", "blobs")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		t.Fatal(err)
	}
	bad := append([]byte("garbage!"), model.Content[8:100_000]...)
	if err := os.WriteFile(filepath.Join(blobs, model.SHA256()+".incomplete"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	c, _ := client(h, "")
	if _, err := download(t, c, cache, "acme/tiny"); err != nil {
		t.Fatal(err)
	}
	checkLayout(t, cache, repo, sha, wantFiles)
	gets := h.Requests(hubsim.CDNServer, model.SHA256())
	if len(gets) != 2 || gets[0].Range != "bytes=100000-" || gets[1].Range != "" {
		t.Errorf("CDN requests %+v, want a resume, then after the hash mismatch a full download", gets)
	}
}

func TestNoMatchingFiles(t *testing.T) {
	h := newHub(t)
	opts, _ := testRepo()
	h.AddRepo("acme/tiny", opts)
	c, _ := client(h, "")
	_, err := c.Download(context.Background(), DownloadRequest{CacheDir: t.TempDir(), Repo: "acme/tiny",
		Filter: Filter{Include: []string{"*.gguf"}}})
	if !errors.Is(err, ErrNoMatchingFiles) || !strings.Contains(err.Error(), "7 files") {
		t.Fatalf("err = %v, want NoMatchingFiles naming the 7 files", err)
	}
}

func TestUnsafePathInListing(t *testing.T) {
	h := newHub(t)
	opts, _ := testRepo()
	opts.Files = append(opts.Files, hubsim.GitFile("../../escape.json", []byte("{}")))
	h.AddRepo("acme/evil", opts)
	c, _ := client(h, "")
	cache := t.TempDir()
	_, err := download(t, c, cache, "acme/evil")
	if !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), "exclude it with the file filter") {
		t.Fatalf("err = %v, want BadResponse for ../../escape.json", err)
	}
	if _, err := os.Lstat(filepath.Join(cache, "escape.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a file escaped the snapshot")
	}
}

func TestCancel(t *testing.T) {
	h := newHub(t)
	opts, _ := testRepo()
	h.AddRepo("acme/tiny", opts)
	c, _ := client(h, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Download(ctx, DownloadRequest{CacheDir: t.TempDir(), Repo: "acme/tiny"})
	if !errors.Is(err, context.Canceled) || ReasonOf(err) != "" {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
