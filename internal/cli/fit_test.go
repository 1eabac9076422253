package cli

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/gpu"
	"github.com/privatellm/privatellm/internal/webhook"
)

const samplesDir = "../../config/samples"

// samples are the LLMDeployment samples of config/samples, by file name without .yaml.
func samples(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(samplesDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".yaml")] = data
	}
	if len(out) < 5 {
		t.Fatalf("found %d samples in %s: has the directory moved?", len(out), samplesDir)
	}
	return out
}

// TestFitManifestsGolden: `fit -f` of every sample, and of a hand-made manifest of the other verdicts, is its golden
// file.
func TestFitManifestsGolden(t *testing.T) {
	inputs := samples(t)
	cases, err := os.ReadFile("testdata/fit/cases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	inputs["cases"] = cases
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			out, err := FitManifests(data)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "fit", name+".golden"), out)
		})
	}
}

// TestFitManifestsVerdicts pins the verdict of each document of the hand-made manifest, so that a golden file
// cannot bless a wrong one.
func TestFitManifestsVerdicts(t *testing.T) {
	data, err := os.ReadFile("testdata/fit/cases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := FitManifests(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"team-a/big: does not fit on 1 × NVIDIA-A10G: the admission webhook rejects it.",
		"smallest  8 GPUs fit (18.3 of 20.2 GiB usable per GPU): set spec.gpu.count: 8\n",
		"tp: rejected by the admission webhook: tensorParallelSize 3 does not divide the 64 attention heads",
		"set spec.gpu.count: 4 and leave spec.tensorParallelSize out",
		"cpu: does not fit in 10.0 GiB of memory (resources.requests.memory), on CPU",
		"fix       raise resources.requests.memory to at least 50Gi",
		"mm: does not fit on 2 GPUs of 40.0 GiB (spec.gpu.minMemory)",
		"the estimator does not know the memory of NVIDIA-MI300",
		"unk: not checked: the memory of its GPUs is not known",
		"other: not checked: hf://acme/secret-model is not in the estimator's catalogue",
		"Skipped, not LLMDeployments: Secret hf-token (v1).",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
}

func TestFitManifestsErrors(t *testing.T) {
	for name, tc := range map[string]struct{ manifest, want string }{
		"no LLMDeployment": {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "no LLMDeployment"},
		"unknown field": {"apiVersion: serving.privatellm.dev/v1alpha1\nkind: LLMDeployment\nmetadata: {name: x}\n" +
			"spec:\n  model: {uri: hf://a/b}\n  gpus: 2\n", `unknown field "gpus"`},
		"not YAML": {"apiVersion: [\n", "document 1"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := FitManifests([]byte(tc.manifest))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestFitReport: the flag form finds the smallest GPU count that fits, says when none does and when the model is
// unknown, and rejects what the API and the registries do not know.
func TestFitReport(t *testing.T) {
	for _, tc := range []struct {
		name     string
		q        FitQuery
		want     []string // lines or parts of lines the report must hold
		wantRows int      // rows of the table below its header
		wantErr  string
	}{{
		name:     "fits on one GPU",
		q:        FitQuery{Model: "hf://hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4", Quantization: "awq", Product: "NVIDIA-L4", Context: 8192},
		want:     []string{"1     3.9 GiB      1.0 GiB       1.5 GiB   6.4 GiB   20.2 GiB    yes", "Fits on 1 × NVIDIA-L4 per replica (6.4 of 20.2 GiB usable per GPU): spec.gpu.count: 1, quantization: awq."},
		wantRows: 4,
	}, {
		name: "needs four GPUs",
		q:    FitQuery{Model: "hf://meta-llama/Llama-3.3-70B-Instruct", Quantization: "fp8", Product: "NVIDIA-L4", Context: 8192},
		want: []string{"Weights   65.8 GiB", "KV cache  2.5 GiB for one sequence of 8192 tokens", "Overhead  1.5 GiB per GPU",
			"2     32.9 GiB     1.2 GiB       1.5 GiB   35.6 GiB  20.2 GiB    no",
			"4     16.4 GiB     0.6 GiB       1.5 GiB   18.6 GiB  20.2 GiB    yes",
			"Fits on 4 × NVIDIA-L4 per replica (18.6 of 20.2 GiB usable per GPU): spec.gpu.count: 4, quantization: fp8."},
		wantRows: 4,
	}, {
		name:     "fits nowhere up to eight",
		q:        FitQuery{Model: "hf://meta-llama/Llama-3.1-405B-Instruct", Product: "NVIDIA-L4", Context: 8192},
		want:     []string{"8     94.5 GiB     0.5 GiB       1.5 GiB   96.5 GiB   20.2 GiB    no", "Does not fit on 1, 2, 4 or 8 × NVIDIA-L4 with quantization none"},
		wantRows: 4,
	}, {
		name: "the model's own context when --context is unset",
		q:    FitQuery{Model: "hf://meta-llama/Llama-3.1-8B-Instruct", Product: "NVIDIA-H100-80GB-HBM3"},
		want: []string{"Context   131072 tokens (the model's maximum", "KV cache  16.0 GiB for one sequence of 131072 tokens",
			"Fits on 1 × NVIDIA-H100-80GB-HBM3"},
		wantRows: 4,
	}, {
		name:     "a fixed count that does not fit names the smallest that does",
		q:        FitQuery{Model: "hf://meta-llama/Llama-3.3-70B-Instruct", Quantization: "fp8", Product: "NVIDIA-L4", Context: 8192, GPUs: 2},
		want:     []string{"Does not fit on 2 × NVIDIA-L4 with quantization fp8; the smallest count that fits is 4 (18.6 of 20.2 GiB usable per GPU)."},
		wantRows: 1,
	}, {
		name:     "a fixed count that does not divide the heads",
		q:        FitQuery{Model: "hf://meta-llama/Llama-3.3-70B-Instruct", Quantization: "fp8", Product: "NVIDIA-H100-80GB-HBM3", GPUs: 3},
		want:     []string{"Not tried: 3 GPUs: tensorParallelSize 3 does not divide the 64 attention heads of Llama 3.x 70B.", "Cannot run on 3 × NVIDIA-H100-80GB-HBM3"},
		wantRows: -1,
	}, {
		name:     "a quantization the engine runs on one GPU only",
		q:        FitQuery{Model: "hf://turboderp/Mistral-7B-exl2", Engine: "tgi", Quantization: "exl2", Product: "Tesla-T4", Context: 32768},
		want:     []string{"Not tried: 2 GPUs: tgi runs quantization exl2 on one GPU only.", "Fits on 1 × Tesla-T4"},
		wantRows: 1,
	}, {
		name:     "llama.cpp splits layers, so any count is tried",
		q:        FitQuery{Model: "hf://bartowski/Meta-Llama-3.1-70B-Instruct-GGUF", Engine: "llamacpp", Quantization: "Q4_K_M", Product: "NVIDIA-L4", Context: 8192},
		want:     []string{"Engine    llamacpp, quantization Q4_K_M: 4.89 bits per parameter", "Fits on 4 × NVIDIA-L4"},
		wantRows: 4,
	}, {
		name: "an unknown model",
		q:    FitQuery{Model: "hf://acme/house-model-13b", Product: "NVIDIA-L4"},
		want: []string{"hf://acme/house-model-13b is not in the estimator's catalogue of well-known model families", "admits such a model without a fit check"},
	}, {
		name:    "an unknown GPU product",
		q:       FitQuery{Model: "hf://meta-llama/Llama-3.3-70B-Instruct", Product: "NVIDIA-X1000"},
		wantErr: `unknown GPU product "NVIDIA-X1000"; the known products are NVIDIA-A100-80GB-PCIe, `,
	}, {
		name:    "a product in the wrong case",
		q:       FitQuery{Model: "hf://meta-llama/Llama-3.3-70B-Instruct", Product: "nvidia-l4"},
		wantErr: "did you mean NVIDIA-L4?",
	}, {
		name:    "no product",
		q:       FitQuery{Model: "hf://meta-llama/Llama-3.3-70B-Instruct"},
		wantErr: "--gpu is required",
	}, {
		name:    "a quantization the engine does not accept",
		q:       FitQuery{Model: "hf://meta-llama/Llama-3.3-70B-Instruct", Quantization: "Q4_K_M", Product: "NVIDIA-L4"},
		wantErr: `engine vllm does not accept quantization "Q4_K_M"; it accepts none, awq`,
	}, {
		name:    "an unknown engine",
		q:       FitQuery{Model: "hf://meta-llama/Llama-3.3-70B-Instruct", Engine: "trt", Product: "NVIDIA-L4"},
		wantErr: `unknown engine "trt"; the engines are vllm, llamacpp, sglang, tgi`,
	}, {
		name:    "a context below the API's minimum",
		q:       FitQuery{Model: "hf://meta-llama/Llama-3.3-70B-Instruct", Product: "NVIDIA-L4", Context: 64},
		wantErr: "between 128 and 10485760 tokens",
	}, {
		name:    "more GPUs than a replica may have",
		q:       FitQuery{Model: "hf://meta-llama/Llama-3.3-70B-Instruct", Product: "NVIDIA-L4", GPUs: 32},
		wantErr: "between 1 and 16 GPUs",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := FitReport(tc.q)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("the report lacks %q:\n%s", w, out)
				}
			}
			if tc.wantRows != 0 {
				rows := 0
				if i := strings.Index(out, "\nGPUS "); i >= 0 {
					for _, l := range strings.Split(out[i+1:], "\n")[1:] {
						if l == "" {
							break
						}
						rows++
					}
				}
				if want := max(tc.wantRows, 0); rows != want {
					t.Errorf("%d table rows, want %d:\n%s", rows, want, out)
				}
			}
		})
	}
}

func TestUnknownProductErrorListsEveryProduct(t *testing.T) {
	_, err := FitReport(FitQuery{Model: "hf://meta-llama/Llama-3.3-70B-Instruct", Product: "H100"})
	var pe *UnknownProductError
	if !errors.As(err, &pe) || pe.Product != "H100" {
		t.Fatalf("error %v, want an *UnknownProductError for H100", err)
	}
	for _, p := range KnownGPUProducts() {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("the error does not list %s: %v", p, err)
		}
	}
}

