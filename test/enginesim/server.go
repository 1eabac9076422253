// Package enginesim simulates an inference engine — vLLM, Hugging Face TGI, SGLang or llama.cpp — on a CPU: the
// stand-in for a GPU in tests and in the demo (test/engine-sim is its command, docs/engine-sim.md its manual).
//
// It takes the engine's real command line and is as strict as the engine about it: each engine has a profile
// (profile_<name>.go) with its flag table read from the engine's own argument definitions at the pinned release
// (flags_<name>.go), and refuses at start what the engine refuses, with the engine's message and exit status.
//
// A Server speaks the HTTP surface users and the operator rely on: /health (503 until the simulated model load
// has passed), /v1/models, /v1/chat/completions and /v1/completions in OpenAI's JSON shapes (with stream: true as
// server-sent events ending in `data: [DONE]`), each engine's own routes (TGI's /info, SGLang's
// /health_generate), and /metrics in the Prometheus text format under the engine's real metric names and types
// (the operator's side of the same names is internal/engine).
//
// It models a GPU server: each sequence generates Config.TokenRate tokens per second; at most Config.MaxBatch
// sequences run at once and further requests wait in a FIFO queue, whose depth is exported; the KV cache holds
// every running sequence's prompt and generated tokens against Config.KVCapacity, and a sequence is admitted only
// when its prompt plus max_tokens fit. Prompts count one token per whitespace-separated word; completions are
// deterministic filler ("token token …") of max_tokens tokens (Config.DefaultMaxTokens when unset).
package enginesim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Server is one simulated engine. Its methods are safe for concurrent use.
type Server struct {
	cfg        Config
	profile    *Profile
	created    time.Time
	tokenDelay time.Duration // 0: no delay
	ready      chan struct{} // closed when the load delay has passed
	loadTimer  *time.Timer
	closed     chan struct{} // closed by Close: running sequences end
	closeOnce  sync.Once

	mu         sync.Mutex
	running    int
	queue      []*waiter
	kvReserved int // prompt + max_tokens of the running sequences: what admission checks
	kvUsed     int // prompt + generated tokens of the running sequences: what the gauge shows
	nextID     uint64
	// Counters and histograms, as the engines export them.
	promptTokens, generationTokens uint64
	requestCount, requestSuccess   uint64
	ttft, e2e, inputLen, outputLen *histogram
}

// waiter is a queued request.
type waiter struct {
	need, prompt int
	admitted     chan struct{}
}

// New returns a server for cfg (zero fields take their defaults). The simulated model load starts now.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		profile:   profiles[cfg.Engine],
		created:   time.Now(),
		ready:     make(chan struct{}),
		closed:    make(chan struct{}),
		ttft:      newHistogram(ttftBuckets),
		e2e:       newHistogram(latencyBuckets),
		inputLen:  newHistogram(tokenBuckets),
		outputLen: newHistogram(tokenBuckets),
	}
	if cfg.TokenRate > 0 {
		s.tokenDelay = time.Duration(float64(time.Second) / cfg.TokenRate)
	}
	if cfg.LoadDelay > 0 {
		s.loadTimer = time.AfterFunc(cfg.LoadDelay, func() { close(s.ready) })
	} else {
		close(s.ready)
	}
	return s, nil
}

// Config returns the server's configuration, defaults applied.
func (s *Server) Config() Config { return s.cfg }

// Ready is closed once the simulated model load has passed and /health answers 200.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Close ends every running and queued request; the server answers 503 afterwards. It is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		if s.loadTimer != nil {
			s.loadTimer.Stop()
		}
		close(s.closed)
	})
}

func (s *Server) isReady() bool {
	select {
	case <-s.closed:
		return false
	default:
	}
	select {
	case <-s.ready:
		return true
	default:
		return false
	}
}

// Handler serves the engine's whole HTTP surface, /metrics included.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", s.health)
	mux.HandleFunc("GET /v1/models", s.models)
	mux.HandleFunc("POST /v1/chat/completions", s.chatCompletions)
	mux.HandleFunc("POST /v1/completions", s.completions)
	mux.HandleFunc("GET /metrics", s.metrics)
	if s.profile.Routes != nil {
		s.profile.Routes(s, mux)
	}
	return mux
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	if !s.isReady() {
		http.Error(w, "model loading", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) models(w http.ResponseWriter, _ *http.Request) {
	if !s.isReady() {
		s.writeError(w, http.StatusServiceUnavailable, "the model is loading")
		return
	}
	name := s.cfg.ServedModelName
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list",
		"data": []map[string]any{{
			"id": name, "object": "model", "created": s.created.Unix(), "owned_by": s.cfg.Engine,
			"root": name, "max_model_len": s.cfg.KVCapacity,
		}},
	})
}

