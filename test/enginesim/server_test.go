package enginesim_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/internal/enginemetrics"
	"github.com/privatellm/privatellm/test/enginesim"
)

// start runs a simulated engine behind an httptest server, closed when t ends.
func start(t testing.TB, cfg enginesim.Config) (*enginesim.Server, string) {
	t.Helper()
	s, err := enginesim.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		s.Close()
		ts.Close()
	})
	return s, ts.URL
}

// do sends a request and returns the status and the body, failing t on a transport error.
func do(t testing.TB, ctx context.Context, method, url, body string) (int, string) {
	t.Helper()
	code, b, err := send(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return code, b
}

// send sends a request and returns the status and the body; safe in any goroutine.
func send(ctx context.Context, method, url, body string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", fmt.Errorf("read %s: %w", url, err)
	}
	return resp.StatusCode, string(b), nil
}

// scrape reads /metrics and returns each sample by its series (`name{labels}`) and by its bare name (the last
// sample of that name). It checks the text format: every sample belongs to a family declared by a TYPE line.
func scrape(t testing.TB, url string) map[string]float64 {
	t.Helper()
	code, body := do(t, context.Background(), http.MethodGet, url+"/metrics", "")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", code, body)
	}
	out := map[string]float64{}
	types := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(rest, " ")
			types[name] = typ
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("malformed sample %q", line)
		}
		series, value := line[:i], line[i+1:]
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		name, _, _ := strings.Cut(series, "{")
		family := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if f, ok := strings.CutSuffix(name, suffix); ok && types[f] == "histogram" {
				family = f
			}
		}
		if types[family] == "" {
			t.Fatalf("sample %q has no TYPE line before it", line)
		}
		out[series] = v
		out[name] = v
	}
	return out
}

// scrapePage reads /metrics with the operator's own parser.
func scrapePage(t testing.TB, url string) enginemetrics.Page {
	t.Helper()
	code, body := do(t, context.Background(), http.MethodGet, url+"/metrics", "")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", code, body)
	}
	p, err := enginemetrics.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("the operator cannot parse the page: %v\n%s", err, body)
	}
	return p
}

// eventually polls cond until it returns "" (met), failing t with the last answer after timeout.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting %s for %s: %s", timeout, what, msg)
		}
		time.Sleep(10 * time.Millisecond) // poll interval
	}
}

