package cli

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/internal/gpu"
)

// The fit check is the admission webhook's (internal/webhook fitErrors): gpu.Lookup for the architecture,
// gpu.Estimate against the memory of the smallest GPU the spec may be scheduled on, the container's memory on
// CPU. Without a cluster, the GPUs the spec may be scheduled on are its gpu.products, with the memory the
// estimator's products table gives them, seen through gpu.InventoryFor as the webhook sees the cluster's nodes.

// SearchCounts are the GPU counts per replica the search for the smallest fit tries, cheapest first: those the
// admission webhook suggests.
var SearchCounts = []int32{1, 2, 4, 8}

// knownProducts are the GPU products of the estimator's products table, sorted.
var knownProducts = gpu.Products()

// KnownGPUProducts are the GPU product names (node label values of nvidia.com/gpu.product) the estimator knows
// the memory of, sorted.
func KnownGPUProducts() []string { return slices.Clone(knownProducts) }

// ProductMemoryMiB is the memory of one GPU of a product, from the estimator's products table.
func ProductMemoryMiB(product string) (int64, bool) { return gpu.ProductMemoryMiB(product) }

// UnknownProductError says that a GPU product is not in the estimator's products table.
type UnknownProductError struct {
	// Product is the name given.
	Product string
}

func (e *UnknownProductError) Error() string {
	msg := fmt.Sprintf("unknown GPU product %q", e.Product)
	for _, p := range knownProducts {
		if strings.EqualFold(p, e.Product) {
			msg += fmt.Sprintf(" (did you mean %s? product names are case-sensitive)", p)
		}
	}
	return msg + "; the known products are " + strings.Join(knownProducts, ", ")
}

// Verdict is the outcome of the fit check of one spec.
type Verdict string

// The verdicts.
const (
	// VerdictFits: one replica fits its GPUs (or the container's memory on CPU).
	VerdictFits Verdict = "fits"
	// VerdictDoesNotFit: it does not; the admission webhook rejects the spec.
	VerdictDoesNotFit Verdict = "does not fit"
	// VerdictTensorParallel: the tensor parallel size does not divide the model's attention heads; the admission
	// webhook rejects the spec.
	VerdictTensorParallel Verdict = "invalid tensor parallel size"
	// VerdictModelUnknown: the model is not in the estimator's catalogue; the webhook does not check it.
	VerdictModelUnknown Verdict = "model not in the catalogue"
	// VerdictMemoryUnknown: the memory of the GPUs is not known without the cluster; the webhook checks it
	// against the cluster's nodes.
	VerdictMemoryUnknown Verdict = "GPU memory unknown"
)

// Rejected says whether the admission webhook rejects a spec with this verdict.
func (v Verdict) Rejected() bool { return v == VerdictDoesNotFit || v == VerdictTensorParallel }

// SpecFit is the fit check of one spec.
type SpecFit struct {
	// Verdict of the check.
	Verdict Verdict
	// Architecture of the model; zero when it is not in the catalogue.
	Architecture gpu.Architecture
	// Fit is the estimate; zero when the model is unknown or the tensor parallel size is invalid.
	Fit gpu.Fit
	// Err is the estimator's error (an invalid tensor parallel size).
	Err error
	// MemoryMiB is the memory per GPU (the container's memory on CPU) the estimate was checked against; 0 when
	// unknown.
	MemoryMiB int64
	// MemoryFrom says where MemoryMiB came from: a GPU product, "spec.gpu.minMemory", "resources.limits.memory"
	// or "resources.requests.memory".
	MemoryFrom string
	// Notes are caveats of the check, e.g. products the estimator does not know.
	Notes []string
}

