package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/privatellm/privatellm/internal/loader"
	"github.com/privatellm/privatellm/internal/s3"
	"github.com/privatellm/privatellm/test/hubsim"
	"github.com/privatellm/privatellm/test/s3sim"
)

// TestS3Command: an s3:// folder downloads with the keys read from files (which never show in the output),
// into --dest-dir with its manifest, and exits 0; a second run downloads nothing; a wrong secret exits 1; a
// corrupted transfer exits 3.
func TestS3Command(t *testing.T) {
	const access, secret = "AKIDCOMMANDTEST", "command-test-secret"
	s := s3sim.NewTest(t, s3sim.Credentials(access, secret))
	s.AddBucket("models", s3sim.BucketOptions{})
	for _, f := range hubsim.ModelFiles(hubsim.Config{Layers: 16}, 40_000) {
		s.PutObject("models", "tiny/"+f.Path, f.Content, s3sim.ObjectOptions{ChecksumSHA256: f.LFS})
	}
	dir := t.TempDir()
	accessFile, secretFile := filepath.Join(dir, "access"), filepath.Join(dir, "secret")
	for p, v := range map[string]string{accessFile: access + "\n", secretFile: secret + "\n"} {
		if err := os.WriteFile(p, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dest, termLog := filepath.Join(dir, "cache", "s3", "models", "tiny"), filepath.Join(dir, "termination-log")
	args := []string{"--source", "s3://models/tiny", "--dest-dir", dest, "--s3-endpoint", s.URL(), "--s3-path-style",
		"--s3-access-key-file", accessFile, "--s3-secret-key-file", secretFile, "--exclude", ".gitattributes",
		"--termination-log", termLog, "--progress-interval", "0s"}

	var out, errOut bytes.Buffer
	if code := run(args, &out, &errOut); code != loader.ExitComplete {
		t.Fatalf("exit %d: %s %s", code, out.String(), errOut.String())
	}
	raw, _ := os.ReadFile(termLog)
	r, err := loader.Decode(raw)
	m, _ := s3.ReadManifest(dest)
	if err != nil || m == nil || r.Commit != m.ContentID || r.Repo != "s3://models/tiny/" || r.Files != 6 ||
		r.Checkpoint == nil || r.Checkpoint.Layers != 16 {
		t.Fatalf("report %s (%v), manifest %+v", raw, err, m)
	}
	if !strings.Contains(out.String(), `{"progress":{"filesDone":`) {
		t.Errorf("no progress line: %s", out.String())
	}
	if strings.Contains(out.String()+errOut.String()+string(raw), secret) {
		t.Error("the secret key appears in the output")
	}

	s.ResetLog()
	if code := run(args, &out, &errOut); code != loader.ExitComplete {
		t.Fatalf("second run: exit %d", code)
	}
	if raw, _ := os.ReadFile(termLog); !strings.Contains(string(raw), `"commit":"`+m.ContentID+`"`) || strings.Contains(string(raw), `"downloaded"`) {
		t.Errorf("second run report %s, want nothing downloaded", raw)
	}
	if n := s.Count("", "/models/tiny/"); n != 0 {
		t.Errorf("the second run sent %d object requests", n)
	}

	if err := os.WriteFile(secretFile, []byte("wrong"), 0o600); err != nil {
		t.Fatal(err)
	}
	wrongDest := append([]string(nil), args...)
	wrongDest[3] = filepath.Join(dir, "other")
	if code := run(wrongDest, &out, &errOut); code != loader.ExitFailed {
		t.Errorf("a wrong secret: exit %d, want 1", code)
	}
	raw, _ = os.ReadFile(termLog)
	if r, _ := loader.Decode(raw); r.Reason != "Unauthorized" || r.Transient {
		t.Errorf("a wrong secret: report %s", raw)
	}

	if err := os.WriteFile(secretFile, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Corrupt("tiny/model.safetensors", 1)
	if code := run(wrongDest, &out, &errOut); code != loader.ExitRetry {
		t.Errorf("a corrupted transfer: exit %d, want 3", code)
	}
	raw, _ = os.ReadFile(termLog)
	if r, _ := loader.Decode(raw); r.Reason != "VerifyFailed" || !r.Transient {
		t.Errorf("a corrupted transfer: report %s", raw)
	}
	if code := run(wrongDest, &out, &errOut); code != loader.ExitComplete {
		t.Errorf("the retry: exit %d, want 0", code)
	}
}
