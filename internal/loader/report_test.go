package loader

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/privatellm/privatellm/internal/checkpoint"
)

// TestReportFitsTheTerminationMessage: however long the message, the encoded report stays within the 4 KiB
// the kubelet keeps, stays valid UTF-8 and decodes back with its other fields intact.
func TestReportFitsTheTerminationMessage(t *testing.T) {
	r := Report{Repo: "org/name", Commit: strings.Repeat("a", 40), Reason: "ServerError", Transient: true,
		Checkpoint: &checkpoint.Facts{Architecture: "LlamaForCausalLM", Layers: 32}, Message: strings.Repeat("é", 5000)}
	raw := r.Encode()
	if len(raw) > MaxReportBytes || !utf8.Valid(raw) {
		t.Fatalf("report of %d bytes (valid UTF-8: %v)", len(raw), utf8.Valid(raw))
	}
	back, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if back.Commit != r.Commit || back.Reason != r.Reason || !back.Transient || back.Checkpoint.Layers != 32 || !strings.HasSuffix(back.Message, "…") {
		t.Errorf("decoded %+v", back)
	}
	short := Report{Repo: "org/name", Message: "short"}
	if back, _ := Decode(short.Encode()); back.Message != "short" {
		t.Errorf("a short message was changed: %q", back.Message)
	}
	if _, err := Decode([]byte("not json")); err == nil {
		t.Error("a report that is not JSON must be an error")
	}
}

// TestExitCodes: complete is 0, a failure a retry may mend 3, any other failure 1; a run stopped from outside
// is Interrupted and may be retried.
func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		r    Report
		want int
	}{
		{Report{Repo: "a/b", Commit: "c"}, ExitComplete},
		{Report{Reason: "ServerError", Transient: true}, ExitRetry},
		{Report{Reason: "GatedRepo"}, ExitFailed},
		{Report{Reason: ReasonModelFilesMissing}, ExitFailed},
	} {
		if got := tc.r.ExitCode(); got != tc.want {
			t.Errorf("%+v: exit %d, want %d", tc.r, got, tc.want)
		}
	}
	r := failed(Report{}, fmt.Errorf("downloading: %w", context.Canceled))
	if r.Reason != ReasonInterrupted || !r.Transient || r.ExitCode() != ExitRetry {
		t.Errorf("cancelled: %+v", r)
	}
	if r := failed(Report{}, errors.New("permission denied")); r.Reason != ReasonDownloadFailed || r.Transient || r.ExitCode() != ExitFailed {
		t.Errorf("an untyped error: %+v", r)
	}
}

// TestGGUFFile: llama.cpp is given the only GGUF file, or the first part of a split one.
func TestGGUFFile(t *testing.T) {
	for _, tc := range []struct {
		files []string
		want  string
	}{
		{[]string{"README.md", "config.json"}, ""},
		{[]string{"README.md", "m.Q4_K_M.gguf"}, "m.Q4_K_M.gguf"},
		{[]string{"q4/m-Q4_K_M-00002-of-00002.gguf", "q4/m-Q4_K_M-00001-of-00002.gguf"}, "q4/m-Q4_K_M-00001-of-00002.gguf"},
		{[]string{"M.GGUF"}, "M.GGUF"},
	} {
		files := make([]checkpoint.File, len(tc.files))
		for i, p := range tc.files {
			files[i] = checkpoint.File{Path: p, Size: 1}
		}
		if got := ggufFile(files); got != tc.want {
			t.Errorf("ggufFile(%v) = %q, want %q", tc.files, got, tc.want)
		}
	}
}