// fitPaths are the fields the webhook's fit check reports on.
var fitPaths = []string{"spec.gpu.count", "spec.tensorParallelSize", "spec.resources.limits.memory", "spec.resources.requests.memory"}

// TestCheckSpecAgreesWithTheWebhook: for every sample and variants of it that do not fit, CheckSpec's verdict is
// the admission webhook's (webhook.Validate) on a cluster whose GPU nodes are the spec's products, and its estimate
// is gpu.Estimate's with the memory the controller's ModelFits condition uses (gpu.DeclaredMemoryMiB).
func TestCheckSpecAgreesWithTheWebhook(t *testing.T) {
	var llms []v1.LLMDeployment
	for name, data := range samples(t) {
		parsed, _, err := ParseLLMDeployments(data)
		if err != nil || len(parsed) == 0 {
			t.Fatalf("%s: %v, %d LLMDeployments", name, err, len(parsed))
		}
		for _, llm := range parsed {
			llms = append(llms, llm)
			if llm.Spec.OnCPU() {
				small := *llm.DeepCopy()
				small.Name += "-4gi"
				small.Spec.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("4Gi")}
				llms = append(llms, small)
				continue
			}
			one := *llm.DeepCopy()
			one.Name += "-one-gpu"
			one.Spec.GPU.Count, one.Spec.TensorParallelSize = ptr.To[int32](1), nil
			full := *llm.DeepCopy()
			full.Name += "-full-context"
			full.Spec.MaxModelLen = nil
			odd := *llm.DeepCopy()
			odd.Name += "-tp3"
			odd.Spec.GPU.Count, odd.Spec.TensorParallelSize = ptr.To[int32](6), ptr.To[int32](3)
			llms = append(llms, one, full, odd)
		}
	}
	seen := map[Verdict]int{}
	for i := range llms {
		llm := &llms[i]
		t.Run(llm.Name, func(t *testing.T) {
			r := CheckSpec(&llm.Spec)
			seen[r.Verdict]++
			_, errs := webhook.Validate(nil, llm, declaredNodes(&llm.Spec))
			for _, e := range errs {
				if !slices.Contains(fitPaths, e.Field) {
					t.Errorf("the webhook rejects %s for something other than its fit: %v", llm.Name, e)
				}
			}
			if rejected := len(errs) > 0; rejected != r.Verdict.Rejected() {
				t.Errorf("verdict %q (rejected: %v), the webhook: %v", r.Verdict, r.Verdict.Rejected(), errs)
			}
			if r.Verdict != VerdictFits && r.Verdict != VerdictDoesNotFit {
				return
			}
			mib := gpu.DeclaredMemoryMiB(&llm.Spec)
			want, err := gpu.Estimate(&llm.Spec, r.Architecture, mib)
			if err != nil || r.MemoryMiB != mib || r.Fit != want {
				t.Errorf("CheckSpec checked %+v against %d MiB; gpu.Estimate with DeclaredMemoryMiB %d: %+v, %v", r.Fit, r.MemoryMiB, mib, want, err)
			}
		})
	}
	for _, v := range []Verdict{VerdictFits, VerdictDoesNotFit, VerdictTensorParallel} {
		if seen[v] == 0 {
			t.Errorf("no spec with verdict %q: the test does not cover it (verdicts %v)", v, seen)
		}
	}
}

