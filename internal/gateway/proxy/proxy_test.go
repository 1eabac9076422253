package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/apikey"
	"github.com/privatellm/privatellm/internal/gateway/catalog"
)

// engine is a stand-in for an engine pod: it answers chat completions, streamed or whole, and records what it got.
type engine struct {
	name string
	srv  *httptest.Server
	mu   sync.Mutex
	// bodies and headers of the requests it got.
	bodies  []string
	headers []http.Header
	// gate, when set, holds a stream after its first event until it is closed.
	gate chan struct{}
	// stall, when set, makes a stream send its first event and then nothing.
	stall bool
	// canceled is closed when a request's context ends before its answer was complete.
	canceled chan struct{}
}

func newEngine(t *testing.T, name string) *engine {
	e := &engine{name: name, canceled: make(chan struct{}, 16)}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *engine) requests() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.bodies)
}

func (e *engine) lastBody() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.bodies[len(e.bodies)-1]
}

func (e *engine) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	e.mu.Lock()
	e.bodies = append(e.bodies, string(body))
	e.headers = append(e.headers, r.Header.Clone())
	e.mu.Unlock()
	var req struct {
		Stream        bool `json:"stream"`
		StreamOptions struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	_ = json.Unmarshal(body, &req)
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"x","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"%s"},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}`, e.name)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	f := w.(http.Flusher)
	chunk := func(content string) {
		fmt.Fprintf(w, "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":null}]}\n\n", content)
		f.Flush()
	}
	chunk("first")
	if e.stall {
		<-r.Context().Done()
		e.canceled <- struct{}{}
		return
	}
	if e.gate != nil {
		select {
		case <-e.gate:
		case <-r.Context().Done():
			e.canceled <- struct{}{}
			return
		}
	}
	chunk(" second")
	if req.StreamOptions.IncludeUsage {
		fmt.Fprint(w, "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2,\"total_tokens\":9}}\n\n")
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	f.Flush()
}

// fixture is a gateway over a catalog with one namespace's key and models.
type fixture struct {
	t       *testing.T
	cat     *catalog.Catalog
	gw      *httptest.Server
	key     string
	metrics *Metrics
	reg     *prometheus.Registry
}

func newFixture(t *testing.T, o Options) *fixture {
	f := &fixture{t: t, cat: catalog.New(), reg: prometheus.NewRegistry()}
	var err error
	if f.metrics, err = NewMetrics(f.reg); err != nil {
		t.Fatal(err)
	}
	f.key = f.issue("team-a", "app", nil)
	o.Catalog, o.Metrics = f.cat, f.metrics
	f.gw = httptest.NewServer(New(o))
	t.Cleanup(f.gw.Close)
	return f
}

func (f *fixture) issue(ns, name string, limits *v1.RateLimits) string {
	g, err := apikey.Generate()
	if err != nil {
		f.t.Fatal(err)
	}
	f.cat.SetAPIKey(&v1.APIKey{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: v1.APIKeySpec{Limits: limits},
		Status: v1.APIKeyStatus{Keys: []v1.APIKeyHash{{ID: g.ID, Hash: g.Hash}}}})
	return g.Key
}

// model adds an LLMDeployment served by the engines (one EndpointSlice each, as their ports differ).
func (f *fixture) model(ns, name string, mut func(*v1.LLMDeployment), engines ...*engine) {
	l := &v1.LLMDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if mut != nil {
		mut(l)
	}
	f.cat.SetModel(l)
	for i, e := range engines {
		f.endpoint(ns, name, fmt.Sprintf("%s-%d", name, i), e.srv.Listener.Addr().String())
	}
}

func (f *fixture) endpoint(ns, svc, slice, addr string) {
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	f.cat.SetEndpointSlice(&discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: slice, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To(int32(p)), Protocol: ptr.To(corev1.ProtocolTCP)}},
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{host}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
	})
}

func (f *fixture) post(ctx context.Context, key, body string) *http.Response {
	f.t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.gw.URL+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp
}

func chat(model string, stream bool) string {
	return fmt.Sprintf(`{"model":%q,"stream":%v,"max_tokens":16,"messages":[{"role":"user","content":"hello"}]}`, model, stream)
}

