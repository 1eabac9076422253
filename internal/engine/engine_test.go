package engine_test

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/engine"
)

var images = engine.DefaultImages()

func llm(mut func(*v1.LLMDeployment)) *v1.LLMDeployment {
	l := &v1.LLMDeployment{}
	l.Name, l.Namespace = "m", "ns"
	l.Spec.Model.URI = "hf://org/model"
	mut(l)
	return l
}

func on(name v1.EngineName, mut func(*v1.LLMDeployment)) func(*v1.LLMDeployment) {
	return func(l *v1.LLMDeployment) {
		l.Spec.Engine.Name = name
		if name == "llamacpp" && l.Spec.Quantization == "" {
			l.Spec.Quantization = "Q4_K_M"
		}
		if mut != nil {
			mut(l)
		}
	}
}

func TestArgs(t *testing.T) {
	cases := []struct {
		name    string
		mut     func(*v1.LLMDeployment)
		command []string
		want    []string // must be present, in this order (not necessarily adjacent)
		notWant []string // prefixes that must be absent
		image   string
	}{
		{
			name:    "vllm defaults",
			mut:     func(*v1.LLMDeployment) {},
			command: []string{"vllm"},
			want:    []string{"serve", "org/model", "--port=8000", "--served-model-name=m", "--tensor-parallel-size=1", "--shutdown-timeout=60"},
			notWant: []string{"--quantization", "--dtype", "--pipeline-parallel-size", "--trust-remote-code", "--revision"},
			image:   "vllm/vllm-openai:v0.18.0",
		},
		{
			name:    "vllm awq is read from the checkpoint, not forced",
			mut:     func(l *v1.LLMDeployment) { l.Spec.Quantization = v1.QuantizationAWQ },
			notWant: []string{"--quantization"},
		},
		{
			name: "vllm fp8 on an unquantized checkpoint quantizes on load",
			mut: func(l *v1.LLMDeployment) {
				l.Spec.Quantization, l.Spec.GPU.Count, l.Spec.TensorParallelSize = v1.QuantizationFP8, ptr.To(int32(4)), ptr.To(int32(4))
				l.Spec.Model.Quantized = ptr.To(false)
			},
			want:    []string{"--tensor-parallel-size=4", "--quantization=fp8"},
			notWant: []string{"--pipeline-parallel-size"},
		},
		{
			name: "vllm fp8 on a pre-quantized FP8 checkpoint gets no flag (vLLM refuses one that differs)",
			mut: func(l *v1.LLMDeployment) {
				l.Spec.Model.URI, l.Spec.Quantization = "hf://meta-llama/Llama-3.1-405B-Instruct-FP8", v1.QuantizationFP8
				l.Spec.Model.Quantized = ptr.To(true)
			},
			notWant: []string{"--quantization"},
		},
		{
			name: "vllm tensor parallel below the GPU count becomes pipeline stages",
			mut: func(l *v1.LLMDeployment) {
				l.Spec.GPU.Count, l.Spec.TensorParallelSize = ptr.To(int32(8)), ptr.To(int32(4))
			},
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
			want: []string{"--enable-prefix-caching", "--served-model-name=org/served", "--revision=v1.0", "--dtype=bfloat16", "--max-model-len=4096", "--trust-remote-code"},
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
			mut:     on("tgi", nil),
			command: []string{"text-generation-launcher"},
			want:    []string{"--model-id=org/model", "--hostname=0.0.0.0", "--port=8080", "--prometheus-port=9000"},
			notWant: []string{"--num-shard", "--quantize", "--dtype", "serve"},
			image:   "ghcr.io/huggingface/text-generation-inference:3.3.6",
		},
		{
			name: "tgi sharded with on-the-fly bitsandbytes-nf4",
			mut: on("tgi", func(l *v1.LLMDeployment) {
				l.Spec.GPU.Count, l.Spec.Quantization = ptr.To(int32(2)), "bitsandbytes-nf4"
				l.Spec.Model.Quantized = ptr.To(false)
			}),
			want: []string{"--num-shard=2", "--quantize=bitsandbytes-nf4"},
		},
		{
			name:    "tgi gptq and exl2 checkpoints need no --quantize: the launcher reads config.json",
			mut:     on("tgi", func(l *v1.LLMDeployment) { l.Spec.Quantization = "exl2" }),
			notWant: []string{"--quantize"},
		},
		{
			name: "tgi context length",
			mut: on("tgi", func(l *v1.LLMDeployment) {
				l.Spec.MaxModelLen, l.Spec.Dtype = ptr.To(int32(8192)), v1.DtypeFloat16
			}),
			want: []string{"--dtype=float16", "--max-total-tokens=8192", "--max-input-tokens=8191"},
		},
		{
			name: "tgi pvc model",
			mut:  on("tgi", func(l *v1.LLMDeployment) { l.Spec.Model.URI = "pvc://weights/mistral" }),
			want: []string{"--model-id=/mnt/models/mistral"},
		},
		{
			name:    "sglang defaults",
			mut:     on("sglang", nil),
			command: []string{"python3"},
			want: []string{"-m", "sglang.launch_server", "--model-path=org/model", "--host=0.0.0.0", "--port=30000",
				"--served-model-name=m", "--tp-size=1", "--enable-metrics"},
			notWant: []string{"--quantization", "--dtype", "--pp-size", "--context-length"},
			image:   "lmsysorg/sglang:v0.5.6.post2",
		},
		{
			name: "sglang fp8 quantized on load, pipeline stages, context, user args before managed flags",
			mut: on("sglang", func(l *v1.LLMDeployment) {
				l.Spec.Quantization, l.Spec.Model.Quantized = v1.QuantizationFP8, ptr.To(false)
				l.Spec.GPU.Count, l.Spec.TensorParallelSize, l.Spec.MaxModelLen = ptr.To(int32(4)), ptr.To(int32(2)), ptr.To(int32(16384))
				l.Spec.Engine.Args = []string{"--mem-fraction-static=0.85"}
			}),
			want: []string{"--mem-fraction-static=0.85", "--model-path=org/model", "--tp-size=2", "--pp-size=2", "--quantization=fp8", "--context-length=16384"},
		},
		{
			name:    "llamacpp hf repo with the quantization's GGUF file, every value its own argument",
			mut:     on("llamacpp", func(l *v1.LLMDeployment) { l.Spec.MaxModelLen = ptr.To(int32(8192)) }),
			command: []string{"/app/llama-server"},
			want: []string{"-hf", "org/model:Q4_K_M", "--host", "0.0.0.0", "--port", "8080", "--alias", "m", "--metrics",
				"--ctx-size", "8192", "--n-gpu-layers", "999"},
			notWant: []string{"--port=", "--threads", "-m"},
			image:   "ghcr.io/ggml-org/llama.cpp:server-cuda-b8914",
		},
		{
			name: "llamacpp on CPU: the CPU image, threads from the CPU request, no GPU layers",
			mut: on("llamacpp", func(l *v1.LLMDeployment) {
				l.Spec.GPU.Count = ptr.To(int32(0))
				l.Spec.Model.URI = "pvc://models/llama/Llama-3.2-1B-Instruct-Q8_0.gguf"
				l.Spec.Quantization = "Q8_0"
				l.Spec.Resources.Requests = corev1.ResourceList{"cpu": resource.MustParse("3500m"), "memory": resource.MustParse("4Gi")}
			}),
			want:    []string{"-m", "/mnt/models/llama/Llama-3.2-1B-Instruct-Q8_0.gguf", "--threads", "4"},
			notWant: []string{"--n-gpu-layers", "-hf"},
			image:   "ghcr.io/ggml-org/llama.cpp:server-b8914",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := engine.For(llm(tc.mut), images)
			if err != nil {
				t.Fatal(err)
			}
			if tc.command != nil && !slices.Equal(plan.Command, tc.command) {
				t.Errorf("command = %q, want %q", plan.Command, tc.command)
			}
			at := 0
			for _, w := range tc.want {
				i := slices.Index(plan.Args[at:], w)
				if i < 0 {
					t.Errorf("args %q lack %q after position %d", plan.Args, w, at)
					continue
				}
				at += i + 1
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

// specs is a spread of valid specs for one engine: what the invariant tests below render.
func specs(name v1.EngineName) []*v1.LLMDeployment {
	f := engine.FactsOf(name)
	var out []*v1.LLMDeployment
	for _, q := range f.Quantizations {
		for _, d := range f.Dtypes {
			if d != v1.DtypeAuto && q.Name != v1.QuantizationNone && !f.DtypeWithQuantization {
				continue
			}
			out = append(out, llm(on(name, func(l *v1.LLMDeployment) {
				l.Spec.Quantization, l.Spec.Dtype = q.Name, d
				l.Spec.Model.TokenSecretRef = &v1.SecretKeyRef{Name: "hf"}
				if f.Revisions {
					l.Spec.Model.Revision = "main"
				}
				l.Spec.Model.TrustRemoteCode = f.Name != "llamacpp"
				l.Spec.MaxModelLen = ptr.To(int32(4096))
				if q.MaxGPUs == 0 && f.Parallelism != engine.LayerSplit {
					l.Spec.GPU.Count, l.Spec.TensorParallelSize = ptr.To(int32(4)), ptr.To(int32(4))
					if f.Parallelism == engine.TensorAndPipeline {
						l.Spec.TensorParallelSize = ptr.To(int32(2))
					}
				}
				if q.OnLoadFlag != "" {
					l.Spec.Model.Quantized = ptr.To(false)
				}
			})))
		}
	}
	if f.ServesOnCPU() {
		out = append(out, llm(on(name, func(l *v1.LLMDeployment) {
			l.Spec.GPU.Count = ptr.To(int32(0))
			l.Spec.Resources.Requests = corev1.ResourceList{"cpu": resource.MustParse("2"), "memory": resource.MustParse("8Gi")}
		})))
	}
	return out
}

func TestEveryEngineRendersItsSpecs(t *testing.T) {
	for _, name := range engine.Names() {
		for _, l := range specs(name) {
			if errs := engine.Validate(&l.Spec); len(errs) > 0 {
				t.Errorf("%s: a spec of the test spread is invalid: %v", name, errs)
				continue
			}
			if _, err := engine.For(l, images); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}

// Every flag a plan renders must be one engine.args may not set: a flag the operator sets but the user could set
// too is a duplicate (clap refuses it) or a silent override.
func TestEveryRenderedFlagIsManaged(t *testing.T) {
	for _, name := range engine.Names() {
		f := engine.FactsOf(name)
		for _, l := range specs(name) {
			plan, err := engine.For(l, images)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range plan.Args {
				flag, _, _ := strings.Cut(a, "=")
				if !strings.HasPrefix(flag, "-") || flag == "-m" && name == "sglang" || flag == "--trust-remote-code" {
					continue // values, `python3 -m`, and the opt-in the generic rule refuses in engine.args
				}
				if !slices.Contains(f.ManagedFlags, flag) {
					t.Errorf("%s renders %s, which is not in its ManagedFlags", name, flag)
				}
			}
		}
	}
}

// Every variable a plan sets must be one engine.env may not set: a duplicate name makes server-side apply fail.
func TestEveryRenderedEnvIsRefused(t *testing.T) {
	for _, name := range engine.Names() {
		refused := engine.FactsOf(name).RefusedEnv()
		for _, l := range specs(name) {
			plan, err := engine.For(l, images)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range plan.Env {
				if !slices.Contains(refused, e.Name) {
					t.Errorf("%s sets %s, which engine.env may set too", name, e.Name)
				}
			}
		}
	}
}

func TestUserArgsComeBeforeManagedFlags(t *testing.T) {
	for _, name := range engine.Names() {
		plan, err := engine.For(llm(on(name, func(l *v1.LLMDeployment) { l.Spec.Engine.Args = []string{"--user-flag"} })), images)
		if err != nil {
			t.Fatal(err)
		}
		user := slices.Index(plan.Args, "--user-flag")
		for i, a := range plan.Args {
			if strings.HasPrefix(a, "--port") && (user < 0 || user > i) {
				t.Errorf("%s: user args must precede the managed flags (the engines keep the last value): %q", name, plan.Args)
			}
		}
	}
}

// USER and HOME are set for every engine: vLLM from v0.20 (torch's getpass.getuser()) crashes at import as a uid
// without a passwd entry when USER is unset, so a pin bump must not break pods.
func TestEnv(t *testing.T) {
	for _, name := range engine.Names() {
		plan, err := engine.For(llm(on(name, func(l *v1.LLMDeployment) {
			l.Spec.Model.TokenSecretRef = &v1.SecretKeyRef{Name: "hf"}
			l.Spec.Engine.Env = []v1.EnvVar{{Name: "LOG_LEVEL", Value: "DEBUG"}}
		})), images)
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
		user := "engine"
		if plan.RunAsRoot {
			user = "root"
		}
		for k, v := range map[string]string{
			"HF_TOKEN": "from:hf/token", "DO_NOT_TRACK": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
			"LOG_LEVEL": "DEBUG", "HOME": engine.HomeDir, "USER": user,
		} {
			if env[k] != v {
				t.Errorf("%s: env %s = %q, want %q", name, k, env[k], v)
			}
		}
		if _, ok := env["VLLM_SERVER_DEV_MODE"]; ok {
			t.Errorf("%s: VLLM_SERVER_DEV_MODE must never be set by the operator", name)
		}
	}
}

// TGI 3.3.x keeps its Python under /root: as another uid the launcher cannot load libpython (upstream #3082).
// The other engines run as the operator's non-root uid.
func TestOnlyTGIRunsAsRoot(t *testing.T) {
	for _, name := range engine.Names() {
		plan, err := engine.For(llm(on(name, nil)), images)
		if err != nil {
			t.Fatal(err)
		}
		if plan.RunAsRoot != (name == "tgi") {
			t.Errorf("%s: RunAsRoot = %v", name, plan.RunAsRoot)
		}
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

func TestResolve(t *testing.T) {
	cases := []struct {
		name   string
		mut    func(*v1.LLMDeployment)
		flag   string
		reason string
		known  bool
	}{
		{"not quantized", func(*v1.LLMDeployment) {}, "", v1.ReasonNotQuantized, true},
		{"awq exists only as a checkpoint", func(l *v1.LLMDeployment) { l.Spec.Quantization = v1.QuantizationAWQ }, "", v1.ReasonFromCheckpoint, true},
		{"fp8, checkpoint declared quantized", func(l *v1.LLMDeployment) {
			l.Spec.Quantization, l.Spec.Model.Quantized = v1.QuantizationFP8, ptr.To(true)
		}, "", v1.ReasonFromCheckpoint, true},
		{"fp8, checkpoint declared unquantized", func(l *v1.LLMDeployment) {
			l.Spec.Quantization, l.Spec.Model.Quantized = v1.QuantizationFP8, ptr.To(false)
		}, "fp8", v1.ReasonQuantizeOnLoad, true},
		{"fp8 unset: assumed on load, and said so", func(l *v1.LLMDeployment) { l.Spec.Quantization = v1.QuantizationFP8 },
			"fp8", v1.ReasonCheckpointUnknown, false},
		{"tgi eetq exists as both", on("tgi", func(l *v1.LLMDeployment) { l.Spec.Quantization = "eetq" }),
			"eetq", v1.ReasonCheckpointUnknown, false},
		{"tgi dtype with an unknown checkpoint: TGI would refuse a quantized one", on("tgi", func(l *v1.LLMDeployment) { l.Spec.Dtype = v1.DtypeBFloat16 }),
			"", v1.ReasonCheckpointUnknown, false},
		{"tgi dtype with a checkpoint declared unquantized", on("tgi", func(l *v1.LLMDeployment) {
			l.Spec.Dtype, l.Spec.Model.Quantized = v1.DtypeBFloat16, ptr.To(false)
		}), "", v1.ReasonNotQuantized, true},
		{"vllm dtype is fine with any checkpoint", func(l *v1.LLMDeployment) { l.Spec.Dtype = v1.DtypeBFloat16 }, "", v1.ReasonNotQuantized, true},
		{"gguf", on("llamacpp", nil), "", v1.ReasonFromCheckpoint, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := llm(tc.mut)
			r := engine.Resolve(&l.Spec)
			if r.Flag != tc.flag || r.Reason != tc.reason || r.Known != tc.known || r.Message == "" {
				t.Errorf("Resolve = %+v, want flag %q reason %s known %v", r, tc.flag, tc.reason, tc.known)
			}
			if !r.Known && !strings.Contains(r.Message, "spec.model.quantized") {
				t.Errorf("an assumption must say what to set: %q", r.Message)
			}
		})
	}
}
