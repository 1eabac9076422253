package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/gpu"
)

// reportWidth is the width messages are wrapped at.
const reportWidth = 100

// ParseLLMDeployments reads the LLMDeployments of a YAML or JSON manifest of one or more documents. Documents of
// other kinds are skipped and named in skipped; a document that does not parse is an error.
func ParseLLMDeployments(data []byte) (llms []v1.LLMDeployment, skipped []string, err error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 1; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("document %d: %w", i, err)
		}
		var tm struct {
			metav1.TypeMeta `json:",inline"`
			Metadata        struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return nil, nil, fmt.Errorf("document %d: %w", i, err)
		}
		if tm.Kind == "" && tm.APIVersion == "" && tm.Metadata.Name == "" {
			continue // empty, or comments only
		}
		if tm.Kind != "LLMDeployment" || tm.APIVersion != v1.GroupVersion.String() {
			skipped = append(skipped, fmt.Sprintf("%s %s (%s)", tm.Kind, tm.Metadata.Name, tm.APIVersion))
			continue
		}
		var llm v1.LLMDeployment
		if err := yaml.UnmarshalStrict(doc, &llm); err != nil {
			return nil, nil, fmt.Errorf("document %d (LLMDeployment %s): %w", i, tm.Metadata.Name, err)
		}
		llms = append(llms, llm)
	}
	return llms, skipped, nil
}

// FitManifests answers `fit -f`: the fit of each LLMDeployment of a manifest as written, and the smallest GPU count
// that fits when it does not. A manifest without an LLMDeployment is an error.
func FitManifests(data []byte) (string, error) {
	llms, skipped, err := ParseLLMDeployments(data)
	if err != nil {
		return "", err
	}
	if len(llms) == 0 {
		return "", errors.New("no LLMDeployment (" + v1.GroupVersion.String() + ") in the manifest")
	}
	var b strings.Builder
	for i := range llms {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(SpecFitReport(&llms[i]))
	}
	if len(skipped) > 0 {
		b.WriteString("\n" + wrap("Skipped, not LLMDeployments: "+strings.Join(skipped, ", ")+".", "", "  ", reportWidth))
	}
	return b.String(), nil
}

// SpecFitReport is the fit of one LLMDeployment as written: the verdict of the admission webhook's check, the
// memory breakdown, and the smallest GPU count that fits when the spec does not.
func SpecFitReport(llm *v1.LLMDeployment) string {
	spec := &llm.Spec
	name := llm.Name
	if llm.Namespace != "" {
		name = llm.Namespace + "/" + name
	}
	r := CheckSpec(spec)
	var b strings.Builder
	if r.Verdict == VerdictModelUnknown {
		b.WriteString(wrap(fmt.Sprintf("%s: not checked: %s is not in the estimator's catalogue of well-known model "+
			"families; the admission webhook admits it without a fit check.", name, spec.Model.URI), "", "  ", reportWidth))
		return b.String()
	}
	count := spec.GPUCount()
	where := gpusText(spec, r)
	switch r.Verdict {
	case VerdictFits:
		b.WriteString(wrap(fmt.Sprintf("%s: fits %s.", name, where), "", "  ", reportWidth))
	case VerdictDoesNotFit:
		b.WriteString(wrap(fmt.Sprintf("%s: does not fit %s: the admission webhook rejects it.", name, where), "", "  ", reportWidth))
	case VerdictTensorParallel:
		b.WriteString(wrap(fmt.Sprintf("%s: rejected by the admission webhook: %s.", name, r.Err), "", "  ", reportWidth))
	case VerdictMemoryUnknown:
		what := "the memory of its GPUs is not known without the cluster (spec.gpu.products names no known product " +
			"and spec.gpu.minMemory is unset): the admission webhook checks it against the memory of the cluster's matching nodes"
		if spec.OnCPU() {
			what = "the container's memory is not set (resources.limits.memory or resources.requests.memory)"
		}
		b.WriteString(wrap(fmt.Sprintf("%s: not checked: %s.", name, what), "", "  ", reportWidth))
	}

	t := newTable()
	t.row("  model", modelLine(r.Architecture, spec.Model.URI))
	t.row("  engine", engineLine(spec))
	if r.Verdict != VerdictTensorParallel {
		f := r.Fit
		ctx := fmt.Sprintf("%d tokens (spec.maxModelLen)", f.ContextTokens)
		if spec.MaxModelLen == nil {
			ctx = fmt.Sprintf("%d tokens (the model's maximum: spec.maxModelLen is unset)", f.ContextTokens)
		}
		t.row("  context", ctx)
		perGPU := func(g float64) string {
			if count > 1 {
				return fmt.Sprintf(", %s per GPU", gibText(g/float64(count)))
			}
			return ""
		}
		switch {
		case spec.OnCPU() && r.MemoryMiB > 0:
			t.row("  memory", r.MemoryFrom+": "+memoryLine(f, r.MemoryMiB))
		case spec.OnCPU():
		case r.MemoryMiB > 0:
			t.row("  GPUs", gpuRow(spec, r))
		default:
			t.row("  GPUs", fmt.Sprintf("%d per replica", count))
		}
		if spec.TensorParallelSize != nil {
			p := fmt.Sprintf("tensor parallel over %d GPUs", spec.EffectiveTensorParallelSize())
			if pp := spec.PipelineParallelSize(); pp > 1 {
				p += fmt.Sprintf(", %d pipeline stages", pp)
			}
			t.row("  parallel", p)
		}
		t.row("  weights", gibText(f.WeightsGiB)+perGPU(f.WeightsGiB))
		t.row("  KV cache", fmt.Sprintf("%s for one sequence of %d tokens%s", gibText(f.KVCacheGiB), f.ContextTokens, perGPU(f.KVCacheGiB)))
		unit := " per GPU"
		if spec.OnCPU() {
			unit = ""
		}
		t.row("  overhead", gibText(overheadOf(f, count))+unit)
		need := gibText(f.PerGPUNeedGiB) + unit
		if r.MemoryMiB > 0 {
			need += " of " + gibText(f.PerGPUAvailableGiB) + " usable"
		}
		t.row("  need", need)
	}
	if r.Verdict.Rejected() {
		if spec.OnCPU() {
			t.row("  fix", cpuFix(spec, r))
		} else {
			t.row("  smallest", smallestText(spec, r))
		}
	}
	b.WriteString(t.String())
	for _, n := range r.Notes {
		b.WriteString(wrap(n, "  note: ", "        ", reportWidth))
	}
	return b.String()
}

