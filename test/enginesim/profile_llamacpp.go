package enginesim

import (
	"net/http"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
)

// llama.cpp's `llama-server [options]`, flags from flags_llamacpp.go. Its HTTP server starts before the model
// loads and answers every path with 503 "Loading model" until then; /metrics needs --metrics (501 otherwise);
// -hf needs a repository with GGUF files and -m a GGUF file.
func init() {
	register(&Profile{
		Name:  "llamacpp",
		Flags: &llamacppFlags,
		Command: func(argv []string) (string, []string, bool) {
			if len(argv) >= 1 && programIs(argv[0], "llama-server") {
				return "llama-server", argv[1:], true
			}
			return "", nil, false
		},
		Start:               llamacppStart,
		ListensWhileLoading: true,
		AnyModel:            true,
		Metrics:             llamacppMetrics,
		Routes: func(s *Server, mux *http.ServeMux) {
			mux.HandleFunc("GET /v1/health", s.health)
			mux.HandleFunc("GET /models", s.models)
		},
	})
}

func llamacppStart(cl CommandLine, env Environment) (Served, error) {
	s := Served{Port: 8080}
	s.Host = lastOrEnv(cl, env, &llamacppFlags, "--host", "127.0.0.1")
	if v := lastOrEnv(cl, env, &llamacppFlags, "--port", ""); v != "" {
		s.Port, _ = strconv.Atoi(v)
	}
	hf := lastOrEnv(cl, env, &llamacppFlags, "--hf-repo", "")
	file := lastOrEnv(cl, env, &llamacppFlags, "--model", "")
	switch {
	case hf != "":
		repo, tag, _ := strings.Cut(hf, ":")
		if strings.Count(repo, "/") != 1 {
			return Served{}, exitf(1, "error: invalid HF repo format, expected <user>/<model>[:quant], got: %s", hf)
		}
		offline := cl.Has("--offline") || llamaTruthy(env.Vars["LLAMA_OFFLINE"]) || hfOffline(env.Vars)
		switch {
		case offline:
			// The cache alone: a GGUF file of the tag (or --hf-file) must be in the repo's cached snapshot.
			hfFile := lastOrEnv(cl, env, &llamacppFlags, "--hf-file", "")
			if _, ok := llamaCachedGGUF(llamaCacheDir(env.Vars), repo, tag, hfFile); !ok {
				return Served{}, exitf(1, "common_download_get_hf_plan: no GGUF files found in repository %s\n"+
					"error: no GGUF file found in Hugging Face repo %s", repo, repo)
			}
		case !checkpointOf(repo).GGUF:
			return Served{}, exitf(1, "error: no GGUF file found in Hugging Face repo %s", repo)
		}
		s.ServedModelName = hf
	case file != "":
		if !strings.HasSuffix(strings.ToLower(file), ".gguf") {
			return Served{}, exitf(1, "error: failed to load model '%s': not a GGUF file", file)
		}
		if fi, err := os.Stat(file); env.CheckFiles && (err != nil || fi.IsDir()) {
			// ggml/src/gguf.cpp gguf_init_from_file: the file must open; llama.cpp then gives up on the model.
			return Served{}, exitf(1, "gguf_init_from_file: failed to open GGUF file '%s'\n"+
				"llama_model_load: error loading model: llama_model_loader: failed to load model from %s\n"+
				"error: failed to load model '%s'", file, file, file)
		}
		s.ServedModelName = path.Base(file)
	default:
		return Served{}, exitf(1, "error: no model given (-m, -hf or --models-dir)")
	}
	// The smallest alias in sort order names the model (model_alias is a std::set).
	var aliases []string
	for _, vs := range cl.Values["--alias"] {
		for _, v := range vs {
			for _, a := range strings.Split(v, ",") {
				if a != "" {
					aliases = append(aliases, a)
				}
			}
		}
	}
	if len(aliases) > 0 {
		s.ServedModelName = slices.Min(aliases)
	}
	s.MetricsOff = !cl.Has("--metrics")
	return s, nil
}

func llamacppMetrics(m *metricsWriter, st *Snapshot) {
	m.sample("llamacpp:prompt_tokens_total", "counter", "Number of prompt tokens processed.", float64(st.PromptTokens))
	m.sample("llamacpp:tokens_predicted_total", "counter", "Number of generation tokens processed.", float64(st.GenerationTokens))
	m.sample("llamacpp:requests_processing", "gauge", "Number of requests processing.", float64(st.Running))
	m.sample("llamacpp:requests_deferred", "gauge", "Number of requests deferred.", float64(st.Waiting))
}
