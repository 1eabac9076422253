package gpu_test

import (
	"math"
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/gpu"
)

const (
	l4MiB   = 23034
	a100MiB = 40960
	h100MiB = 81559
)

func TestLookup(t *testing.T) {
	for uri, family := range map[string]string{
		"hf://meta-llama/Llama-3.1-8B-Instruct":                   "Llama 3.x 8B",
		"hf://hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4": "Llama 3.x 8B",
		"hf://meta-llama/Llama-3.3-70B-Instruct":                  "Llama 3.x 70B",
		"hf://meta-llama/Llama-3.1-405B-Instruct-FP8":             "Llama 3.1 405B",
		"hf://mistralai/Mistral-7B-Instruct-v0.3":                 "Mistral 7B",
		"hf://mistralai/Mixtral-8x7B-Instruct-v0.1":               "Mixtral 8x7B",
		"hf://Qwen/Qwen2.5-72B-Instruct":                          "Qwen2.5 72B",
		"hf://google/gemma-2-9b-it":                               "Gemma 2 9B",
		"hf://microsoft/Phi-3-mini-4k-instruct":                   "Phi-3 mini",
	} {
		if a, ok := gpu.Lookup(uri); !ok || a.Family != family {
			t.Errorf("Lookup(%s) = %q, %v; want %q", uri, a.Family, ok, family)
		}
	}
	if _, ok := gpu.Lookup("hf://someone/custom-model"); ok {
		t.Error("an unknown model must not match")
	}
}

func TestEstimate(t *testing.T) {
	arch := func(uri string) gpu.Architecture { a, _ := gpu.Lookup(uri); return a }
	cases := []struct {
		name      string
		uri       string
		spec      v1.LLMDeploymentSpec
		gpuMiB    int64
		fits      bool
		weightGiB float64 // ±5%
	}{
		{"70B bf16 on one 24 GiB GPU", "hf://meta-llama/Llama-3.3-70B-Instruct",
			v1.LLMDeploymentSpec{MaxModelLen: ptr.To(int32(8192)), GPU: v1.GPUSpec{Count: ptr.To(int32(1))}}, l4MiB, false, 131.5},
		{"70B fp8 on 4 × H100", "hf://meta-llama/Llama-3.3-70B-Instruct",
			v1.LLMDeploymentSpec{Quantization: v1.QuantizationFP8, MaxModelLen: ptr.To(int32(16384)), GPU: v1.GPUSpec{Count: ptr.To(int32(4))}}, h100MiB, true, 65.8},
		{"8B AWQ on one L4", "hf://hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4",
			v1.LLMDeploymentSpec{Quantization: v1.QuantizationAWQ, MaxModelLen: ptr.To(int32(8192)), GPU: v1.GPUSpec{Count: ptr.To(int32(1))}}, l4MiB, true, 3.9},
		{"8B bf16 with its full 128K context on one L4", "hf://meta-llama/Llama-3.1-8B-Instruct",
			v1.LLMDeploymentSpec{GPU: v1.GPUSpec{Count: ptr.To(int32(1))}}, l4MiB, false, 15.0},
		{"Mistral 7B bf16 on one A100 40GB", "hf://mistralai/Mistral-7B-Instruct-v0.3",
			v1.LLMDeploymentSpec{MaxModelLen: ptr.To(int32(8192)), GPU: v1.GPUSpec{Count: ptr.To(int32(1))}}, a100MiB, true, 13.5},
		{"unknown GPU memory never fails", "hf://meta-llama/Llama-3.1-405B-Instruct-FP8",
			v1.LLMDeploymentSpec{Quantization: v1.QuantizationFP8, GPU: v1.GPUSpec{Count: ptr.To(int32(1))}}, 0, true, 378},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := gpu.Estimate(&tc.spec, arch(tc.uri), tc.gpuMiB)
			if err != nil {
				t.Fatal(err)
			}
			if f.Fits != tc.fits {
				t.Errorf("fits = %v, want %v (%s)", f.Fits, tc.fits, f)
			}
			if math.Abs(f.WeightsGiB-tc.weightGiB)/tc.weightGiB > 0.05 {
				t.Errorf("weights %.1f GiB, want ≈ %.1f", f.WeightsGiB, tc.weightGiB)
			}
		})
	}
}

func TestEstimateTensorParallelMustDivideHeads(t *testing.T) {
	a, _ := gpu.Lookup("hf://Qwen/Qwen2.5-7B-Instruct") // 28 attention heads
	_, err := gpu.Estimate(&v1.LLMDeploymentSpec{GPU: v1.GPUSpec{Count: ptr.To(int32(8))}}, a, h100MiB)
	if err == nil || !strings.Contains(err.Error(), "does not divide the 28 attention heads") {
		t.Errorf("want a heads error, got %v", err)
	}
}

// BenchmarkEstimate measures one lookup and estimate, the cost an admission check would add per request.
func BenchmarkEstimate(b *testing.B) {
	spec := &v1.LLMDeploymentSpec{Quantization: v1.QuantizationFP8, MaxModelLen: ptr.To(int32(16384)), GPU: v1.GPUSpec{Count: ptr.To(int32(4))}}
	for b.Loop() {
		a, _ := gpu.Lookup("hf://meta-llama/Llama-3.3-70B-Instruct")
		if _, err := gpu.Estimate(spec, a, h100MiB); err != nil {
			b.Fatal(err)
		}
	}
}
