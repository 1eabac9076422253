package engine

import (
	corev1 "k8s.io/api/core/v1"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// TGI facts (see docs/engines.md). The image defaults to PORT=80 and HF_HOME=/data as root: privatellm runs it on
// 8080, with its own cache, as a non-root user, and sets the Prometheus exporter's port so nothing collides.
const (
	tgiPort           = 8080
	tgiPrometheusPort = 9000
	tgiDrainSeconds   = 60
)

// tgiQuantizeFlag maps spec.quantization to TGI's --quantize. TGI reads pre-quantized AWQ, GPTQ and
// compressed-tensors checkpoints from config.json, so those get no flag; the rest select a kernel or quantize on
// load and must be passed.
var tgiQuantizeFlag = map[servingv1alpha1.Quantization]string{
	servingv1alpha1.QuantizationNone:              "",
	servingv1alpha1.QuantizationAWQ:               "",
	servingv1alpha1.QuantizationGPTQ:              "",
	servingv1alpha1.QuantizationCompressedTensors: "",
	servingv1alpha1.QuantizationFP8:               "fp8",
	servingv1alpha1.QuantizationBitsAndBytes:      "bitsandbytes",
	servingv1alpha1.QuantizationBitsAndBytesNF4:   "bitsandbytes-nf4",
	servingv1alpha1.QuantizationBitsAndBytesFP4:   "bitsandbytes-fp4",
	servingv1alpha1.QuantizationEETQ:              "eetq",
	servingv1alpha1.QuantizationEXL2:              "exl2",
	servingv1alpha1.QuantizationMarlin:            "marlin",
}

// TGIQuantizeFlag returns the --quantize value for q ("" for none) and whether TGI supports q at all.
func TGIQuantizeFlag(q servingv1alpha1.Quantization) (string, bool) {
	f, ok := tgiQuantizeFlag[q]
	return f, ok
}

// TGIMetrics are TGI's metric names. TGI has no KV-cache gauge; batch size stands in for running requests.
var TGIMetrics = Metrics{
	RequestsRunning: []string{"tgi_batch_current_size"},
	RequestsWaiting: []string{"tgi_queue_size"},
	RequestLatency:  []string{"tgi_request_duration"},
}

// TGI is the plan for text-generation-launcher. Every value from the spec is one `--flag=value` token.
func TGI(llm *servingv1alpha1.LLMDeployment, src ModelSource, image string) Plan {
	spec := &llm.Spec
	args := append([]string{}, spec.Engine.Args...)
	args = append(args,
		"--model-id="+src.Location(),
		"--hostname=0.0.0.0",
		"--port="+itoa(tgiPort),
		"--prometheus-port="+itoa(tgiPrometheusPort),
		"--huggingface-hub-cache="+CacheDir+"/huggingface/hub",
		"--graceful-termination-timeout="+itoa(tgiDrainSeconds),
	)
	if shards := spec.EffectiveTensorParallelSize(); shards > 1 {
		args = append(args, "--num-shard="+itoa(shards))
	}
	if src.Scheme == SchemeHF && spec.Model.Revision != "" {
		args = append(args, "--revision="+spec.Model.Revision)
	}
	if q, _ := TGIQuantizeFlag(spec.EffectiveQuantization()); q != "" {
		args = append(args, "--quantize="+q)
	}
	if d := spec.EffectiveDtype(); d != servingv1alpha1.DtypeAuto {
		args = append(args, "--dtype="+string(d))
	}
	if spec.MaxModelLen != nil {
		args = append(args,
			"--max-total-tokens="+itoa(*spec.MaxModelLen),
			"--max-input-tokens="+itoa(*spec.MaxModelLen-1),
		)
	}
	if spec.Model.TrustRemoteCode {
		args = append(args, "--trust-remote-code")
	}

	env := commonEnv(llm)
	env = append(env,
		corev1EnvVar("PORT", itoa(tgiPort)),
		corev1EnvVar("USAGE_STATS", "off"),
	)
	env = append(env, userEnv(llm)...)

	return Plan{
		Model:         src,
		ContainerName: "tgi",
		Image:         image,
		Command:       []string{"text-generation-launcher"},
		Args:          args,
		Env:           env,
		Port:          tgiPort,
		MetricsPort:   tgiPrometheusPort,
		HealthPath:    "/health",
		ReadinessPath: "/health",
		// The launcher writes next to its binaries and into /data at start; keep the root filesystem writable.
		ReadOnlyRootFilesystem: false,
		DrainSeconds:           tgiDrainSeconds,
		Metrics:                TGIMetrics,
	}
}

func corev1EnvVar(name, value string) corev1.EnvVar { return corev1.EnvVar{Name: name, Value: value} }
