package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/privatellm/privatellm/internal/hub"
	"github.com/privatellm/privatellm/internal/loader"
)

// progress prints a JSON line at most every `every`, and the last state at the end.
type progress struct {
	mu    sync.Mutex
	out   io.Writer
	every time.Duration
	last  time.Time
	start time.Time
	state hub.Progress
}

type progressLine struct {
	FilesDone      int   `json:"filesDone"`
	FilesTotal     int   `json:"filesTotal"`
	BytesDone      int64 `json:"bytesDone"`
	BytesTotal     int64 `json:"bytesTotal"`
	BytesPerSecond int64 `json:"bytesPerSecond,omitempty"`
}

func (p *progress) report(s hub.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.start.IsZero() {
		p.start = now
	}
	p.state = s
	if now.Sub(p.last) >= p.every {
		p.printLocked(now)
	}
}

func (p *progress) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.start.IsZero() {
		p.printLocked(time.Now())
	}
}

func (p *progress) printLocked(now time.Time) {
	l := progressLine{FilesDone: p.state.FilesDone, FilesTotal: p.state.FilesTotal, BytesDone: p.state.BytesDone, BytesTotal: p.state.BytesTotal}
	if secs := now.Sub(p.start).Seconds(); secs > 0 {
		l.BytesPerSecond = int64(float64(p.state.BytesDownloaded) / secs)
	}
	raw, _ := json.Marshal(map[string]progressLine{"progress": l})
	fmt.Fprintf(p.out, "%s\n", raw)
	p.last = now
}

// progressServer serves the tracker's GET /progress on --progress-addr for the run's length.
type progressServer struct {
	srv  *http.Server
	done chan struct{}
}

// serveProgress listens on addr and serves in the background; onListen (tests) learns the bound address.
func serveProgress(addr string, t *loader.Tracker, onListen func(net.Addr)) (*progressServer, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if onListen != nil {
		onListen(l.Addr())
	}
	s := &progressServer{srv: &http.Server{Handler: t.Handler(), ReadHeaderTimeout: 10 * time.Second}, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(l)
	}()
	return s, nil
}

// stop ends the server: requests in flight get a second to finish, then connections are closed.
func (s *progressServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
		_ = s.srv.Close()
	}
	<-s.done
}
