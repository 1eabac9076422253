package llmdeployment

import (
	"context"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/engine"
)

// TestInvalidSpecsAreRejected sends bad LLMDeployments to the API server: each must be refused at admission by the
// CRD's schema and CEL rules, with a message that names the field and says what to do.
func TestInvalidSpecsAreRejected(t *testing.T) {
	ns := newNamespace(t)
	cases := []struct {
		name string
		mut  func(*v1.LLMDeployment)
		want []string // substrings of the API server's message
	}{
		{"unknown URI scheme", func(l *v1.LLMDeployment) { l.Spec.Model.URI = "file:///etc/passwd" },
			[]string{"spec.model.uri", "must start with hf://, s3://, gs:// or pvc://"}},
		{"https URI", func(l *v1.LLMDeployment) { l.Spec.Model.URI = "https://huggingface.co/meta-llama/x" },
			[]string{"spec.model.uri", "not supported"}},
		{"shell metacharacters in the model", func(l *v1.LLMDeployment) { l.Spec.Model.URI = "hf://org/model;rm -rf /" },
			[]string{"spec.model.uri", "hf://<org>/<name>"}},
		{"leading dash in the model", func(l *v1.LLMDeployment) { l.Spec.Model.URI = "hf://-org/model" },
			[]string{"spec.model.uri", "no leading '-'"}},
		{"path traversal in a pvc URI", func(l *v1.LLMDeployment) { l.Spec.Model.URI = "pvc://models/../secrets" },
			[]string{"spec.model.uri", "pvc://<claim>/<path>"}},
		{"leading dash in the revision", func(l *v1.LLMDeployment) { l.Spec.Model.Revision = "--trust-remote-code" },
			[]string{"spec.model.revision", "not starting with '-'"}},
		{"shell in the revision", func(l *v1.LLMDeployment) { l.Spec.Model.Revision = "main$(id)" },
			[]string{"spec.model.revision"}},
		{"leading dash in the served name", func(l *v1.LLMDeployment) { l.Spec.Model.ServedName = "-x" },
			[]string{"spec.model.servedName"}},
		{"zero GPUs", func(l *v1.LLMDeployment) { l.Spec.GPU.Count = ptr.To(int32(-1)) },
			[]string{"spec.gpu.count", "greater than or equal to 0"}},
		{"too many GPUs for one node", func(l *v1.LLMDeployment) { l.Spec.GPU.Count = ptr.To(int32(64)) },
			[]string{"spec.gpu.count", "less than or equal to 16"}},
		{"tensor parallel size not dividing the GPUs", func(l *v1.LLMDeployment) {
			l.Spec.GPU.Count, l.Spec.TensorParallelSize = ptr.To(int32(4)), ptr.To(int32(3))
		}, []string{"spec.tensorParallelSize", "must divide gpu.count"}},
		{"tgi with fewer shards than GPUs", func(l *v1.LLMDeployment) {
			l.Spec.Engine.Name, l.Spec.Quantization, l.Spec.GPU.Count, l.Spec.TensorParallelSize = v1.EngineName("tgi"), v1.QuantizationNone, ptr.To(int32(4)), ptr.To(int32(2))
		}, []string{"spec.tensorParallelSize", "tgi shards the model over every GPU"}},
		{"quantization vllm cannot do", func(l *v1.LLMDeployment) { l.Spec.Quantization = v1.Quantization("exl2") },
			[]string{"spec.quantization", "quantization exl2 is not available with engine vllm"}},
		{"unknown quantization", func(l *v1.LLMDeployment) { l.Spec.Quantization = "int3" },
			[]string{"spec.quantization", "Unsupported value"}},
		{"tgi dtype together with quantize", func(l *v1.LLMDeployment) {
			l.Spec.Engine.Name, l.Spec.Quantization, l.Spec.Dtype = v1.EngineName("tgi"), v1.QuantizationBitsAndBytes, v1.DtypeBFloat16
		}, []string{"spec.dtype", "tgi does not accept a dtype together with a quantization"}},
		{"tgi float32", func(l *v1.LLMDeployment) {
			l.Spec.Engine.Name, l.Spec.Quantization, l.Spec.Dtype = v1.EngineName("tgi"), v1.QuantizationNone, v1.DtypeFloat32
		}, []string{"spec.dtype", "not available with engine tgi"}},
		{"exl2 with shards", func(l *v1.LLMDeployment) {
			l.Spec.Engine.Name, l.Spec.Quantization, l.Spec.GPU.Count, l.Spec.TensorParallelSize = v1.EngineName("tgi"), v1.Quantization("exl2"), ptr.To(int32(2)), nil
		}, []string{"spec.gpu.count", "exl2 with engine tgi runs on at most 1 GPU(s) per replica"}},
		{"tgi from s3", func(l *v1.LLMDeployment) {
			l.Spec.Engine.Name, l.Spec.Quantization, l.Spec.Model.URI = v1.EngineName("tgi"), v1.QuantizationNone, "s3://bucket/llama"
		}, []string{"spec.model.uri", "engine tgi loads models from hf:// or pvc:// only"}},
		{"extra arg overriding the port", func(l *v1.LLMDeployment) { l.Spec.Engine.Args = []string{"--port=9000"} },
			[]string{"spec.engine.args", "may not set a flag the operator manages for vllm"}},
		{"extra arg overriding tensor parallelism (short form)", func(l *v1.LLMDeployment) { l.Spec.Engine.Args = []string{"-tp", "8"} },
			[]string{"spec.engine.args", "--tensor-parallel-size"}},
		{"an abbreviation argparse expands to --trust-remote-code", func(l *v1.LLMDeployment) { l.Spec.Engine.Args = []string{"--trust-rem"} },
			[]string{"spec.engine.args", "nor any abbreviation of it"}},
		{"extra arg enabling remote code", func(l *v1.LLMDeployment) { l.Spec.Engine.Args = []string{"--trust-remote-code"} },
			[]string{"spec.engine.args", "set spec.model.trustRemoteCode: true instead"}},
		{"tgi extra arg overriding the model", func(l *v1.LLMDeployment) {
			l.Spec.Engine.Name, l.Spec.Quantization, l.Spec.Engine.Args = v1.EngineName("tgi"), v1.QuantizationNone, []string{"--model-id=evil/model"}
		}, []string{"spec.engine.args", "a flag the operator manages for tgi"}},
		{"env enabling the dev server", func(l *v1.LLMDeployment) { l.Spec.Engine.Env = []v1.EnvVar{{Name: "VLLM_SERVER_DEV_MODE", Value: "1"}} },
			[]string{"spec.engine.env", "VLLM_SERVER_DEV_MODE"}},
		{"env overriding the token", func(l *v1.LLMDeployment) { l.Spec.Engine.Env = []v1.EnvVar{{Name: "HF_TOKEN", Value: "hf_x"}} },
			[]string{"spec.engine.env", "model.tokenSecretRef"}},
		{"image without a tag", func(l *v1.LLMDeployment) { l.Spec.Engine.Image = "vllm/vllm-openai" },
			[]string{"spec.engine.image", "must name a tag or a digest"}},
		{"image with latest", func(l *v1.LLMDeployment) { l.Spec.Engine.Image = "vllm/vllm-openai:latest" },
			[]string{"spec.engine.image", "may not use the latest tag"}},
		{"absurd replicas", func(l *v1.LLMDeployment) { l.Spec.Replicas = ptr.To(int32(10000)) },
			[]string{"spec.replicas", "less than or equal to 64"}},
		{"negative replicas", func(l *v1.LLMDeployment) { l.Spec.Replicas = ptr.To(int32(-1)) },
			[]string{"spec.replicas", "greater than or equal to 0"}},
		{"startup timeout too short", func(l *v1.LLMDeployment) { l.Spec.StartupTimeout = &metav1.Duration{Duration: 10_000_000_000} },
			[]string{"spec.startupTimeout", "between 1m and 24h"}},
		{"shm larger than the memory limit", func(l *v1.LLMDeployment) {
			l.Spec.ShmSize = ptr.To(resource.MustParse("64Gi"))
			l.Spec.Resources.Limits = corev1.ResourceList{"memory": resource.MustParse("32Gi")}
		}, []string{"spec.shmSize", "must not exceed resources.limits.memory"}},
		{"GPU requested through resources", func(l *v1.LLMDeployment) {
			l.Spec.Resources.Limits = corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("8")}
		}, []string{"spec.resources.limits", "requests gpu.count GPUs"}},
		{"pod label hijacking the selector", func(l *v1.LLMDeployment) {
			l.Spec.PodLabels = map[string]string{"serving.privatellm.dev/llmdeployment": "other"}
		}, []string{"spec.podLabels", "may not set"}},
		{"GPU product with spaces", func(l *v1.LLMDeployment) { l.Spec.GPU.Products = []string{"NVIDIA H100"} },
			[]string{"spec.gpu.products[0]"}},
		{"unknown GPU resource", func(l *v1.LLMDeployment) { l.Spec.GPU.ResourceName = "example.com/tpu" },
			[]string{"spec.gpu.resourceName", "Unsupported value"}},
		{"autoscaling min above max", func(l *v1.LLMDeployment) {
			l.Spec.Autoscaling = &v1.AutoscalingSpec{MinReplicas: ptr.To(int32(5)), MaxReplicas: 2, Target: 5}
		}, []string{"spec.autoscaling", "minReplicas must not exceed autoscaling.maxReplicas"}},
		{"autoscaling on KV cache with tgi", func(l *v1.LLMDeployment) {
			l.Spec.Engine.Name, l.Spec.Quantization = v1.EngineName("tgi"), v1.QuantizationNone
			l.Spec.GPU.Count, l.Spec.TensorParallelSize = ptr.To(int32(1)), nil
			l.Spec.Autoscaling = &v1.AutoscalingSpec{MaxReplicas: 4, Metric: v1.MetricKVCacheUtilization, Target: 80}
		}, []string{"spec.autoscaling.metric", "needs an engine that exports KV-cache use (vllm or sglang)"}},
		{"autoscaling KV target above 100%", func(l *v1.LLMDeployment) {
			l.Spec.Autoscaling = &v1.AutoscalingSpec{MaxReplicas: 4, Metric: v1.MetricKVCacheUtilization, Target: 150}
		}, []string{"spec.autoscaling.target", "a percentage"}},
		{"quantized checkpoint without its method", func(l *v1.LLMDeployment) {
			l.Spec.Quantization, l.Spec.Model.Quantized = v1.QuantizationNone, ptr.To(true)
		}, []string{"spec.model.quantized", "set spec.quantization to its method"}},
		{"awq quantized on load", func(l *v1.LLMDeployment) {
			l.Spec.Quantization, l.Spec.Model.Quantized = v1.QuantizationAWQ, ptr.To(false)
		}, []string{"spec.model.quantized", "only fp8, bitsandbytes can quantize an unquantized checkpoint on load"}},
		{"CPU serving with an engine that needs GPUs", func(l *v1.LLMDeployment) {
			l.Spec.GPU = v1.GPUSpec{Count: ptr.To(int32(0))}
			l.Spec.TensorParallelSize = nil
			l.Spec.Resources.Requests = corev1.ResourceList{"cpu": resource.MustParse("4"), "memory": resource.MustParse("8Gi")}
		}, []string{"spec.gpu.count", "only engine llamacpp can"}},
		{"CPU serving without CPU and memory requests", func(l *v1.LLMDeployment) {
			l.Spec.Engine.Name, l.Spec.Quantization, l.Spec.Model.URI = "llamacpp", "Q4_K_M", "hf://org/m-GGUF"
			l.Spec.GPU, l.Spec.TensorParallelSize, l.Spec.Resources = v1.GPUSpec{Count: ptr.To(int32(0))}, nil, corev1.ResourceRequirements{}
		}, []string{"spec.resources", "needs resources.requests.cpu and resources.requests.memory"}},
		{"llama.cpp from a pvc path that is not a GGUF file", func(l *v1.LLMDeployment) {
			l.Spec.Engine.Name, l.Spec.Quantization, l.Spec.Model.URI = "llamacpp", "Q4_K_M", "pvc://models/llama"
			l.Spec.GPU.Count, l.Spec.TensorParallelSize = ptr.To(int32(1)), nil
		}, []string{"spec.model.uri", "must name it (pvc://<claim>/<path>/<file>.gguf)"}},
		{"llama.cpp at a revision", func(l *v1.LLMDeployment) {
			l.Spec.Engine.Name, l.Spec.Quantization, l.Spec.Model.URI, l.Spec.Model.Revision = "llamacpp", "Q4_K_M", "hf://org/m-GGUF", "v2"
			l.Spec.GPU.Count, l.Spec.TensorParallelSize = ptr.To(int32(1)), nil
		}, []string{"spec.model.revision", "default branch of a repository only"}},
		{"a TGI short flag the operator sets", func(l *v1.LLMDeployment) {
			l.Spec.Engine.Name, l.Spec.Quantization, l.Spec.Engine.Args = "tgi", v1.QuantizationNone, []string{"-g", "30"}
			l.Spec.GPU.Count, l.Spec.TensorParallelSize = ptr.To(int32(1)), nil
		}, []string{"spec.engine.args", "-g"}},
		{"a variable the operator sets (server-side apply would refuse the duplicate)", func(l *v1.LLMDeployment) {
			l.Spec.Engine.Env = []v1.EnvVar{{Name: "DO_NOT_TRACK", Value: "0"}}
		}, []string{"spec.engine.env", "engine.env may not set"}},
		{"zero GPU memory", func(l *v1.LLMDeployment) { l.Spec.GPU.MinMemory = ptr.To(resource.MustParse("0")) },
			[]string{"spec.gpu.minMemory", "must be more than 0"}},
		{"negative GPU memory", func(l *v1.LLMDeployment) { l.Spec.GPU.MinMemory = ptr.To(resource.MustParse("-40Gi")) },
			[]string{"spec.gpu.minMemory", "must be more than 0"}},
		{"zero /dev/shm", func(l *v1.LLMDeployment) { l.Spec.ShmSize = ptr.To(resource.MustParse("0")) },
			[]string{"spec.shmSize", "must be more than 0"}},
		{"the Deployment controller's label", func(l *v1.LLMDeployment) { l.Spec.PodLabels = map[string]string{"pod-template-hash": "x"} },
			[]string{"spec.podLabels", "pod-template-hash"}},
		{"sharing with a namespace that cannot exist", func(l *v1.LLMDeployment) {
			l.Spec.Gateway = &v1.GatewaySpec{SharedWith: []string{"Team_B"}}
		}, []string{"spec.gateway.sharedWith[0]"}},
		{"a zero token limit", func(l *v1.LLMDeployment) {
			l.Spec.Gateway = &v1.GatewaySpec{Limits: &v1.RateLimits{TokensPerMinute: ptr.To(int64(0))}}
		}, []string{"spec.gateway.limits.tokensPerMinute", "greater than or equal to 1"}},
		{"an unknown routing policy", func(l *v1.LLMDeployment) { l.Spec.Gateway = &v1.GatewaySpec{Routing: "Random"} },
			[]string{"spec.gateway.routing", "Unsupported value"}},
		{"name too long for child objects", func(l *v1.LLMDeployment) { l.Name = strings.Repeat("a", 53) },
			[]string{"metadata.name may be at most 52 characters"}},
		{"name that cannot be a Service", func(l *v1.LLMDeployment) { l.Name = "1llama" },
			[]string{"must start with a letter"}},
	}
	if len(cases) < 15 {
		t.Fatalf("want at least 15 invalid specs, have %d", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			llm := sampleLLM(ns, "bad")
			tc.mut(llm)
			err := k8sClient.Create(context.Background(), llm, client.DryRunAll)
			if err == nil {
				t.Fatal("the API server accepted an invalid LLMDeployment")
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q lacks %q", err.Error(), w)
				}
			}
		})
	}
}

