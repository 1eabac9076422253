package webhook

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/gpu"
)

const (
	l4       = "NVIDIA-L4"
	l4MiB    = 23034
	h100     = "NVIDIA-H100-80GB-HBM3"
	h100MiB  = 81559
	a100     = "NVIDIA-A100-SXM4-40GB"
	a100MiB  = 40960
	mi300    = "AMD-Instinct-MI300X"
	llama70  = "hf://meta-llama/Llama-3.3-70B-Instruct"
	llama8   = "hf://meta-llama/Llama-3.1-8B-Instruct"
	llama8q  = "hf://hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4"
	qwen7    = "hf://Qwen/Qwen2.5-7B-Instruct"
	llama405 = "hf://meta-llama/Llama-3.1-405B-Instruct"
)

// nvidiaNode is a GPU Feature Discovery-labelled node with gpus allocatable NVIDIA GPUs.
func nvidiaNode(name, product string, memMiB, gpus int64, extra ...string) corev1.Node {
	n := corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			"nvidia.com/gpu.product": product,
			"nvidia.com/gpu.memory":  strconv.FormatInt(memMiB, 10),
			"nvidia.com/gpu.count":   strconv.FormatInt(gpus, 10),
		}},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
			"nvidia.com/gpu": *resource.NewQuantity(gpus, resource.DecimalSI),
			"cpu":            resource.MustParse("32"),
		}},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		n.Labels[extra[i]] = extra[i+1]
	}
	return n
}

func cpuNode(name string) corev1.Node {
	return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{"cpu": resource.MustParse("8")}}}
}

func amdNode(name, product string, gpus int64) corev1.Node {
	return corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"amd.com/gpu.product-name": product}},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
			"amd.com/gpu": *resource.NewQuantity(gpus, resource.DecimalSI),
		}},
	}
}

// llm is an LLMDeployment as the API server hands it to the webhook: defaults applied.
func llm(uri string, mut ...func(*v1.LLMDeploymentSpec)) *v1.LLMDeployment {
	l := &v1.LLMDeployment{
		ObjectMeta: metav1.ObjectMeta{Name: "m", Namespace: "team-a"},
		Spec: v1.LLMDeploymentSpec{
			Model:        v1.ModelSpec{URI: uri},
			Engine:       v1.EngineSpec{Name: v1.DefaultEngine},
			Quantization: v1.QuantizationNone,
			Dtype:        v1.DtypeAuto,
			GPU:          v1.GPUSpec{Count: ptr.To(int32(1)), ResourceName: v1.GPUResourceNVIDIA},
			Replicas:     ptr.To(int32(1)),
		},
	}
	for _, m := range mut {
		m(&l.Spec)
	}
	return l
}

func products(p ...string) func(*v1.LLMDeploymentSpec) {
	return func(s *v1.LLMDeploymentSpec) { s.GPU.Products = p }
}
func count(n int32) func(*v1.LLMDeploymentSpec) {
	return func(s *v1.LLMDeploymentSpec) { s.GPU.Count = ptr.To(int32(n)) }
}
func quant(q v1.Quantization) func(*v1.LLMDeploymentSpec) {
	return func(s *v1.LLMDeploymentSpec) { s.Quantization = q }
}
func maxLen(n int32) func(*v1.LLMDeploymentSpec) {
	return func(s *v1.LLMDeploymentSpec) { s.MaxModelLen = ptr.To(n) }
}
func minMemory(q string) func(*v1.LLMDeploymentSpec) {
	return func(s *v1.LLMDeploymentSpec) { s.GPU.MinMemory = ptr.To(resource.MustParse(q)) }
}
func cpu(memoryLimit string) func(*v1.LLMDeploymentSpec) {
	return func(s *v1.LLMDeploymentSpec) {
		s.GPU.Count = ptr.To(int32(0))
		s.Resources.Requests = corev1.ResourceList{"cpu": resource.MustParse("8"), "memory": resource.MustParse(memoryLimit)}
		s.Resources.Limits = corev1.ResourceList{"memory": resource.MustParse(memoryLimit)}
	}
}
func tp(n int32) func(*v1.LLMDeploymentSpec) {
	return func(s *v1.LLMDeploymentSpec) { s.TensorParallelSize = ptr.To(n) }
}