func TestEndpoints(t *testing.T) {
	for _, eng := range enginesim.Profiles() {
		t.Run(eng, func(t *testing.T) {
			p, _ := enginesim.ProfileFor(eng)
			_, url := start(t, enginesim.Config{Engine: eng, ServedModelName: "demo", TokenRate: -1, KVCapacity: 100})
			ctx := context.Background()
			cases := []struct {
				name, method, path, body string
				wantCode                 int
				check                    func(t *testing.T, body string)
			}{
				{name: "health", method: "GET", path: "/health", wantCode: 200},
				{name: "models list the served name", method: "GET", path: "/v1/models", wantCode: 200,
					check: func(t *testing.T, body string) {
						var got struct {
							Object string
							Data   []struct{ ID, Object string }
						}
						mustJSON(t, body, &got)
						if got.Object != "list" || len(got.Data) != 1 || got.Data[0].ID != "demo" || got.Data[0].Object != "model" {
							t.Errorf("models = %s", body)
						}
					}},
				{name: "chat completion", method: "POST", path: "/v1/chat/completions",
					body:     `{"model":"demo","messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hello there you"}]}],"max_tokens":3}`,
					wantCode: 200, check: func(t *testing.T, body string) {
						var got struct {
							ID, Object, Model string
							Choices           []struct {
								Index        int
								FinishReason string `json:"finish_reason"`
								Message      struct{ Role, Content string }
							}
							Usage struct {
								PromptTokens     int `json:"prompt_tokens"`
								CompletionTokens int `json:"completion_tokens"`
								TotalTokens      int `json:"total_tokens"`
							}
						}
						mustJSON(t, body, &got)
						if !strings.HasPrefix(got.ID, "chatcmpl-") || got.Object != "chat.completion" || got.Model != "demo" ||
							len(got.Choices) != 1 || got.Choices[0].Message.Role != "assistant" ||
							got.Choices[0].Message.Content != "token token token" || got.Choices[0].FinishReason != "length" ||
							got.Usage.PromptTokens != 5 || got.Usage.CompletionTokens != 3 || got.Usage.TotalTokens != 8 {
							t.Errorf("chat completion = %s", body)
						}
					}},
				{name: "completion without max_tokens generates the default 16", method: "POST", path: "/v1/completions",
					body: `{"prompt":"once upon a time"}`, wantCode: 200, check: func(t *testing.T, body string) {
						var got struct {
							Object  string
							Choices []struct {
								Text         string
								FinishReason string `json:"finish_reason"`
							}
							Usage struct {
								PromptTokens     int `json:"prompt_tokens"`
								CompletionTokens int `json:"completion_tokens"`
							}
						}
						mustJSON(t, body, &got)
						if got.Object != "text_completion" || len(got.Choices) != 1 ||
							got.Choices[0].Text != strings.TrimSpace(strings.Repeat("token ", 16)) ||
							got.Choices[0].FinishReason != "stop" || got.Usage.PromptTokens != 4 || got.Usage.CompletionTokens != 16 {
							t.Errorf("completion = %s", body)
						}
					}},
				{name: "completion of token ids", method: "POST", path: "/v1/completions",
					body: `{"prompt":[1,2,3],"max_tokens":1}`, wantCode: 200, check: func(t *testing.T, body string) {
						if !strings.Contains(body, `"prompt_tokens":3`) {
							t.Errorf("completion = %s", body)
						}
					}},
				{name: "unknown model (engines that serve one model ignore the name)", method: "POST", path: "/v1/chat/completions",
					body: `{"model":"other","messages":[{"role":"user","content":"hi"}],"max_tokens":1}`, wantCode: unknownModelCode(p),
					check: func(t *testing.T, body string) {
						if !p.AnyModel && (!strings.Contains(body, "other") || !strings.Contains(body, `"error"`)) {
							t.Errorf("error = %s", body)
						}
					}},
				{name: "invalid JSON", method: "POST", path: "/v1/completions", body: `{`, wantCode: 400},
				{name: "no messages", method: "POST", path: "/v1/chat/completions", body: `{"messages":[]}`, wantCode: 400},
				{name: "no prompt", method: "POST", path: "/v1/completions", body: `{}`, wantCode: 400},
				{name: "max_tokens 0", method: "POST", path: "/v1/completions", body: `{"prompt":"x","max_tokens":0}`, wantCode: 400},
				{name: "longer than the KV cache", method: "POST", path: "/v1/completions",
					body: `{"prompt":"x","max_tokens":100}`, wantCode: 400, check: func(t *testing.T, body string) {
						if !strings.Contains(body, "maximum context length is 100 tokens") {
							t.Errorf("error = %s", body)
						}
					}},
				{name: "wrong method", method: "GET", path: "/v1/completions", wantCode: 405},
				{name: "metrics", method: "GET", path: "/metrics", wantCode: 200},
			}
			if eng == "tgi" {
				cases = append(cases, struct {
					name, method, path, body string
					wantCode                 int
					check                    func(t *testing.T, body string)
				}{name: "info", method: "GET", path: "/info", wantCode: 200, check: func(t *testing.T, body string) {
					var got struct {
						ModelID        string `json:"model_id"`
						MaxTotalTokens int    `json:"max_total_tokens"`
					}
					mustJSON(t, body, &got)
					if got.ModelID != "demo" || got.MaxTotalTokens != 100 {
						t.Errorf("info = %s", body)
					}
				}})
			} else {
				cases = append(cases, struct {
					name, method, path, body string
					wantCode                 int
					check                    func(t *testing.T, body string)
				}{name: "no /info on vllm", method: "GET", path: "/info", wantCode: 404})
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					code, body := do(t, ctx, tc.method, url+tc.path, tc.body)
					if code != tc.wantCode {
						t.Fatalf("%s %s = %d %s, want %d", tc.method, tc.path, code, body, tc.wantCode)
					}
					if tc.check != nil {
						tc.check(t, body)
					}
				})
			}
		})
	}
}

func mustJSON(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
}

