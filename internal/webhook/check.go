package webhook

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/internal/gpu"
)

// The checks in this file are pure: they take the LLMDeployment (and its previous version on update) and the
// cluster's Nodes, and return the admission errors and warnings. The admission handler only lists the Nodes.

// suggestionCounts are the GPU counts a suggestion may propose, cheapest first.
var suggestionCounts = []int32{1, 2, 4, 8}

var (
	specPath        = field.NewPath("spec")
	gpuCountPath    = specPath.Child("gpu", "count")
	tpPath          = specPath.Child("tensorParallelSize")
	enginePath      = specPath.Child("engine", "name")
	gpuResourcePath = specPath.Child("gpu", "resourceName")
)

// Validate checks an LLMDeployment against what the CRD's schema cannot express: that the model fits the GPUs it
// declares (against the smallest matching GPU node, or spec.gpu.minMemory when no node matches), that the tensor
// parallel size divides the model's attention heads, and, on update (oldObj not nil), that the engine and the GPU
// resource name did not change. Facts of the cluster that may change (no node offers the GPUs, no node has enough
// of them) come back as warnings. On update, a spec whose fit inputs did not change is never rejected for its fit:
// the cluster may have changed under it, and a label or finalizer edit must still go through.
func Validate(oldObj, newObj *v1.LLMDeployment, nodes []corev1.Node) ([]string, field.ErrorList) {
	var errs field.ErrorList
	if oldObj != nil {
		if !newObj.DeletionTimestamp.IsZero() {
			return nil, nil
		}
		errs = append(errs, immutableFieldErrors(&oldObj.Spec, &newObj.Spec)...)
	}
	if e := replicasOwnerError(newObj); e != nil {
		errs = append(errs, e)
	}
	spec := &newObj.Spec
	inv := gpu.InventoryFor(spec, nodes)
	warnings := clusterWarnings(spec, inv)
	fitErrs := fitErrors(spec, inv)
	if oldObj != nil && !fitInputsChanged(&oldObj.Spec, spec) {
		for _, e := range fitErrs {
			warnings = append(warnings, "the unchanged spec does not fit the cluster any more: "+e.Error())
		}
		fitErrs = nil
	}
	return warnings, append(errs, fitErrs...)
}

// immutableFieldErrors rejects changes of the fields that decide which pods and nodes an LLMDeployment has: the
// engine (its container, ports and probes) and the GPU resource (its vendor's nodes and labels).
func immutableFieldErrors(oldSpec, newSpec *v1.LLMDeploymentSpec) field.ErrorList {
	var errs field.ErrorList
	if o, n := oldSpec.EffectiveEngine(), newSpec.EffectiveEngine(); o != n {
		errs = append(errs, field.Invalid(enginePath, string(n), fmt.Sprintf(
			"spec.engine.name is immutable (it was %s): create a new LLMDeployment with engine %s, move clients to it, then delete this one", o, n)))
	}
	if o, n := oldSpec.EffectiveGPUResourceName(), newSpec.EffectiveGPUResourceName(); o != n {
		errs = append(errs, field.Invalid(gpuResourcePath, string(n), fmt.Sprintf(
			"spec.gpu.resourceName is immutable (it was %s): create a new LLMDeployment for %s GPUs, move clients to it, then delete this one", o, n)))
	}
	return errs
}

// fitInputs are the spec fields the fit check and the cluster warnings depend on.
type fitInputs struct {
	Engine       v1.EngineName
	URI          string
	Quantization v1.Quantization
	Dtype        v1.Dtype
	MaxModelLen  *int32
	Count        int32
	TP           int32
	Products     []string
	MinMemory    *resource.Quantity
	Resource     v1.GPUResourceName
	NodeSelector map[string]string
}

func fitInputsOf(s *v1.LLMDeploymentSpec) fitInputs {
	return fitInputs{s.EffectiveEngine(), s.Model.URI, s.EffectiveQuantization(), s.EffectiveDtype(), s.MaxModelLen,
		s.GPUCount(), s.EffectiveTensorParallelSize(), s.GPU.Products, s.GPU.MinMemory, s.EffectiveGPUResourceName(),
		s.NodeSelector}
}

func fitInputsChanged(oldSpec, newSpec *v1.LLMDeploymentSpec) bool {
	return !equality.Semantic.DeepEqual(fitInputsOf(oldSpec), fitInputsOf(newSpec))
}

