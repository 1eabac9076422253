package enginesim_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/test/enginesim"
)

// argv is the container's command line: what the kubelet would exec.
func argv(p engine.Plan) []string { return append(append([]string{}, p.Command...), p.Args...) }

// envOf is the container's literal environment, as KEY=VALUE.
func envOf(p engine.Plan) []string {
	var out []string
	for _, e := range p.Env {
		if e.ValueFrom == nil {
			out = append(out, e.Name+"="+e.Value)
		}
	}
	return out
}

func uidOf(p engine.Plan) string {
	if p.RunAsRoot {
		return "--uid=0"
	}
	return "--uid=1000"
}

func simArgs(p engine.Plan, extra ...string) []string {
	return append(append([]string{"--bind=127.1.2.3", uidOf(p)}, extra...), append([]string{"--"}, argv(p)...)...)
}

// operatorSpecs are LLMDeployments as users write them, one engine each; what the operator renders for them must
// start on the simulated engines as it would on the real ones.
func operatorSpecs() []*v1.LLMDeployment {
	mk := func(name string, mut func(*v1.LLMDeployment)) *v1.LLMDeployment {
		l := &v1.LLMDeployment{}
		l.Name, l.Namespace = name, "ns"
		l.Spec.Model.URI = "hf://org/model"
		l.Spec.Model.TokenSecretRef = &v1.SecretKeyRef{Name: "hf"}
		l.Spec.MaxModelLen = ptr.To(int32(8192))
		mut(l)
		return l
	}
	return []*v1.LLMDeployment{
		mk("vllm-awq", func(l *v1.LLMDeployment) {
			l.Spec.Model.URI, l.Spec.Quantization = "hf://hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4", v1.QuantizationAWQ
			l.Spec.Model.ServedName = "llama-3.1-8b-instruct"
			l.Spec.Engine.Args = []string{"--gpu-memory-utilization=0.92", "--enable-prefix-caching"}
		}),
		mk("vllm-fp8-on-load", func(l *v1.LLMDeployment) {
			l.Spec.Model.URI, l.Spec.Quantization, l.Spec.Model.Quantized = "hf://meta-llama/Llama-3.3-70B-Instruct", v1.QuantizationFP8, ptr.To(false)
			l.Spec.GPU.Count, l.Spec.TensorParallelSize = ptr.To(int32(8)), ptr.To(int32(4))
			l.Spec.Dtype, l.Spec.Model.Revision = v1.DtypeBFloat16, "main"
		}),
		mk("vllm-fp8-checkpoint", func(l *v1.LLMDeployment) {
			l.Spec.Model.URI, l.Spec.Quantization, l.Spec.Model.Quantized = "hf://meta-llama/Llama-3.1-405B-Instruct-FP8", v1.QuantizationFP8, ptr.To(true)
			l.Spec.GPU.Count = ptr.To(int32(8))
		}),
		mk("vllm-s3", func(l *v1.LLMDeployment) { l.Spec.Model.URI = "s3://bucket/llama" }),
		mk("tgi", func(l *v1.LLMDeployment) {
			l.Spec.Engine.Name, l.Spec.Model.URI, l.Spec.Dtype = "tgi", "hf://mistralai/Mistral-7B-Instruct-v0.3", v1.DtypeBFloat16
			l.Spec.Model.Quantized = ptr.To(false)
		}),
		mk("tgi-awq-sharded", func(l *v1.LLMDeployment) {
			l.Spec.Engine.Name, l.Spec.Model.URI, l.Spec.Quantization = "tgi", "hf://TheBloke/Mixtral-8x7B-Instruct-v0.1-AWQ", v1.QuantizationAWQ
			l.Spec.GPU.Count = ptr.To(int32(2))
		}),
		mk("sglang", func(l *v1.LLMDeployment) {
			l.Spec.Engine.Name, l.Spec.Model.URI, l.Spec.Quantization = "sglang", "hf://Qwen/Qwen2.5-7B-Instruct-AWQ", v1.QuantizationAWQ
			l.Spec.Engine.Args = []string{"--mem-fraction-static=0.85"}
		}),
		mk("sglang-fp8-pp", func(l *v1.LLMDeployment) {
			l.Spec.Engine.Name, l.Spec.Quantization, l.Spec.Model.Quantized = "sglang", v1.QuantizationFP8, ptr.To(false)
			l.Spec.GPU.Count, l.Spec.TensorParallelSize, l.Spec.Model.TrustRemoteCode = ptr.To(int32(4)), ptr.To(int32(2)), true
		}),
		mk("llamacpp-gpu", func(l *v1.LLMDeployment) {
			l.Spec.Engine.Name, l.Spec.Model.URI, l.Spec.Quantization = "llamacpp", "hf://bartowski/Meta-Llama-3.1-8B-Instruct-GGUF", "Q4_K_M"
		}),
		mk("llamacpp-cpu", func(l *v1.LLMDeployment) {
			l.Spec.Engine.Name, l.Spec.Model.URI, l.Spec.Quantization = "llamacpp", "pvc://models/llama/Llama-3.2-1B-Instruct-Q8_0.gguf", "Q8_0"
			l.Spec.GPU.Count = ptr.To(int32(0))
			l.Spec.Resources.Requests = corev1.ResourceList{"cpu": resource.MustParse("4"), "memory": resource.MustParse("8Gi")}
		}),
	}
}

