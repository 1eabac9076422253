package loader

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/privatellm/privatellm/internal/hub"
)

// State is where a loader run stands.
type State string

// The states of a run, in order; done and failed are final.
const (
	// StateResolving: the source is being resolved and listed; nothing is known of the files yet.
	StateResolving State = "resolving"
	// StateDownloading: the files are known (and the commit) and being brought in.
	StateDownloading State = "downloading"
	// StateDone: complete; the report is being written.
	StateDone State = "done"
	// StateFailed: failed (Reason says why); the report is being written.
	StateFailed State = "failed"
)

// ProgressPath is where the loader serves its Progress (GET, JSON) with --progress-addr.
const ProgressPath = "/progress"

// Progress is the loader's latest state, as GET /progress answers it; the operator polls it (at most every 15 s)
// into the ModelCache's status.
type Progress struct {
	State    State  `json:"state"`
	Repo     string `json:"repo"`
	Revision string `json:"revision,omitempty"`
	// Commit is known once the revision resolved (an s3:// source: once listed, its content id).
	Commit     string `json:"commit,omitempty"`
	FilesDone  int    `json:"filesDone"`
	FilesTotal int    `json:"filesTotal"`
	// BytesDone counts the selected files' bytes on disk, partial files included, out of BytesTotal.
	BytesDone  int64 `json:"bytesDone"`
	BytesTotal int64 `json:"bytesTotal"`
	// BytesPerSecond is the rate over the last RateWindow (it falls to 0 when the transfer stalls); at the end,
	// the run's average.
	BytesPerSecond int64 `json:"bytesPerSecond"`
	// Reason and Message say why it failed.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// Percent is the share of bytes done, 0 to 100 (100 when done, whatever the byte counts say).
func (p Progress) Percent() int {
	switch {
	case p.State == StateDone:
		return 100
	case p.BytesTotal <= 0:
		return 0
	}
	return int(min(100, p.BytesDone*100/p.BytesTotal))
}

// DecodeProgress reads a GET /progress answer.
func DecodeProgress(raw []byte) (Progress, error) {
	var p Progress
	if err := json.Unmarshal(raw, &p); err != nil {
		return Progress{}, fmt.Errorf("the loader's progress: %w", err)
	}
	switch p.State {
	case StateResolving, StateDownloading, StateDone, StateFailed:
		return p, nil
	}
	return Progress{}, fmt.Errorf("the loader's progress: unknown state %q", p.State)
}

// RateWindow is the span BytesPerSecond is measured over: long enough to smooth chunk bursts, short enough that
// the ETA follows a change of speed within a poll or two.
const RateWindow = 30 * time.Second

// Tracker keeps a run's latest Progress for GET /progress. Safe for concurrent use.
type Tracker struct {
	mu      sync.Mutex
	now     func() time.Time
	p       Progress
	samples []sample // of BytesDownloaded, at most one a second, the oldest just before the window
	got     int64    // BytesDownloaded of the latest update
}

type sample struct {
	at    time.Time
	bytes int64
}

// NewTracker starts in StateResolving.
func NewTracker(repo, revision string) *Tracker {
	return &Tracker{now: time.Now, p: Progress{State: StateResolving, Repo: repo, Revision: revision}}
}

// Update takes a download's progress report (hub.Progress from either client).
func (t *Tracker) Update(p hub.Progress) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.p.State == StateDone || t.p.State == StateFailed {
		return
	}
	t.p.State = StateDownloading
	if p.Commit != "" {
		t.p.Commit = p.Commit
	}
	t.p.FilesDone, t.p.FilesTotal, t.p.BytesDone, t.p.BytesTotal = p.FilesDone, p.FilesTotal, p.BytesDone, p.BytesTotal
	now := t.now()
	t.got = p.BytesDownloaded
	if n := len(t.samples); n == 0 || now.Sub(t.samples[n-1].at) >= time.Second {
		t.samples = append(t.samples, sample{at: now, bytes: p.BytesDownloaded})
	}
}

// Finish records the run's end from its report.
func (t *Tracker) Finish(r Report) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.p.State, t.p.Reason, t.p.Message = StateDone, r.Reason, r.Message
	if r.Reason != "" {
		t.p.State = StateFailed
	} else {
		t.p.FilesDone, t.p.FilesTotal, t.p.BytesDone, t.p.BytesTotal = r.Files, r.Files, r.Bytes, r.Bytes
	}
	if r.Commit != "" {
		t.p.Commit = r.Commit
	}
	t.p.BytesPerSecond = 0
	if r.Seconds > 0 {
		t.p.BytesPerSecond = int64(float64(r.Downloaded) / r.Seconds)
	}
}

// Progress is the latest state, with the current rate.
func (t *Tracker) Progress() Progress {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.p
	if p.State == StateDownloading {
		p.BytesPerSecond = t.rateLocked(t.now())
	}
	return p
}

// rateLocked is the bytes received per second since the oldest sample within the window (or just before it):
// measured up to now, not to the last update, so a stalled transfer's rate falls to 0.
func (t *Tracker) rateLocked(now time.Time) int64 {
	cut := 0
	for cut+1 < len(t.samples) && now.Sub(t.samples[cut+1].at) >= RateWindow {
		cut++
	}
	t.samples = t.samples[cut:]
	if len(t.samples) == 0 {
		return 0
	}
	base := t.samples[0]
	secs := now.Sub(base.at).Seconds()
	if secs < 1 { // too short a span to say anything
		return 0
	}
	if now.Sub(base.at) > RateWindow && len(t.samples) == 1 {
		// Nothing arrived within the window.
		base = sample{at: now.Add(-RateWindow), bytes: t.got}
		secs = RateWindow.Seconds()
	}
	return int64(float64(t.got-base.bytes) / secs)
}

// Handler serves GET /progress: the latest state as JSON, never cached.
func (t *Tracker) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ProgressPath, func(w http.ResponseWriter, _ *http.Request) {
		raw, _ := json.Marshal(t.Progress())
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(append(raw, '\n'))
	})
	return mux
}