// TestCheckSpecMemory: which memory the check uses when the spec's GPUs are not one known product.
func TestCheckSpecMemory(t *testing.T) {
	spec := func(products []string, minMemory string) *v1.LLMDeploymentSpec {
		s := &v1.LLMDeploymentSpec{Model: v1.ModelSpec{URI: "hf://meta-llama/Llama-3.1-8B-Instruct"}, GPU: v1.GPUSpec{Products: products}}
		if minMemory != "" {
			s.GPU.MinMemory = ptr.To(resource.MustParse(minMemory))
		}
		return s
	}
	for _, tc := range []struct {
		name      string
		spec      *v1.LLMDeploymentSpec
		wantMiB   int64
		wantFrom  string
		wantNotes int
	}{
		{"the smallest of several products", spec([]string{"NVIDIA-H100-80GB-HBM3", "NVIDIA-L4"}, ""), 23034, "NVIDIA-L4", 0},
		{"minMemory without products", spec(nil, "40Gi"), 40960, "spec.gpu.minMemory", 0},
		{"products that meet minMemory", spec([]string{"NVIDIA-L4"}, "22Gi"), 23034, "NVIDIA-L4", 0},
		{"products below minMemory: the webhook's fallback", spec([]string{"NVIDIA-L4"}, "40Gi"), 40960, "spec.gpu.minMemory", 1},
		{"an unknown product beside a known one", spec([]string{"NVIDIA-L4", "ACME-9000"}, ""), 23034, "NVIDIA-L4", 1},
		{"nothing known", spec([]string{"ACME-9000"}, ""), 0, "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := CheckSpec(tc.spec)
			if r.MemoryMiB != tc.wantMiB || r.MemoryFrom != tc.wantFrom || len(r.Notes) != tc.wantNotes {
				t.Errorf("memory %d MiB from %q, notes %q; want %d from %q with %d notes", r.MemoryMiB, r.MemoryFrom, r.Notes,
					tc.wantMiB, tc.wantFrom, tc.wantNotes)
			}
			if tc.wantMiB == 0 && r.Verdict != VerdictMemoryUnknown {
				t.Errorf("verdict %q, want %q", r.Verdict, VerdictMemoryUnknown)
			}
			mib, _ := gpu.InventoryFor(tc.spec, declaredNodes(tc.spec)).GPUMemory(tc.spec)
			if mib != r.MemoryMiB {
				t.Errorf("the webhook's inventory gives %d MiB, CheckSpec %d", mib, r.MemoryMiB)
			}
		})
	}
}