// TestOperatorCommandLinesStart: every command line the operator renders, with its environment and user, starts on
// the simulated engine: on the port the pod declares, serving the name the operator's status promises.
func TestOperatorCommandLinesStart(t *testing.T) {
	seen := map[string]bool{}
	for _, l := range operatorSpecs() {
		t.Run(l.Name, func(t *testing.T) {
			plan, err := engine.For(l, engine.DefaultImages())
			if err != nil {
				t.Fatal(err)
			}
			o, err := enginesim.ParseArgs(simArgs(plan, "--load-delay=2s"), io.Discard, envOf(plan))
			if err != nil {
				t.Fatalf("the simulated %s refuses the operator's command line %q: %v", l.Spec.EffectiveEngine(), argv(plan), err)
			}
			seen[o.Engine] = true
			want := l.ServedModelName()
			if l.Spec.EffectiveEngine() == "tgi" {
				want = plan.Model.Location() // TGI serves its model id and ignores the request's model
			}
			if o.Engine != string(l.Spec.EffectiveEngine()) || o.Port != int(plan.Port) || o.Host != "127.1.2.3" ||
				o.ServedModelName != want || o.LoadDelay != 2*time.Second || o.MetricsOff {
				t.Errorf("options %+v; want engine %s on 127.1.2.3:%d serving %q with metrics", o, l.Spec.EffectiveEngine(), plan.Port, want)
			}
		})
	}
	for _, name := range engine.Names() {
		if !seen[string(name)] {
			t.Errorf("no operator command line of engine %s was tried", name)
		}
	}
}

// TestEveryEngineHasAProfile: adding an engine to the operator's registry needs its simulator profile.
func TestEveryEngineHasAProfile(t *testing.T) {
	for _, name := range engine.Names() {
		p, ok := enginesim.ProfileFor(string(name))
		if !ok {
			t.Errorf("engine %s has no engine-sim profile (test/enginesim/profile_%s.go)", name, name)
			continue
		}
		if p.Flags == nil || strings.TrimPrefix(p.Flags.Version, "v") != strings.TrimPrefix(engine.FactsOf(name).Version, "v") ||
			len(p.Flags.Flags) == 0 || p.Flags.Source == "" {
			t.Errorf("%s: the flag table must be read from the pinned release %s and say from where (table: %s, %s)", name,
				engine.FactsOf(name).Version, p.Flags.Version, p.Flags.Source)
		}
	}
	if len(enginesim.Profiles()) != len(engine.Names()) {
		t.Errorf("profiles %v, engines %v", enginesim.Profiles(), engine.Names())
	}
}