// gpusText says where a replica runs, e.g. "on 4 × NVIDIA-H100-80GB-HBM3" or "in 12.0 GiB of memory, on CPU".
func gpusText(spec *v1.LLMDeploymentSpec, r SpecFit) string {
	if spec.OnCPU() {
		return fmt.Sprintf("in %s of memory (%s), on CPU", gibText(float64(r.MemoryMiB)/1024), r.MemoryFrom)
	}
	if r.MemoryFrom == "spec.gpu.minMemory" {
		return fmt.Sprintf("on %d GPUs of %s (spec.gpu.minMemory)", spec.GPUCount(), gibText(float64(r.MemoryMiB)/1024))
	}
	return fmt.Sprintf("on %d × %s", spec.GPUCount(), r.MemoryFrom)
}

// gpuRow describes the GPUs of a replica and the memory the check used, e.g. "4 × NVIDIA-L4 per replica: 22.5
// GiB each, of which the engine uses 90%: 20.2 GiB".
func gpuRow(spec *v1.LLMDeploymentSpec, r SpecFit) string {
	mem := memoryLine(r.Fit, r.MemoryMiB)
	mem = strings.Replace(mem, " GiB,", " GiB each,", 1)
	switch {
	case r.MemoryFrom == "spec.gpu.minMemory":
		return fmt.Sprintf("%d per replica, with spec.gpu.minMemory: %s", spec.GPUCount(), mem)
	case len(spec.GPU.Products) > 1:
		return fmt.Sprintf("%d × %s (the smallest of spec.gpu.products) per replica: %s", spec.GPUCount(), r.MemoryFrom, mem)
	default:
		return fmt.Sprintf("%d × %s per replica: %s", spec.GPUCount(), r.MemoryFrom, mem)
	}
}

// smallestText is the smallest GPU count per replica that fits a rejected GPU spec.
func smallestText(spec *v1.LLMDeploymentSpec, r SpecFit) string {
	if r.MemoryMiB == 0 {
		return "unknown: the memory of the GPUs is not known"
	}
	tries := tryCounts(spec, r.Architecture, r.MemoryMiB, SearchCounts)
	best := smallestFit(tries)
	if best == nil {
		return fmt.Sprintf("none: no count of %s such GPUs fits with quantization %s; choose GPUs with more memory, "+
			"a smaller quantization or a shorter spec.maxModelLen", triedCounts(tries), spec.EffectiveQuantization())
	}
	s := fmt.Sprintf("%d GPUs fit (%s of %s usable per GPU): set spec.gpu.count: %d", best.Count,
		oneDecimal(best.Fit.PerGPUNeedGiB), gibText(best.Fit.PerGPUAvailableGiB), best.Count)
	if best.Count == 1 {
		s = strings.Replace(s, "1 GPUs fit", "1 GPU fits", 1)
	}
	if spec.TensorParallelSize != nil {
		s += " and leave spec.tensorParallelSize out"
	}
	return s
}

// cpuFix is the container memory with which a rejected CPU spec fits.
func cpuFix(spec *v1.LLMDeploymentSpec, r SpecFit) string {
	ratio := utilizationOf(r.Fit, r.MemoryMiB)
	gib := int64(math.Ceil(r.Fit.PerGPUNeedGiB / ratio))
	for ; gib < 1<<20; gib++ {
		if f, err := gpu.Estimate(spec, r.Architecture, gib*1024); err == nil && f.Fits {
			break
		}
	}
	return fmt.Sprintf("raise %s to at least %dGi", r.MemoryFrom, gib)
}