// TestValidSpecsAreAccepted keeps the rules from refusing what they should allow.
func TestValidSpecsAreAccepted(t *testing.T) {
	ns := newNamespace(t)
	for name, mut := range map[string]func(*v1.LLMDeployment){
		"sample": func(*v1.LLMDeployment) {},
		"pipeline stages": func(l *v1.LLMDeployment) {
			l.Spec.GPU.Count, l.Spec.TensorParallelSize = ptr.To(int32(8)), ptr.To(int32(4))
		},
		"s3 with vllm":          func(l *v1.LLMDeployment) { l.Spec.Model.URI = "s3://models/llama-3/70b" },
		"pvc":                   func(l *v1.LLMDeployment) { l.Spec.Model.URI = "pvc://weights/llama/70b" },
		"revision with a slash": func(l *v1.LLMDeployment) { l.Spec.Model.Revision = "refs/pr/12" },
		"image digest": func(l *v1.LLMDeployment) {
			l.Spec.Engine.Image = "registry.local:5000/vllm@sha256:" + strings.Repeat("a", 64)
		},
		"image on a port": func(l *v1.LLMDeployment) { l.Spec.Engine.Image = "registry.local:5000/vllm/vllm-openai:v0.18.1" },
		"unmanaged extra args": func(l *v1.LLMDeployment) {
			l.Spec.Engine.Args = []string{"--enable-prefix-caching", "--max-num-seqs", "128"}
		},
		"remote code by opt-in": func(l *v1.LLMDeployment) { l.Spec.Model.TrustRemoteCode = true },
		"tgi exl2 single shard": func(l *v1.LLMDeployment) {
			l.Spec.Engine.Name, l.Spec.Quantization, l.Spec.GPU.Count, l.Spec.TensorParallelSize = v1.EngineName("tgi"), v1.Quantization("exl2"), ptr.To(int32(1)), nil
		},
		"shm within the limit": func(l *v1.LLMDeployment) {
			l.Spec.ShmSize = ptr.To(resource.MustParse("8Gi"))
			l.Spec.Resources.Limits = corev1.ResourceList{"memory": resource.MustParse("64Gi")}
		},
		"scaled to zero": func(l *v1.LLMDeployment) { l.Spec.Replicas = ptr.To(int32(0)) },
		"amd": func(l *v1.LLMDeployment) {
			l.Spec.GPU.ResourceName, l.Spec.GPU.Products = v1.GPUResourceAMD, []string{"MI300X"}
		},
		"52-character name": func(l *v1.LLMDeployment) { l.Name = strings.Repeat("a", 52) },
		"shared through the gateway": func(l *v1.LLMDeployment) {
			l.Spec.Gateway = &v1.GatewaySpec{SharedWith: []string{"team-b", "*"}, Routing: v1.RoutingPrefixHash,
				Limits: &v1.RateLimits{RequestsPerMinute: ptr.To(int64(600)), TokensPerMinute: ptr.To(int64(100000))}}
		},
	} {
		t.Run(name, func(t *testing.T) {
			llm := sampleLLM(ns, "good")
			mut(llm)
			if err := k8sClient.Create(context.Background(), llm, client.DryRunAll); err != nil {
				t.Fatalf("a valid spec was rejected: %v", err)
			}
		})
	}
}