// openAIError reads an OpenAI-shaped error answer.
func openAIError(t *testing.T, resp *http.Response, status int, code string) string {
	t.Helper()
	defer resp.Body.Close()
	var body struct {
		Error struct {
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("status %d, body not an OpenAI error: %v", resp.StatusCode, err)
	}
	got := ""
	if body.Error.Code != nil {
		got = *body.Error.Code
	}
	if resp.StatusCode != status || got != code || body.Error.Message == "" || body.Error.Type == "" {
		t.Errorf("answer %d %+v, want %d with code %q", resp.StatusCode, body.Error, status, code)
	}
	return body.Error.Message
}

func TestKeysAndModels(t *testing.T) {
	f := newFixture(t, Options{})
	a, b := newEngine(t, "engine-a"), newEngine(t, "engine-b")
	f.model("team-a", "llama", nil, a)
	f.model("team-a", "qwen", nil, b)
	f.model("team-b", "private", nil, b)
	ctx := context.Background()

	openAIError(t, f.post(ctx, "", chat("llama", false)), http.StatusUnauthorized, "invalid_api_key")
	openAIError(t, f.post(ctx, "pllm-000000000000-"+strings.Repeat("A", 43), chat("llama", false)), http.StatusUnauthorized, "invalid_api_key")
	// Another namespace's model and a model that does not exist are answered alike.
	notShared := openAIError(t, f.post(ctx, f.key, chat("private", false)), http.StatusNotFound, "model_not_found")
	missing := openAIError(t, f.post(ctx, f.key, chat("nothing", false)), http.StatusNotFound, "model_not_found")
	if strings.Replace(notShared, "private", "nothing", 1) != missing {
		t.Errorf("a model of another namespace must look like a missing one: %q vs %q", notShared, missing)
	}
	openAIError(t, f.post(ctx, f.key, `{"model": 7}`), http.StatusBadRequest, "")

	for model, want := range map[string]string{"llama": "engine-a", "qwen": "engine-b"} {
		resp := f.post(ctx, f.key, chat(model, false))
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d %s, want the answer of %s", model, resp.StatusCode, body, want)
		}
	}
	for _, e := range []*engine{a, b} {
		for _, h := range e.headers {
			if h.Get("Authorization") != "" {
				t.Errorf("%s got the client's Authorization header", e.name)
			}
		}
	}
	got := testutil.ToFloat64(f.metrics.tokens.WithLabelValues("team-a", "app", "team-a", "llama", "output"))
	if got != 3 {
		t.Errorf("output tokens metered %v, want the engine's 3", got)
	}

	req, _ := http.NewRequest(http.MethodGet, f.gw.URL+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer "+f.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Data []struct{ ID string } `json:"data"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Data) != 2 || list.Data[0].ID != "llama" || list.Data[1].ID != "qwen" {
		t.Errorf("models %+v, want llama and qwen only", list.Data)
	}
}

// TestStreamReachesTheClientEventByEvent: the first event arrives while the engine still holds the rest, the usage
// chunk the gateway asked for is metered and not shown to a client that did not ask for it.
func TestStreamReachesTheClientEventByEvent(t *testing.T) {
	f := newFixture(t, Options{})
	e := newEngine(t, "engine")
	e.gate = make(chan struct{})
	f.model("team-a", "llama", nil, e)

	resp := f.post(context.Background(), f.key, chat("llama", true))
	defer resp.Body.Close()
	if resp.Header.Get("X-Accel-Buffering") != "no" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Errorf("headers %v", resp.Header)
	}
	r := bufio.NewReader(resp.Body)
	first, err := r.ReadString('\n')
	if err != nil || !strings.Contains(first, `"first"`) {
		t.Fatalf("first event %q, %v", first, err)
	}
	close(e.gate) // only now does the engine send the rest
	rest, _ := io.ReadAll(r)
	if !strings.Contains(string(rest), " second") || !strings.Contains(string(rest), "[DONE]") {
		t.Errorf("rest of the stream %q", rest)
	}
	if strings.Contains(string(rest), "usage") {
		t.Errorf("the client did not ask for usage but got it: %q", rest)
	}
	if !strings.Contains(e.lastBody(), `"include_usage":true`) {
		t.Errorf("the engine was not asked for usage: %s", e.lastBody())
	}
	testutilEventually(t, func() error {
		if got := testutil.ToFloat64(f.metrics.tokens.WithLabelValues("team-a", "app", "team-a", "llama", "output")); got != 2 {
			return fmt.Errorf("output tokens %v, want 2", got)
		}
		return nil
	})
}

// TestClientLeavingCancelsTheEngine: a client that goes away mid-stream cancels the engine's request.
func TestClientLeavingCancelsTheEngine(t *testing.T) {
	f := newFixture(t, Options{})
	e := newEngine(t, "engine")
	e.gate = make(chan struct{})
	defer close(e.gate)
	f.model("team-a", "llama", nil, e)
	ctx, cancel := context.WithCancel(context.Background())
	resp := f.post(ctx, f.key, chat("llama", true))
	if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	select {
	case <-e.canceled:
	case <-time.After(10 * time.Second):
		t.Fatal("the engine's request was not cancelled when the client left")
	}
}

