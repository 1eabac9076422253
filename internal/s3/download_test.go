package s3

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/privatellm/privatellm/internal/hub"
	"github.com/privatellm/privatellm/test/s3sim"
)

// filler is deterministic content of n bytes.
func filler(seed string, n int) []byte {
	b := bytes.Repeat([]byte(seed+"-0123456789abcdef"), n/(len(seed)+17)+1)
	return b[:n]
}

// modelBucket stores a small model under models/llama/, a folder marker, a README, and a neighbour folder
// llama-chat/ that the prefix must not take.
func modelBucket(t *testing.T) *s3sim.Server {
	t.Helper()
	s := newSim(t)
	s.AddBucket("models", s3sim.BucketOptions{})
	s.PutObject("models", "llama/", nil, s3sim.ObjectOptions{})
	s.PutObject("models", "llama/config.json", []byte(`{"architectures":["LlamaForCausalLM"],"num_hidden_layers":2}`), s3sim.ObjectOptions{})
	s.PutObject("models", "llama/tokenizer.json", filler("tok", 3000), s3sim.ObjectOptions{})
	s.PutObject("models", "llama/README.md", []byte("# llama"), s3sim.ObjectOptions{})
	s.PutObject("models", "llama/model-00001-of-00002.safetensors", filler("w1", 300_000), s3sim.ObjectOptions{ChecksumSHA256: true})
	s.PutObject("models", "llama/model-00002-of-00002.safetensors", filler("w2", 200_000), s3sim.ObjectOptions{ChecksumSHA256: true, Parts: 3})
	s.PutObject("models", "llama-chat/config.json", []byte(`{}`), s3sim.ObjectOptions{})
	return s
}

var noReadme = hub.Filter{Exclude: []string{"README.md"}}

const (
	shard1 = "llama/model-00001-of-00002.safetensors"
	shard2 = "llama/model-00002-of-00002.safetensors"
)

func download(t *testing.T, c *Client, dir string, progress func(hub.Progress)) (*Result, error) {
	t.Helper()
	return c.Download(context.Background(), DownloadRequest{Bucket: "models", Prefix: "llama", Dir: dir, Filter: noReadme, Progress: progress})
}

// objectRequests counts the HEADs and GETs of objects under llama/ (the listing is GET /models).
func objectRequests(s *s3sim.Server) int { return s.Count("", "/models/llama/") }

// TestDownloadWritesTheFolderAndTheManifest: the selected objects land at their paths below the prefix with
// their content, the manifest lists them with their sha256 and content id, nothing temporary is left; a second
// run reads the listing only.
func TestDownloadWritesTheFolderAndTheManifest(t *testing.T) {
	s := modelBucket(t)
	c := newClient(s)
	dir := t.TempDir()
	var last hub.Progress
	res, err := download(t, c, dir, func(p hub.Progress) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "tokenizer.json"}
	var got []string
	var total int64
	for _, f := range res.Files {
		got = append(got, f.Path)
		total += f.Size
		o, _ := s.Object("models", f.Key)
		content, err := os.ReadFile(filepath.Join(dir, f.Path))
		if err != nil || !bytes.Equal(content, o.Content) || f.SHA256 != o.SHA256() || f.ETag != o.ETag {
			t.Errorf("%s: %d bytes (%v), manifest %+v", f.Path, len(content), err, f)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") || res.Downloaded != 4 || res.BytesDownloaded != total {
		t.Errorf("result %+v", res)
	}
	if res.Source != "s3://models/llama/" || res.ContentID != ContentID(res.Files) || len(res.ContentID) != 64 {
		t.Errorf("source %s, content id %s", res.Source, res.ContentID)
	}
	m, err := ReadManifest(dir)
	if err != nil || m == nil || m.ContentID != res.ContentID || len(m.Files) != 4 || m.Files[1].SHA256 == "" {
		t.Fatalf("manifest %+v (%v)", m, err)
	}
	if last.FilesDone != 4 || last.BytesDone != total || last.BytesTotal != total || last.Commit != res.ContentID {
		t.Errorf("last progress %+v", last)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".incomplete") || strings.HasSuffix(e.Name(), ".tmp") || e.Name() == "README.md" {
			t.Errorf("left in the folder: %s", e.Name())
		}
	}

	s.ResetLog()
	again, err := download(t, c, dir, nil)
	if err != nil || again.Downloaded != 0 || again.Skipped != 4 || again.ContentID != res.ContentID {
		t.Fatalf("second run %+v, %v", again, err)
	}
	if n := objectRequests(s); n != 0 {
		t.Errorf("the second run sent %d object requests, want none", n)
	}
	if n := s.Count("GET", "/models"); n != 1 {
		t.Errorf("the second run listed %d times, want once", n)
	}
}