// clusterWarnings reports facts of the cluster that keep the spec's pods Pending now but may change: no node offers
// the requested GPUs, or none offers enough of them for one replica.
func clusterWarnings(spec *v1.LLMDeploymentSpec, inv gpu.Inventory) []string {
	if spec.OnCPU() {
		return nil // CPU nodes: the scheduler places the pod by its CPU and memory requests
	}
	res := spec.EffectiveGPUResourceName()
	if !inv.AnyGPU {
		return []string{fmt.Sprintf("no node currently offers %s: the pods stay Pending until GPU nodes join the cluster", res)}
	}
	if len(inv.Matching) == 0 {
		return []string{fmt.Sprintf("no node currently offers %s: the pods stay Pending until such a node joins; "+
			"check spec.gpu.products, spec.gpu.minMemory and spec.nodeSelector against the node labels", describeRequirements(spec))}
	}
	most, product := inv.MaxGPUs()
	if count := int64(spec.GPUCount()); most < count {
		what := string(res)
		if product != "" {
			what = product + " " + what
		}
		return []string{fmt.Sprintf("spec.gpu.count is %d but the largest matching node offers %d allocatable %s: "+
			"a replica cannot be scheduled until a node with %d joins; lower spec.gpu.count (with quantization) if the model fits",
			count, most, what, count)}
	}
	return nil
}

// describeRequirements names the GPUs a spec asks for, e.g. "nvidia.com/gpu of product NVIDIA-L4 with ≥ 24 GiB".
func describeRequirements(spec *v1.LLMDeploymentSpec) string {
	s := string(spec.EffectiveGPUResourceName())
	if p := spec.GPU.Products; len(p) > 0 {
		s += " of product " + strings.Join(p, " or ")
	}
	if spec.GPU.MinMemory != nil && gpu.LabelsFor(spec.EffectiveGPUResourceName()).Memory != "" {
		s += fmt.Sprintf(" with ≥ %s GiB per GPU", gibString(float64(gpu.MiB(spec.GPU.MinMemory.Value()))/1024))
	}
	if len(spec.NodeSelector) > 0 {
		s += " on nodes matching spec.nodeSelector"
	}
	return s
}

// fitErrors checks the model against the catalogue: the tensor parallel size must divide its attention heads, and
// one replica must fit its GPUs. Models not in the catalogue are not checked.
func fitErrors(spec *v1.LLMDeploymentSpec, inv gpu.Inventory) field.ErrorList {
	arch, known := gpu.Lookup(spec.Model.URI)
	if !known {
		return nil
	}
	if spec.OnCPU() {
		return cpuFitErrors(spec, arch)
	}
	tp := spec.EffectiveTensorParallelSize()
	if gpu.SplitsHeads(spec) && arch.AttentionHeads > 0 && arch.AttentionHeads%int64(tp) != 0 {
		return field.ErrorList{tensorParallelError(spec, arch)}
	}
	mib, source := inv.GPUMemory(spec)
	if mib == 0 {
		return nil
	}
	fit, err := gpu.Estimate(spec, arch, mib)
	if err != nil || fit.Fits {
		return nil
	}
	return field.ErrorList{field.Invalid(gpuCountPath, spec.GPUCount(), notFitMessage(spec, arch, fit, mib, source, inv))}
}