// sseEvents reads a server-sent event stream: each event is `data: <payload>` followed by a blank line.
func sseEvents(t *testing.T, r io.Reader) []string {
	t.Helper()
	var events []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		payload, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			t.Fatalf("line %q is not a data line", sc.Text())
		}
		events = append(events, payload)
		if !sc.Scan() || sc.Text() != "" {
			t.Fatalf("event %q not followed by a blank line", payload)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return events
}

func TestStreaming(t *testing.T) {
	_, url := start(t, enginesim.Config{ServedModelName: "demo", TokenRate: 2000})
	t.Run("chat", func(t *testing.T) {
		resp, err := http.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(
			`{"model":"demo","messages":[{"role":"user","content":"hi"}],"max_tokens":5,"stream":true,"stream_options":{"include_usage":true}}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		events := sseEvents(t, resp.Body)
		// role, 5 tokens, finish, usage, [DONE]
		if len(events) != 9 || events[len(events)-1] != "[DONE]" {
			t.Fatalf("events = %q", events)
		}
		var content strings.Builder
		var finish []string
		for i, e := range events[:len(events)-1] {
			var chunk struct {
				Object  string
				Choices []struct {
					Delta        struct{ Role, Content string }
					FinishReason *string `json:"finish_reason"`
				}
				Usage *struct {
					CompletionTokens int `json:"completion_tokens"`
				}
			}
			mustJSON(t, e, &chunk)
			if chunk.Object != "chat.completion.chunk" {
				t.Errorf("chunk %d object %q", i, chunk.Object)
			}
			if i == 0 && (len(chunk.Choices) != 1 || chunk.Choices[0].Delta.Role != "assistant") {
				t.Errorf("first chunk has no assistant role: %s", e)
			}
			if i == len(events)-2 {
				if chunk.Usage == nil || chunk.Usage.CompletionTokens != 5 || len(chunk.Choices) != 0 {
					t.Errorf("usage chunk = %s", e)
				}
				continue
			}
			content.WriteString(chunk.Choices[0].Delta.Content)
			if f := chunk.Choices[0].FinishReason; f != nil {
				finish = append(finish, *f)
			}
		}
		if content.String() != "token token token token token" || len(finish) != 1 || finish[0] != "length" {
			t.Fatalf("streamed content %q, finish reasons %q", content.String(), finish)
		}
	})
	t.Run("completion", func(t *testing.T) {
		resp, err := http.Post(url+"/v1/completions", "application/json",
			strings.NewReader(`{"prompt":"hi","max_tokens":3,"stream":true}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		events := sseEvents(t, resp.Body)
		if len(events) != 5 || events[4] != "[DONE]" {
			t.Fatalf("events = %q", events)
		}
		var text strings.Builder
		for _, e := range events[:4] {
			var chunk struct {
				Object  string
				Choices []struct{ Text string }
			}
			mustJSON(t, e, &chunk)
			if chunk.Object != "text_completion" || len(chunk.Choices) != 1 {
				t.Fatalf("chunk = %s", e)
			}
			text.WriteString(chunk.Choices[0].Text)
		}
		if text.String() != "token token token" {
			t.Fatalf("streamed text %q", text.String())
		}
	})
}

func unknownModelCode(p *enginesim.Profile) int {
	if p.AnyModel {
		return 200
	}
	return 404
}

// TestMetrics: every simulated engine exports, under its real names and types, every series the operator reads
// (internal/engine), and the operator's own reader (internal/enginemetrics) reads the right load from the page.
func TestMetrics(t *testing.T) {
	for _, eng := range enginesim.Profiles() {
		t.Run(eng, func(t *testing.T) {
			_, url := start(t, enginesim.Config{Engine: eng, ServedModelName: "demo", TokenRate: -1})
			em := engine.FactsOf(v1.EngineName(eng)).Metrics
			if len(em.RequestsRunning) == 0 {
				t.Fatalf("the operator's registry has no engine %s", eng)
			}
			// Before any request: gauges created on first use are absent, and read as 0.
			page := scrapePage(t, url)
			load, err := enginemetrics.ReadLoad(page, em)
			if err != nil || load.Running != 0 || load.Waiting != 0 {
				t.Fatalf("idle page: %+v, %v", load, err)
			}
			for _, n := range em.CreatedOnFirstUse {
				if page.Has(n) {
					t.Errorf("%s is exported before the first request; the engine creates it with the first one", n)
				}
			}
			if code, body := do(t, context.Background(), "POST", url+"/v1/completions", `{"model":"demo","prompt":"a b c","max_tokens":4}`); code != 200 {
				t.Fatalf("completion: %d %s", code, body)
			}
			page = scrapePage(t, url)
			for _, list := range [][]string{em.RequestsRunning, em.RequestsWaiting, em.KVCacheUsage, em.PromptTokens, em.GenerationTokens} {
				if _, _, ok := page.First(list); len(list) > 0 && !ok {
					t.Errorf("none of %v on the page", list)
				}
			}
			for _, list := range [][]string{em.TimeToFirstToken, em.RequestLatency} {
				for _, n := range list[:min(1, len(list))] {
					if h, ok := page.Histogram(n); !ok || h.Count != 1 || h.Buckets[math.Inf(1)] != 1 {
						t.Errorf("histogram %s: %+v, %v; want one observation", n, h, ok)
					}
				}
			}
			load, err = enginemetrics.ReadLoad(page, em)
			if err != nil || load.PromptTokens != 3 || load.GenerationTokens != 4 || load.Running != 0 {
				t.Errorf("load after one request: %+v, %v; want 3 prompt and 4 generated tokens, none running", load, err)
			}
		})
	}
	t.Run("vllm labels", func(t *testing.T) {
		_, url := start(t, enginesim.Config{ServedModelName: "demo"})
		if m := scrape(t, url); m[`vllm:num_requests_running{engine="0",model_name="demo"}`] != 0 {
			t.Errorf("series %v", m)
		} else if _, ok := m[`vllm:num_requests_running{engine="0",model_name="demo"}`]; !ok {
			t.Errorf("vLLM labels every series with engine and model_name: %v", m)
		}
	})
	for _, tc := range []struct {
		choice    enginesim.CacheMetric
		want, not string
	}{
		{enginesim.CacheMetricKV, "vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"},
		{enginesim.CacheMetricGPU, "vllm:gpu_cache_usage_perc", "vllm:kv_cache_usage_perc"},
	} {
		t.Run("only "+tc.want, func(t *testing.T) {
			_, url := start(t, enginesim.Config{CacheMetric: tc.choice})
			m := scrape(t, url)
			if _, ok := m[tc.want]; !ok {
				t.Errorf("%s missing", tc.want)
			}
			if _, ok := m[tc.not]; ok {
				t.Errorf("%s present", tc.not)
			}
		})
	}
	t.Run("metrics off", func(t *testing.T) {
		_, url := start(t, enginesim.Config{Engine: "llamacpp", MetricsOff: true})
		if code, _ := do(t, context.Background(), "GET", url+"/metrics", ""); code != http.StatusNotImplemented {
			t.Errorf("/metrics without --metrics = %d, want 501", code)
		}
	})
	t.Run("fail-metrics", func(t *testing.T) {
		_, url := start(t, enginesim.Config{FailMetrics: true})
		if code, _ := do(t, context.Background(), "GET", url+"/metrics", ""); code != http.StatusInternalServerError {
			t.Errorf("/metrics = %d, want 500", code)
		}
		if code, _ := do(t, context.Background(), "GET", url+"/health", ""); code != 200 {
			t.Errorf("/health = %d, want 200", code)
		}
	})
}

// streamOpen starts a streaming completion and returns once its first n tokens have arrived; cancel ends it.
func streamOpen(t *testing.T, url, body string, n int) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "POST", url+"/v1/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		cancel()
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	br := bufio.NewReader(resp.Body)
	for got := 0; got < n; {
		line, err := br.ReadString('\n')
		if err != nil {
			cancel()
			t.Fatalf("read stream: %v", err)
		}
		if strings.HasPrefix(line, "data: ") {
			got++
		}
	}
	stop := func() { cancel(); resp.Body.Close() }
	t.Cleanup(stop)
	return stop
}