// TestDownloadResumesACutTransfer: a GET cut after 100 kB is resumed with Range from there, not restarted.
func TestDownloadResumesACutTransfer(t *testing.T) {
	s := modelBucket(t)
	s.CutBody(shard1, 100_000, 1)
	dir := t.TempDir()
	res, err := download(t, newClient(s), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	gets := s.Requests("GET", "/models/"+shard1)
	o, _ := s.Object("models", shard1)
	if len(gets) != 2 || gets[0].Fault != "cut" || gets[1].Range != "bytes=100000-" || gets[1].IfMatch != `"`+o.ETag+`"` {
		t.Fatalf("GETs of the shard %+v", gets)
	}
	var total int64
	for _, f := range res.Files {
		total += f.Size
	}
	if res.BytesDownloaded != total {
		t.Errorf("%d bytes received for %d: the cut part was fetched again", res.BytesDownloaded, total)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "model-00001-of-00002.safetensors")); !bytes.Equal(b, o.Content) {
		t.Error("the resumed file differs")
	}
}

// TestDownloadResumesAcrossRuns: the partial file a killed run left is resumed; one of another version of the
// object is removed and not used.
func TestDownloadResumesAcrossRuns(t *testing.T) {
	s := modelBucket(t)
	dir := t.TempDir()
	o, _ := s.Object("models", shard1)
	dest := filepath.Join(dir, "model-00001-of-00002.safetensors")
	if err := os.WriteFile(partialPath(dest, o.ETag), o.Content[:50_000], 0o644); err != nil {
		t.Fatal(err)
	}
	stale := partialPath(dest, "an-older-version")
	if err := os.WriteFile(stale, []byte("old bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := download(t, newClient(s), dir, nil); err != nil {
		t.Fatal(err)
	}
	if gets := s.Requests("GET", "/models/"+shard1); len(gets) != 1 || gets[0].Range != "bytes=50000-" || gets[0].Bytes != 250_000 {
		t.Errorf("GETs of the shard %+v, want one from byte 50000", gets)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the other version's partial file is still there: %v", err)
	}
	if b, _ := os.ReadFile(dest); !bytes.Equal(b, o.Content) {
		t.Error("the resumed file differs")
	}
}

// TestDownloadKeepsWhatACutRunFinished: after a run that failed half-way, the files it finished are not
// fetched again (the journal), and the folder has no manifest until it is complete.
func TestDownloadKeepsWhatACutRunFinished(t *testing.T) {
	s := modelBucket(t)
	s.Fail(s3sim.Fault{Method: "HEAD", Resource: "/models/" + shard2, Times: s3sim.Always, Status: 403, Code: "AccessDenied"})
	c := newClient(s)
	dir := t.TempDir()
	req := DownloadRequest{Bucket: "models", Prefix: "llama/", Dir: dir, Filter: noReadme, Concurrency: 1}
	_, err := c.Download(context.Background(), req)
	if hub.ReasonOf(err) != hub.ReasonUnauthorized || hub.IsTransient(err) {
		t.Fatalf("first run: %v, want Unauthorized", err)
	}
	if m, _ := ReadManifest(dir); m != nil {
		t.Fatal("a manifest after a failed run")
	}
	s.ClearFaults()
	s.ResetLog()
	res, err := c.Download(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	// Files are fetched in path order: config.json and the first shard were done before the second shard failed.
	if res.Downloaded != 2 || res.Skipped != 2 || s.Count("", "/models/llama/config.json") != 0 || s.Count("GET", "/models/"+shard1) != 0 {
		t.Errorf("second run %+v, requests %+v", res, s.Requests("", "/models/llama/"))
	}
	if _, err := os.Stat(filepath.Join(dir, journalName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the journal is left after a complete run: %v", err)
	}
}

// TestDownloadChecksTheStoredChecksum: bytes that do not hash to the object's sha256 fail verification
// (transient: the partial file is removed and the next run fetches it again); a multipart object's COMPOSITE
// checksum is not mistaken for the content's.
func TestDownloadChecksTheStoredChecksum(t *testing.T) {
	s := modelBucket(t)
	s.Corrupt(shard1, 1)
	dir := t.TempDir()
	_, err := download(t, newClient(s), dir, nil)
	if hub.ReasonOf(err) != hub.ReasonVerifyFailed || !hub.IsTransient(err) || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("%v, want a transient VerifyFailed", err)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "model-00001-of-00002.safetensors.*.incomplete"))
	if _, statErr := os.Stat(filepath.Join(dir, "model-00001-of-00002.safetensors")); len(matches) != 0 || statErr == nil {
		t.Errorf("the corrupt file is left: %v, %v", matches, statErr)
	}
	res, err := download(t, newClient(s), dir, nil)
	if err != nil {
		t.Fatalf("after the corruption: %v", err)
	}
	o, _ := s.Object("models", shard2)
	if res.Files[2].SHA256 != o.SHA256() {
		t.Errorf("the multipart object's sha256 %s, want %s", res.Files[2].SHA256, o.SHA256())
	}
}

// TestDownloadFollowsTheBucket: when an object changes or goes, the next run fetches only the changed one,
// removes the gone one, and the content id changes.
func TestDownloadFollowsTheBucket(t *testing.T) {
	s := modelBucket(t)
	c := newClient(s)
	dir := t.TempDir()
	first, err := download(t, c, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.PutObject("models", "llama/config.json", []byte(`{"architectures":["LlamaForCausalLM"],"num_hidden_layers":4}`), s3sim.ObjectOptions{})
	s.DeleteObject("models", "llama/tokenizer.json")
	s.ResetLog()
	second, err := download(t, c, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if second.ContentID == first.ContentID || second.Downloaded != 1 || len(second.Files) != 3 || s.Count("GET", "/models/llama/") != 1 {
		t.Errorf("second run %+v, object requests %+v", second, s.Requests("", "/models/llama/"))
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "config.json")); !strings.Contains(string(b), `"num_hidden_layers":4`) {
		t.Errorf("config.json not updated: %s", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the removed object's file is still there: %v", err)
	}
	if m, _ := ReadManifest(dir); m == nil || m.ContentID != second.ContentID {
		t.Errorf("manifest %+v", m)
	}
}

// fullFile fails every write with ENOSPC.
type fullFile struct{ *os.File }

func (fullFile) Write([]byte) (int, error) {
	return 0, &fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}
}

// TestDownloadDiskFull: a full volume is DiskFull, which a retry does not mend.
func TestDownloadDiskFull(t *testing.T) {
	s := modelBucket(t)
	c := newClient(s)
	c.openFile = func(name string) (partialFile, error) {
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
		return fullFile{f}, err
	}
	_, err := download(t, c, t.TempDir(), nil)
	if hub.ReasonOf(err) != hub.ReasonDiskFull || hub.IsTransient(err) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("%v, want DiskFull", err)
	}
}

// TestDownloadRefusesWhatItCannotPlace: an empty prefix, a filter that keeps nothing and a key that would
// escape the folder are refused before anything is written.
func TestDownloadRefusesWhatItCannotPlace(t *testing.T) {
	s := modelBucket(t)
	s.PutObject("models", "evil/../../etc/passwd", []byte("x"), s3sim.ObjectOptions{})
	c := newClient(s)
	for _, tc := range []struct {
		prefix string
		filter hub.Filter
		reason hub.Reason
	}{
		{"nothing-here", hub.Filter{}, hub.ReasonNoMatchingFiles},
		{"llama", hub.Filter{Include: []string{"*.gguf"}}, hub.ReasonNoMatchingFiles},
		{"evil", hub.Filter{}, hub.ReasonBadResponse},
		{"llama", hub.Filter{Include: []string{"[z-a]"}}, hub.ReasonInvalidArgument},
	} {
		dir := t.TempDir()
		_, err := c.Download(context.Background(), DownloadRequest{Bucket: "models", Prefix: tc.prefix, Dir: dir, Filter: tc.filter})
		if hub.ReasonOf(err) != tc.reason {
			t.Errorf("%s %+v: %v, want %s", tc.prefix, tc.filter, err, tc.reason)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s: %d entries written", tc.prefix, len(entries))
		}
	}
}
