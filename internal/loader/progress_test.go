package loader

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/privatellm/privatellm/internal/hub"
)

// fakeClock is a clock the test moves.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }

// newTrackerAt is a tracker on the fake clock.
func newTrackerAt(c *fakeClock) *Tracker {
	tr := NewTracker("acme/m", "main")
	tr.now = c.now
	return tr
}

func mib(n int64) int64 { return n << 20 }

// progressAt is a report of a 100 MiB download with `done` bytes received.
func progressAt(done int64) hub.Progress {
	return hub.Progress{FilesTotal: 2, BytesTotal: mib(100), BytesDone: done, BytesDownloaded: done, Commit: "c0ffee"}
}

// TestTrackerFollowsTheRun: resolving until the first report, then downloading with the commit and the
// counts, then done with the totals (or failed with the reason).
func TestTrackerFollowsTheRun(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	tr := newTrackerAt(clock)
	if p := tr.Progress(); p.State != StateResolving || p.Repo != "acme/m" || p.Revision != "main" || p.Commit != "" {
		t.Errorf("before any report: %+v", p)
	}
	tr.Update(progressAt(0))
	clock.add(2 * time.Second)
	tr.Update(progressAt(mib(10)))
	p := tr.Progress()
	if p.State != StateDownloading || p.Commit != "c0ffee" || p.BytesDone != mib(10) || p.BytesTotal != mib(100) ||
		p.FilesTotal != 2 || p.BytesPerSecond != mib(5) || p.Percent() != 10 {
		t.Errorf("downloading: %+v (%d%%)", p, p.Percent())
	}
	tr.Finish(Report{Repo: "acme/m", Commit: "c0ffee", Files: 2, Bytes: mib(100), Downloaded: mib(100), Seconds: 20})
	p = tr.Progress()
	if p.State != StateDone || p.FilesDone != 2 || p.BytesDone != mib(100) || p.BytesPerSecond != mib(5) || p.Percent() != 100 {
		t.Errorf("done: %+v", p)
	}
	tr.Update(progressAt(mib(1)))
	if p := tr.Progress(); p.State != StateDone {
		t.Errorf("a report after the end changed the state: %+v", p)
	}

	failed := newTrackerAt(clock)
	failed.Finish(Report{Reason: "GatedRepo", Message: "accept the conditions"})
	if p := failed.Progress(); p.State != StateFailed || p.Reason != "GatedRepo" || p.Message == "" {
		t.Errorf("failed: %+v", p)
	}
}

// TestTrackerRateFollowsTheLastWindow: the rate is measured over the last RateWindow, so a faster transfer
// shows within it, and a stalled one falls to 0.
func TestTrackerRateFollowsTheLastWindow(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	tr := newTrackerAt(clock)
	var got int64
	for i := 0; i < 60; i++ { // a minute at 1 MiB/s
		got += mib(1)
		clock.add(time.Second)
		tr.Update(progressAt(got))
	}
	if r := tr.Progress().BytesPerSecond; r < mib(1)*95/100 || r > mib(1)*105/100 {
		t.Errorf("at 1 MiB/s: %d B/s", r)
	}
	for i := 0; i < 30; i++ { // then 30 s at 4 MiB/s
		got += mib(4)
		clock.add(time.Second)
		tr.Update(progressAt(got))
	}
	if r := tr.Progress().BytesPerSecond; r < mib(4)*90/100 || r > mib(4)*105/100 {
		t.Errorf("after 30 s at 4 MiB/s: %d B/s, want about 4 MiB/s", r)
	}
	clock.add(RateWindow + time.Second) // nothing for longer than the window
	if r := tr.Progress().BytesPerSecond; r != 0 {
		t.Errorf("stalled: %d B/s, want 0", r)
	}
}

// TestProgressHandler: GET /progress answers the state as JSON that DecodeProgress reads; other methods and
// paths are refused.
func TestProgressHandler(t *testing.T) {
	tr := NewTracker("s3://models/orca/", "")
	tr.Update(hub.Progress{FilesTotal: 3, BytesTotal: 300, BytesDone: 100, Commit: "abc"})
	srv := httptest.NewServer(tr.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + ProgressPath)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	p, err := DecodeProgress(raw)
	if err != nil || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%s (%v) %v", raw, err, resp.Header)
	}
	if p.State != StateDownloading || p.Repo != "s3://models/orca/" || p.Commit != "abc" || p.BytesDone != 100 || p.FilesTotal != 3 {
		t.Errorf("decoded %+v", p)
	}
	for _, field := range []string{`"state":"downloading"`, `"filesDone":0`, `"bytesTotal":300`, `"bytesPerSecond":0`} {
		if !strings.Contains(string(raw), field) {
			t.Errorf("%s lacks %s", raw, field)
		}
	}
	if resp, _ := http.Post(srv.URL+ProgressPath, "application/json", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
	if resp, _ := http.Get(srv.URL + "/other"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another path: %d", resp.StatusCode)
	}
	if _, err := DecodeProgress([]byte(`{"state":"sleeping"}`)); err == nil {
		t.Error("an unknown state must be an error")
	}
	if _, err := DecodeProgress([]byte(`not json`)); err == nil {
		t.Error("not JSON must be an error")
	}
}
