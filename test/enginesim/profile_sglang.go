package enginesim

import (
	"net/http"
	"strconv"
)

// SGLang's server, `python3 -m sglang.launch_server [options]`, flags from flags_sglang.go. The HTTP server
// answers while the model loads (/health 503 until ready), /metrics needs --enable-metrics, and a --quantization
// that differs from the checkpoint's quantization_config is refused (configs/model_config.py).
func init() {
	register(&Profile{
		Name:  "sglang",
		Flags: &sglangFlags,
		Command: func(argv []string) (string, []string, bool) {
			if len(argv) >= 3 && (programIs(argv[0], "python3") || programIs(argv[0], "python")) &&
				argv[1] == "-m" && argv[2] == "sglang.launch_server" {
				return "launch_server.py", argv[3:], true
			}
			return "", nil, false
		},
		Start:               sglangStart,
		ListensWhileLoading: true,
		Metrics:             sglangMetrics,
		Routes: func(s *Server, mux *http.ServeMux) {
			mux.HandleFunc("GET /health_generate", s.health)
		},
	})
}

var sglangCheckpointMethods = []string{"awq", "awq_marlin", "gptq", "gptq_marlin", "marlin", "compressed-tensors",
	"gguf", "modelopt", "modelopt_fp8", "modelopt_fp4", "w8a8_int8", "w8a8_fp8", "mxfp4"}

func sglangStart(cl CommandLine, env Environment) (Served, error) {
	model, ok := cl.Last("--model-path")
	if !ok {
		return Served{}, exitf(2, "usage: launch_server.py [options]\nlaunch_server.py: error: the following arguments are required: --model-path/--model")
	}
	s := Served{Host: "127.0.0.1", Port: 30000, ServedModelName: model}
	if v, ok := cl.Last("--host"); ok {
		s.Host = v
	}
	if v, ok := cl.Last("--port"); ok {
		s.Port, _ = strconv.Atoi(v)
	}
	if v, ok := cl.Last("--served-model-name"); ok {
		s.ServedModelName = v
	}
	s.MetricsOff = !cl.Has("--enable-metrics")
	// SGLang's weight loader calls snapshot_download(local_files_only=HF_HUB_OFFLINE): offline, a model missing from
	// the cache ends in huggingface_hub's own error.
	revision, _ := cl.Last("--revision")
	c, err := transformersCheckpoint(model, revision, env, func() error { return exitf(1, "%s", hfOfflineMessage) })
	if err != nil {
		return Served{}, err
	}
	if q, ok := cl.Last("--quantization"); ok {
		if err := checkQuantization(model, c, q, sglangCheckpointMethods); err != nil {
			return Served{}, err
		}
	}
	return s, nil
}

func sglangMetrics(m *metricsWriter, st *Snapshot) {
	m.labels = `{model_name="` + escapeLabel(st.Model) + `"}`
	if st.RequestCount > 0 {
		m.sample("sglang:num_running_reqs", "gauge", "The number of running requests.", float64(st.Running))
		m.sample("sglang:num_queue_reqs", "gauge", "The number of requests in the waiting queue.", float64(st.Waiting))
		m.sample("sglang:token_usage", "gauge", "The token usage.", float64(st.KVUsed)/float64(st.KVCapacity))
	}
	m.sample("sglang:prompt_tokens_total", "counter", "Number of prefill tokens processed.", float64(st.PromptTokens))
	m.sample("sglang:generation_tokens_total", "counter", "Number of generation tokens processed.", float64(st.GenerationTokens))
	m.histogram("sglang:time_to_first_token_seconds", "Histogram of time to first token in seconds.", st.TTFT)
	m.histogram("sglang:e2e_request_latency_seconds", "Histogram of End-to-end request latency in seconds", st.E2E)
}
