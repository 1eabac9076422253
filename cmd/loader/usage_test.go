package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/privatellm/privatellm/internal/hub"
	"github.com/privatellm/privatellm/internal/loader"
	"github.com/privatellm/privatellm/test/hubsim"
)

// TestBadCommandLinesExit2: every command line that cannot be run exits 2 and says why on stderr, before
// anything is downloaded or written.
func TestBadCommandLinesExit2(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		says string
	}{
		{nil, "one of --repo, --source and --verify-dir"},
		{[]string{"--repo", "a/b", "--source", "s3://bucket/x"}, "one of"},
		{[]string{"--repo", "a/b"}, "--cache-dir"},
		{[]string{"--source", "s3://bucket/x"}, "--dest-dir"},
		{[]string{"--source", "gs://bucket/x", "--dest-dir", dir}, "only s3://"},
		{[]string{"--source", "pvc://claim/x", "--dest-dir", dir}, "--verify-dir"},
		{[]string{"--source", "s3://Bad_Bucket/x", "--dest-dir", dir}, "invalid bucket name"},
		{[]string{"--source", "s3://bucket/x", "--dest-dir", dir, "--s3-access-key-file", "f"}, "both"},
		{[]string{"--source", "s3://bucket/x", "--dest-dir", dir, "--token-file", "f"}, "--token-file cannot be used with --source"},
		{[]string{"--repo", "a/b", "--cache-dir", dir, "--s3-path-style"}, "--s3-path-style cannot be used with --repo"},
		{[]string{"--verify-dir", dir, "--include", "*.json"}, "--include cannot be used with --verify-dir"},
		{[]string{"--verify-dir", dir, "extra"}, "unexpected arguments"},
		{[]string{"--verify-dir", dir, "--no-such-flag"}, "no-such-flag"},
		{[]string{"--verify-dir", dir, "--progress-addr", "256.0.0.1:http"}, "--progress-addr"},
	} {
		var out, errOut bytes.Buffer
		termLog := filepath.Join(dir, "termination-log")
		code := run(append(tc.args, "--termination-log", termLog), &out, &errOut)
		if code != loader.ExitUsage || !strings.Contains(errOut.String(), tc.says) {
			t.Errorf("%q: exit %d, stderr %q, want 2 saying %q", tc.args, code, errOut.String(), tc.says)
		}
		if _, err := os.Stat(termLog); err == nil {
			t.Errorf("%q: a report was written for a bad command line", tc.args)
			_ = os.Remove(termLog)
		}
	}
}

// TestVerifyDirCommand: --verify-dir reports a pre-loaded model and exits 0, or ModelFilesMissing and 1;
// --writable-dir folders are made group-writable first.
func TestVerifyDirCommand(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "model")
	if err := os.MkdirAll(model, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range hubsim.ModelFiles(hubsim.Config{Layers: 12}, 2048) {
		if err := os.WriteFile(filepath.Join(model, f.Path), f.Content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	termLog := filepath.Join(dir, "termination-log")
	compile := filepath.Join(dir, "cache", "compile")
	var out, errOut bytes.Buffer
	code := run([]string{"--verify-dir", model, "--writable-dir", compile, "--termination-log", termLog}, &out, &errOut)
	raw, _ := os.ReadFile(termLog)
	r, _ := loader.Decode(raw)
	if code != loader.ExitComplete || r.Reason != "" || r.Checkpoint == nil || r.Checkpoint.Layers != 12 || r.Files != 6 { // .gitattributes is hidden
		t.Fatalf("exit %d, report %s %s", code, raw, errOut.String())
	}
	if fi, err := os.Stat(compile); err != nil || fi.Mode()&(fs.ModeSetgid|fs.ModePerm) != loader.WritableDirMode {
		t.Errorf("--writable-dir: %v (%v)", fi, err)
	}
	if err := os.Remove(filepath.Join(model, "config.json")); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"--verify-dir", model, "--termination-log", termLog}, &out, &errOut); code != loader.ExitFailed {
		t.Errorf("no config.json: exit %d, want 1", code)
	}
	raw, _ = os.ReadFile(termLog)
	if r, _ := loader.Decode(raw); r.Reason != loader.ReasonModelFilesMissing || !strings.Contains(r.Message, "config.json") {
		t.Errorf("no config.json: report %s", raw)
	}
}

// TestHubFailuresThatMayBeRetriedExit3: a corrupted transfer (VerifyFailed) exits 3, so the Job retries it.
func TestHubFailuresThatMayBeRetriedExit3(t *testing.T) {
	h := hubsim.NewTest(t)
	repo := h.AddRepo("acme/flaky", hubsim.RepoOptions{Files: hubsim.ModelFiles(hubsim.Config{}, 4096)})
	h.Corrupt("model.safetensors", 1)
	t.Setenv(hub.EndpointEnv, h.URL())
	dir := t.TempDir()
	termLog := filepath.Join(dir, "termination-log")
	var out, errOut bytes.Buffer
	args := []string{"--repo", repo.ID, "--cache-dir", filepath.Join(dir, "cache"), "--termination-log", termLog}
	if code := run(args, &out, &errOut); code != loader.ExitRetry {
		t.Fatalf("exit %d, want 3: %s", code, out.String())
	}
	raw, _ := os.ReadFile(termLog)
	if r, _ := loader.Decode(raw); r.Reason != string(hub.ReasonVerifyFailed) || !r.Transient {
		t.Errorf("report %s", raw)
	}
	if code := run(args, &out, &errOut); code != loader.ExitComplete {
		t.Errorf("the retry: exit %d, want 0", code)
	}
}
