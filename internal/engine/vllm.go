package engine

import (
	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// vLLM's OpenAI-compatible server, `vllm serve`. Facts from vllm-project/vllm at the pinned release (flags:
// vllm/engine/arg_utils.py and vllm/entrypoints/openai/cli_args.py; metrics: vllm/v1/metrics/loggers.py); the
// simulator's flag table is test/enginesim/flags_vllm.go.
type vllm struct{}

func init() { register(vllm{}) }

const (
	vllmPort = 8000
	// vllmDrainSeconds is passed as --shutdown-timeout (vLLM >= 0.18): in-flight requests finish before exit.
	vllmDrainSeconds = 60
)

// Quantization methods of checkpoints (read from quantization_config, no flag: vLLM then picks its fastest
// kernel, e.g. Marlin) and of on-load quantization (fp8, bitsandbytes).
var vllmFacts = Facts{
	Name:       v1.DefaultEngine,
	Title:      "vLLM",
	Version:    "v0.18.0",
	Image:      "vllm/vllm-openai:v0.18.0",
	Revisions:  true,
	CacheFiles: &safetensorsFiles,
	Schemes:    []Scheme{SchemeHF, SchemePVC, SchemeS3, SchemeGCS},
	Quantizations: []Quantization{
		{Name: v1.QuantizationNone},
		{Name: v1.QuantizationAWQ, FromCheckpoint: true, BitsPerWeight: 4.2},
		{Name: v1.QuantizationGPTQ, FromCheckpoint: true, BitsPerWeight: 4.2},
		{Name: v1.QuantizationFP8, FromCheckpoint: true, OnLoadFlag: "fp8", BitsPerWeight: 8},
		{Name: v1.QuantizationBitsAndBytes, FromCheckpoint: true, OnLoadFlag: "bitsandbytes", BitsPerWeight: 4.2},
		{Name: v1.QuantizationCompressedTensors, FromCheckpoint: true, BitsPerWeight: 4.2},
	},
	QuantizationOption:    "--quantization",
	Dtypes:                []v1.Dtype{v1.DtypeAuto, v1.DtypeHalf, v1.DtypeFloat16, v1.DtypeBFloat16, v1.DtypeFloat, v1.DtypeFloat32},
	DtypeWithQuantization: true,
	Parallelism:           TensorAndPipeline,
	ManagedFlags: []string{"--model", "--host", "--port", "--served-model-name", "--tensor-parallel-size", "-tp",
		"--pipeline-parallel-size", "-pp", "--quantization", "-q", "--dtype", "--max-model-len", "--revision", "--tokenizer-revision",
		"--download-dir", "--load-format", "--shutdown-timeout"},
	ManagedEnv:   []string{"VLLM_NO_USAGE_STATS", "VLLM_CACHE_ROOT", "VLLM_PORT", "VLLM_HOST_IP"},
	ForbiddenEnv: map[string]string{"VLLM_SERVER_DEV_MODE": "exposes unauthenticated debug endpoints"},
	// From vllm/engine/arg_utils.py and entrypoints/openai/cli_args.py at v0.18.0: request access to local files,
	// Python loaded by path or qualified name, an options file read past admission, servers the engine calls.
	WideningFlags: []string{"--allowed-local-media-path", "--trust-request-chat-template", "--tool-parser-plugin",
		"--reasoning-parser-plugin", "--middleware", "--logits-processors", "--worker-cls", "--worker-extension-cls",
		"--scheduler-cls", "--io-processor-plugin", "--tool-server", "--config"},
	WideningEnv: []string{"VLLM_ALLOW_RUNTIME_LORA_UPDATING", "VLLM_PLUGINS"},
	Abbreviates: true,
	// vllm/entrypoints/openai/protocol.py: StreamOptions.include_usage defaults to True (read at a snapshot near
	// v0.18.0, not at the tag).
	StreamUsageByDefault: true,
	Metrics: Metrics{
		RequestsRunning: []string{"vllm:num_requests_running"},
		RequestsWaiting: []string{"vllm:num_requests_waiting"},
		// vllm:gpu_cache_usage_perc is the name before 0.9, read only as a fallback for older pins.
		KVCacheUsage:     []string{"vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"},
		PromptTokens:     []string{"vllm:prompt_tokens_total"},
		GenerationTokens: []string{"vllm:generation_tokens_total"},
		TimeToFirstToken: []string{"vllm:time_to_first_token_seconds"},
		RequestLatency:   []string{"vllm:e2e_request_latency_seconds"},
	},
	Source: "vllm-project/vllm v0.18.0: vllm/engine/arg_utils.py, vllm/entrypoints/openai/cli_args.py, vllm/v1/metrics/loggers.py",
}

func (vllm) Facts() Facts { return vllmFacts }

// Plan is `vllm serve <model> [user args] [managed flags]`. The user's args come before the managed flags so
// that, argparse keeping the last value, no abbreviation of a managed flag can override it. Every value taken
// from the spec is passed as one `--flag=value` token.
func (vllm) Plan(in Input) Plan {
	llm, src, spec := in.LLM, in.Model, &in.LLM.Spec
	args := []string{"serve", in.location()}
	args = append(args, spec.Engine.Args...)
	args = append(args,
		"--host=0.0.0.0",
		"--port="+itoa(vllmPort),
		"--served-model-name="+llm.ServedModelName(),
		"--tensor-parallel-size="+itoa(spec.EffectiveTensorParallelSize()),
	)
	if pp := spec.PipelineParallelSize(); pp > 1 {
		args = append(args, "--pipeline-parallel-size="+itoa(pp))
	}
	if rev := in.revision(); src.Scheme == SchemeHF && rev != "" {
		args = append(args, "--revision="+rev)
	}
	if in.Cache != nil && src.Scheme == SchemeHF {
		// Offline, the tokenizer's revision must be a snapshot in the cache too: unset, it would be looked up
		// through refs/main, which a cache of a tag or commit does not have.
		args = append(args, "--tokenizer-revision="+in.Cache.Commit)
	}
	if (src.Scheme == SchemeS3 || src.Scheme == SchemeGCS) && in.Cache == nil {
		args = append(args, "--load-format=runai_streamer")
	}
	if q := in.Quantization.Flag; q != "" {
		args = append(args, "--quantization="+q)
	}
	if d := spec.EffectiveDtype(); d != v1.DtypeAuto {
		args = append(args, "--dtype="+string(d))
	}
	if spec.MaxModelLen != nil {
		args = append(args, "--max-model-len="+itoa(*spec.MaxModelLen))
	}
	if spec.Model.TrustRemoteCode {
		args = append(args, "--trust-remote-code")
	}
	args = append(args, "--shutdown-timeout="+itoa(vllmDrainSeconds))

	e := withCache(in, commonEnv(llm, false))
	e = append(e,
		env("VLLM_NO_USAGE_STATS", "1"),
		env("VLLM_CACHE_ROOT", compileCache(in, vllmFacts, CacheDir+"/vllm")),
	)
	e = append(e, userEnv(llm)...)

	return Plan{
		Model:         src,
		Cache:         in.Cache,
		ContainerName: "vllm",
		Image:         in.Image,
		Command:       []string{"vllm"},
		Args:          args,
		Env:           e,
		Port:          vllmPort,
		// The HTTP server starts only once the model is loaded; /health answers 503 once the engine died.
		StartupPath:            "/health",
		LivenessPath:           "/health",
		ReadinessPath:          "/health",
		ReadOnlyRootFilesystem: true,
		DrainSeconds:           vllmDrainSeconds,
	}
}