// TestUnknownFieldsAreRejected: with strict field validation (kubectl's default) a misspelled field, or a
// namespace on the token Secret reference (cross-namespace references do not exist), is an error, not silently
// dropped.
func TestUnknownFieldsAreRejected(t *testing.T) {
	ns := newNamespace(t)
	for name, tc := range map[string]struct {
		path  []string
		value any
		want  string
	}{
		"misspelled field":             {[]string{"spec", "gpu", "cout"}, int64(2), `unknown field "spec.gpu.cout"`},
		"cross-namespace secret":       {[]string{"spec", "model", "tokenSecretRef", "namespace"}, "kube-system", `unknown field "spec.model.tokenSecretRef.namespace"`},
		"unknown top-level spec field": {[]string{"spec", "command"}, "sh -c id", `unknown field "spec.command"`},
	} {
		t.Run(name, func(t *testing.T) {
			m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(sampleLLM(ns, "strict"))
			if err != nil {
				t.Fatal(err)
			}
			u := &unstructured.Unstructured{Object: m}
			u.SetGroupVersionKind(v1.GroupVersion.WithKind("LLMDeployment"))
			if err := unstructured.SetNestedField(u.Object, tc.value, tc.path...); err != nil {
				t.Fatal(err)
			}
			err = k8sClient.Create(context.Background(), u, client.DryRunAll, client.FieldValidation(metav1.FieldValidationStrict))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}

// TestSchemaAndEnginesAgree: the CRD's generated CEL rules and the engine registry's Validate (internal/engine)
// accept the same specs, for every engine, every quantization any engine knows and the fields the engines differ
// on — or a spec would be admitted that its engine cannot serve, or refused although it can.
func TestSchemaAndEnginesAgree(t *testing.T) {
	ns := newNamespace(t)
	var quantizations []v1.Quantization
	for _, f := range engine.All() {
		for _, q := range f.Quantizations {
			if !slices.Contains(quantizations, q.Name) {
				quantizations = append(quantizations, q.Name)
			}
		}
	}
	variants := map[string]func(*v1.LLMDeployment){
		"one GPU":          func(*v1.LLMDeployment) {},
		"quantized":        func(l *v1.LLMDeployment) { l.Spec.Model.Quantized = ptr.To(true) },
		"quantize on load": func(l *v1.LLMDeployment) { l.Spec.Model.Quantized = ptr.To(false) },
		"bfloat16":         func(l *v1.LLMDeployment) { l.Spec.Dtype = v1.DtypeBFloat16 },
		"half":             func(l *v1.LLMDeployment) { l.Spec.Dtype = v1.DtypeHalf },
		"two GPUs, tp 2": func(l *v1.LLMDeployment) {
			l.Spec.GPU.Count, l.Spec.TensorParallelSize = ptr.To(int32(2)), ptr.To(int32(2))
		},
		"four GPUs, tp 2": func(l *v1.LLMDeployment) {
			l.Spec.GPU.Count, l.Spec.TensorParallelSize = ptr.To(int32(4)), ptr.To(int32(2))
		},
		"revision":          func(l *v1.LLMDeployment) { l.Spec.Model.Revision = "main" },
		"gguf file on pvc":  func(l *v1.LLMDeployment) { l.Spec.Model.URI = "pvc://models/llama/model-Q4_K_M.gguf" },
		"directory on pvc":  func(l *v1.LLMDeployment) { l.Spec.Model.URI = "pvc://models/llama" },
		"s3":                func(l *v1.LLMDeployment) { l.Spec.Model.URI = "s3://bucket/llama" },
		"managed flag":      func(l *v1.LLMDeployment) { l.Spec.Engine.Args = []string{"--port=1"} },
		"engine's own flag": func(l *v1.LLMDeployment) { l.Spec.Engine.Args = []string{"--max-model-len=1"} },
		"KV autoscaling": func(l *v1.LLMDeployment) {
			l.Spec.Autoscaling = &v1.AutoscalingSpec{MaxReplicas: 2, Metric: v1.MetricKVCacheUtilization, Target: 80}
			l.Spec.Replicas = nil
		},
		"on CPU": func(l *v1.LLMDeployment) {
			l.Spec.GPU = v1.GPUSpec{Count: ptr.To(int32(0))}
			l.Spec.TensorParallelSize, l.Spec.ShmSize = nil, nil
			l.Spec.Resources.Requests = corev1.ResourceList{"cpu": resource.MustParse("4"), "memory": resource.MustParse("8Gi")}
		},
	}
	disagree := 0
	for _, e := range engine.Names() {
		for _, q := range quantizations {
			for name, mut := range variants {
				llm := sampleLLM(ns, "agree")
				llm.Spec.Engine.Name, llm.Spec.Quantization = e, q
				llm.Spec.Engine.Args = nil
				llm.Spec.GPU.Count, llm.Spec.TensorParallelSize = ptr.To(int32(1)), nil
				mut(llm)
				err := k8sClient.Create(context.Background(), llm, client.DryRunAll)
				errs := engine.Validate(&llm.Spec)
				if admitted := err == nil; admitted != (len(errs) == 0) {
					disagree++
					t.Errorf("%s, %s, %s: admitted by the schema %v (%v); engine.Validate: %v", e, q, name, admitted, err, errs)
				}
			}
		}
	}
	if disagree > 0 {
		t.Logf("%d disagreements", disagree)
	}
}
