package s3

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/privatellm/privatellm/internal/hub"
)

// copyBufferSize is the write size of the verifying copy (as internal/hub: one write and one progress report
// per MiB).
const copyBufferSize = 1 << 20

// partialFile is what a download writes through; *os.File is one.
type partialFile interface {
	io.Reader
	io.Writer
	io.Seeker
	Truncate(size int64) error
	Sync() error
	Close() error
	Stat() (fs.FileInfo, error)
}

func (c *Client) open(name string) (partialFile, error) {
	if c.openFile != nil {
		return c.openFile(name)
	}
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
}

var (
	// errRestart asks fetch to start a file again from byte 0.
	errRestart = errors.New("restart from zero")
	errTooLong = errors.New("body longer than expected")
)

// streamError is a transfer cut short (connection reset, stall, short body): retried with Range.
type streamError struct{ err error }

func (e *streamError) Error() string { return "transfer interrupted: " + e.err.Error() }
func (e *streamError) Unwrap() error { return e.err }

// writeError marks an error from the destination, so it is not mistaken for a network error.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// partialPath is where a version of a file is assembled: <dest>.<12 hex of sha256(etag)>.incomplete, so that
// bytes of an older version are never resumed into a newer one.
func partialPath(dest, etag string) string {
	return dest + "." + hexSHA256(etag)[:12] + ".incomplete"
}

// removeStalePartials removes the partial files of other versions of dest.
func removeStalePartials(dest, keep string) {
	matches, _ := filepath.Glob(globEscape(dest) + ".*.incomplete")
	for _, m := range matches {
		if m != keep {
			_ = os.Remove(m)
		}
	}
}

func globEscape(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(p)
}

// fetch downloads one object into place and returns its sha256. HEAD first checks that the object is still
// the listed version and gives its stored checksum; then attempts resume until the file is complete.
// Attempts that receive nothing are bounded by maxRetries (the count reset whenever data arrives), all attempts
// by a further bound.
func (d *downloader) fetch(ctx context.Context, f ManifestFile) (string, error) {
	c := d.c
	w := what{bucket: d.bucket, key: f.Key}
	meta, err := c.HeadObject(ctx, d.bucket, f.Key)
	if err != nil {
		return "", err
	}
	if meta.ETag != f.ETag || meta.Size != f.Size {
		return "", verifyFailed(w, fmt.Sprintf("it changed since it was listed (ETag %s, %d bytes; listed %s, %d bytes)",
			meta.ETag, meta.Size, f.ETag, f.Size))
	}
	dest := filepath.Join(d.dir, filepath.FromSlash(f.Path))
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return "", fsError(w, f.Size, err)
	}
	partial := partialPath(dest, f.ETag)
	removeStalePartials(dest, partial)

	var counted int64 // this file's bytes the progress counts as on disk
	setOnDisk := func(n, received int64) {
		d.emit(f.Path, n-counted, received, 0)
		counted = n
	}
	idle, backoff := 0, c.backoff()
	maxAttempts := 4 * (c.maxRetries() + 1)
	var last error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		received, sum, err := d.transfer(ctx, f, meta.SHA256, partial, dest, setOnDisk)
		if err == nil {
			return sum, nil
		}
		if !errors.As(err, new(*streamError)) && !errors.Is(err, errRestart) {
			return "", err
		}
		last = err
		if received > 0 {
			idle, backoff = 0, c.backoff()
		} else if idle++; idle > c.maxRetries() {
			break
		}
		if err := wait(ctx, backoff); err != nil {
			return "", err
		}
		backoff = min(2*backoff, 8*c.backoff())
	}
	return "", &hub.Error{Reason: hub.ReasonUnreachable, Repo: "s3://" + d.bucket, Path: f.Key, Err: errors.Unwrap(last),
		Detail: fmt.Sprintf("the transfer of %s keeps failing (%v): check the network and the S3 server; the partial "+
			"file is kept to resume", w, last)}
}

