package gpu

import (
	"fmt"
	"regexp"
	"strings"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// Memory-fit estimation, first order (see ENGINES.md): weights ≈ parameters × bytes per parameter; KV cache per
// token ≈ 2 × layers × KV heads × head dim × bytes; the engine must hold the weights and at least one sequence
// of maxModelLen tokens, split over the replica's GPUs, within GPU memory × memory utilization.

// Architecture is what the estimate needs to know about a model.
type Architecture struct {
	// Family names the catalogue entry.
	Family string
	// Parameters is the parameter count in billions.
	Parameters float64
	// Layers, KVHeads, HeadDim and AttentionHeads describe the attention stack.
	Layers, KVHeads, HeadDim, AttentionHeads int64
	// MaxContext is the model's own longest context, used when spec.maxModelLen is unset.
	MaxContext int64
}

type catalogueEntry struct {
	match *regexp.Regexp
	arch  Architecture
}

// catalogue holds well-known open-weight families, matched on the lower-cased model URI. Values are from the
// models' config.json files.
var catalogue = []catalogueEntry{
	{regexp.MustCompile(`llama-3(\.\d)?-405b`), Architecture{"Llama 3.1 405B", 405.9, 126, 8, 128, 128, 131072}},
	{regexp.MustCompile(`llama-3(\.\d)?-70b`), Architecture{"Llama 3.x 70B", 70.6, 80, 8, 128, 64, 131072}},
	{regexp.MustCompile(`llama-3(\.\d)?-8b`), Architecture{"Llama 3.x 8B", 8.03, 32, 8, 128, 32, 131072}},
	{regexp.MustCompile(`mixtral-8x7b`), Architecture{"Mixtral 8x7B", 46.7, 32, 8, 128, 32, 32768}},
	{regexp.MustCompile(`mistral-7b`), Architecture{"Mistral 7B", 7.25, 32, 8, 128, 32, 32768}},
	{regexp.MustCompile(`qwen2\.5-72b`), Architecture{"Qwen2.5 72B", 72.7, 80, 8, 128, 64, 32768}},
	{regexp.MustCompile(`qwen2\.5-7b`), Architecture{"Qwen2.5 7B", 7.62, 28, 4, 128, 28, 32768}},
	{regexp.MustCompile(`gemma-2-27b`), Architecture{"Gemma 2 27B", 27.2, 46, 16, 128, 32, 8192}},
	{regexp.MustCompile(`gemma-2-9b`), Architecture{"Gemma 2 9B", 9.24, 42, 8, 256, 16, 8192}},
	{regexp.MustCompile(`phi-3(\.5)?-mini`), Architecture{"Phi-3 mini", 3.82, 32, 32, 96, 32, 131072}},
	{regexp.MustCompile(`phi-3-medium`), Architecture{"Phi-3 medium", 14.0, 40, 10, 128, 40, 131072}},
}

// Lookup finds the architecture of a model URI in the catalogue.
func Lookup(uri string) (Architecture, bool) {
	u := strings.ToLower(uri)
	for _, e := range catalogue {
		if e.match.MatchString(u) {
			return e.arch, true
		}
	}
	return Architecture{}, false
}

// Per-GPU runtime overhead (CUDA context, activations, sampler) and the engine's default memory utilization.
const (
	overheadGiB              = 1.5
	defaultMemoryUtilization = 0.9
	gib                      = float64(1 << 30)
)

// BytesPerParameter of the weights for a quantization and dtype. 4-bit methods carry ~5% of scales.
func BytesPerParameter(q servingv1alpha1.Quantization, d servingv1alpha1.Dtype) float64 {
	switch q {
	case servingv1alpha1.QuantizationAWQ, servingv1alpha1.QuantizationGPTQ, servingv1alpha1.QuantizationMarlin,
		servingv1alpha1.QuantizationEXL2, servingv1alpha1.QuantizationBitsAndBytes,
		servingv1alpha1.QuantizationBitsAndBytesNF4, servingv1alpha1.QuantizationBitsAndBytesFP4,
		servingv1alpha1.QuantizationCompressedTensors:
		return 0.5 * 1.05
	case servingv1alpha1.QuantizationFP8, servingv1alpha1.QuantizationEETQ:
		return 1
	}
	if d == servingv1alpha1.DtypeFloat || d == servingv1alpha1.DtypeFloat32 {
		return 4
	}
	return 2
}

// Fit is the result of an estimate, in GiB.
type Fit struct {
	// Architecture the estimate used.
	Architecture Architecture
	// WeightsGiB of one copy of the model.
	WeightsGiB float64
	// KVCacheGiB for one sequence of the context length.
	KVCacheGiB float64
	// ContextTokens the KV cache was sized for.
	ContextTokens int64
	// PerGPUNeedGiB is what each GPU of a replica must hold.
	PerGPUNeedGiB float64
	// PerGPUAvailableGiB is GPU memory × memory utilization (0 when the GPU memory is unknown).
	PerGPUAvailableGiB float64
	// Fits is false when the need exceeds what is available.
	Fits bool
}

// Estimate sizes a spec's memory need per GPU against GPUs of gpuMemoryMiB each (0: unknown, Fits stays true).
func Estimate(spec *servingv1alpha1.LLMDeploymentSpec, arch Architecture, gpuMemoryMiB int64) (Fit, error) {
	tp := spec.EffectiveTensorParallelSize()
	if arch.AttentionHeads > 0 && arch.AttentionHeads%int64(tp) != 0 {
		return Fit{}, fmt.Errorf("tensorParallelSize %d does not divide the %d attention heads of %s", tp, arch.AttentionHeads, arch.Family)
	}
	ctx := arch.MaxContext
	if spec.MaxModelLen != nil {
		ctx = int64(*spec.MaxModelLen)
	}
	weights := arch.Parameters * 1e9 * BytesPerParameter(spec.EffectiveQuantization(), spec.EffectiveDtype()) / gib
	kv := float64(2*arch.Layers*arch.KVHeads*arch.HeadDim*2*ctx) / gib
	f := Fit{
		Architecture:  arch,
		WeightsGiB:    weights,
		KVCacheGiB:    kv,
		ContextTokens: ctx,
		PerGPUNeedGiB: (weights+kv)/float64(spec.GPUCount()) + overheadGiB,
		Fits:          true,
	}
	if gpuMemoryMiB > 0 {
		f.PerGPUAvailableGiB = float64(gpuMemoryMiB) / 1024 * defaultMemoryUtilization
		f.Fits = f.PerGPUNeedGiB <= f.PerGPUAvailableGiB
	}
	return f, nil
}

// String summarizes a fit for status and messages.
func (f Fit) String() string {
	s := fmt.Sprintf("%s: weights ≈ %.1f GiB, KV cache for %d tokens ≈ %.1f GiB, ≈ %.1f GiB per GPU",
		f.Architecture.Family, f.WeightsGiB, f.ContextTokens, f.KVCacheGiB, f.PerGPUNeedGiB)
	if f.PerGPUAvailableGiB > 0 {
		s += fmt.Sprintf(" of %.1f GiB usable", f.PerGPUAvailableGiB)
	}
	return s
}