// tgiInfo is TGI's /info.
func (s *Server) tgiInfo(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"model_id":                s.cfg.ServedModelName,
		"model_dtype":             "torch.float16",
		"model_device_type":       "cuda",
		"model_pipeline_tag":      "text-generation",
		"max_concurrent_requests": s.cfg.MaxBatch + s.cfg.MaxQueue,
		"max_input_tokens":        s.cfg.KVCapacity - 1,
		"max_total_tokens":        s.cfg.KVCapacity,
		"max_best_of":             1,
		"max_stop_sequences":      4,
		"validation_workers":      1,
		"max_client_batch_size":   1,
		"router":                  "text-generation-router",
		"version":                 "engine-sim",
		"sha":                     nil,
		"docker_label":            nil,
	})
}

// completionRequest holds the fields of /v1/completions and /v1/chat/completions that matter here.
type completionRequest struct {
	Model               string          `json:"model"`
	Prompt              json.RawMessage `json:"prompt"`
	Messages            []chatMessage   `json:"messages"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Stream              bool            `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request) { s.complete(w, r, true) }
func (s *Server) completions(w http.ResponseWriter, r *http.Request)     { s.complete(w, r, false) }

// complete serves one completion: validate, queue for a batch slot and KV room, generate, answer.
func (s *Server) complete(w http.ResponseWriter, r *http.Request, chat bool) {
	arrival := time.Now()
	if !s.isReady() {
		s.writeError(w, http.StatusServiceUnavailable, "the model is loading")
		return
	}
	s.mu.Lock()
	s.requestCount++
	s.nextID++
	id := s.nextID
	s.mu.Unlock()

	var req completionRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 8<<20)).Decode(&req); err != nil {
		s.writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return
	}
	if req.Model != "" && req.Model != s.cfg.ServedModelName && !s.profile.AnyModel {
		s.writeError(w, http.StatusNotFound, fmt.Sprintf("The model `%s` does not exist.", req.Model))
		return
	}
	prompt, err := promptTokens(&req, chat)
	if err != nil {
		s.writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	maxTokens, finish := s.cfg.DefaultMaxTokens, "stop"
	for _, v := range []*int{req.MaxTokens, req.MaxCompletionTokens} {
		if v != nil {
			if *v < 1 {
				s.writeError(w, http.StatusBadRequest, fmt.Sprintf("max_tokens must be at least 1, got %d", *v))
				return
			}
			maxTokens, finish = *v, "length"
		}
	}
	need := prompt + maxTokens
	if need > s.cfg.KVCapacity {
		s.writeError(w, http.StatusBadRequest, fmt.Sprintf("This model's maximum context length is %d tokens. "+
			"However, you requested %d tokens (%d in the messages, %d in the completion).",
			s.cfg.KVCapacity, need, prompt, maxTokens))
		return
	}

	if err := s.admit(r.Context(), need, prompt); err != nil {
		if errors.Is(err, errQueueFull) {
			s.writeError(w, http.StatusTooManyRequests, "Model is overloaded: "+err.Error())
		} else {
			s.writeError(w, http.StatusServiceUnavailable, "request aborted: "+err.Error())
		}
		return
	}
	generated := 0
	defer func() { s.finish(need, prompt+generated) }()

	c := completion{id: id, chat: chat, model: s.cfg.ServedModelName, created: arrival.Unix()}
	if chat {
		c.idPrefix = "chatcmpl-"
	} else {
		c.idPrefix = "cmpl-"
	}
	if !req.Stream {
		if generated, err = s.generate(r.Context(), arrival, maxTokens, nil); err != nil {
			return // the client is gone or the server closed
		}
		s.succeeded(arrival, maxTokens)
		writeJSON(w, http.StatusOK, c.response(fillerText(maxTokens), finish,
			usage{prompt, maxTokens, prompt + maxTokens}))
		return
	}

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	send := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode chunk: %w", err)
		}
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return fmt.Errorf("write chunk: %w", err)
		}
		return rc.Flush()
	}
	if chat {
		if send(c.chunk(map[string]any{"role": "assistant", "content": ""}, nil)) != nil {
			return
		}
	}
	generated, err = s.generate(r.Context(), arrival, maxTokens, func(i int) error {
		text := fillerToken(i)
		if chat {
			return send(c.chunk(map[string]any{"content": text}, nil))
		}
		return send(c.chunk(text, nil))
	})
	if err != nil {
		return
	}
	s.succeeded(arrival, maxTokens)
	if chat {
		err = send(c.chunk(map[string]any{}, &finish))
	} else {
		err = send(c.chunk("", &finish))
	}
	if err == nil && req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		err = send(c.usageChunk(usage{prompt, maxTokens, prompt + maxTokens}))
	}
	if err == nil {
		_, _ = io.WriteString(w, "data: [DONE]\n\n")
		_ = rc.Flush()
	}
}