// CheckSpec runs the admission webhook's fit check on a spec, without a cluster: the GPUs it may run on are its
// gpu.products (with the memory of the products table), else gpu.minMemory.
func CheckSpec(spec *v1.LLMDeploymentSpec) SpecFit {
	arch, known := gpu.Lookup(spec.Model.URI)
	if !known {
		return SpecFit{Verdict: VerdictModelUnknown}
	}
	r := SpecFit{Architecture: arch}
	r.MemoryMiB, r.MemoryFrom, r.Notes = memoryOf(spec)
	f, err := gpu.Estimate(spec, arch, r.MemoryMiB)
	switch {
	case err != nil:
		r.Verdict, r.Err = VerdictTensorParallel, err
	case r.MemoryMiB == 0:
		r.Verdict, r.Fit = VerdictMemoryUnknown, f
	case f.Fits:
		r.Verdict, r.Fit = VerdictFits, f
	default:
		r.Verdict, r.Fit = VerdictDoesNotFit, f
	}
	return r
}

// memoryOf is the memory the webhook checks a spec against on a cluster whose GPU nodes are of the spec's
// products (and meet its nodeSelector): the container's memory on CPU; else the smallest matching product's,
// else gpu.minMemory.
func memoryOf(spec *v1.LLMDeploymentSpec) (mib int64, from string, notes []string) {
	if spec.OnCPU() {
		for _, src := range []struct {
			list corev1.ResourceList
			name string
		}{{spec.Resources.Limits, "resources.limits.memory"}, {spec.Resources.Requests, "resources.requests.memory"}} {
			if _, ok := src.list[corev1.ResourceMemory]; ok {
				return gpu.DeclaredMemoryMiB(spec), src.name, nil
			}
		}
		return 0, "", nil
	}
	var unknown []string
	for _, p := range spec.GPU.Products {
		if _, ok := ProductMemoryMiB(p); !ok {
			unknown = append(unknown, p)
		}
	}
	if len(unknown) > 0 {
		notes = append(notes, fmt.Sprintf("the estimator does not know the memory of %s: the admission webhook "+
			"checks it against the cluster's nodes of that product", joinOr(unknown)))
	}
	inv := gpu.InventoryFor(spec, declaredNodes(spec))
	if len(spec.GPU.Products) > 0 && len(inv.Matching) == 0 {
		notes = append(notes, "no GPU of spec.gpu.products is known to have spec.gpu.minMemory: on a cluster whose "+
			"nodes are labelled with the products table's memory, the pods could not be scheduled (the admission "+
			"webhook then checks the fit against spec.gpu.minMemory, and warns)")
	}
	mib, _ = inv.GPUMemory(spec)
	if mib == 0 {
		return 0, "", notes
	}
	for _, n := range inv.Matching {
		if n.MemoryMiB == mib {
			return mib, n.Product, notes
		}
	}
	return mib, "spec.gpu.minMemory", notes
}

// declaredNodes are one GPU node per product of the spec, labelled as GPU Feature Discovery labels them (product,
// and memory from the products table when known), meeting the spec's nodeSelector, with 8 allocatable GPUs.
func declaredNodes(spec *v1.LLMDeploymentSpec) []corev1.Node {
	keys := gpu.LabelsFor(spec.EffectiveGPUResourceName())
	res := corev1.ResourceName(spec.EffectiveGPUResourceName())
	var nodes []corev1.Node
	for _, p := range spec.GPU.Products {
		labels := map[string]string{}
		for k, v := range spec.NodeSelector {
			labels[k] = v
		}
		labels[keys.Product] = p
		if m, ok := ProductMemoryMiB(p); ok && keys.Memory != "" {
			labels[keys.Memory] = strconv.FormatInt(m, 10)
		}
		nodes = append(nodes, corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "gpu-" + strings.ToLower(p), Labels: labels},
			Status:     corev1.NodeStatus{Allocatable: corev1.ResourceList{res: *resource.NewQuantity(8, resource.DecimalSI)}},
		})
	}
	return nodes
}

// countTry is the estimate of a spec with one GPU count per replica.
type countTry struct {
	// Count of GPUs per replica (tensorParallelSize unset: the same).
	Count int32
	// Fit is the estimate; zero when Skip is set.
	Fit gpu.Fit
	// Skip says why the count was not tried.
	Skip string
}

