package engine_test

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/engine"
)

var defaults = engine.Defaults{VLLMImage: "vllm/vllm-openai:v0.18.0", TGIImage: "ghcr.io/huggingface/text-generation-inference:3.3.6"}

func llm(mut func(*v1.LLMDeployment)) *v1.LLMDeployment {
	l := &v1.LLMDeployment{}
	l.Name, l.Namespace = "m", "ns"
	l.Spec.Model.URI = "hf://org/model"
	mut(l)
	return l
}

func TestArgs(t *testing.T) {
	cases := []struct {
		name    string
		mut     func(*v1.LLMDeployment)
		want    []string // must be present
		notWant []string // prefixes that must be absent
		image   string
	}{
		{
			name:    "vllm defaults",
			mut:     func(*v1.LLMDeployment) {},
			want:    []string{"serve", "org/model", "--port=8000", "--served-model-name=m", "--tensor-parallel-size=1"},
			notWant: []string{"--quantization", "--dtype", "--pipeline-parallel-size", "--trust-remote-code", "--revision"},
			image:   defaults.VLLMImage,
		},
		{
			name:    "vllm awq is read from the checkpoint, not forced",
			mut:     func(l *v1.LLMDeployment) { l.Spec.Quantization = v1.QuantizationAWQ },
			notWant: []string{"--quantization"},
		},
		{
			name: "vllm fp8 70B on 4 GPUs",
			mut: func(l *v1.LLMDeployment) {
				l.Spec.Quantization, l.Spec.GPU.Count, l.Spec.TensorParallelSize = v1.QuantizationFP8, 4, ptr.To(int32(4))
			},
			want:    []string{"--quantization=fp8", "--tensor-parallel-size=4"},
			notWant: []string{"--pipeline-parallel-size"},
		},
		{
			name:    "vllm tensor parallel below the GPU count becomes pipeline stages",
			mut:     func(l *v1.LLMDeployment) { l.Spec.GPU.Count, l.Spec.TensorParallelSize = 8, ptr.To(int32(4)) },
			want:    []string{"--tensor-parallel-size=4", "--pipeline-parallel-size=2"},
			notWant: nil,
		},
		{
			name: "vllm revision, dtype, context, served name, remote code opt-in, extra args before managed flags",
			mut: func(l *v1.LLMDeployment) {
				l.Spec.Model.Revision, l.Spec.Dtype, l.Spec.MaxModelLen = "v1.0", v1.DtypeBFloat16, ptr.To(int32(4096))
				l.Spec.Model.ServedName, l.Spec.Model.TrustRemoteCode = "org/served", true
				l.Spec.Engine.Args = []string{"--enable-prefix-caching"}
			},
			want: []string{"--revision=v1.0", "--dtype=bfloat16", "--max-model-len=4096", "--served-model-name=org/served", "--trust-remote-code", "--enable-prefix-caching"},
		},
		{
			name:    "vllm s3 streams with the Run:ai streamer and ignores revision",
			mut:     func(l *v1.LLMDeployment) { l.Spec.Model.URI, l.Spec.Model.Revision = "s3://bucket/llama/8b/", "main" },
			want:    []string{"s3://bucket/llama/8b", "--load-format=runai_streamer"},
			notWant: []string{"--revision"},
		},
		{
			name:  "vllm image override",
			mut:   func(l *v1.LLMDeployment) { l.Spec.Engine.Image = "registry.local:5000/vllm:v0.19.1" },
			image: "registry.local:5000/vllm:v0.19.1",
		},
		{
			name:    "tgi defaults",
			mut:     func(l *v1.LLMDeployment) { l.Spec.Engine.Name = v1.EngineTGI },
			want:    []string{"--model-id=org/model", "--port=8080", "--prometheus-port=9000", "--hostname=0.0.0.0"},
			notWant: []string{"--num-shard", "--quantize", "--dtype", "serve"},
			image:   defaults.TGIImage,
		},
		{
			name: "tgi sharded with on-the-fly bitsandbytes-nf4",
			mut: func(l *v1.LLMDeployment) {
				l.Spec.Engine.Name, l.Spec.GPU.Count, l.Spec.Quantization = v1.EngineTGI, 2, v1.QuantizationBitsAndBytesNF4
			},
			want: []string{"--num-shard=2", "--quantize=bitsandbytes-nf4"},
		},
		{
			name:    "tgi gptq checkpoint needs no --quantize",
			mut:     func(l *v1.LLMDeployment) { l.Spec.Engine.Name, l.Spec.Quantization = v1.EngineTGI, v1.QuantizationGPTQ },
			notWant: []string{"--quantize"},
		},
		{
			name: "tgi context length",
			mut: func(l *v1.LLMDeployment) {
				l.Spec.Engine.Name, l.Spec.MaxModelLen, l.Spec.Dtype = v1.EngineTGI, ptr.To(int32(8192)), v1.DtypeFloat16
			},
			want: []string{"--max-total-tokens=8192", "--max-input-tokens=8191", "--dtype=float16"},
		},
		{
			name: "tgi pvc model",
			mut: func(l *v1.LLMDeployment) {
				l.Spec.Engine.Name, l.Spec.Model.URI = v1.EngineTGI, "pvc://weights/mistral"
			},
			want: []string{"--model-id=/mnt/models/mistral"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := engine.For(llm(tc.mut), defaults)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !slices.Contains(plan.Args, w) {
					t.Errorf("args %q lack %q", plan.Args, w)
				}
			}
			for _, nw := range tc.notWant {
				for _, a := range plan.Args {
					if strings.HasPrefix(a, nw) {
						t.Errorf("args %q must not contain %q", plan.Args, nw)
					}
				}
			}
			if tc.image != "" && plan.Image != tc.image {
				t.Errorf("image = %q, want %q", plan.Image, tc.image)
			}
		})
	}
}