func TestValidate(t *testing.T) {
	l4x8 := []corev1.Node{nvidiaNode("l4-a", l4, l4MiB, 8), nvidiaNode("l4-b", l4, l4MiB, 8), cpuNode("cpu")}
	l4x1 := []corev1.Node{nvidiaNode("l4-a", l4, l4MiB, 1), cpuNode("cpu")}
	mixed := []corev1.Node{nvidiaNode("h100", h100, h100MiB, 8), nvidiaNode("l4", l4, l4MiB, 4), cpuNode("cpu")}
	cases := []struct {
		name     string
		old, obj *v1.LLMDeployment
		nodes    []corev1.Node
		wantErrs []string // substrings of the one error; empty: accepted
		wantWarn []string // substrings of the warnings, one per warning; empty: none
	}{
		{
			name:  "70B bf16 with its full context on one L4: rejected with the issue's suggestion",
			obj:   llm(llama70, products(l4)),
			nodes: l4x8,
			wantErrs: []string{"spec.gpu.count", "needs ≈ 173 GiB per replica", "1 × 22 GiB given",
				"smallest matching NVIDIA-L4 node", "try quantization fp8 with 8 GPUs, or awq with 4",
				"awq needs a pre-quantized AWQ checkpoint"},
		},
		{
			name:     "70B bf16 with an 8K context on one L4: more GPUs at the current quantization come first",
			obj:      llm(llama70, products(l4), maxLen(8192)),
			nodes:    l4x8,
			wantErrs: []string{"spec.gpu.count", "try quantization none with 8 GPUs, or fp8 with 4, or awq with 2"},
		},
		{
			name: "llama.cpp 8B Q4_K_M on CPU within its memory: accepted, no GPU warnings",
			obj: llm("hf://bartowski/Meta-Llama-3.1-8B-Instruct-GGUF", cpu("12Gi"), quant("Q4_K_M"), maxLen(8192),
				func(s *v1.LLMDeploymentSpec) { s.Engine.Name = "llamacpp" }),
			nodes: l4x1,
		},
		{
			name: "llama.cpp splits layers, not heads: 3 GPUs are fine for 32 heads",
			obj: llm(llama8q, products(l4), count(3), quant("Q4_K_M"), maxLen(8192),
				func(s *v1.LLMDeploymentSpec) {
					s.Engine.Name = "llamacpp"
					s.Model.URI = "hf://bartowski/Meta-Llama-3.1-8B-Instruct-GGUF"
				}),
			nodes: mixed,
		},
		{
			name: "llama.cpp 8B Q8_0 on CPU with too little memory: the limit to raise, or a smaller GGUF type",
			obj: llm("hf://bartowski/Meta-Llama-3.1-8B-Instruct-GGUF", cpu("8Gi"), quant("Q8_0"), maxLen(8192),
				func(s *v1.LLMDeploymentSpec) { s.Engine.Name = "llamacpp" }),
			nodes: l4x1,
			wantErrs: []string{"spec.resources.limits.memory", "needs ≈ 10 GiB of memory", "resources.limits.memory gives 8.0 GiB",
				"raise resources.limits.memory, or use a smaller quantization (Q2_K, Q3_K_M, Q4_0"},
		},
		{
			name:  "8B AWQ on one L4: accepted, no warnings",
			obj:   llm(llama8q, products(l4), quant(v1.QuantizationAWQ), maxLen(8192)),
			nodes: l4x1,
		},
		{
			name:  "8B bf16 with its 128K context on the smallest GPU of any product: rejected, shorter context suggested",
			obj:   llm(llama8),
			nodes: mixed,
			wantErrs: []string{"spec.gpu.count", "smallest matching NVIDIA-L4 node",
				"try quantization none with 2 GPUs, or fp8 with 2, or awq with 2, or maxModelLen ≤ 30720 with the current quantization and GPUs"},
		},
		{
			name:  "the same with minMemory 40Gi: only the H100 node matches, it fits",
			obj:   llm(llama8, minMemory("40Gi")),
			nodes: mixed,
		},
		{
			name:     "requested product on no node: a warning only",
			obj:      llm(llama70, products(h100), quant(v1.QuantizationFP8), count(4), maxLen(16384)),
			nodes:    l4x8,
			wantWarn: []string{"no node currently offers nvidia.com/gpu of product NVIDIA-H100-80GB-HBM3: the pods stay Pending"},
		},
		{
			name:     "no node with minMemory: a warning, and the fit is checked against minMemory",
			obj:      llm(llama70, minMemory("80Gi"), count(2), quant(v1.QuantizationFP8), maxLen(8192)),
			nodes:    l4x8,
			wantWarn: []string{"no node currently offers nvidia.com/gpu with ≥ 80 GiB per GPU"},
		},
		{
			name:     "no node with minMemory and a spec too big for it: rejected against spec.gpu.minMemory",
			obj:      llm(llama70, minMemory("80Gi"), maxLen(8192)),
			nodes:    nil,
			wantErrs: []string{"spec.gpu.count", "1 × 80 GiB given (spec.gpu.minMemory, as no matching node is known", "try quantization none with 2 GPUs"},
			wantWarn: []string{"no node currently offers nvidia.com/gpu: the pods stay Pending until GPU nodes join"},
		},
		{
			name:     "no GPU node and no minMemory: fit unknown, a warning only",
			obj:      llm(llama70),
			nodes:    []corev1.Node{cpuNode("cpu")},
			wantWarn: []string{"no node currently offers nvidia.com/gpu"},
		},
		{
			name:     "too few GPUs per node: a warning only",
			obj:      llm(llama70, products(l4), count(8), quant(v1.QuantizationFP8), maxLen(8192)),
			nodes:    []corev1.Node{nvidiaNode("l4-a", l4, l4MiB, 4), nvidiaNode("l4-b", l4, l4MiB, 2)},
			wantWarn: []string{"spec.gpu.count is 8 but the largest matching node offers 4 allocatable NVIDIA-L4 nvidia.com/gpu"},
		},
		{
			name:     "suggestions stay within the largest node",
			obj:      llm(llama70, products(l4)),
			nodes:    []corev1.Node{nvidiaNode("l4-a", l4, l4MiB, 4)},
			wantErrs: []string{"; try quantization awq with 4 GPUs (awq needs"},
		},
		{
			name:     "nothing fits: says so",
			obj:      llm(llama405, products(l4), maxLen(4096)),
			nodes:    l4x8,
			wantErrs: []string{"no quantization of none, fp8 or awq on 1, 2, 4 or 8 such GPUs fits: choose GPUs with more memory"},
		},
		{
			name:     "nodeSelector excludes every GPU node: a warning",
			obj:      llm(llama8q, quant(v1.QuantizationAWQ), maxLen(8192), func(s *v1.LLMDeploymentSpec) { s.NodeSelector = map[string]string{"pool": "inference"} }),
			nodes:    l4x8,
			wantWarn: []string{"on nodes matching spec.nodeSelector"},
		},
		{
			name:  "nodeSelector picks the larger node",
			obj:   llm(llama8, func(s *v1.LLMDeploymentSpec) { s.NodeSelector = map[string]string{"pool": "big"} }),
			nodes: []corev1.Node{nvidiaNode("l4", l4, l4MiB, 4), nvidiaNode("a100", a100, a100MiB, 4, "pool", "big")},
		},
		{
			name:  "unknown model: accepted on any GPU",
			obj:   llm("hf://someone/custom-400b", products(l4)),
			nodes: l4x1,
		},
		{
			name:     "tensorParallelSize not dividing the attention heads",
			obj:      llm(qwen7, count(8), tp(8), maxLen(8192)),
			nodes:    []corev1.Node{nvidiaNode("h100", h100, h100MiB, 8)},
			wantErrs: []string{"spec.tensorParallelSize", "Qwen2.5 7B has 28 attention heads, which tensorParallelSize 8 does not divide: use 1, 2, 4, 7 or 14"},
		},
		{
			name:     "default tensorParallelSize (gpu.count) not dividing the attention heads",
			obj:      llm(qwen7, count(8), maxLen(8192)),
			nodes:    []corev1.Node{nvidiaNode("h100", h100, h100MiB, 8)},
			wantErrs: []string{"spec.gpu.count", "tensor parallelism over 8 GPUs", "set spec.gpu.count to 1, 2, 4, 7 or 14"},
		},
		{
			name:  "pipeline parallel with a dividing tensorParallelSize is fine",
			obj:   llm(qwen7, count(8), tp(4), maxLen(8192)),
			nodes: []corev1.Node{nvidiaNode("h100", h100, h100MiB, 8)},
		},
		{
			name: "tgi with a dtype: the suggestion says dtype auto",
			obj: llm(llama70, products(l4), maxLen(8192), func(s *v1.LLMDeploymentSpec) {
				s.Engine.Name, s.Dtype = v1.EngineName("tgi"), v1.DtypeBFloat16
			}),
			nodes:    l4x8,
			wantErrs: []string{"try quantization none with 8 GPUs", "tgi needs spec.dtype auto together with a quantization"},
		},
		{
			name: "AMD GPUs: no memory label, the fit uses minMemory",
			obj: llm(llama70, products(mi300), minMemory("192Gi"), maxLen(8192), func(s *v1.LLMDeploymentSpec) {
				s.GPU.ResourceName = v1.GPUResourceAMD
			}),
			nodes: []corev1.Node{amdNode("mi300", mi300, 8), nvidiaNode("l4", l4, l4MiB, 8)},
		},
		{
			name: "AMD GPUs: too small per minMemory",
			obj: llm(llama70, minMemory("16Gi"), maxLen(8192), func(s *v1.LLMDeploymentSpec) {
				s.GPU.ResourceName = v1.GPUResourceAMD
			}),
			nodes:    []corev1.Node{amdNode("mi300", mi300, 8)},
			wantErrs: []string{"1 × 16 GiB given (spec.gpu.minMemory"},
		},
		{
			name:     "update changing the engine: rejected",
			old:      llm(llama8q, quant(v1.QuantizationAWQ), maxLen(8192)),
			obj:      llm(llama8q, quant(v1.QuantizationAWQ), maxLen(8192), func(s *v1.LLMDeploymentSpec) { s.Engine.Name = v1.EngineName("tgi") }),
			nodes:    l4x1,
			wantErrs: []string{"spec.engine.name", "immutable (it was vllm): create a new LLMDeployment with engine tgi"},
		},
		{
			name: "update changing the GPU resource: rejected",
			old:  llm(llama8q, quant(v1.QuantizationAWQ), maxLen(8192)),
			obj: llm(llama8q, quant(v1.QuantizationAWQ), maxLen(8192), minMemory("16Gi"), func(s *v1.LLMDeploymentSpec) {
				s.GPU.ResourceName = v1.GPUResourceAMD
			}),
			nodes:    []corev1.Node{amdNode("mi300", mi300, 8)},
			wantErrs: []string{"spec.gpu.resourceName", "immutable (it was nvidia.com/gpu): create a new LLMDeployment for amd.com/gpu GPUs"},
		},
		{
			name:  "update from an unset engine to its default: not a change",
			old:   llm(llama8q, quant(v1.QuantizationAWQ), maxLen(8192), func(s *v1.LLMDeploymentSpec) { s.Engine.Name, s.GPU.ResourceName = "", "" }),
			obj:   llm(llama8q, quant(v1.QuantizationAWQ), maxLen(8192)),
			nodes: l4x1,
		},
		{
			name:     "update of a spec that no longer fits, fit inputs unchanged: a warning, not a rejection",
			old:      llm(llama70, products(l4), maxLen(8192)),
			obj:      llm(llama70, products(l4), maxLen(8192), func(s *v1.LLMDeploymentSpec) { s.Replicas = ptr.To(int32(3)) }),
			nodes:    l4x8,
			wantWarn: []string{"the unchanged spec does not fit the cluster any more: spec.gpu.count"},
		},
		{
			name:     "update that makes the spec not fit: rejected",
			old:      llm(llama70, products(l4), maxLen(8192), quant(v1.QuantizationAWQ), count(2)),
			obj:      llm(llama70, products(l4), maxLen(8192), count(2)),
			nodes:    l4x8,
			wantErrs: []string{"spec.gpu.count", "needs ≈"},
		},
		{
			name: "update of an object being deleted: never blocked",
			old:  llm(llama70, products(l4), maxLen(8192)),
			obj: func() *v1.LLMDeployment {
				l := llm(llama70, products(l4), maxLen(8192), func(s *v1.LLMDeploymentSpec) { s.Engine.Name = v1.EngineName("tgi") })
				l.DeletionTimestamp = ptr.To(metav1.Now())
				return l
			}(),
			nodes: l4x8,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			warnings, errs := Validate(tc.old, tc.obj, tc.nodes)
			if len(tc.wantErrs) == 0 && len(errs) > 0 {
				t.Fatalf("rejected: %v", errs.ToAggregate())
			}
			if len(tc.wantErrs) > 0 {
				if len(errs) != 1 {
					t.Fatalf("want exactly one error, got %d: %v", len(errs), errs.ToAggregate())
				}
				msg := errs[0].Error()
				for _, want := range tc.wantErrs {
					if !strings.Contains(msg, want) {
						t.Errorf("error %q\n does not contain %q", msg, want)
					}
				}
			}
			if len(warnings) != len(tc.wantWarn) {
				t.Fatalf("want %d warnings, got %q", len(tc.wantWarn), warnings)
			}
			for i, want := range tc.wantWarn {
				if !strings.Contains(warnings[i], want) {
					t.Errorf("warning %q\n does not contain %q", warnings[i], want)
				}
			}
		})
	}
}