// promptTokens counts the prompt: one token per whitespace-separated word (at least one), or the length of a
// list of token ids.
func promptTokens(req *completionRequest, chat bool) (int, error) {
	n := 0
	if chat {
		if len(req.Messages) == 0 {
			return 0, errors.New("messages must not be empty")
		}
		for _, m := range req.Messages {
			var text string
			if err := json.Unmarshal(m.Content, &text); err == nil {
				n += len(strings.Fields(text))
				continue
			}
			var parts []struct {
				Text string `json:"text"`
			}
			if err := json.Unmarshal(m.Content, &parts); err != nil {
				return 0, fmt.Errorf("message content must be a string or a list of parts: %w", err)
			}
			for _, p := range parts {
				n += len(strings.Fields(p.Text))
			}
		}
		return max(n, 1), nil
	}
	if len(req.Prompt) == 0 {
		return 0, errors.New("prompt is required")
	}
	var text string
	if err := json.Unmarshal(req.Prompt, &text); err == nil {
		return max(len(strings.Fields(text)), 1), nil
	}
	var list []any
	if err := json.Unmarshal(req.Prompt, &list); err != nil {
		return 0, errors.New("prompt must be a string, a list of strings or a list of token ids")
	}
	for _, v := range list {
		switch v := v.(type) {
		case string:
			n += len(strings.Fields(v))
		case float64:
			n++
		default:
			return 0, errors.New("prompt must be a string, a list of strings or a list of token ids")
		}
	}
	return max(n, 1), nil
}

// admit waits until the sequence has a batch slot and its KV cache room (need tokens), in arrival order.
func (s *Server) admit(ctx context.Context, need, prompt int) error {
	s.mu.Lock()
	if len(s.queue) == 0 && s.fits(need) {
		s.start(need, prompt)
		s.mu.Unlock()
		return nil
	}
	if s.cfg.MaxQueue > 0 && len(s.queue) >= s.cfg.MaxQueue {
		s.mu.Unlock()
		return errQueueFull
	}
	w := &waiter{need: need, prompt: prompt, admitted: make(chan struct{})}
	s.queue = append(s.queue, w)
	s.mu.Unlock()

	var err error
	select {
	case <-w.admitted:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-s.closed:
		err = errors.New("server closed")
	}
	s.mu.Lock()
	for i, q := range s.queue {
		if q == w {
			s.queue = append(s.queue[:i], s.queue[i+1:]...)
			s.dispatch() // the next one may fit now
			s.mu.Unlock()
			return err
		}
	}
	s.mu.Unlock()
	s.finish(need, prompt) // admitted meanwhile
	return err
}

// fits reports whether a sequence needing need KV tokens can start now; the caller holds s.mu.
func (s *Server) fits(need int) bool {
	return s.running < s.cfg.MaxBatch && s.kvReserved+need <= s.cfg.KVCapacity
}

// start accounts a sequence that begins (prefill done); the caller holds s.mu.
func (s *Server) start(need, prompt int) {
	s.running++
	s.kvReserved += need
	s.kvUsed += prompt
	s.promptTokens += uint64(prompt)
	s.inputLen.observe(float64(prompt))
}

// dispatch admits queued sequences, in order, while the first one fits; the caller holds s.mu.
func (s *Server) dispatch() {
	for len(s.queue) > 0 && s.fits(s.queue[0].need) {
		w := s.queue[0]
		s.queue = s.queue[1:]
		s.start(w.need, w.prompt)
		close(w.admitted)
	}
}

// finish releases a sequence's slot and KV cache (held: its prompt and generated tokens) and admits the next.
func (s *Server) finish(need, held int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running--
	s.kvReserved -= need
	s.kvUsed -= held
	s.dispatch()
}