func TestHumanCount(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0", 999: "999", 1000: "1k", 1234: "1.2k", 12_345: "12.3k", 999_949: "999.9k", 999_950: "1M",
		1_234_567: "1.2M", 340_500_000: "340.5M", 12_345_678_901: "12.3B", -1500: "-1.5k",
	} {
		if got := humanCount(n); got != want {
			t.Errorf("humanCount(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestWrap(t *testing.T) {
	got := wrap("one two three four five six seven", "> ", "  ", 12)
	want := "> one two\n  three four\n  five six\n  seven\n"
	if got != want {
		t.Errorf("wrap = %q, want %q", got, want)
	}
	if got := wrap("averyveryverylongword x", "", "", 5); got != "averyveryverylongword\nx\n" {
		t.Errorf("a word longer than the width: %q", got)
	}
}

// TestFitReportGolden: the flag form's whole output, for the examples of docs/kubectl-plugin.md.
func TestFitReportGolden(t *testing.T) {
	for name, q := range map[string]FitQuery{
		"flags-llama-70b-fp8-l4": {Model: "hf://meta-llama/Llama-3.3-70B-Instruct", Quantization: "fp8", Product: "NVIDIA-L4", Context: 8192},
		"flags-llama-405b-l4":    {Model: "hf://meta-llama/Llama-3.1-405B-Instruct", Product: "NVIDIA-L4", Context: 8192},
		"flags-unknown-model":    {Model: "hf://acme/house-model-13b", Product: "NVIDIA-L4"},
		"flags-phi-3-t4-fixed-3": {Model: "hf://microsoft/Phi-3-medium-4k-instruct", Product: "Tesla-T4", Context: 4096, GPUs: 3},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := FitReport(q)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "fit", name+".golden"), out)
		})
	}
}

// TestDocsShowTheGoldenOutputs: docs/kubectl-plugin.md shows the golden outputs as they are.
func TestDocsShowTheGoldenOutputs(t *testing.T) {
	doc, err := os.ReadFile("../../docs/kubectl-plugin.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{
		"fit/flags-llama-70b-fp8-l4", "fit/flags-llama-405b-l4", "fit/flags-phi-3-t4-fixed-3", "fit/flags-unknown-model",
		"fit/serving_v1alpha1_llmdeployment_vllm_fp8_h100", "fit/serving_v1alpha1_llmdeployment_llamacpp_q4_cpu", "fit/cases",
		"cost/team-a-24h", "cost/all-24h", "status/team-a",
	} {
		want, err := os.ReadFile(filepath.Join("testdata", g+".golden"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(doc), "\n"+string(want)+"```\n") {
			t.Errorf("docs/kubectl-plugin.md does not show testdata/%s.golden as it is: paste it into its example", g)
		}
	}
}