// tryCounts estimates the spec with each GPU count (and tensorParallelSize unset, as the webhook's suggestions
// do), skipping the counts the engine cannot split the model over.
func tryCounts(spec *v1.LLMDeploymentSpec, arch gpu.Architecture, mib int64, counts []int32) []countTry {
	q, _ := engine.FactsOf(spec.EffectiveEngine()).QuantizationOf(spec.EffectiveQuantization())
	var out []countTry
	for _, n := range counts {
		t := countTry{Count: n}
		c := *spec
		c.GPU.Count, c.TensorParallelSize = ptr.To(n), nil
		if q.MaxGPUs > 0 && n > q.MaxGPUs {
			t.Skip = fmt.Sprintf("%s splits quantization %s over at most %d GPUs", spec.EffectiveEngine(), q.Name, q.MaxGPUs)
			if q.MaxGPUs == 1 {
				t.Skip = fmt.Sprintf("%s runs quantization %s on one GPU only", spec.EffectiveEngine(), q.Name)
			}
		} else if f, err := gpu.Estimate(&c, arch, mib); err != nil {
			t.Skip = err.Error()
		} else {
			t.Fit = f
		}
		out = append(out, t)
	}
	return out
}

// smallestFit is the first count that fits, or nil.
func smallestFit(tries []countTry) *countTry {
	for i := range tries {
		if tries[i].Skip == "" && tries[i].Fit.Fits {
			return &tries[i]
		}
	}
	return nil
}

// triedCounts names the counts that were tried, e.g. "1, 2, 4 or 8".
func triedCounts(tries []countTry) string {
	var s []string
	for _, t := range tries {
		if t.Skip == "" {
			s = append(s, strconv.Itoa(int(t.Count)))
		}
	}
	return joinOr(s)
}

// overheadOf is the per-GPU runtime overhead of an estimate.
func overheadOf(f gpu.Fit, count int32) float64 {
	return f.PerGPUNeedGiB - (f.WeightsGiB+f.KVCacheGiB)/float64(max(count, 1))
}

// utilizationOf is the share of the memory the engine may use.
func utilizationOf(f gpu.Fit, mib int64) float64 {
	if mib == 0 {
		return 0
	}
	return f.PerGPUAvailableGiB / (float64(mib) / 1024)
}

// bitsText is the weights' bits per parameter, e.g. "8 bits per parameter".
func bitsText(spec *v1.LLMDeploymentSpec) string {
	return strconv.FormatFloat(gpu.BytesPerParameter(spec)*8, 'g', -1, 64) + " bits per parameter"
}

// modelLine describes the architecture, e.g. "Llama 3.x 70B (hf://…): 70.6B parameters".
func modelLine(arch gpu.Architecture, uri string) string {
	return fmt.Sprintf("%s (%s): %sB parameters, %d layers, %d KV heads of %d",
		arch.Family, uri, strconv.FormatFloat(arch.Parameters, 'g', -1, 64), arch.Layers, arch.KVHeads, arch.HeadDim)
}

// engineLine describes the engine and the weights' precision.
func engineLine(spec *v1.LLMDeploymentSpec) string {
	s := fmt.Sprintf("%s, quantization %s", spec.EffectiveEngine(), spec.EffectiveQuantization())
	if d := spec.EffectiveDtype(); d != v1.DtypeAuto {
		s += ", dtype " + string(d)
	}
	return s + ": " + bitsText(spec)
}

// memoryLine describes the memory of one GPU and what the engine may use of it.
func memoryLine(f gpu.Fit, mib int64) string {
	return fmt.Sprintf("%s, of which the engine uses %d%%: %s", gibText(float64(mib)/1024),
		int(math.Round(100*utilizationOf(f, mib))), gibText(f.PerGPUAvailableGiB))
}