// cpuFitErrors checks a CPU model server against its container's memory: resources.limits.memory, else
// resources.requests.memory.
func cpuFitErrors(spec *v1.LLMDeploymentSpec, arch gpu.Architecture) field.ErrorList {
	mib := gpu.DeclaredMemoryMiB(spec)
	if mib == 0 {
		return nil // the schema requires resources.requests.memory
	}
	fit, err := gpu.Estimate(spec, arch, mib)
	if err != nil || fit.Fits {
		return nil
	}
	path, source := specPath.Child("resources", "limits", "memory"), "resources.limits.memory"
	given, ok := spec.Resources.Limits[corev1.ResourceMemory]
	if !ok {
		path, source = specPath.Child("resources", "requests", "memory"), "resources.requests.memory"
		given = spec.Resources.Requests[corev1.ResourceMemory]
	}
	var smaller []string
	for _, q := range engine.FactsOf(spec.EffectiveEngine()).Quantizations {
		candidate := *spec
		candidate.Quantization = q.Name
		if f, err := gpu.Estimate(&candidate, arch, mib); err == nil && f.Fits && q.Name != spec.EffectiveQuantization() {
			smaller = append(smaller, string(q.Name))
		}
	}
	msg := fmt.Sprintf("needs ≈ %s GiB of memory (%s, quantization %s, %d-token context: weights ≈ %s GiB, KV cache ≈ %s GiB, plus runtime); "+
		"%s gives %s GiB (the engine may use %d%% of it): raise %s",
		gibString(fit.PerGPUNeedGiB), arch.Family, spec.EffectiveQuantization(), fit.ContextTokens, gibString(fit.WeightsGiB),
		gibString(fit.KVCacheGiB), source, gibString(float64(mib)/1024), int(math.Round(100*fit.PerGPUAvailableGiB/(float64(mib)/1024))), source)
	if len(smaller) > 0 {
		msg += ", or use a smaller quantization (" + strings.Join(smaller, ", ") + ")"
	}
	if ctx := maxContextThatFits(spec, fit); ctx >= 128 && ctx < fit.ContextTokens {
		msg += fmt.Sprintf(", or maxModelLen ≤ %d", ctx)
	}
	return field.ErrorList{field.Invalid(path, given.String(), msg)}
}

// tensorParallelError says which sizes would divide the model's attention heads.
func tensorParallelError(spec *v1.LLMDeploymentSpec, arch gpu.Architecture) *field.Error {
	tp := spec.EffectiveTensorParallelSize()
	var sizes []string
	for n := int64(1); n <= 16; n++ {
		if arch.AttentionHeads%n == 0 {
			sizes = append(sizes, strconv.FormatInt(n, 10))
		}
	}
	valid := joinOr(sizes)
	if spec.TensorParallelSize == nil {
		return field.Invalid(gpuCountPath, spec.GPUCount(), fmt.Sprintf(
			"%s has %d attention heads, which tensor parallelism over %d GPUs (the default tensorParallelSize is spec.gpu.count) cannot split: "+
				"set spec.gpu.count to %s, or (vllm) set spec.tensorParallelSize to one of those that divides spec.gpu.count",
			arch.Family, arch.AttentionHeads, tp, valid))
	}
	return field.Invalid(tpPath, tp, fmt.Sprintf(
		"%s has %d attention heads, which tensorParallelSize %d does not divide: use %s (and a spec.gpu.count it divides)",
		arch.Family, arch.AttentionHeads, tp, valid))
}

// option is one suggestion: a quantization and a GPU count per replica.
type option struct {
	quantization v1.Quantization
	count        int32
}

// suggest searches quantizations [current, fp8, awq] (those the engine accepts) and GPU counts 1, 2, 4, 8 (that
// divide the attention heads and that the largest matching node offers, when the nodes are known) for the fewest
// GPUs that fit, per quantization, in that order. It is deterministic.
func suggest(spec *v1.LLMDeploymentSpec, arch gpu.Architecture, gpuMiB int64, maxNodeGPUs int64) []option {
	eng := spec.EffectiveEngine()
	var out []option
	seen := map[v1.Quantization]bool{}
	for _, q := range []v1.Quantization{spec.EffectiveQuantization(), v1.QuantizationFP8, v1.QuantizationAWQ} {
		if seen[q] || !engine.Supports(eng, q) {
			continue
		}
		seen[q] = true
		for _, n := range suggestionCounts {
			if gpu.SplitsHeads(spec) && arch.AttentionHeads > 0 && arch.AttentionHeads%int64(n) != 0 {
				continue
			}
			if maxNodeGPUs > 0 && int64(n) > maxNodeGPUs {
				continue
			}
			if entry, _ := engine.FactsOf(eng).QuantizationOf(q); entry.MaxGPUs > 0 && n > entry.MaxGPUs {
				continue
			}
			candidate := *spec
			candidate.Quantization, candidate.GPU.Count, candidate.TensorParallelSize = q, ptr.To(n), nil
			if f, err := gpu.Estimate(&candidate, arch, gpuMiB); err == nil && f.Fits {
				out = append(out, option{q, n})
				break
			}
		}
	}
	return out
}

