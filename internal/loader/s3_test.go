package loader

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/privatellm/privatellm/internal/hub"
	"github.com/privatellm/privatellm/internal/s3"
	"github.com/privatellm/privatellm/test/hubsim"
	"github.com/privatellm/privatellm/test/s3sim"
)

const (
	s3Access = "AKIDLOADERTEST"
	s3Secret = "loader-test-secret"
)

// s3Model stores a transformers model (hubsim's files: config.json, tokenizer, two safetensors shards with
// their sha256) under models/orca/ in a simulated S3 server.
func s3Model(t *testing.T, cfg hubsim.Config, shards ...int64) *s3sim.Server {
	t.Helper()
	s := s3sim.NewTest(t, s3sim.Credentials(s3Access, s3Secret), s3sim.MaxKeys(3))
	s.AddBucket("models", s3sim.BucketOptions{})
	for _, f := range hubsim.ModelFiles(cfg, shards...) {
		s.PutObject("models", "orca/"+f.Path, f.Content, s3sim.ObjectOptions{ChecksumSHA256: f.LFS})
	}
	return s
}

func s3Client(s *s3sim.Server, secret string) *s3.Client {
	return &s3.Client{Endpoint: s.URL(), PathStyle: true, Credentials: &s3.Credentials{AccessKey: s3Access, SecretKey: secret},
		RetryBackoff: time.Millisecond, MaxRetries: 1}
}

// TestRunS3ReportsTheFolderAndTheCheckpoint: an s3:// folder downloads (listed over several pages), and the
// report carries the content id as the commit, the files and what config.json says; a second run over the
// complete folder fetches no object and reports the same commit.
func TestRunS3ReportsTheFolderAndTheCheckpoint(t *testing.T) {
	s := s3Model(t, hubsim.Config{Layers: 40, HiddenSize: 5120, Heads: 40, KVHeads: 8, MaxPositionEmbeddings: 8192}, 3000, 2000)
	dir := t.TempDir()
	o := S3Options{Bucket: "models", Prefix: "orca", Dir: dir, Client: s3Client(s, s3Secret),
		Filter: hub.Filter{Exclude: []string{".gitattributes", "README.md"}}}
	var commits []string
	o.Progress = func(p hub.Progress) { commits = append(commits, p.Commit) }
	r := RunS3(context.Background(), o)
	if r.Reason != "" {
		t.Fatalf("report %+v", r)
	}
	m, err := s3.ReadManifest(dir)
	if err != nil || m == nil {
		t.Fatalf("manifest %v", err)
	}
	if r.Repo != "s3://models/orca/" || r.Commit != m.ContentID || len(r.Commit) != 64 || r.Files != 7 || r.Downloaded != r.Bytes {
		t.Errorf("report %+v, want the content id %s and 7 files", r, m.ContentID)
	}
	if len(commits) == 0 || commits[0] != r.Commit {
		t.Errorf("progress commits %v, want the content id from the first report", commits)
	}
	c := r.Checkpoint
	if c == nil || c.Layers != 40 || c.KVHeads != 8 || c.HeadDim != 128 || c.ContextLength != 8192 ||
		c.Format != "safetensors" || c.WeightBytes != 5000 {
		t.Errorf("checkpoint %+v", c)
	}
	s.ResetLog()
	again := RunS3(context.Background(), o)
	if again.Reason != "" || again.Downloaded != 0 || again.Commit != r.Commit || again.Checkpoint == nil {
		t.Errorf("second run %+v", again)
	}
	if n := s.Count("", "/models/orca/"); n != 0 {
		t.Errorf("the second run sent %d object requests", n)
	}
}

// TestRunS3ReportsTypedFailures: bad credentials fail for good (exit 1); a server that keeps asking to slow
// down may be retried (exit 3).
func TestRunS3ReportsTypedFailures(t *testing.T) {
	s := s3Model(t, hubsim.Config{}, 100)
	r := RunS3(context.Background(), S3Options{Bucket: "models", Prefix: "orca", Dir: t.TempDir(), Client: s3Client(s, "wrong")})
	if r.Reason != string(hub.ReasonUnauthorized) || r.Transient || r.ExitCode() != ExitFailed ||
		!strings.Contains(r.Message, "SignatureDoesNotMatch") || strings.Contains(r.Message, "wrong") {
		t.Errorf("a wrong secret: %+v", r)
	}
	s.Fail(s3sim.Fault{Resource: "/models", Times: s3sim.Always, Status: 503, Code: "SlowDown"})
	r = RunS3(context.Background(), S3Options{Bucket: "models", Prefix: "orca", Dir: t.TempDir(), Client: s3Client(s, s3Secret)})
	if r.Reason != string(hub.ReasonRateLimited) || !r.Transient || r.ExitCode() != ExitRetry {
		t.Errorf("SlowDown: %+v", r)
	}
}