func TestUserArgsComeBeforeManagedFlags(t *testing.T) {
	plan, err := engine.For(llm(func(l *v1.LLMDeployment) { l.Spec.Engine.Args = []string{"--max-num-seqs=64"} }), defaults)
	if err != nil {
		t.Fatal(err)
	}
	user, port := slices.Index(plan.Args, "--max-num-seqs=64"), slices.Index(plan.Args, "--port=8000")
	if user < 0 || port < 0 || user > port {
		t.Errorf("user args must precede managed flags (argparse keeps the last value): %q", plan.Args)
	}
}

func TestEnv(t *testing.T) {
	plan, err := engine.For(llm(func(l *v1.LLMDeployment) {
		l.Spec.Model.TokenSecretRef = &v1.SecretKeyRef{Name: "hf"}
		l.Spec.Engine.Env = []v1.EnvVar{{Name: "VLLM_LOGGING_LEVEL", Value: "DEBUG"}}
	}), defaults)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, e := range plan.Env {
		if e.ValueFrom != nil {
			env[e.Name] = "from:" + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
			continue
		}
		env[e.Name] = e.Value
	}
	for k, v := range map[string]string{
		"HF_TOKEN": "from:hf/token", "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
		"VLLM_LOGGING_LEVEL": "DEBUG", "HOME": engine.HomeDir,
	} {
		if env[k] != v {
			t.Errorf("env %s = %q, want %q", k, env[k], v)
		}
	}
	if _, ok := env["VLLM_SERVER_DEV_MODE"]; ok {
		t.Error("VLLM_SERVER_DEV_MODE must never be set by the operator")
	}
}

func TestParseModelURI(t *testing.T) {
	good := map[string]engine.ModelSource{
		"hf://meta-llama/Llama-3.1-8B": {Scheme: engine.SchemeHF, Repo: "meta-llama/Llama-3.1-8B"},
		"hf://gpt2":                    {Scheme: engine.SchemeHF, Repo: "gpt2"},
		"s3://models/llama/8b":         {Scheme: engine.SchemeS3, Path: "models/llama/8b"},
		"gs://models/llama":            {Scheme: engine.SchemeGCS, Path: "models/llama"},
		"pvc://weights/llama/8b":       {Scheme: engine.SchemePVC, Claim: "weights", Path: "llama/8b"},
		"pvc://weights":                {Scheme: engine.SchemePVC, Claim: "weights"},
	}
	for uri, want := range good {
		got, err := engine.ParseModelURI(uri)
		if err != nil || got != want {
			t.Errorf("ParseModelURI(%q) = %+v, %v; want %+v", uri, got, err, want)
		}
	}
	for _, uri := range []string{
		"", "meta-llama/Llama", "file:///etc/passwd", "https://x/y", "hf://-rf/x", "hf://a/b;rm -rf /",
		"hf://a/b/c", "pvc://Weights/x", "pvc://w/../etc", "s3://b/$(id)", "hf://a/b --trust-remote-code",
	} {
		if _, err := engine.ParseModelURI(uri); err == nil {
			t.Errorf("ParseModelURI(%q) accepted a bad URI", uri)
		}
	}
}

func TestQuantizationTables(t *testing.T) {
	for _, q := range []v1.Quantization{v1.QuantizationEXL2, v1.QuantizationEETQ, v1.QuantizationBitsAndBytesNF4} {
		if _, ok := engine.VLLMQuantizationFlag(q); ok {
			t.Errorf("vllm must not claim support for %s", q)
		}
	}
	if !engine.Supports(v1.EngineTGI, v1.QuantizationEXL2) || engine.Supports(v1.EngineVLLM, v1.QuantizationEXL2) || !engine.Supports(v1.EngineVLLM, v1.QuantizationAWQ) {
		t.Error("Supports must follow the engines' flag tables")
	}
	if f, ok := engine.TGIQuantizeFlag(v1.QuantizationEXL2); !ok || f != "exl2" {
		t.Errorf("tgi exl2 = %q, %v", f, ok)
	}
}

func TestMetricNames(t *testing.T) {
	if !slices.Contains(engine.VLLMMetrics.KVCacheUsage, "vllm:gpu_cache_usage_perc") || engine.VLLMMetrics.KVCacheUsage[0] != "vllm:kv_cache_usage_perc" {
		t.Errorf("vLLM KV cache metric must prefer the current name and keep the deprecated one: %v", engine.VLLMMetrics.KVCacheUsage)
	}
	if engine.TGIMetrics.RequestsWaiting[0] != "tgi_queue_size" {
		t.Errorf("tgi queue metric: %v", engine.TGIMetrics.RequestsWaiting)
	}
}
