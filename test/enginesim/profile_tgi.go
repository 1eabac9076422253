package enginesim

import (
	"net/http"
	"slices"
	"strconv"
)

// Hugging Face TGI's launcher, `text-generation-launcher [options]`, flags from flags_tgi.go. At 3.3.6 the image
// keeps its Python under /root, so as any other uid the launcher cannot load libpython; the server refuses a
// dtype together with a quantization, the one the launcher merged from the checkpoint's config.json included; the
// router listens only after warmup and serves /metrics on the main port (the --prometheus-port exporter is
// dropped at once), creating its queue and batch gauges with the first request.
func init() {
	register(&Profile{
		Name:  "tgi",
		Flags: &tgiFlags,
		Command: func(argv []string) (string, []string, bool) {
			if len(argv) >= 1 && programIs(argv[0], "text-generation-launcher") {
				return "text-generation-launcher", argv[1:], true
			}
			return "", nil, false
		},
		Start:     tgiStart,
		AnyModel:  true,
		TGIErrors: true,
		Metrics:   tgiMetrics,
		Routes: func(s *Server, mux *http.ServeMux) {
			mux.HandleFunc("GET /info", s.tgiInfo)
		},
	})
}

// tgiConfigMethods are the quant_method values the launcher takes from config.json (launcher/src/main.rs).
var tgiConfigMethods = []string{"awq", "compressed-tensors", "eetq", "exl2", "gptq", "marlin", "bitsandbytes",
	"bitsandbytes-nf4", "bitsandbytes-fp4", "fp8"}

func tgiStart(cl CommandLine, env Environment) (Served, error) {
	if env.UID != 0 {
		return Served{}, exitf(127, "/usr/local/bin/text-generation-launcher: error while loading shared libraries: "+
			"libpython3.11.so.1.0: cannot open shared object file: No such file or directory")
	}
	model := lastOrEnv(cl, env, &tgiFlags, "--model-id", "bigscience/bloom-560m")
	s := Served{Port: 3000, ServedModelName: model}
	s.Host = lastOrEnv(cl, env, &tgiFlags, "--hostname", "0.0.0.0")
	if v := lastOrEnv(cl, env, &tgiFlags, "--port", ""); v != "" {
		s.Port, _ = strconv.Atoi(v)
	}
	// Offline, the launcher's download step must find the weights in the cache it passes on as
	// HUGGINGFACE_HUB_CACHE (--huggingface-hub-cache, else the variable).
	c, err := tgiCheckpoint(model, lastOrEnv(cl, env, &tgiFlags, "--revision", ""),
		lastOrEnv(cl, env, &tgiFlags, "--huggingface-hub-cache", ""), env)
	if err != nil {
		return Served{}, err
	}
	quantize := lastOrEnv(cl, env, &tgiFlags, "--quantize", "")
	if quantize == "" && slices.Contains(tgiConfigMethods, c.QuantMethod) {
		quantize = c.QuantMethod
	}
	if dtype := lastOrEnv(cl, env, &tgiFlags, "--dtype", ""); dtype != "" && quantize != "" &&
		quantize != "bitsandbytes" && quantize != "bitsandbytes-nf4" && quantize != "bitsandbytes-fp4" {
		return Served{}, exitf(1, "Error: ShardCannotStart\nRuntimeError: Only 1 can be set between `dtype` and `quantize`, as they both decide how goes the final model.")
	}
	return s, nil
}

// lastOrEnv is an option's last value, else its environment variable (clap env, llama.cpp LLAMA_ARG_*), else def.
func lastOrEnv(cl CommandLine, env Environment, t *FlagTable, name, def string) string {
	if v, ok := cl.Last(name); ok {
		return v
	}
	for _, f := range t.Flags {
		if f.Name() == name && f.Env != "" {
			if v, ok := env.Vars[f.Env]; ok {
				return v
			}
		}
	}
	return def
}

func tgiMetrics(m *metricsWriter, st *Snapshot) {
	if st.RequestCount > 0 {
		m.sample("tgi_queue_size", "gauge", "", float64(st.Waiting))
		m.sample("tgi_batch_current_size", "gauge", "", float64(st.Running))
	}
	m.sample("tgi_request_count", "counter", "", float64(st.RequestCount))
	m.sample("tgi_request_success", "counter", "", float64(st.RequestSuccess))
	m.histogram("tgi_request_duration", "", st.E2E)
	m.histogram("tgi_request_input_length", "", st.InputLength)
	m.histogram("tgi_request_generated_tokens", "", st.Output)
}