// TestEnginesRefuse: what the real engines refuse at start, the simulator refuses, with the engine's exit status.
func TestEnginesRefuse(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"an unknown vLLM flag", []string{"--", "vllm", "serve", "org/m", "--no-such-flag"}, 2, "unrecognized arguments: --no-such-flag"},
		{"a vLLM dtype it does not know", []string{"--", "vllm", "serve", "org/m", "--dtype=bfloat17"}, 2, "invalid choice"},
		{"vLLM --quantization=fp8 on an FP8 checkpoint", []string{"--", "vllm", "serve", "meta-llama/Llama-3.1-405B-Instruct-FP8", "--quantization=fp8"},
			1, "does not match the quantization method"},
		{"vLLM --quantization=awq on an unquantized checkpoint", []string{"--", "vllm", "serve", "org/m", "--quantization=awq"}, 1, "Cannot find the config file for awq"},
		{"TGI as a non-root user", []string{"--uid=1000", "--", "text-generation-launcher", "--model-id=org/m"}, 127, "libpython3.11.so.1.0"},
		{"TGI dtype with a quantized checkpoint", []string{"--uid=0", "--", "text-generation-launcher", "--model-id=TheBloke/Mistral-7B-AWQ", "--dtype=float16"},
			1, "Only 1 can be set between `dtype` and `quantize`"},
		{"TGI repeated option", []string{"--uid=0", "--", "text-generation-launcher", "--port=1", "--port=2"}, 2, "cannot be used multiple times"},
		{"SGLang int flag with a word", []string{"--", "python3", "-m", "sglang.launch_server", "--model-path=org/m", "--tp-size=two"}, 2, "invalid int value"},
		{"SGLang without a model", []string{"--", "python3", "-m", "sglang.launch_server"}, 2, "--model-path"},
		{"llama.cpp --flag=value", []string{"--", "llama-server", "-hf", "org/m-GGUF", "--port=8080"}, 1, "invalid argument: --port=8080"},
		{"llama.cpp repository without GGUF files", []string{"--", "llama-server", "-hf", "org/model:Q4_K_M"}, 1, "no GGUF file"},
		{"a program no engine image has", []string{"--", "bash", "-c", "id"}, 127, "executable file not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := enginesim.ParseArgs(tc.args, io.Discard, []string{})
			var refused *enginesim.UsageError
			if !errors.As(err, &refused) || refused.Code != tc.code || !strings.Contains(refused.Message, tc.want) {
				t.Errorf("ParseArgs(%q) = %v; want exit %d with %q", tc.args, err, tc.code, tc.want)
			}
		})
	}
}

// TestEngineDefaults: what an engine listens on when its command line does not say, with its own defaults.
func TestEngineDefaults(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		env        []string
		host       string
		port       int
		servedName string
	}{
		{[]string{"--", "vllm", "serve", "org/m"}, nil, "0.0.0.0", 8000, "org/m"},
		{[]string{"--bind=127.0.0.9", "--", "vllm", "serve", "org/m", "--served-model-name", "a", "b"}, nil, "127.0.0.9", 8000, "a"},
		{[]string{"--uid=0", "--", "text-generation-launcher", "--model-id=org/m"}, []string{"PORT=8081"}, "0.0.0.0", 8081, "org/m"},
		{[]string{"--", "python3", "-m", "sglang.launch_server", "--model-path=org/m"}, nil, "127.0.0.1", 30000, "org/m"},
		{[]string{"--", "/app/llama-server", "-m", "/models/x.gguf", "-a", "b,a"}, []string{"LLAMA_ARG_PORT=9999"}, "127.0.0.1", 9999, "a"},
	} {
		o, err := enginesim.ParseArgs(tc.args, io.Discard, tc.env)
		if err != nil {
			t.Errorf("ParseArgs(%q): %v", tc.args, err)
			continue
		}
		if o.Host != tc.host || o.Port != tc.port || o.ServedModelName != tc.servedName {
			t.Errorf("ParseArgs(%q) = %s:%d serving %q; want %s:%d serving %q", tc.args, o.Host, o.Port, o.ServedModelName, tc.host, tc.port, tc.servedName)
		}
	}
}