// TestValidateIsDeterministic guards the suggestion order against map iteration and node order.
func TestValidateIsDeterministic(t *testing.T) {
	obj := llm(llama70, products(l4, h100))
	nodes := []corev1.Node{nvidiaNode("b", l4, l4MiB, 8), nvidiaNode("a", h100, h100MiB, 8), nvidiaNode("c", l4, l4MiB-1, 8)}
	reversed := []corev1.Node{nodes[2], nodes[1], nodes[0]}
	_, first := Validate(nil, obj, nodes)
	if len(first) != 1 {
		t.Fatalf("want one error, got %v", first)
	}
	for i := 0; i < 20; i++ {
		_, again := Validate(nil, obj, reversed)
		if len(again) != 1 || again[0].Error() != first[0].Error() {
			t.Fatalf("not deterministic:\n%v\n%v", first[0], again)
		}
	}
	if !strings.Contains(first[0].Error(), "1 × 22 GiB given") {
		t.Errorf("the smallest matching GPU (%d MiB) must be the one checked: %v", l4MiB-1, first[0])
	}
}

// TestSuggestionsFit checks every suggestion against the estimator: each option fits, and the same quantization on
// fewer GPUs of the search does not (the option is the cheapest of its quantization).
func TestSuggestionsFit(t *testing.T) {
	var suggested int
	for _, uri := range []string{llama70, llama8, qwen7, llama405, "hf://mistralai/Mixtral-8x7B-Instruct-v0.1", "hf://google/gemma-2-27b-it"} {
		for _, mem := range []int64{l4MiB, a100MiB, h100MiB} {
			for _, q := range []v1.Quantization{v1.QuantizationNone, v1.QuantizationGPTQ} {
				spec := llm(uri, quant(q)).Spec
				arch, _ := gpu.Lookup(uri)
				for _, o := range suggest(&spec, arch, mem, 8) {
					suggested++
					try := func(n int32) bool {
						c := spec
						c.Quantization, c.GPU.Count = o.quantization, ptr.To(n)
						f, err := gpu.Estimate(&c, arch, mem)
						return err == nil && f.Fits
					}
					if !try(o.count) {
						t.Errorf("%s on %d MiB: suggested %s × %d does not fit", uri, mem, o.quantization, o.count)
					}
					for _, fewer := range suggestionCounts {
						if fewer < o.count && arch.AttentionHeads%int64(fewer) == 0 && try(fewer) {
							t.Errorf("%s on %d MiB: suggested %s × %d, but %d GPUs fit", uri, mem, o.quantization, o.count, fewer)
						}
					}
				}
			}
		}
	}
	if suggested < 10 {
		t.Errorf("only %d suggestions over the whole grid: the search finds too little", suggested)
	}
}