// FitQuery is the flag form of `kubectl privatellm fit`.
type FitQuery struct {
	// Model is the model URI, e.g. hf://meta-llama/Llama-3.3-70B-Instruct.
	Model string
	// Engine is the engine; DefaultEngine when empty.
	Engine v1.EngineName
	// Quantization of the weights; none when empty.
	Quantization v1.Quantization
	// Product is the GPU product, a node label value such as NVIDIA-L4.
	Product string
	// Context is the context length the KV cache is sized for; the model's own maximum when 0.
	Context int64
	// GPUs is a fixed GPU count per replica; 0 searches SearchCounts.
	GPUs int32
	// Architecture, when set, is the model's shape read from its checkpoint (CheckpointArchitecture), used instead
	// of the catalogue.
	Architecture *gpu.Architecture
}

// Spec is the LLMDeploymentSpec a query stands for.
func (q FitQuery) Spec() v1.LLMDeploymentSpec {
	spec := v1.LLMDeploymentSpec{
		Model:        v1.ModelSpec{URI: q.Model},
		Engine:       v1.EngineSpec{Name: q.Engine},
		Quantization: q.Quantization,
		GPU:          v1.GPUSpec{Products: []string{q.Product}},
	}
	if q.Context > 0 {
		spec.MaxModelLen = ptr.To(int32(q.Context))
	}
	if q.GPUs > 0 {
		spec.GPU.Count = ptr.To(q.GPUs)
	}
	return spec
}

// validate checks the query's values against the API and the registries.
func (q *FitQuery) validate() error {
	if q.Model == "" {
		return errors.New("a model URI is required, e.g. hf://meta-llama/Llama-3.3-70B-Instruct (or -f manifest.yaml)")
	}
	if q.Engine == "" {
		q.Engine = v1.DefaultEngine
	}
	if _, ok := engine.Lookup(q.Engine); !ok {
		var names []string
		for _, n := range engine.Names() {
			names = append(names, string(n))
		}
		return fmt.Errorf("unknown engine %q; the engines are %s", q.Engine, strings.Join(names, ", "))
	}
	if q.Quantization == "" {
		q.Quantization = v1.QuantizationNone
	}
	if !engine.Supports(q.Engine, q.Quantization) {
		var names []string
		for _, e := range engine.FactsOf(q.Engine).Quantizations {
			names = append(names, string(e.Name))
		}
		return fmt.Errorf("engine %s does not accept quantization %q; it accepts %s", q.Engine, q.Quantization, strings.Join(names, ", "))
	}
	if q.Product == "" {
		return fmt.Errorf("--gpu is required: a GPU product as the nodes' nvidia.com/gpu.product label names it, one of %s",
			strings.Join(knownProducts, ", "))
	}
	if _, ok := ProductMemoryMiB(q.Product); !ok {
		return &UnknownProductError{Product: q.Product}
	}
	if q.Context != 0 && (q.Context < 128 || q.Context > 10485760) {
		return fmt.Errorf("--context %d: the context length must be between 128 and 10485760 tokens (spec.maxModelLen)", q.Context)
	}
	if q.GPUs < 0 || q.GPUs > 16 {
		return fmt.Errorf("--gpus %d: a replica has between 1 and 16 GPUs (spec.gpu.count)", q.GPUs)
	}
	return nil
}

