// Package loader is the model cache's download Job (issue #13): it downloads one (repo, revision, filter) from a
// Hugging Face Hub into the Hugging Face cache layout (internal/hub, Run), or one s3:// folder (internal/s3,
// RunS3), or checks a pre-loaded folder (VerifyDir); reads the checkpoint's config.json (internal/checkpoint); and
// reports both to the operator through the pod's termination message (Report) — the operator learns the commit
// and the model's shape without any access to the Secret that holds the credentials. While it runs it keeps its
// latest state for GET /progress (Tracker, Progress).
package loader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/privatellm/privatellm/internal/checkpoint"
	"github.com/privatellm/privatellm/internal/hub"
)

// MaxReportBytes is the size of a termination message the kubelet keeps (4096 bytes).
const MaxReportBytes = 4096

// Options say what to download where.
type Options struct {
	// Repo ("org/name"), Revision (branch, tag or commit; default main) and Filter select the files.
	Repo, Revision string
	Filter         hub.Filter
	// CacheDir is the Hugging Face cache (HF_HUB_CACHE) the engines will read.
	CacheDir string
	// Client talks to the Hub (hub.NewClient).
	Client *hub.Client
	// Progress, when set, is called as bytes arrive (the caller throttles).
	Progress func(hub.Progress)
}

// Report is what the loader found, for the operator.
type Report struct {
	// Repo is what was loaded: the Hub repo id, s3://<bucket>/<prefix>/, or the pre-loaded folder's path.
	Repo     string `json:"repo"`
	Revision string `json:"revision,omitempty"`
	// Commit is the revision's commit: the snapshot the engines must load (--revision <commit>). For an s3://
	// source it is the content id of the objects (s3.ContentID); for a pre-loaded folder it is empty.
	Commit string `json:"commit,omitempty"`
	// Files and Bytes are the snapshot's; Downloaded the bytes this run fetched (0 when all was cached).
	Files      int   `json:"files,omitempty"`
	Bytes      int64 `json:"bytes,omitempty"`
	Downloaded int64 `json:"downloaded,omitempty"`
	// Seconds the run took.
	Seconds float64 `json:"seconds,omitempty"`
	// Checkpoint is what config.json and the file list say of the model; nil without a config.json (GGUF).
	Checkpoint *checkpoint.Facts `json:"checkpoint,omitempty"`
	// ModelFile is the GGUF file an engine that loads one file is given (llama.cpp's -m): the only .gguf of the
	// snapshot, or the first part of a split one ("…-00001-of-00003.gguf"); empty without GGUF files.
	ModelFile string `json:"modelFile,omitempty"`
	// Reason and Message say why the download failed (hub.Reason values, or DownloadFailed); empty on success.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// Transient says a retry may succeed (rate limited, server error, unreachable, corrupted transfer).
	Transient bool `json:"transient,omitempty"`
}

// Reasons of the loader's own, beside the Hub client's (hub.Reason values).
const (
	// ReasonDownloadFailed is a failure the clients do not type (e.g. a read-only volume): no retry helps.
	ReasonDownloadFailed = "DownloadFailed"
	// ReasonInterrupted is a run stopped from outside (SIGTERM, a deadline): a retry resumes it.
	ReasonInterrupted = "Interrupted"
	// ReasonModelFilesMissing is a pre-loaded folder (--verify-dir) without a config.json or weights.
	ReasonModelFilesMissing = "ModelFilesMissing"
)

// The loader's exit statuses, which the download Job's podFailurePolicy acts on.
const (
	// ExitComplete: the model is in place.
	ExitComplete = 0
	// ExitFailed: it failed and a retry cannot help (FailJob at once).
	ExitFailed = 1
	// ExitUsage: a bad command line (FailJob at once).
	ExitUsage = 2
	// ExitRetry: it failed and a retry may help (counted against backoffLimit).
	ExitRetry = 3
)

// ExitCode is the exit status the report calls for: ExitComplete, ExitRetry when Transient, else ExitFailed.
func (r Report) ExitCode() int {
	switch {
	case r.Reason == "":
		return ExitComplete
	case r.Transient:
		return ExitRetry
	}
	return ExitFailed
}

// Run downloads and inspects; it always returns a report, with Reason set when it failed.
func Run(ctx context.Context, o Options) Report {
	start := time.Now()
	r := Report{Repo: o.Repo, Revision: o.Revision}
	snap, err := o.Client.Download(ctx, hub.DownloadRequest{
		CacheDir: o.CacheDir, Repo: o.Repo, Revision: o.Revision, Filter: o.Filter, Progress: o.Progress,
	})
	r.Seconds = time.Since(start).Seconds()
	if err != nil {
		return failed(r, err)
	}
	r.Commit, r.Files, r.Downloaded = snap.Commit, len(snap.Files), snap.BytesDownloaded
	files := make([]checkpoint.File, 0, len(snap.Files))
	for _, f := range snap.Files {
		r.Bytes += f.ContentSize()
		files = append(files, checkpoint.File{Path: f.Path, Size: f.ContentSize()})
	}
	return inspect(r, snap.Dir, files)
}

// failed fills in the reason of a failure: the Hub's or S3's typed reason (internal/s3 returns *hub.Error too),
// Interrupted when the run was stopped (SIGTERM: the pod is going away, a new one may finish), else
// DownloadFailed.
func failed(r Report, err error) Report {
	r.Reason, r.Message, r.Transient = string(hub.ReasonOf(err)), err.Error(), hub.IsTransient(err)
	switch {
	case r.Reason != "":
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		r.Reason, r.Transient = ReasonInterrupted, true
		r.Message = "the download was stopped before it ended (" + err.Error() + "); a new run resumes it"
	default:
		r.Reason = ReasonDownloadFailed
	}
	return r
}

// Encode is the report as the termination message: JSON of at most MaxReportBytes, the message shortened when
// it would not fit.
func (r Report) Encode() []byte {
	out, _ := json.Marshal(r)
	for len(out) > MaxReportBytes && len(r.Message) > 0 {
		cut := max(len(r.Message)-(len(out)-MaxReportBytes)-3, 0)
		r.Message = strings.ToValidUTF8(r.Message[:cut], "") + "…"
		out, _ = json.Marshal(r)
	}
	return out
}

// Decode reads a termination message.
func Decode(raw []byte) (Report, error) {
	var r Report
	if err := json.Unmarshal(raw, &r); err != nil {
		return Report{}, fmt.Errorf("the loader's report: %w", err)
	}
	return r, nil
}
