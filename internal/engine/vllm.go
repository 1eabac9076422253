package engine

import (
	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// vLLM facts (see docs/engines.md). One place to edit when vLLM changes.
const (
	vllmPort = 8000
	// vllmDrainSeconds is passed as --shutdown-timeout (vLLM >= 0.18): in-flight requests finish before exit.
	vllmDrainSeconds = 60
)

// vllmQuantizationFlag maps spec.quantization to vLLM's --quantization. Pre-quantized checkpoints (awq, gptq,
// compressed-tensors) carry quantization_config in config.json and vLLM picks the fastest kernel (Marlin) itself;
// forcing --quantization awq can select a slower one, so those get no flag. fp8 and bitsandbytes can quantize an
// unquantized checkpoint on load, so they are passed.
var vllmQuantizationFlag = map[servingv1alpha1.Quantization]string{
	servingv1alpha1.QuantizationNone:              "",
	servingv1alpha1.QuantizationAWQ:               "",
	servingv1alpha1.QuantizationGPTQ:              "",
	servingv1alpha1.QuantizationCompressedTensors: "",
	servingv1alpha1.QuantizationFP8:               "fp8",
	servingv1alpha1.QuantizationBitsAndBytes:      "bitsandbytes",
}

// VLLMQuantizationFlag returns the --quantization value for q ("" for none) and whether vLLM supports q at all.
func VLLMQuantizationFlag(q servingv1alpha1.Quantization) (string, bool) {
	f, ok := vllmQuantizationFlag[q]
	return f, ok
}

// VLLMMetrics are vLLM's metric names. vllm:gpu_cache_usage_perc was renamed vllm:kv_cache_usage_perc in 0.9;
// both are read.
var VLLMMetrics = Metrics{
	RequestsRunning:  []string{"vllm:num_requests_running"},
	RequestsWaiting:  []string{"vllm:num_requests_waiting"},
	KVCacheUsage:     []string{"vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"},
	TimeToFirstToken: []string{"vllm:time_to_first_token_seconds"},
	RequestLatency:   []string{"vllm:e2e_request_latency_seconds"},
}

// VLLM is the plan for vLLM's OpenAI-compatible server: `vllm serve <model> [user args] [managed flags]`.
// The user's args come before the managed flags so that, argparse keeping the last value, no abbreviation of a
// managed flag can override it. Every value taken from the spec is passed as one `--flag=value` token.
func VLLM(llm *servingv1alpha1.LLMDeployment, src ModelSource, image string) Plan {
	spec := &llm.Spec
	args := []string{"serve", src.Location()}
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
	if src.Scheme == SchemeHF && spec.Model.Revision != "" {
		args = append(args, "--revision="+spec.Model.Revision)
	}
	if src.Scheme == SchemeS3 || src.Scheme == SchemeGCS {
		args = append(args, "--load-format=runai_streamer")
	}
	if q, _ := VLLMQuantizationFlag(spec.EffectiveQuantization()); q != "" {
		args = append(args, "--quantization="+q)
	}
	if d := spec.EffectiveDtype(); d != servingv1alpha1.DtypeAuto {
		args = append(args, "--dtype="+string(d))
	}
	if spec.MaxModelLen != nil {
		args = append(args, "--max-model-len="+itoa(*spec.MaxModelLen))
	}
	if spec.Model.TrustRemoteCode {
		args = append(args, "--trust-remote-code")
	}
	args = append(args, "--shutdown-timeout="+itoa(vllmDrainSeconds))

	env := commonEnv(llm)
	env = append(env,
		corev1EnvVar("VLLM_NO_USAGE_STATS", "1"),
		corev1EnvVar("VLLM_CACHE_ROOT", CacheDir+"/vllm"),
	)
	env = append(env, userEnv(llm)...)

	return Plan{
		Model:                  src,
		ContainerName:          "vllm",
		Image:                  image,
		Command:                []string{"vllm"},
		Args:                   args,
		Env:                    env,
		Port:                   vllmPort,
		HealthPath:             "/health",
		ReadinessPath:          "/health",
		ReadOnlyRootFilesystem: true,
		DrainSeconds:           vllmDrainSeconds,
		Metrics:                VLLMMetrics,
	}
}