// FitReport answers the flag form of fit: the memory breakdown of the model on each GPU count (the query's, or
// SearchCounts) and the smallest count that fits. An unknown engine, quantization or GPU product is an error (an
// *UnknownProductError for the product); a model that is not in the catalogue is said in the report.
func FitReport(q FitQuery) (string, error) {
	if err := q.validate(); err != nil {
		return "", err
	}
	arch, known := gpu.Lookup(q.Model)
	if q.Architecture != nil {
		arch, known = *q.Architecture, true
	}
	if !known {
		return fmt.Sprintf("%s is not in the estimator's catalogue of well-known model families, so its memory cannot be "+
			"estimated here; the admission webhook admits such a model without a fit check.\n", q.Model), nil
	}
	spec := q.Spec()
	mib, _ := ProductMemoryMiB(q.Product)
	counts := SearchCounts
	if q.GPUs > 0 {
		counts = []int32{q.GPUs}
	}
	tries := tryCounts(&spec, arch, mib, counts)
	one := spec // the totals and the overhead, from one GPU (which always divides the heads)
	one.GPU.Count = nil
	ref, err := gpu.Estimate(&one, arch, mib)
	if err != nil {
		return "", fmt.Errorf("estimating %s: %w", q.Model, err)
	}

	var b strings.Builder
	head := newTable()
	head.row("Model", modelLine(arch, q.Model))
	head.row("Engine", engineLine(&spec))
	ctx := fmt.Sprintf("%d tokens", ref.ContextTokens)
	if q.Context == 0 {
		ctx += " (the model's maximum; --context sizes the KV cache for less)"
	}
	head.row("Context", ctx)
	head.row("GPU", q.Product+": "+memoryLine(ref, mib))
	head.row("Weights", gibText(ref.WeightsGiB))
	head.row("KV cache", fmt.Sprintf("%s for one sequence of %d tokens", gibText(ref.KVCacheGiB), ref.ContextTokens))
	head.row("Overhead", gibText(overheadOf(ref, 1))+" per GPU (CUDA context, activations, sampler)")
	b.WriteString(head.String())
	b.WriteString("\n")

	t := newTable()
	t.row("GPUS", "WEIGHTS/GPU", "KV CACHE/GPU", "OVERHEAD", "NEED/GPU", "USABLE/GPU", "FITS")
	var skipped []string
	for _, tr := range tries {
		if tr.Skip != "" {
			skipped = append(skipped, fmt.Sprintf("Not tried: %d GPUs: %s.", tr.Count, tr.Skip))
			continue
		}
		n := float64(tr.Count)
		fits := "no"
		if tr.Fit.Fits {
			fits = "yes"
		}
		t.row(strconv.Itoa(int(tr.Count)), gibText(tr.Fit.WeightsGiB/n), gibText(tr.Fit.KVCacheGiB/n),
			gibText(overheadOf(tr.Fit, tr.Count)), gibText(tr.Fit.PerGPUNeedGiB), gibText(tr.Fit.PerGPUAvailableGiB), fits)
	}
	if len(skipped) < len(tries) {
		b.WriteString(t.String())
		if len(skipped) > 0 {
			b.WriteString("\n")
		}
	}
	for _, s := range skipped {
		b.WriteString(s + "\n")
	}
	b.WriteString("\n")

	best := smallestFit(tries)
	switch {
	case best != nil:
		fmt.Fprintf(&b, "Fits on %d × %s per replica (%s of %s usable per GPU): spec.gpu.count: %d, quantization: %s.\n",
			best.Count, q.Product, oneDecimal(best.Fit.PerGPUNeedGiB), gibText(best.Fit.PerGPUAvailableGiB), best.Count,
			spec.EffectiveQuantization())
	case q.GPUs > 0:
		verb := "Does not fit on"
		if tries[0].Skip != "" {
			verb = "Cannot run on"
		}
		line := fmt.Sprintf("%s %d × %s with quantization %s", verb, q.GPUs, q.Product, spec.EffectiveQuantization())
		if s := smallestFit(tryCounts(&spec, arch, mib, SearchCounts)); s != nil {
			line += fmt.Sprintf("; the smallest count that fits is %d (%s of %s usable per GPU).", s.Count,
				oneDecimal(s.Fit.PerGPUNeedGiB), gibText(s.Fit.PerGPUAvailableGiB))
		} else {
			line += fmt.Sprintf(", nor on %s of them.", triedCounts(tryCounts(&spec, arch, mib, SearchCounts)))
		}
		b.WriteString(line + "\n")
	default:
		fmt.Fprintf(&b, "Does not fit on %s × %s with quantization %s: choose GPUs with more memory, a smaller quantization "+
			"or a shorter --context.\n", triedCounts(tries), q.Product, spec.EffectiveQuantization())
	}
	return b.String(), nil
}