// TestIdleUpstreamIsCut: an engine that stops sending is cut after the idle timeout, not held forever.
func TestIdleUpstreamIsCut(t *testing.T) {
	f := newFixture(t, Options{IdleTimeout: 200 * time.Millisecond})
	e := newEngine(t, "engine")
	e.stall = true
	f.model("team-a", "llama", nil, e)
	resp := f.post(context.Background(), f.key, chat("llama", true))
	done := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(resp.Body)
		done <- err
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream was not cut after the idle timeout")
	}
	select {
	case <-e.canceled:
	case <-time.After(10 * time.Second):
		t.Fatal("the engine's request was not cancelled")
	}
}

// TestRetryOnAnotherReplica: a replica that refuses connections is skipped before any byte of answer.
func TestRetryOnAnotherReplica(t *testing.T) {
	f := newFixture(t, Options{})
	good := newEngine(t, "good")
	dead := httptest.NewServer(http.NotFoundHandler())
	deadAddr := dead.Listener.Addr().String()
	dead.Close()
	f.model("team-a", "llama", nil, good)
	f.endpoint("team-a", "llama", "llama-dead", deadAddr)
	for i := range 6 {
		resp := f.post(context.Background(), f.key, chat("llama", false))
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d, want the good replica's answer", i, resp.StatusCode)
		}
	}
	if good.requests() != 6 {
		t.Errorf("good replica got %d requests, want 6", good.requests())
	}
	if got := testutil.ToFloat64(f.metrics.upstreamErrs.WithLabelValues("team-a", "llama")); got == 0 {
		t.Error("the failed attempts were not counted")
	}
}

// TestLimits: the key's requests per minute hold, with OpenAI's 429, Retry-After and x-ratelimit headers; a request
// larger than the whole token limit is refused as such.
func TestLimits(t *testing.T) {
	f := newFixture(t, Options{})
	e := newEngine(t, "engine")
	f.model("team-a", "llama", func(l *v1.LLMDeployment) {
		l.Spec.Gateway = &v1.GatewaySpec{Limits: &v1.RateLimits{TokensPerMinute: ptr.To(int64(100000))}}
	}, e)
	limited := f.issue("team-a", "limited", &v1.RateLimits{RequestsPerMinute: ptr.To(int64(2))})
	ctx := context.Background()
	for range 2 {
		resp := f.post(ctx, limited, chat("llama", false))
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Ratelimit-Limit-Requests") != "2" {
			t.Fatalf("within the limit: %d %v", resp.StatusCode, resp.Header)
		}
	}
	resp := f.post(ctx, limited, chat("llama", false))
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 || resp.Header.Get("X-Ratelimit-Remaining-Requests") != "0" {
		t.Errorf("429 headers %v", resp.Header)
	}
	openAIError(t, resp, http.StatusTooManyRequests, "rate_limit_exceeded")
	if e.requests() != 2 {
		t.Errorf("the engine got %d requests, want the 2 admitted", e.requests())
	}
	huge := `{"model":"llama","max_tokens":200000,"messages":[{"role":"user","content":"hi"}]}`
	msg := openAIError(t, f.post(ctx, f.key, huge), http.StatusBadRequest, "request_too_large")
	if !strings.Contains(msg, "lower max_tokens") {
		t.Errorf("message %q must say what to do", msg)
	}
}

// TestWaitForAReplica: a request for a model without a ready replica waits and is answered once one is ready; past
// the wait's bound it gets 503 with Retry-After; a model at zero without autoscaling is refused at once.
func TestWaitForAReplica(t *testing.T) {
	f := newFixture(t, Options{MaxWait: 5 * time.Second})
	e := newEngine(t, "engine")
	f.model("team-a", "llama", nil)
	answered := make(chan *http.Response, 1)
	go func() { answered <- f.post(context.Background(), f.key, chat("llama", false)) }()
	testutilEventually(t, func() error {
		if got := testutil.ToFloat64(f.metrics.pending.WithLabelValues("team-a", "llama")); got != 1 {
			return fmt.Errorf("pending %v, want 1", got)
		}
		return nil
	})
	f.endpoint("team-a", "llama", "llama-0", e.srv.Listener.Addr().String())
	select {
	case resp := <-answered:
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("after the replica came: %d", resp.StatusCode)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting request was not answered")
	}

	short := newFixture(t, Options{MaxWait: 300 * time.Millisecond})
	short.model("team-a", "starting", nil)
	resp := short.post(context.Background(), short.key, chat("starting", false))
	if resp.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if msg := openAIError(t, resp, http.StatusServiceUnavailable, "model_starting"); !strings.Contains(msg, "is starting") {
		t.Errorf("message %q", msg)
	}
	short.model("team-a", "off", func(l *v1.LLMDeployment) { l.Spec.Replicas = ptr.To(int32(0)) })
	openAIError(t, short.post(context.Background(), short.key, chat("off", false)), http.StatusServiceUnavailable, "model_scaled_to_zero")
}

func testutilEventually(t *testing.T, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
