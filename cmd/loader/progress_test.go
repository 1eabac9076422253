package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privatellm/privatellm/internal/hub"
	"github.com/privatellm/privatellm/internal/loader"
	"github.com/privatellm/privatellm/test/hubsim"
)

// gate holds requests until opened; opening it twice is harmless.
type gate struct {
	ch   chan struct{}
	once sync.Once
}

func newGate() *gate  { return &gate{ch: make(chan struct{})} }
func (g *gate) open() { g.once.Do(func() { close(g.ch) }) }
func (g *gate) wait() { <-g.ch }

// getProgress reads GET /progress once.
func getProgress(addr string) (loader.Progress, error) {
	resp, err := http.Get("http://" + addr + loader.ProgressPath)
	if err != nil {
		return loader.Progress{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return loader.Progress{}, err
	}
	return loader.DecodeProgress(raw)
}

// waitForProgress polls GET /progress until ok says so, failing the test at the deadline.
func waitForProgress(t *testing.T, addr string, what string, ok func(loader.Progress) bool) loader.Progress {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var last loader.Progress
	var lastErr error
	for {
		last, lastErr = getProgress(addr)
		if lastErr == nil && ok(last) {
			return last
		}
		select {
		case <-ctx.Done():
			t.Fatalf("GET /progress never showed %s: last %+v (%v)", what, last, lastErr)
		case <-tick.C:
		}
	}
}

// TestProgressEndpoint: with --progress-addr, GET /progress says "resolving" while the Hub has not answered,
// "downloading" with the commit and the counts once the files are listed, and the server is gone once the
// run has ended.
func TestProgressEndpoint(t *testing.T) {
	resolving, downloading := newGate(), newGate()
	h := hubsim.NewTest(t, hubsim.Check(func(r *http.Request) string {
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/models/") && !strings.Contains(r.URL.Path, "/tree/"):
			resolving.wait() // the revision is not resolved until the test has seen "resolving"
		case strings.HasPrefix(r.URL.Path, "/repos/"):
			downloading.wait() // no weights arrive until the test has seen "downloading"
		}
		return ""
	}))
	t.Cleanup(resolving.open) // runs before the Hub closes, so no handler stays blocked
	t.Cleanup(downloading.open)
	repo := h.AddRepo("acme/watched-7b", hubsim.RepoOptions{Files: hubsim.ModelFiles(hubsim.Config{}, 50_000, 50_000)})
	t.Setenv(hub.EndpointEnv, h.URL())
	dir := t.TempDir()

	addrs := make(chan string, 1)
	exit := make(chan int, 1)
	var out, errOut bytes.Buffer
	go func() {
		exit <- runWith([]string{"--repo", repo.ID, "--cache-dir", filepath.Join(dir, "cache"), "--progress-addr", "127.0.0.1:0",
			"--termination-log", filepath.Join(dir, "termination-log")}, &out, &errOut, func(a net.Addr) { addrs <- a.String() })
	}()
	var addr string
	select {
	case addr = <-addrs:
	case code := <-exit:
		t.Fatalf("exit %d before serving: %s", code, errOut.String())
	case <-time.After(10 * time.Second):
		t.Fatal("the progress server never listened")
	}

	p := waitForProgress(t, addr, "resolving", func(p loader.Progress) bool { return p.State == loader.StateResolving })
	if p.Repo != repo.ID || p.Revision != "main" || p.Commit != "" {
		t.Errorf("resolving: %+v", p)
	}
	resolving.open()
	p = waitForProgress(t, addr, "downloading", func(p loader.Progress) bool { return p.State == loader.StateDownloading })
	if p.Commit != repo.Commit || p.FilesTotal != len(repo.Files()) || p.BytesTotal == 0 || p.FilesDone == p.FilesTotal {
		t.Errorf("downloading: %+v, want the commit %s and %d files not all done", p, repo.Commit, len(repo.Files()))
	}
	downloading.open()

	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not end")
	}
	if _, err := getProgress(addr); err == nil {
		t.Error("GET /progress still answers after the run")
	}
}
