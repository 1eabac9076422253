package gpu

import (
	"fmt"
	"regexp"
	"strings"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/engine"
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

// BytesPerParameter of the weights for a spec: the bits per weight of its quantization from the engine registry
// (scales included), else the dtype's size.
func BytesPerParameter(spec *servingv1alpha1.LLMDeploymentSpec) float64 {
	q, _ := engine.FactsOf(spec.EffectiveEngine()).QuantizationOf(spec.EffectiveQuantization())
	if q.BitsPerWeight > 0 {
		return q.BitsPerWeight / 8
	}
	if d := spec.EffectiveDtype(); d == servingv1alpha1.DtypeFloat || d == servingv1alpha1.DtypeFloat32 {
		return 4
	}
	return 2
}

// SplitsHeads says whether the spec's engine splits attention heads over a replica's GPUs (tensor parallelism),
// so that their count must divide the heads; engines that split layers instead (llama.cpp) take any count.
func SplitsHeads(spec *servingv1alpha1.LLMDeploymentSpec) bool {
	return engine.FactsOf(spec.EffectiveEngine()).Parallelism != engine.LayerSplit
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
	// OnCPU says the "GPU" is the container's memory (gpu.count 0).
	OnCPU bool
}

// Estimate sizes a spec's memory need per GPU against GPUs of gpuMemoryMiB each (0: unknown, Fits stays true).
// On CPU (gpu.count 0) the one "GPU" is the container's memory.
func Estimate(spec *servingv1alpha1.LLMDeploymentSpec, arch Architecture, gpuMemoryMiB int64) (Fit, error) {
	tp := spec.EffectiveTensorParallelSize()
	if SplitsHeads(spec) && arch.AttentionHeads > 0 && arch.AttentionHeads%int64(tp) != 0 {
		return Fit{}, fmt.Errorf("tensorParallelSize %d does not divide the %d attention heads of %s", tp, arch.AttentionHeads, arch.Family)
	}
	ctx := arch.MaxContext
	if spec.MaxModelLen != nil {
		ctx = int64(*spec.MaxModelLen)
	}
	weights := arch.Parameters * 1e9 * BytesPerParameter(spec) / gib
	kv := float64(2*arch.Layers*arch.KVHeads*arch.HeadDim*2*ctx) / gib
	f := Fit{
		Architecture:  arch,
		WeightsGiB:    weights,
		KVCacheGiB:    kv,
		ContextTokens: ctx,
		PerGPUNeedGiB: (weights+kv)/float64(max(spec.GPUCount(), 1)) + overheadGiB,
		Fits:          true,
		OnCPU:         spec.OnCPU(),
	}
	if gpuMemoryMiB > 0 {
		f.PerGPUAvailableGiB = float64(gpuMemoryMiB) / 1024 * defaultMemoryUtilization
		f.Fits = f.PerGPUNeedGiB <= f.PerGPUAvailableGiB
	}
	return f, nil
}

// String summarizes a fit for status and messages.
func (f Fit) String() string {
	where := "per GPU"
	if f.OnCPU {
		where = "of memory"
	}
	s := fmt.Sprintf("%s: weights ≈ %.1f GiB, KV cache for %d tokens ≈ %.1f GiB, ≈ %.1f GiB %s",
		f.Architecture.Family, f.WeightsGiB, f.ContextTokens, f.KVCacheGiB, f.PerGPUNeedGiB, where)
	if f.PerGPUAvailableGiB > 0 {
		s += fmt.Sprintf(" of %.1f GiB usable", f.PerGPUAvailableGiB)
	}
	return s
}
