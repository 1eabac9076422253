package enginesim

import (
	"slices"
	"strconv"
)

// vLLM's OpenAI-compatible server: `vllm serve <model> [options]`, flags from flags_vllm.go. It starts its HTTP
// server only once the model is loaded. The checks at start are those of vllm/config (ModelConfig): a
// --quantization that differs from the checkpoint's quantization_config, or one that needs a quantized checkpoint.
func init() {
	register(&Profile{
		Name:  "vllm",
		Flags: &vllmFlags,
		Command: func(argv []string) (string, []string, bool) {
			if len(argv) >= 2 && programIs(argv[0], "vllm") && argv[1] == "serve" {
				return "vllm serve", argv[2:], true
			}
			return "", nil, false
		},
		MaxPositionals: 1,
		Start:          vllmStart,
		Metrics:        vllmMetrics,
	})
}

// vllmCheckpointMethods are the --quantization values that read a quantized checkpoint; given for an
// unquantized one vLLM finds no quantization config and fails.
var vllmCheckpointMethods = []string{"awq", "awq_marlin", "gptq", "gptq_marlin", "marlin", "compressed-tensors", "gguf", "modelopt", "fbgemm_fp8"}

func vllmStart(cl CommandLine, env Environment) (Served, error) {
	model, _ := cl.Last("--model")
	if len(cl.Positionals) > 0 {
		model = cl.Positionals[0]
	}
	if model == "" {
		model = "facebook/opt-125m"
	}
	s := Served{Port: 8000, ServedModelName: model}
	s.Host, _ = cl.Last("--host")
	if v, ok := cl.Last("--port"); ok {
		s.Port, _ = strconv.Atoi(v)
	}
	if names := cl.Values["--served-model-name"]; len(names) > 0 && len(names[len(names)-1]) > 0 {
		s.ServedModelName = names[len(names)-1][0]
	}
	revision, _ := cl.Last("--revision")
	c, err := transformersCheckpoint(model, revision, env, func() error { return vllmMissingModel(model) })
	if err != nil {
		return Served{}, err
	}
	if q, ok := cl.Last("--quantization"); ok && q != "" {
		if err := checkQuantization(model, c, q, vllmCheckpointMethods); err != nil {
			return Served{}, err
		}
	}
	return s, nil
}

// checkQuantization plays vLLM's and SGLang's check of --quantization against the checkpoint c of model.
func checkQuantization(model string, c checkpoint, q string, needsCheckpoint []string) error {
	compatible := func(ckpt, flag string) bool {
		switch ckpt {
		case flag:
			return true
		case "awq":
			return flag == "awq_marlin"
		case "gptq":
			return flag == "gptq_marlin" || flag == "marlin"
		}
		return false
	}
	switch {
	case c.QuantMethod != "" && !compatible(c.QuantMethod, q):
		return exitf(1, "ValueError: Quantization method specified in the model config (%s) does not match the quantization method specified in the `quantization` argument (%s).", c.QuantMethod, q)
	case c.QuantMethod == "" && slices.Contains(needsCheckpoint, q):
		return exitf(1, "ValueError: Cannot find the config file for %s in %s: --quantization %s needs a checkpoint quantized with it", q, model, q)
	}
	return nil
}

func vllmMetrics(m *metricsWriter, st *Snapshot) {
	m.labels = `{engine="0",model_name="` + escapeLabel(st.Model) + `"}`
	m.sample("vllm:num_requests_running", "gauge", "Number of requests in model execution batches.", float64(st.Running))
	m.sample("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.", float64(st.Waiting))
	kv := float64(st.KVUsed) / float64(st.KVCapacity)
	if st.CacheMetric != CacheMetricGPU {
		m.sample("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.", kv)
	}
	if st.CacheMetric == CacheMetricGPU || st.CacheMetric == CacheMetricBoth {
		m.sample("vllm:gpu_cache_usage_perc", "gauge",
			"GPU KV-cache usage. 1 means 100 percent usage. DEPRECATED: use vllm:kv_cache_usage_perc.", kv)
	}
	m.sample("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.", float64(st.PromptTokens))
	m.sample("vllm:generation_tokens_total", "counter", "Number of generation tokens processed.", float64(st.GenerationTokens))
	m.histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", st.TTFT)
	m.histogram("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", st.E2E)
}
