package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/cache"
	"github.com/privatellm/privatellm/test/hubsim"
)

// writeCheckpoint writes config.json and sparse weight files of the given sizes into a new directory.
func writeCheckpoint(t *testing.T, cfg hubsim.Config, sizes ...int64) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), hubsim.ModelConfig(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, size := range sizes {
		f, err := os.Create(filepath.Join(dir, "model-0000"+string(rune('1'+i))+".safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(size); err != nil { // sparse: the size is all fit reads
			t.Fatal(err)
		}
		f.Close()
	}
	return dir
}

// TestFitFromACheckpoint: a model outside the catalogue is sized from its config.json and weights; a
// pre-quantized checkpoint's method is the one the report uses.
func TestFitFromACheckpoint(t *testing.T) {
	dir := writeCheckpoint(t, hubsim.Config{Layers: 40, HiddenSize: 5120, Heads: 40, KVHeads: 40, MaxPositionEmbeddings: 4096},
		9_950_000_000, 9_900_000_000, 6_180_000_000)
	arch, facts, err := CheckpointArchitecture(dir, "acme/orca-13b-chat")
	if err != nil {
		t.Fatal(err)
	}
	if arch.Parameters != 13.015 || arch.Layers != 40 || arch.KVHeads != 40 || arch.MaxContext != 4096 || cache.SpecQuantization(facts) != "" {
		t.Fatalf("architecture %+v, facts %+v", arch, facts)
	}
	out, err := FitReport(FitQuery{Model: "acme/orca-13b-chat", Product: "NVIDIA-L4", Architecture: &arch})
	if err != nil {
		t.Fatal(err)
	}
	// 24.2 GiB of bf16 weights and 3.1 GiB of KV cache: one L4 (20.2 GiB usable) does not hold it, two do
	// ((24.2 + 3.1) / 2 + 1.5 = 15.2 GiB each).
	for _, want := range []string{"acme/orca-13b-chat", "24.2 GiB", "Fits on 2 × NVIDIA-L4"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}

	awq := writeCheckpoint(t, hubsim.Config{Quantization: hubsim.AWQ()}, 5_700_000_000)
	if _, facts, err := CheckpointArchitecture(awq, "x"); err != nil || cache.SpecQuantization(facts) != v1.QuantizationAWQ {
		t.Errorf("an AWQ checkpoint: %+v %v", facts.Quantization, err)
	}
	if _, _, err := CheckpointArchitecture(t.TempDir(), "empty"); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("a directory without config.json: %v", err)
	}
}