// generate produces n tokens at the token rate, calling onToken (if not nil) after each, and returns how many
// were generated. It stops early when ctx is done, the server closes or onToken fails.
func (s *Server) generate(ctx context.Context, arrival time.Time, n int, onToken func(i int) error) (int, error) {
	begin := time.Now()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for i := range n {
		if s.tokenDelay > 0 {
			wait := time.Until(begin.Add(time.Duration(i+1) * s.tokenDelay))
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case <-timer.C:
			case <-ctx.Done():
				return i, ctx.Err()
			case <-s.closed:
				return i, errors.New("server closed")
			}
		} else if err := ctx.Err(); err != nil {
			return i, err
		}
		s.mu.Lock()
		s.kvUsed++
		s.generationTokens++
		if i == 0 {
			s.ttft.observe(time.Since(arrival).Seconds())
		}
		s.mu.Unlock()
		if onToken != nil {
			if err := onToken(i); err != nil {
				return i + 1, err
			}
		}
	}
	return n, nil
}

// succeeded records a request that completed with n tokens.
func (s *Server) succeeded(arrival time.Time, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requestSuccess++
	s.outputLen.observe(float64(n))
	s.e2e.observe(time.Since(arrival).Seconds())
}

// fillerToken is the text of generated token i: "token", then " token".
func fillerToken(i int) string {
	if i == 0 {
		return "token"
	}
	return " token"
}

// fillerText is n filler tokens.
func fillerText(n int) string {
	return strings.TrimPrefix(strings.Repeat(" token", n), " ")
}

// completion builds the OpenAI response objects of one request.
type completion struct {
	id       uint64
	idPrefix string
	chat     bool
	model    string
	created  int64
}

func (c *completion) base(object string) map[string]any {
	return map[string]any{"id": fmt.Sprintf("%s%d", c.idPrefix, c.id), "object": object, "created": c.created,
		"model": c.model}
}

func (c *completion) response(text, finish string, u usage) map[string]any {
	if c.chat {
		m := c.base("chat.completion")
		m["choices"] = []map[string]any{{"index": 0, "finish_reason": finish, "logprobs": nil,
			"message": map[string]any{"role": "assistant", "content": text}}}
		m["usage"] = u
		return m
	}
	m := c.base("text_completion")
	m["choices"] = []map[string]any{{"index": 0, "text": text, "finish_reason": finish, "logprobs": nil}}
	m["usage"] = u
	return m
}

// chunk is one streamed event: for chat, delta is the message delta; for completions, the text.
func (c *completion) chunk(delta any, finish *string) map[string]any {
	var fr any
	if finish != nil {
		fr = *finish
	}
	if c.chat {
		m := c.base("chat.completion.chunk")
		m["choices"] = []map[string]any{{"index": 0, "delta": delta, "finish_reason": fr, "logprobs": nil}}
		return m
	}
	m := c.base("text_completion")
	m["choices"] = []map[string]any{{"index": 0, "text": delta, "finish_reason": fr, "logprobs": nil}}
	return m
}

// usageChunk is the last event when stream_options.include_usage is set.
func (c *completion) usageChunk(u usage) map[string]any {
	object := "text_completion"
	if c.chat {
		object = "chat.completion.chunk"
	}
	m := c.base(object)
	m["choices"] = []any{}
	m["usage"] = u
	return m
}

// metrics writes the engine's Prometheus metrics.
func (s *Server) metrics(w http.ResponseWriter, _ *http.Request) {
	if s.cfg.FailMetrics {
		http.Error(w, "metrics unavailable (engine-sim --fail-metrics)", http.StatusInternalServerError)
		return
	}
	if s.cfg.MetricsOff {
		s.writeError(w, http.StatusNotImplemented, "This server does not support metrics endpoint: its command line does not enable them")
		return
	}
	var b strings.Builder
	s.mu.Lock()
	s.profile.Metrics(&metricsWriter{w: &b}, &Snapshot{
		Model: s.cfg.ServedModelName, Running: s.running, Waiting: len(s.queue), KVUsed: s.kvUsed,
		KVCapacity: s.cfg.KVCapacity, PromptTokens: s.promptTokens, GenerationTokens: s.generationTokens,
		RequestCount: s.requestCount, RequestSuccess: s.requestSuccess, TTFT: s.ttft, E2E: s.e2e,
		InputLength: s.inputLen, Output: s.outputLen, CacheMetric: s.cfg.CacheMetric,
	})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = io.WriteString(w, b.String())
}

// writeError answers an error in the engine's format: OpenAI's, or TGI's own.
func (s *Server) writeError(w http.ResponseWriter, code int, msg string) {
	if s.profile.TGIErrors {
		writeJSON(w, code, map[string]any{"error": msg, "error_type": http.StatusText(code)})
		return
	}
	writeJSON(w, code, map[string]any{"error": map[string]any{
		"message": msg, "type": strings.ReplaceAll(http.StatusText(code), " ", "") + "Error", "param": nil, "code": code}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
