package enginemetrics_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/internal/enginemetrics"
)

const vllmPage = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="llama"} 3
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="llama"} 7
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="llama"} 0.42
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{engine="0",model_name="llama"} 1200
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{engine="0",model_name="llama"} 3400
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{engine="0",model_name="llama",le="1"} 4
vllm:e2e_request_latency_seconds_bucket{engine="0",model_name="llama",le="+Inf"} 12
vllm:e2e_request_latency_seconds_sum{engine="0",model_name="llama"} 30.5
vllm:e2e_request_latency_seconds_count{engine="0",model_name="llama"} 12
`

func vllm() engine.Metrics { return engine.FactsOf("vllm").Metrics }
func tgi() engine.Metrics  { return engine.FactsOf("tgi").Metrics }

func TestReadLoad(t *testing.T) {
	p, err := enginemetrics.Parse(strings.NewReader(vllmPage))
	if err != nil {
		t.Fatal(err)
	}
	l, err := enginemetrics.ReadLoad(p, vllm())
	if err != nil {
		t.Fatal(err)
	}
	if l.Running != 3 || l.Waiting != 7 || l.KVCache != 0.42 || !l.HasKVCache || l.PromptTokens != 1200 || l.GenerationTokens != 3400 {
		t.Errorf("load %+v", l)
	}
	h, ok := p.Histogram("vllm:e2e_request_latency_seconds")
	if !ok || h.Count != 12 || h.Sum != 30.5 || h.Buckets[1] != 4 || h.Buckets[math.Inf(1)] != 12 || h.Mean() != 30.5/12 {
		t.Errorf("histogram %+v %v", h, ok)
	}
	if v, ok := p.Value("vllm:e2e_request_latency_seconds_sum"); !ok || v != 30.5 {
		t.Errorf("_sum of a typed histogram = %v %v", v, ok)
	}
	if _, err := enginemetrics.ReadLoad(p, engine.FactsOf("llamacpp").Metrics); err == nil {
		t.Error("a vLLM page has no llama.cpp metrics, which exist from the start: that is an error, not 0")
	}
}

// A page without TYPE lines (or from a scraper that dropped them) still has its histograms' series.
func TestUntypedHistogram(t *testing.T) {
	p, err := enginemetrics.Parse(strings.NewReader("x_bucket{le=\"0.5\"} 1\nx_bucket{le=\"+Inf\"} 3\nx_sum 2.5\nx_count 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	h, ok := p.Histogram("x")
	if !ok || h.Count != 3 || h.Sum != 2.5 || h.Buckets[0.5] != 1 || h.Buckets[math.Inf(1)] != 3 {
		t.Errorf("untyped histogram %+v %v", h, ok)
	}
}

// TGI creates its queue and batch gauges with the first request: an idle pod whose page is otherwise valid reads
// as 0 load, so the autoscaler can scale an idle TGI model down.
func TestCreatedOnFirstUse(t *testing.T) {
	idle := "# TYPE tgi_request_count counter\ntgi_request_count 0\n# TYPE tgi_request_success counter\ntgi_request_success 0\n"
	p, err := enginemetrics.Parse(strings.NewReader(idle))
	if err != nil {
		t.Fatal(err)
	}
	l, err := enginemetrics.ReadLoad(p, tgi())
	if err != nil || l.Running != 0 || l.Waiting != 0 || l.HasKVCache {
		t.Errorf("idle TGI = %+v, %v; want 0 load", l, err)
	}
	// vLLM's gauges exist from the start: their absence means a broken or foreign page.
	if _, err := enginemetrics.ReadLoad(p, vllm()); err == nil {
		t.Error("a vLLM page without vllm:num_requests_running must be an error")
	}
	if _, err := enginemetrics.Parse(strings.NewReader("vllm:x{a=\"b\" 1\n")); err == nil {
		t.Error("a broken line must be an error")
	}
}

func TestScraper(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, vllmPage) })
	mux.HandleFunc("/broken", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", 500) })
	mux.HandleFunc("/huge", func(w http.ResponseWriter, _ *http.Request) {
		line := strings.Repeat("x", 1000) + " 1\n"
		for i := 0; i < (enginemetrics.MaxPageBytes/len(line))+10; i++ {
			fmt.Fprintf(w, "m%d%s", i, line)
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	s := enginemetrics.NewScraper(500 * time.Millisecond)
	ctx := context.Background()
	if p, err := s.Scrape(ctx, srv.URL+"/metrics"); err != nil || !p.Has("vllm:num_requests_waiting") {
		t.Errorf("scrape: %v", err)
	}
	if _, err := s.Scrape(ctx, srv.URL+"/broken"); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("a 500 must be an error: %v", err)
	}
	if _, err := s.Scrape(ctx, srv.URL+"/huge"); !errors.Is(err, enginemetrics.ErrPageTooLarge) {
		t.Errorf("a page over the bound: %v", err)
	}
	start := time.Now()
	if _, err := s.Scrape(ctx, srv.URL+"/slow"); err == nil || time.Since(start) > 3*time.Second {
		t.Errorf("a slow engine must time out at the scraper's bound: %v after %s", err, time.Since(start))
	}
}

// BenchmarkParse parses a page of a typical vLLM replica's size (≈ 200 series) on the autoscaler's scrape path.
func BenchmarkParse(b *testing.B) {
	var page strings.Builder
	page.WriteString(vllmPage)
	for i := range 19 {
		fmt.Fprintf(&page, "# TYPE vllm:h%d_seconds histogram\n", i)
		for _, le := range []string{"0.01", "0.1", "1", "10", "+Inf"} {
			fmt.Fprintf(&page, "vllm:h%d_seconds_bucket{engine=\"0\",model_name=\"llama\",le=%q} 3\n", i, le)
		}
		fmt.Fprintf(&page, "vllm:h%d_seconds_sum{engine=\"0\",model_name=\"llama\"} 1.5\nvllm:h%d_seconds_count{engine=\"0\",model_name=\"llama\"} 3\n", i, i)
		fmt.Fprintf(&page, "# TYPE vllm:c%d_total counter\nvllm:c%d_total{engine=\"0\",model_name=\"llama\"} 9\n", i, i)
	}
	text := page.String()
	for _, tc := range []struct {
		name  string
		names []string
	}{{"whole page", nil}, {"the operator's families only", enginemetrics.Names(vllm())}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				p, err := enginemetrics.ParseOnly(strings.NewReader(text), tc.names)
				if err != nil {
					b.Fatal(err)
				}
				if l, err := enginemetrics.ReadLoad(p, vllm()); err != nil || l.Waiting != 7 {
					b.Fatal(l, err)
				}
			}
		})
	}
}

// TestParseOnly reads the same values as a whole-page parse.
func TestParseOnly(t *testing.T) {
	whole, err := enginemetrics.Parse(strings.NewReader(vllmPage))
	if err != nil {
		t.Fatal(err)
	}
	only, err := enginemetrics.ParseOnly(strings.NewReader(vllmPage+"# TYPE other gauge\nother 1\n"), enginemetrics.Names(vllm()))
	if err != nil {
		t.Fatal(err)
	}
	a, errA := enginemetrics.ReadLoad(whole, vllm())
	b, errB := enginemetrics.ReadLoad(only, vllm())
	h, ok := only.Histogram("vllm:e2e_request_latency_seconds")
	if errA != nil || errB != nil || a != b || !ok || h.Count != 12 || only.Has("other") {
		t.Errorf("whole %+v %v, only %+v %v, histogram %+v %v", a, errA, b, errB, h, ok)
	}
}

func TestValueWith(t *testing.T) {
	page, err := enginemetrics.Parse(strings.NewReader(`# TYPE privatellm_gateway_pending_requests gauge
privatellm_gateway_pending_requests{model_namespace="a",model="llama"} 2
privatellm_gateway_pending_requests{model_namespace="b",model="llama"} 5
privatellm_gateway_pending_requests{model_namespace="a",model="qwen"} 1
`))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := page.ValueWith("privatellm_gateway_pending_requests", map[string]string{"model_namespace": "a", "model": "llama"}); !ok || v != 2 {
		t.Errorf("one model's series = %v, %v; want 2", v, ok)
	}
	if v, ok := page.ValueWith("privatellm_gateway_pending_requests", map[string]string{"model_namespace": "c", "model": "llama"}); !ok || v != 0 {
		t.Errorf("a model without series = %v, %v; want 0, true (the family is there)", v, ok)
	}
	if v, _ := page.Value("privatellm_gateway_pending_requests"); v != 8 {
		t.Errorf("Value sums every label set: %v", v)
	}
	if _, ok := page.ValueWith("absent", nil); ok {
		t.Error("an absent family must be false")
	}
}
