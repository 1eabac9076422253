package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/privatellm/privatellm/internal/hub"
	"github.com/privatellm/privatellm/internal/loader"
	"github.com/privatellm/privatellm/test/hubsim"
)

// TestLoaderCommand: the command downloads a private repo with the token from a file, prints progress and the
// report, writes the report as the termination message and exits 0; a bad token exits 1 with its reason; a bad
// command line exits 2.
func TestLoaderCommand(t *testing.T) {
	h := hubsim.NewTest(t, hubsim.Tokens("hf_good", "hf_other"))
	repo := h.AddRepo("acme/private-7b", hubsim.RepoOptions{Files: hubsim.ModelFiles(hubsim.Config{}, 4096), Private: true, Tokens: []string{"hf_good"}})
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("hf_good\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(hub.EndpointEnv, h.URL())
	termLog := filepath.Join(dir, "termination-log")
	args := []string{"--repo", repo.ID, "--cache-dir", filepath.Join(dir, "cache"), "--token-file", tokenFile,
		"--termination-log", termLog, "--exclude", "README.md", "--progress-interval", "0s"}

	var out, errOut bytes.Buffer
	if code := run(args, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s %s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), `{"progress":{"filesDone":`) {
		t.Errorf("no progress line on stdout: %s", out.String())
	}
	raw, err := os.ReadFile(termLog)
	if err != nil {
		t.Fatal(err)
	}
	r, err := loader.Decode(raw)
	if err != nil || r.Commit != repo.Commit || r.Checkpoint == nil || r.Checkpoint.Layers != 32 {
		t.Fatalf("termination message %s (%v)", raw, err)
	}
	if strings.Contains(out.String()+errOut.String()+string(raw), "hf_good") {
		t.Error("the token appears in the output")
	}

	if err := os.WriteFile(tokenFile, []byte("hf_other"), 0o600); err != nil {
		t.Fatal(err)
	}
	args[3] = filepath.Join(dir, "cache2")
	out.Reset()
	if code := run(args, &out, &errOut); code != 1 {
		t.Fatalf("a token without access: exit %d, want 1", code)
	}
	raw, _ = os.ReadFile(termLog)
	if r, _ := loader.Decode(raw); r.Reason != string(hub.ReasonRepoNotFound) {
		t.Errorf("a token without access: report %s", raw)
	}
	if code := run([]string{"--cache-dir", dir}, &out, &errOut); code != 2 {
		t.Errorf("no --repo: exit %d, want 2", code)
	}
}
