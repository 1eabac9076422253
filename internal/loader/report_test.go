package loader

import (
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