// maxContextThatFits is the longest maxModelLen (a multiple of 1024) with which the spec would fit its current GPUs
// and quantization, 0 when even the weights do not fit.
func maxContextThatFits(spec *v1.LLMDeploymentSpec, fit gpu.Fit) int64 {
	if fit.ContextTokens <= 0 || fit.KVCacheGiB <= 0 {
		return 0
	}
	count := float64(max(spec.GPUCount(), 1))
	overhead := fit.PerGPUNeedGiB - (fit.WeightsGiB+fit.KVCacheGiB)/count
	perToken := fit.KVCacheGiB / float64(fit.ContextTokens)
	tokens := ((fit.PerGPUAvailableGiB-overhead)*count - fit.WeightsGiB) / perToken
	if tokens < 1024 {
		return 0
	}
	return int64(math.Floor(tokens/1024)) * 1024
}

// notFitMessage says how much memory one replica needs, what it was checked against and what would fit, e.g.
// "needs ≈ 171 GiB per replica; 1 × 22.5 GiB given; try quantization fp8 with 8 GPUs, or awq with 4".
func notFitMessage(spec *v1.LLMDeploymentSpec, arch gpu.Architecture, fit gpu.Fit, gpuMiB int64, source string, inv gpu.Inventory) string {
	count := spec.GPUCount()
	gpuGiB := float64(gpuMiB) / 1024
	var b strings.Builder
	fmt.Fprintf(&b, "needs ≈ %s GiB per replica (%s, quantization %s, %d-token context: weights ≈ %s GiB, KV cache ≈ %s GiB, plus runtime); "+
		"%d × %s GiB given (%s; the engine uses %d%% of it)",
		gibString(fit.PerGPUNeedGiB*float64(count)), arch.Family, spec.EffectiveQuantization(), fit.ContextTokens,
		gibString(fit.WeightsGiB), gibString(fit.KVCacheGiB), count, gibString(gpuGiB), source,
		int(math.Round(100*fit.PerGPUAvailableGiB/gpuGiB)))
	maxNodeGPUs, _ := inv.MaxGPUs()
	options := suggest(spec, arch, gpuMiB, maxNodeGPUs)
	var tries []string
	for i, o := range options {
		gpus := fmt.Sprintf("%d GPUs", o.count)
		if o.count == 1 {
			gpus = "1 GPU"
		}
		if i == 0 {
			tries = append(tries, fmt.Sprintf("quantization %s with %s", o.quantization, gpus))
		} else {
			tries = append(tries, fmt.Sprintf("%s with %d", o.quantization, o.count))
		}
	}
	if ctx := maxContextThatFits(spec, fit); ctx >= 128 && ctx < fit.ContextTokens {
		tries = append(tries, fmt.Sprintf("maxModelLen ≤ %d with the current quantization and GPUs", ctx))
	}
	if len(tries) == 0 {
		fmt.Fprintf(&b, "; no quantization of none, fp8 or awq on 1, 2, 4 or 8 such GPUs fits: choose GPUs with more memory (spec.gpu.products) or a smaller model")
		return b.String()
	}
	fmt.Fprintf(&b, "; try %s", strings.Join(tries, ", or "))
	notes := suggestionNotes(spec, options)
	if len(notes) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(notes, "; "))
	}
	return b.String()
}

// suggestionNotes are the caveats of the suggested options.
func suggestionNotes(spec *v1.LLMDeploymentSpec, options []option) []string {
	var notes []string
	for _, o := range options {
		if o.quantization == v1.QuantizationAWQ && spec.EffectiveQuantization() != v1.QuantizationAWQ {
			notes = append(notes, "awq needs a pre-quantized AWQ checkpoint in spec.model.uri")
			break
		}
	}
	if f := engine.FactsOf(spec.EffectiveEngine()); !f.DtypeWithQuantization && spec.EffectiveDtype() != v1.DtypeAuto {
		for _, o := range options {
			if o.quantization != v1.QuantizationNone {
				notes = append(notes, fmt.Sprintf("%s needs spec.dtype auto together with a quantization", f.Name))
				break
			}
		}
	}
	return notes
}

// gibString formats GiB with one decimal below 10 GiB and none above, e.g. "3.9", "22", "141".
func gibString(g float64) string {
	if g < 10 {
		return strconv.FormatFloat(g, 'f', 1, 64)
	}
	return strconv.FormatFloat(math.Round(g), 'f', 0, 64)
}

// joinOr joins items as "a, b, c or d".
func joinOr(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