type recordingTransport struct{ got []string }

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.got = append(r.got, req.Method+" "+req.URL.Path+"?"+req.URL.RawQuery)
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req}, nil
}

func TestNameSelector(t *testing.T) {
	rec := &recordingTransport{}
	ns := &nameSelector{next: rec, names: map[string]string{
		"/api/v1/namespaces/privatellm-system/secrets":                          "cert",
		"/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations": "hook",
	}}
	for _, u := range []string{
		"https://k8s/api/v1/namespaces/privatellm-system/secrets?limit=500",
		"https://k8s/api/v1/namespaces/privatellm-system/secrets?watch=true&fieldSelector=type%3DOpaque",
		"https://k8s/prefix/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations?watch=true",
		"https://k8s/api/v1/namespaces/privatellm-system/secrets/cert",
		"https://k8s/api/v1/namespaces/other/secrets",
		"https://k8s/api/v1/nodes",
	} {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ns.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"GET /api/v1/namespaces/privatellm-system/secrets?fieldSelector=metadata.name%3Dcert&limit=500",
		"GET /api/v1/namespaces/privatellm-system/secrets?fieldSelector=type%3DOpaque%2Cmetadata.name%3Dcert&watch=true",
		"GET /prefix/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations?fieldSelector=metadata.name%3Dhook&watch=true",
		"GET /api/v1/namespaces/privatellm-system/secrets/cert?",
		"GET /api/v1/namespaces/other/secrets?",
		"GET /api/v1/nodes?",
	}
	if strings.Join(rec.got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(rec.got, "\n"), strings.Join(want, "\n"))
	}
}

func TestNodeCacheTransform(t *testing.T) {
	full := nvidiaNode("l4-a", l4, l4MiB, 8)
	full.Status.Images = []corev1.ContainerImage{{Names: []string{"vllm/vllm-openai:v0.18.0"}, SizeBytes: 9 << 30}}
	full.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	full.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}
	out, err := NodeCacheTransform(&full)
	if err != nil {
		t.Fatal(err)
	}
	n := out.(*corev1.Node)
	if len(n.Status.Images) != 0 || len(n.Status.Conditions) != 0 || len(n.ManagedFields) != 0 {
		t.Errorf("images, conditions and managed fields must go: %+v", n)
	}
	// What Validate reads survives: the same verdict on the stripped node.
	obj := llm(llama70, products(l4))
	_, want := Validate(nil, obj, []corev1.Node{full})
	_, got := Validate(nil, obj, []corev1.Node{*n})
	if len(want) != 1 || len(got) != 1 || want[0].Error() != got[0].Error() {
		t.Errorf("the stripped node changes the verdict:\n%v\n%v", want, got)
	}
	if other, _ := NodeCacheTransform("not a node"); other != "not a node" {
		t.Errorf("other objects must pass unchanged, got %v", other)
	}
}
