// Command loader is the model cache's download Job: it downloads one Hugging Face repo at one revision into the
// Hugging Face cache layout on the cache volume, verified, and writes what it found (the commit, the files, the
// checkpoint's shape) as the pod's termination message for the operator. The Hub token is read from a file (a
// mounted Secret), never from the command line or the environment, and goes only to the Hub's own host.
//
//	loader --repo org/name [--revision main] --cache-dir /cache [--include '*.safetensors' ...] [--exclude 'original/*']
//	       [--token-file /var/run/secrets/hf/token] [--ca-bundle /etc/ssl/mirror-ca.pem]
//
// The Hub is $HF_ENDPOINT (a mirror such as Artifactory or Nexus) or https://huggingface.co; HTTPS_PROXY and
// NO_PROXY are honoured. Progress goes to stdout as one JSON line at most every --progress-interval. Exit status:
// 0 when the snapshot is complete, 1 when it failed (the report says why), 2 for a bad command line.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/privatellm/privatellm/internal/hub"
	"github.com/privatellm/privatellm/internal/loader"
)

type patterns []string

func (p *patterns) String() string     { return strings.Join(*p, ",") }
func (p *patterns) Set(v string) error { *p = append(*p, v); return nil }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loader", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var include, exclude patterns
	repo := fs.String("repo", "", "the Hugging Face repo, org/name")
	revision := fs.String("revision", hub.DefaultRevision, "branch, tag or commit")
	cacheDir := fs.String("cache-dir", "", "the Hugging Face cache to write (the engines' HF_HUB_CACHE)")
	tokenFile := fs.String("token-file", "", "file holding the Hub token (a mounted Secret); empty: anonymous")
	caBundle := fs.String("ca-bundle", "", "PEM file of extra CAs for the Hub or its mirror")
	termLog := fs.String("termination-log", "/dev/termination-log", "where the report goes (the pod's terminationMessagePath)")
	interval := fs.Duration("progress-interval", 15*time.Second, "the most often progress is printed")
	fs.Var(&include, "include", "glob of the files to download (repeatable; default: all)")
	fs.Var(&exclude, "exclude", "glob of the files to leave out (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *repo == "" || *cacheDir == "" {
		fmt.Fprintln(stderr, "loader: --repo and --cache-dir are required")
		return 2
	}
	token := ""
	if *tokenFile != "" {
		raw, err := os.ReadFile(*tokenFile)
		if err != nil {
			return finish(loader.Report{Repo: *repo, Revision: *revision, Reason: string(hub.ReasonUnauthorized),
				Message: fmt.Sprintf("the token file %s cannot be read: %v; check the Secret named in spec.model.tokenSecretRef", *tokenFile, err)}, *termLog, stdout, stderr)
		}
		token = strings.TrimSpace(string(raw))
	}
	hc, err := hub.NewHTTPClient(*caBundle)
	if err != nil {
		return finish(loader.Report{Repo: *repo, Revision: *revision, Reason: loader.ReasonDownloadFailed, Message: err.Error()}, *termLog, stdout, stderr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	p := &progress{out: stdout, every: *interval}
	r := loader.Run(ctx, loader.Options{
		Repo: *repo, Revision: *revision, CacheDir: *cacheDir,
		Filter: hub.Filter{Include: include, Exclude: exclude},
		Client: hub.NewClient(hub.EndpointFromEnv(), token, hc), Progress: p.report,
	})
	p.flush()
	return finish(r, *termLog, stdout, stderr)
}

// finish writes the report (the termination message, and the last stdout line) and returns the exit status.
func finish(r loader.Report, termLog string, stdout, stderr io.Writer) int {
	msg := r.Encode()
	fmt.Fprintf(stdout, "%s\n", msg)
	if termLog != "" {
		if err := os.WriteFile(termLog, msg, 0o644); err != nil {
			fmt.Fprintf(stderr, "loader: writing the report to %s: %v\n", termLog, err)
		}
	}
	if r.Reason != "" {
		return 1
	}
	return 0
}

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