func TestQueueing(t *testing.T) {
	_, url := start(t, enginesim.Config{ServedModelName: "demo", MaxBatch: 1, TokenRate: 100})
	// A holds the only batch slot: 50000 tokens at 100/s.
	stopA := streamOpen(t, url, `{"prompt":"a","max_tokens":50000,"stream":true}`, 1)

	type result struct {
		code int
		body string
		took time.Duration
	}
	done := make(chan result, 1)
	go func() {
		begin := time.Now()
		code, body, err := send(context.Background(), "POST", url+"/v1/completions", `{"prompt":"b","max_tokens":2}`)
		if err != nil {
			body = err.Error()
		}
		done <- result{code, body, time.Since(begin)}
	}()
	eventually(t, 5*time.Second, "B to wait behind A", func() string {
		m := scrape(t, url)
		if m["vllm:num_requests_running"] != 1 || m["vllm:num_requests_waiting"] != 1 {
			return fmt.Sprintf("running %v, waiting %v", m["vllm:num_requests_running"], m["vllm:num_requests_waiting"])
		}
		return ""
	})
	select {
	case r := <-done:
		t.Fatalf("B finished while A held the batch: %d %s", r.code, r.body)
	default:
	}
	stopA()
	select {
	case r := <-done:
		if r.code != 200 || !strings.Contains(r.body, `"text":"token token"`) {
			t.Fatalf("B = %d %s", r.code, r.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("B not served 10s after A ended")
	}
	eventually(t, 5*time.Second, "an idle engine", func() string {
		m := scrape(t, url)
		if m["vllm:num_requests_running"] != 0 || m["vllm:num_requests_waiting"] != 0 || m["vllm:kv_cache_usage_perc"] != 0 {
			return fmt.Sprintf("running %v, waiting %v, KV %v", m["vllm:num_requests_running"],
				m["vllm:num_requests_waiting"], m["vllm:kv_cache_usage_perc"])
		}
		return ""
	})
}

func TestQueueLimit(t *testing.T) {
	_, url := start(t, enginesim.Config{Engine: "tgi", MaxBatch: 1, MaxQueue: 1, TokenRate: 100})
	streamOpen(t, url, `{"prompt":"a","max_tokens":50000,"stream":true}`, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // B waits until ctx ends
		req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/completions", strings.NewReader(`{"prompt":"b"}`))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	eventually(t, 5*time.Second, "B queued", func() string {
		if m := scrape(t, url); m["tgi_queue_size"] != 1 || m["tgi_batch_current_size"] != 1 {
			return fmt.Sprintf("queue %v, batch %v", m["tgi_queue_size"], m["tgi_batch_current_size"])
		}
		return ""
	})
	if code, body := do(t, context.Background(), "POST", url+"/v1/completions", `{"prompt":"c"}`); code != http.StatusTooManyRequests {
		t.Fatalf("C at a full queue = %d %s, want 429", code, body)
	}
	cancel()
	eventually(t, 5*time.Second, "B to leave the queue when its client goes", func() string {
		if m := scrape(t, url); m["tgi_queue_size"] != 0 {
			return fmt.Sprintf("queue %v", m["tgi_queue_size"])
		}
		return ""
	})
}

func TestKVCache(t *testing.T) {
	kv := func(t *testing.T, url string) (running, waiting, usage float64) {
		m := scrape(t, url)
		return m["vllm:num_requests_running"], m["vllm:num_requests_waiting"], m["vllm:kv_cache_usage_perc"]
	}
	t.Run("prompts and admission", func(t *testing.T) {
		// 0.01 tokens/s: no token is generated during the test, so the cache holds exactly the prompts.
		_, url := start(t, enginesim.Config{KVCapacity: 100, TokenRate: 0.01})
		body := `{"prompt":"one two three four five six seven eight nine ten","max_tokens":40}` // needs 50
		var stops []func()
		for i := range 3 {
			ctx, cancel := context.WithCancel(context.Background())
			stops = append(stops, cancel)
			defer cancel()
			go func() {
				req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/completions", strings.NewReader(body))
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}()
			// The first two fit (50 + 50 of 100); the third waits for KV room although the batch has slots.
			wantRunning, wantWaiting := float64(min(i+1, 2)), float64(max(i-1, 0))
			wantUsage := wantRunning * 10 / 100
			eventually(t, 5*time.Second, fmt.Sprintf("request %d admitted or queued", i+1), func() string {
				if r, w, u := kv(t, url); r != wantRunning || w != wantWaiting || u != wantUsage {
					return fmt.Sprintf("running %v waiting %v KV %v; want %v %v %v", r, w, u, wantRunning, wantWaiting, wantUsage)
				}
				return ""
			})
		}
		stops[0]()
		eventually(t, 5*time.Second, "the queued request admitted in the freed room", func() string {
			if r, w, u := kv(t, url); r != 2 || w != 0 || u != 0.2 {
				return fmt.Sprintf("running %v waiting %v KV %v", r, w, u)
			}
			return ""
		})
		for _, stop := range stops {
			stop()
		}
		eventually(t, 5*time.Second, "an empty KV cache", func() string {
			if r, w, u := kv(t, url); r != 0 || w != 0 || u != 0 {
				return fmt.Sprintf("running %v waiting %v KV %v", r, w, u)
			}
			return ""
		})
	})
	t.Run("grows with generated tokens", func(t *testing.T) {
		_, url := start(t, enginesim.Config{KVCapacity: 1000, TokenRate: 100})
		streamOpen(t, url, `{"prompt":"a b c d e","max_tokens":500,"stream":true}`, 20)
		// 5 prompt tokens and at least 20 generated, at most all 500.
		if _, _, u := kv(t, url); u < 0.025 || u > 0.505 {
			t.Fatalf("KV usage %v after 20 streamed tokens of a 5-token prompt, want in [0.025, 0.505]", u)
		}
	})
}

func TestLoadDelay(t *testing.T) {
	begin := time.Now()
	s, url := start(t, enginesim.Config{LoadDelay: 300 * time.Millisecond})
	ctx := context.Background()
	if code, _ := do(t, ctx, "GET", url+"/health", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("/health while loading = %d, want 503", code)
	}
	if code, _ := do(t, ctx, "POST", url+"/v1/completions", `{"prompt":"x"}`); code != http.StatusServiceUnavailable {
		t.Fatalf("completion while loading = %d, want 503", code)
	}
	if code, _ := do(t, ctx, "GET", url+"/metrics", ""); code != 200 {
		t.Fatalf("/metrics while loading = %d, want 200", code)
	}
	select {
	case <-s.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("not ready 10s after a 300ms load delay")
	}
	if took := time.Since(begin); took < 300*time.Millisecond {
		t.Fatalf("ready after %s, before the load delay", took)
	}
	if code, _ := do(t, ctx, "GET", url+"/health", ""); code != 200 {
		t.Fatalf("/health after loading = %d, want 200", code)
	}
	if code, body := do(t, ctx, "GET", url+"/v1/models", ""); code != 200 || !strings.Contains(body, `"id":"model"`) {
		t.Fatalf("/v1/models after loading = %d %s", code, body)
	}
}

func TestClose(t *testing.T) {
	s, url := start(t, enginesim.Config{TokenRate: 0.01})
	done := make(chan int, 1)
	go func() {
		code, _, _ := send(context.Background(), "POST", url+"/v1/completions", `{"prompt":"x"}`)
		done <- code
	}()
	eventually(t, 5*time.Second, "a running request", func() string {
		if r := scrape(t, url)["vllm:num_requests_running"]; r != 1 {
			return fmt.Sprintf("running %v", r)
		}
		return ""
	})
	s.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a running request outlived Close by 5s")
	}
	if code, _ := do(t, context.Background(), "GET", url+"/health", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("/health after Close = %d, want 503", code)
	}
}

func TestInvalidConfig(t *testing.T) {
	for _, cfg := range []enginesim.Config{
		{Engine: "triton"}, {MaxBatch: -1}, {MaxQueue: -1}, {KVCapacity: -5}, {LoadDelay: -time.Second},
		{CacheMetric: "both-and-more"},
	} {
		if _, err := enginesim.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// BenchmarkCompletionRoundTrip measures one non-streaming chat completion of 16 tokens over HTTP, without a
// token delay: the simulator's own overhead per request.
func BenchmarkCompletionRoundTrip(b *testing.B) {
	_, url := start(b, enginesim.Config{ServedModelName: "demo", TokenRate: -1})
	body := `{"model":"demo","messages":[{"role":"user","content":"hello"}],"max_tokens":16}`
	ctx := context.Background()
	for b.Loop() {
		if code, resp := do(b, ctx, "POST", url+"/v1/chat/completions", body); code != 200 {
			b.Fatalf("completion: %d %s", code, resp)
		}
	}
}
