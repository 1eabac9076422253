package engine

import (
	"math"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// llama.cpp's HTTP server, `llama-server`, for GGUF models on GPUs or on plain CPU nodes. Facts from
// ggml-org/llama.cpp build b8914 (commit 8bc492eb: common/arg.cpp, common/download.cpp, common/hf-cache.cpp,
// tools/server/server.cpp, server-context.cpp, .devops/*.Dockerfile); the simulator's flag table is
// test/enginesim/flags_llamacpp.go.
type llamacpp struct{}

func init() { register(llamacpp{}) }

const (
	llamacppPort = 8080
	// llamacppDrainSeconds: on SIGTERM the server leaves its loop at the next iteration and exits without finishing
	// in-flight requests (server-queue.cpp); the preStop sleep has already taken it out of the endpoints.
	llamacppDrainSeconds = 5
	// llamacppBinary is where the server images install the binary (their entrypoint).
	llamacppBinary = "/app/llama-server"
)

// gguf is a GGUF quantization type, read from the file (the file name's tag picks it from a repository).
func gguf(name string, bits float64) Quantization {
	return Quantization{Name: v1.Quantization(name), FromCheckpoint: true, BitsPerWeight: bits}
}

var llamacppFacts = Facts{
	Name:            "llamacpp",
	Title:           "llama.cpp",
	Version:         "b8914",
	Image:           "ghcr.io/ggml-org/llama.cpp:server-cuda-b8914",
	CPUImage:        "ghcr.io/ggml-org/llama.cpp:server-b8914",
	Schemes:         []Scheme{SchemeHF, SchemePVC},
	ModelFileSuffix: ".gguf",
	CacheGGUF:       true,
	// Bits per weight of the common GGUF types, as measured on Llama-3.1-8B (tools/quantize/README.md; the
	// embedding and output tensors are kept at higher precision). Q4_0 and BF16 are not listed there: their block
	// size plus the same overhead as Q4_K_S, and 16.
	Quantizations: []Quantization{
		gguf("Q2_K", 3.16), gguf("Q3_K_M", 4.00), gguf("Q4_0", 4.67), gguf("Q4_K_S", 4.67), gguf("Q4_K_M", 4.89),
		gguf("IQ4_XS", 4.46), gguf("Q5_K_S", 5.57), gguf("Q5_K_M", 5.70), gguf("Q6_K", 6.56), gguf("Q8_0", 8.50),
		gguf("F16", 16), gguf("BF16", 16),
	},
	Dtypes:      []v1.Dtype{v1.DtypeAuto},
	Parallelism: LayerSplit,
	ManagedFlags: []string{"-m", "--model", "-hf", "-hfr", "--hf-repo", "-hff", "--hf-file", "--host", "--port",
		"-c", "--ctx-size", "-a", "--alias", "--metrics", "-ngl", "--gpu-layers", "--n-gpu-layers", "-t", "--threads"},
	// The hub cache comes from HF_HOME (common/hf-cache.cpp: LLAMA_CACHE, HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE,
	// then $HF_HOME/hub): the same Hugging Face cache layout the other engines use.
	ManagedEnv: []string{"LLAMA_CACHE", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"},
	// From common/arg.cpp at b8914: files served or written, models and backends fetched from URLs or other hosts,
	// tools that run commands, endpoints that change the server.
	WideningFlags: []string{"--path", "--slot-save-path", "--media-path", "--tools", "--rpc", "--model-url", "-mu",
		"--mmproj-url", "-mmu", "--docker-repo", "-dr", "--props", "--webui-mcp-proxy", "--models-dir", "--models-preset"},
	Metrics: Metrics{
		RequestsRunning:  []string{"llamacpp:requests_processing"},
		RequestsWaiting:  []string{"llamacpp:requests_deferred"},
		PromptTokens:     []string{"llamacpp:prompt_tokens_total"},
		GenerationTokens: []string{"llamacpp:tokens_predicted_total"},
	},
	Source: "ggml-org/llama.cpp b8914: common/arg.cpp, common/download.cpp, tools/server/server.cpp",
}

func (llamacpp) Facts() Facts { return llamacppFacts }

// Plan is `llama-server [user args] [managed options]`. llama.cpp takes each value as its own argument (it refuses
// --flag=value: "error: invalid argument") and keeps the last one given, so the managed options come last. An
// hf:// model is `-hf <repo>:<quantization>`, which picks the repository's GGUF file of that type (matched case
// insensitively on the file name); from the model cache, it is the downloaded file's path; a pvc:// model is the
// file itself. -c is the context every request may use:
// the server's default of 4 slots shares one unified KV cache of that size.
func (llamacpp) Plan(in Input) Plan {
	llm, src, spec := in.LLM, in.Model, &in.LLM.Spec
	args := append([]string{}, spec.Engine.Args...)
	switch {
	case src.Scheme == SchemeHF && in.Cache != nil:
		// The verified file in the cache, by path: nothing to resolve, nothing to download.
		args = append(args, "-m", in.Cache.SnapshotFile(src.Repo))
	case src.Scheme == SchemeHF:
		args = append(args, "-hf", src.Location()+":"+string(spec.EffectiveQuantization()))
	default:
		args = append(args, "-m", src.Location())
	}
	args = append(args,
		"--host", "0.0.0.0",
		"--port", itoa(llamacppPort),
		"--alias", llm.ServedModelName(),
		"--metrics",
	)
	if spec.MaxModelLen != nil {
		args = append(args, "--ctx-size", itoa(*spec.MaxModelLen))
	}
	if spec.OnCPU() {
		// The server would start a thread per core of the node, not of the container's CPU request.
		if cpu, ok := spec.Resources.Requests["cpu"]; ok {
			args = append(args, "--threads", itoa(int64(max(1, math.Ceil(cpu.AsApproximateFloat64())))))
		}
	} else {
		args = append(args, "--n-gpu-layers", "999")
	}

	e := withCache(in, commonEnv(llm, false))
	e = append(e, userEnv(llm)...)

	return Plan{
		Model:         src,
		Cache:         in.Cache,
		ContainerName: "llamacpp",
		Image:         in.Image,
		Command:       []string{llamacppBinary},
		Args:          args,
		Env:           e,
		Port:          llamacppPort,
		// The HTTP server starts before the model loads: /health answers 503 "Loading model", then 200.
		StartupPath:            "/health",
		LivenessPath:           "/health",
		ReadinessPath:          "/health",
		ReadOnlyRootFilesystem: true,
		DrainSeconds:           llamacppDrainSeconds,
	}
}