// transfer runs one attempt: it opens the partial file, hashes what is already there, GETs the rest with Range
// (a 200 answer means the server ignored it: the file restarts from 0), writes and hashes the body, then checks
// size and checksum, fsyncs and renames. It returns the bytes received and the content's sha256.
func (d *downloader) transfer(ctx context.Context, f ManifestFile, wantSHA256, partial, dest string,
	setOnDisk func(onDisk, received int64)) (received int64, sum string, err error) {
	w := what{bucket: d.bucket, key: f.Key}
	fh, err := d.c.open(partial)
	if err != nil {
		return 0, "", fsError(w, f.Size, err)
	}
	closed := false
	defer func() {
		if !closed {
			_ = fh.Close()
		}
	}()
	var onDisk int64
	h := sha256.New()
	restart := func() error {
		if err := fh.Truncate(0); err != nil {
			return fsError(w, f.Size, err)
		}
		if _, err := fh.Seek(0, io.SeekStart); err != nil {
			return fsError(w, f.Size, err)
		}
		onDisk = 0
		setOnDisk(0, 0)
		h.Reset()
		return nil
	}
	fail := func(e *hub.Error) (int64, string, error) {
		_ = fh.Close()
		closed = true
		_ = os.Remove(partial)
		setOnDisk(0, 0)
		return received, "", e
	}

	fi, err := fh.Stat()
	if err != nil {
		return 0, "", fsError(w, f.Size, err)
	}
	if have := fi.Size(); have > f.Size {
		if err := restart(); err != nil {
			return 0, "", err
		}
	} else if have > 0 { // hash what an earlier attempt left; the file offset ends where the next bytes go
		if n, err := io.CopyN(h, fh, have); err != nil || n != have {
			if err := restart(); err != nil {
				return 0, "", err
			}
		} else {
			onDisk = have
			setOnDisk(onDisk, 0)
		}
	}

	if onDisk < f.Size {
		advance := func(k int) {
			onDisk += int64(k)
			received += int64(k)
			setOnDisk(onDisk, int64(k))
		}
		if err := d.get(ctx, f, fh, h, onDisk, restart, advance); err != nil {
			var he *hub.Error
			if errors.As(err, &he) && he.Reason == hub.ReasonVerifyFailed {
				return fail(he)
			}
			if errors.Is(err, errRestart) {
				if rerr := restart(); rerr != nil {
					return received, "", rerr
				}
			}
			return received, "", err
		}
	}

	if onDisk != f.Size {
		return fail(verifyFailed(w, fmt.Sprintf("got %d bytes, want %d", onDisk, f.Size)))
	}
	sum = hex.EncodeToString(h.Sum(nil))
	if wantSHA256 != "" && sum != wantSHA256 {
		if received < f.Size { // part came from an earlier attempt, which may be what is wrong: once more from 0
			if err := restart(); err != nil {
				return received, "", err
			}
			return received, "", errRestart
		}
		return fail(verifyFailed(w, fmt.Sprintf("sha256 is %s, the server's checksum says %s", sum, wantSHA256)))
	}
	if err := fh.Sync(); err != nil {
		return received, "", fsError(w, f.Size, err)
	}
	closed = true
	if err := fh.Close(); err != nil {
		return received, "", fsError(w, f.Size, err)
	}
	if err := os.Rename(partial, dest); err != nil {
		return received, "", fsError(w, f.Size, err)
	}
	if err := syncDir(filepath.Dir(dest)); err != nil {
		return received, "", fsError(w, f.Size, err)
	}
	return received, sum, nil
}

// get GETs the object from byte `from` on If-Match of the listed ETag and appends the body to fh through the
// hash, calling advance after each write. A cut transfer is a *streamError; an answer that cannot be resumed is
// errRestart; an object that changed is VerifyFailed.
func (d *downloader) get(ctx context.Context, f ManifestFile, fh io.Writer, h hash.Hash, from int64,
	restart func() error, advance func(int)) error {
	w := what{bucket: d.bucket, key: f.Key}
	// The request lives in its own context so a stall can cut it without cancelling the download.
	reqCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := d.c.getObject(reqCtx, d.bucket, f.Key, from, f.ETag)
	if err != nil {
		return err
	}
	defer drain(resp)
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, ok := contentRangeStart(resp.Header.Get("Content-Range"))
		if from == 0 || !ok || start != from {
			return errRestart
		}
	case http.StatusOK:
		if from > 0 {
			if err := restart(); err != nil {
				return err
			}
			from = 0
		}
	case http.StatusRequestedRangeNotSatisfiable:
		return errRestart
	case http.StatusPreconditionFailed:
		return verifyFailed(w, "it changed during the download (If-Match failed)")
	default:
		return d.c.errorFromResponse(resp, w)
	}
	if cl := resp.ContentLength; cl >= 0 && from+cl != f.Size {
		return verifyFailed(w, fmt.Sprintf("the server sends %d bytes from offset %d, the listing says %d in all", cl, from, f.Size))
	}
	body := &stallReader{r: resp.Body, timeout: d.c.stallTimeout(), cancel: cancel}
	defer body.stop()
	err = copyHashed(fh, h, body, f.Size-from, advance)
	var we *writeError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errTooLong):
		return verifyFailed(w, fmt.Sprintf("the server sends more than %d bytes", f.Size))
	case errors.As(err, &we):
		return fsError(w, f.Size, we.err)
	case ctx.Err() != nil:
		return ctx.Err()
	default:
		return &streamError{err: err}
	}
}

// copyHashed copies up to want bytes from src to dst and into h, calling onChunk after each write. It fails
// with errTooLong if src has more, with a *writeError if dst fails, and with io.ErrUnexpectedEOF if src ends
// early.
func copyHashed(dst io.Writer, h hash.Hash, src io.Reader, want int64, onChunk func(int)) error {
	buf := make([]byte, copyBufferSize)
	var n int64
	for {
		k, rerr := io.ReadFull(src, buf)
		if rerr == io.ErrUnexpectedEOF {
			rerr = io.EOF // a partial buffer at the end; a short body is told apart by n < want below
		}
		if k > 0 {
			if n+int64(k) > want {
				return errTooLong
			}
			if _, err := dst.Write(buf[:k]); err != nil {
				return &writeError{err: err}
			}
			h.Write(buf[:k])
			n += int64(k)
			onChunk(k)
		}
		if rerr == io.EOF {
			if n < want {
				return io.ErrUnexpectedEOF
			}
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// stallReader cancels the request when a read waits longer than timeout.
type stallReader struct {
	r       io.Reader
	timeout time.Duration
	cancel  context.CancelFunc
	mu      sync.Mutex
	timer   *time.Timer
}

func (s *stallReader) Read(p []byte) (int, error) {
	s.mu.Lock()
	if s.timer == nil {
		s.timer = time.AfterFunc(s.timeout, s.cancel)
	} else {
		s.timer.Reset(s.timeout)
	}
	s.mu.Unlock()
	n, err := s.r.Read(p)
	s.mu.Lock()
	s.timer.Stop()
	s.mu.Unlock()
	if err != nil && errors.Is(err, context.Canceled) {
		err = fmt.Errorf("no data for %s: %w", s.timeout, err)
	}
	return n, err
}

func (s *stallReader) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timer != nil {
		s.timer.Stop()
	}
}
