package loader

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/privatellm/privatellm/internal/hub"
	"github.com/privatellm/privatellm/test/hubsim"
)

// TestRunReportsTheSnapshotAndTheCheckpoint: a model repo downloads into the cache, and the report carries the
// commit, the files and what config.json says — the shape the operator sizes the model from.
func TestRunReportsTheSnapshotAndTheCheckpoint(t *testing.T) {
	h := hubsim.NewTest(t)
	repo := h.AddRepo("acme/orca-13b-chat", hubsim.RepoOptions{Files: hubsim.ModelFiles(hubsim.Config{
		Layers: 40, HiddenSize: 5120, Heads: 40, KVHeads: 40, MaxPositionEmbeddings: 4096,
	}, 3000, 2000)})
	cache := t.TempDir()
	r := Run(context.Background(), Options{
		Repo: repo.ID, Revision: "main", CacheDir: cache, Client: hub.NewClient(h.URL(), "", h.HTTPClient()),
		Filter: hub.Filter{Include: []string{"*.json", "*.safetensors"}},
	})
	if r.Reason != "" {
		t.Fatalf("report %+v", r)
	}
	if r.Commit != repo.Commit || r.Files != 7 || r.Bytes == 0 || r.Downloaded != r.Bytes {
		t.Errorf("report %+v, want the commit %s and the 5 JSON and 2 weight files", r, repo.Commit)
	}
	c := r.Checkpoint
	if c == nil || c.Architecture != "LlamaForCausalLM" || c.Layers != 40 || c.KVHeads != 40 || c.HeadDim != 128 ||
		c.ContextLength != 4096 || c.Format != "safetensors" || c.WeightBytes != 5000 {
		t.Errorf("checkpoint %+v", c)
	}
	if _, err := os.Stat(filepath.Join(cache, "models--acme--orca-13b-chat", "snapshots", repo.Commit, "config.json")); err != nil {
		t.Errorf("snapshot not in the cache layout: %v", err)
	}
	// A second run finds everything cached.
	again := Run(context.Background(), Options{Repo: repo.ID, CacheDir: cache, Client: hub.NewClient(h.URL(), "", h.HTTPClient()),
		Filter: hub.Filter{Include: []string{"*.json", "*.safetensors"}}})
	if again.Reason != "" || again.Downloaded != 0 || again.Commit != repo.Commit {
		t.Errorf("second run %+v, want nothing downloaded", again)
	}
}

// TestRunReportsTypedFailures: a gated repo without a token and a missing revision end with their reasons and
// are not transient; a Hub that keeps failing is.
func TestRunReportsTypedFailures(t *testing.T) {
	h := hubsim.NewTest(t)
	h.AddRepo("meta/gated", hubsim.RepoOptions{Files: hubsim.ModelFiles(hubsim.Config{}, 100), Gated: "manual", Tokens: []string{"hf_granted"}})
	h.AddRepo("acme/open", hubsim.RepoOptions{Files: hubsim.ModelFiles(hubsim.Config{}, 100)})
	c := hub.NewClient(h.URL(), "", h.HTTPClient())
	c.MaxRetries = -1
	for _, tc := range []struct {
		repo, revision string
		reason         string
		transient      bool
	}{
		{"meta/gated", "main", string(hub.ReasonGatedRepo), false},
		{"acme/open", "no-such-branch", string(hub.ReasonRevisionNotFound), false},
		{"acme/absent", "main", string(hub.ReasonRepoNotFound), false},
	} {
		r := Run(context.Background(), Options{Repo: tc.repo, Revision: tc.revision, CacheDir: t.TempDir(), Client: c})
		if r.Reason != tc.reason || r.Transient != tc.transient || r.Message == "" {
			t.Errorf("%s@%s: %+v, want reason %s", tc.repo, tc.revision, r, tc.reason)
		}
	}
	h.Fail("/api/models/acme/open", hubsim.Always, 503, nil)
	if r := Run(context.Background(), Options{Repo: "acme/open", CacheDir: t.TempDir(), Client: c}); r.Reason != string(hub.ReasonServerError) || !r.Transient {
		t.Errorf("a failing Hub: %+v, want a transient ServerError", r)
	}
}
