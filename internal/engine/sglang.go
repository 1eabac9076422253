package engine

import (
	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// SGLang's server, `python3 -m sglang.launch_server`. Facts from sgl-project/sglang v0.5.6.post2 (tag commit
// 5c8bd8b5; python/sglang/srt/server_args.py read at the nearest stored commit, 974ccf95): a plain argparse parser
// (abbreviations allowed, unknown options exit 2), configs/model_config.py (a pre-quantized checkpoint's
// quantization_config is read without --quantization; a --quantization that differs is a ValueError),
// entrypoints/http_server.py (/health answers 503 while starting and shutting down), metrics/collector.py
// (docs/references/production_metrics.md); the simulator's flag table is test/enginesim/flags_sglang.go.
type sglang struct{}

func init() { register(sglang{}) }

const (
	sglangPort = 30000
	// sglangDrainSeconds bounds SGLang's drain: on SIGTERM it stops taking requests and finishes the running ones
	// with no timeout of its own, so the pod's grace period is the bound.
	sglangDrainSeconds = 60
)

var sglangFacts = Facts{
	Name:       "sglang",
	Title:      "SGLang",
	Version:    "v0.5.6.post2",
	Image:      "lmsysorg/sglang:v0.5.6.post2",
	Revisions:  true,
	CacheFiles: &safetensorsFiles,
	Schemes:    []Scheme{SchemeHF, SchemePVC},
	Quantizations: []Quantization{
		{Name: v1.QuantizationNone},
		{Name: v1.QuantizationAWQ, FromCheckpoint: true, BitsPerWeight: 4.2},
		{Name: v1.QuantizationGPTQ, FromCheckpoint: true, BitsPerWeight: 4.2},
		{Name: v1.QuantizationFP8, FromCheckpoint: true, OnLoadFlag: "fp8", BitsPerWeight: 8},
		{Name: v1.QuantizationCompressedTensors, FromCheckpoint: true, BitsPerWeight: 4.2},
		{Name: v1.QuantizationBitsAndBytes, FromCheckpoint: true, BitsPerWeight: 4.2},
		{Name: "w8a8_int8", FromCheckpoint: true, BitsPerWeight: 8},
		{Name: "w8a8_fp8", FromCheckpoint: true, BitsPerWeight: 8},
		{Name: "modelopt_fp8", FromCheckpoint: true, BitsPerWeight: 8},
		{Name: "modelopt_fp4", FromCheckpoint: true, BitsPerWeight: 4.5},
		{Name: "mxfp4", FromCheckpoint: true, BitsPerWeight: 4.25},
	},
	QuantizationOption:    "--quantization",
	Dtypes:                []v1.Dtype{v1.DtypeAuto, v1.DtypeHalf, v1.DtypeFloat16, v1.DtypeBFloat16, v1.DtypeFloat, v1.DtypeFloat32},
	DtypeWithQuantization: true,
	Parallelism:           TensorAndPipeline,
	ManagedFlags: []string{"--model-path", "--model", "--host", "--port", "--served-model-name", "--tp-size",
		"--tensor-parallel-size", "--pp-size", "--pipeline-parallel-size", "--quantization", "--dtype",
		"--context-length", "--revision", "--download-dir", "--enable-metrics"},
	ManagedEnv: []string{"SGLANG_ENABLE_HEALTH_ENDPOINT_GENERATION"},
	// From server_args.py and environ.py: code loaded by module path, custom logit processors sent with requests,
	// an options file read past admission, tool servers the engine calls.
	WideningFlags: []string{"--enable-custom-logit-processor", "--custom-weight-loader", "--forward-hooks",
		"--tool-server", "--config", "--hicache-storage-backend-extra-config"},
	WideningEnv: []string{"SGLANG_EXTERNAL_MODEL_PACKAGE", "SGLANG_EXTERNAL_MM_MODEL_ARCH", "SGLANG_EXTERNAL_MM_PROCESSOR_PACKAGE"},
	Abbreviates: true,
	Metrics: Metrics{
		RequestsRunning:  []string{"sglang:num_running_reqs"},
		RequestsWaiting:  []string{"sglang:num_queue_reqs"},
		KVCacheUsage:     []string{"sglang:token_usage"},
		PromptTokens:     []string{"sglang:prompt_tokens_total"},
		GenerationTokens: []string{"sglang:generation_tokens_total"},
		TimeToFirstToken: []string{"sglang:time_to_first_token_seconds"},
		RequestLatency:   []string{"sglang:e2e_request_latency_seconds"},
		// Labelled prometheus_client gauges have no sample until the scheduler first logs its stats.
		CreatedOnFirstUse: []string{"sglang:num_running_reqs", "sglang:num_queue_reqs", "sglang:token_usage"},
	},
	Source: "sgl-project/sglang v0.5.6.post2: python/sglang/srt/server_args.py, entrypoints/http_server.py, metrics/collector.py",
}

func (sglang) Facts() Facts { return sglangFacts }

// Plan is `python3 -m sglang.launch_server [user args] [managed flags]`: argparse keeps the last value, so the
// managed flags come last. Every value from the spec is one `--flag=value` token.
func (sglang) Plan(in Input) Plan {
	llm, src, spec := in.LLM, in.Model, &in.LLM.Spec
	args := []string{"-m", "sglang.launch_server"}
	args = append(args, spec.Engine.Args...)
	args = append(args,
		"--model-path="+src.Location(),
		"--host=0.0.0.0",
		"--port="+itoa(sglangPort),
		"--served-model-name="+llm.ServedModelName(),
		"--tp-size="+itoa(spec.EffectiveTensorParallelSize()),
	)
	if pp := spec.PipelineParallelSize(); pp > 1 {
		args = append(args, "--pp-size="+itoa(pp))
	}
	if rev := in.revision(); src.Scheme == SchemeHF && rev != "" {
		args = append(args, "--revision="+rev)
	}
	if q := in.Quantization.Flag; q != "" {
		args = append(args, "--quantization="+q)
	}
	if d := spec.EffectiveDtype(); d != v1.DtypeAuto {
		args = append(args, "--dtype="+string(d))
	}
	if spec.MaxModelLen != nil {
		args = append(args, "--context-length="+itoa(*spec.MaxModelLen))
	}
	if spec.Model.TrustRemoteCode {
		args = append(args, "--trust-remote-code")
	}
	args = append(args, "--enable-metrics")

	e := withCache(in, commonEnv(llm, false))
	// /health would generate a token and answer 503 when none comes within 20 s: a busy server would be killed by
	// its liveness probe. Without generation it answers from the server's state (503 while loading or shutting
	// down).
	e = append(e, env("SGLANG_ENABLE_HEALTH_ENDPOINT_GENERATION", "false"))
	e = append(e, userEnv(llm)...)

	return Plan{
		Model:                  src,
		Cache:                  in.Cache,
		ContainerName:          "sglang",
		Image:                  in.Image,
		Command:                []string{"python3"},
		Args:                   args,
		Env:                    e,
		Port:                   sglangPort,
		StartupPath:            "/health",
		LivenessPath:           "/health",
		ReadinessPath:          "/health",
		ReadOnlyRootFilesystem: true,
		DrainSeconds:           sglangDrainSeconds,
	}
}
