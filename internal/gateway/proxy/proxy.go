// Package proxy is the gateway's request path: authenticate the key, inspect the body, find the model, reserve
// against the limits, wait for a replica when the model has none ready, forward to the least loaded (or the
// prefix's) replica, stream the answer back event by event, and meter and settle with the engine's usage.
//
//	client ──► auth (catalog) ──► inspect (openai) ──► resolve (catalog) ──► reserve (limit)
//	       ──► wait for a replica (balance.Pool) ──► pick (balance) ──► forward ──► stream back (openai.StreamMeter)
//	       ──► settle (limit) and meter (metrics)
//
// The client's body is forwarded byte for byte, except stream_options.include_usage, which is added to a streaming
// request that did not ask for usage (the extra usage chunk is removed from what the client gets). The client's
// Authorization header never reaches an engine. There is no total timeout: an upstream that sends nothing for
// IdleTimeout is cut, a long generation that keeps sending is not. A client that goes away cancels the engine's
// request. A request is retried on another replica only when no response came back at all.
package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/gateway/balance"
	"github.com/privatellm/privatellm/internal/gateway/catalog"
	"github.com/privatellm/privatellm/internal/gateway/limit"
	"github.com/privatellm/privatellm/internal/gateway/openai"
)

// Options configure a Gateway. Zero values take the defaults given.
type Options struct {
	// Catalog holds keys, models and endpoints (required).
	Catalog *catalog.Catalog
	// Limiter enforces the limits (default: a new one).
	Limiter *limit.Limiter
	// Metrics meter requests (default: none).
	Metrics *Metrics
	// Replicas is how many gateway replicas share the limits now (default: 1).
	Replicas func() int
	// Transport reaches the engines (default: one tuned for many long streams, see NewTransport).
	Transport http.RoundTripper
	// IdleTimeout cuts an upstream that sends nothing for this long, including before its response header
	// (default 5m).
	IdleTimeout time.Duration
	// MaxBodyBytes is the largest request body (default 32 MiB).
	MaxBodyBytes int64
	// MaxResponseBytes is the most of a non-streaming answer held to read its usage (default 64 MiB).
	MaxResponseBytes int64
	// MaxQueue is how many requests may wait for a replica of one model (default 1000).
	MaxQueue int
	// MaxWait caps the wait for a first replica (default 10m; the model's startupTimeout when shorter).
	MaxWait time.Duration
	// Retries is how many other replicas a request is tried on when one gives no response (default 2).
	Retries int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log logs requests that fail on the gateway's side; never keys or bodies.
	Log logr.Logger
}

// Gateway is the http.Handler of the OpenAI-compatible API.
type Gateway struct {
	o Options
}

// New returns the gateway's handler.
func New(o Options) *Gateway {
	if o.Limiter == nil {
		o.Limiter = limit.New(o.Now)
	}
	if o.Replicas == nil {
		o.Replicas = func() int { return 1 }
	}
	if o.Transport == nil {
		o.Transport = NewTransport()
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 5 * time.Minute
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 32 << 20
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = 64 << 20
	}
	if o.MaxQueue <= 0 {
		o.MaxQueue = 1000
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 10 * time.Minute
	}
	if o.Retries < 0 {
		o.Retries = 0
	} else if o.Retries == 0 {
		o.Retries = 2
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Gateway{o: o}
}

// NewTransport is the default transport to the engines: many idle connections per replica (streams are long and
// many), no compression (it would delay events), small connection buffers (memory per open stream), a dial
// timeout but no response timeout (the proxy's idle timeout covers it).
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          4096,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ExpectContinueTimeout: 0,
		ForceAttemptHTTP2:     false,
		// Small buffers: every open stream holds a connection's (the default is 4 KiB each). Request bodies are
		// written in one piece; events are read through the stream's own copy buffer.
		WriteBufferSize: 1 << 10,
		ReadBufferSize:  2 << 10,
	}
}

// ServeHTTP routes the API.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	id, ok := g.authenticate(r)
	if !ok {
		openai.InvalidAPIKey("Incorrect API key provided. Send the key of an APIKey as 'Authorization: Bearer <key>'.").Write(w)
		return
	}
	switch {
	case path == "/v1/models" || path == "/v1/models/":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r)
			return
		}
		g.listModels(w, id)
	case strings.HasPrefix(path, "/v1/models/"):
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r)
			return
		}
		g.getModel(w, id, strings.TrimPrefix(path, "/v1/models/"))
	default:
		ep, ok := openai.EndpointOf(path)
		if !ok {
			openai.WriteError(w, http.StatusNotFound, openai.TypeInvalidRequest, "unknown_url",
				fmt.Sprintf("Unknown request URL: %s %s.", r.Method, path))
			return
		}
		if r.Method != http.MethodPost {
			methodNotAllowed(w, r)
			return
		}
		g.forward(w, r, ep, id)
	}
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	openai.WriteError(w, http.StatusMethodNotAllowed, openai.TypeInvalidRequest, "method_not_allowed",
		fmt.Sprintf("%s is not allowed on %s.", r.Method, r.URL.Path))
}

// authenticate reads the bearer key; client-sent identity headers are never looked at.
func (g *Gateway) authenticate(r *http.Request) (catalog.Identity, bool) {
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return catalog.Identity{}, false
	}
	return g.o.Catalog.Authenticate(strings.TrimSpace(key), g.o.Now())
}

type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

func toModelObject(m *catalog.Model) modelObject {
	return modelObject{ID: m.Served, Object: "model", Created: m.Created.Unix(), OwnedBy: m.Namespace}
}

func (g *Gateway) listModels(w http.ResponseWriter, id catalog.Identity) {
	list := struct {
		Object string        `json:"object"`
		Data   []modelObject `json:"data"`
	}{Object: "list", Data: []modelObject{}}
	for _, m := range g.o.Catalog.Models(id) {
		list.Data = append(list.Data, toModelObject(m))
	}
	writeJSON(w, http.StatusOK, list)
}

func (g *Gateway) getModel(w http.ResponseWriter, id catalog.Identity, served string) {
	m, ok := g.o.Catalog.Resolve(id, served)
	if !ok {
		modelNotFound(w, served)
		return
	}
	writeJSON(w, http.StatusOK, toModelObject(m))
}

func modelNotFound(w http.ResponseWriter, served string) { openai.ModelNotFound(served).Write(w) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// call is one request on its way through the gateway, for metering.
type call struct {
	id    catalog.Identity
	model *catalog.Model
	start time.Time
	code  int
}

func (c *call) keyLabels() []string {
	return []string{c.id.Namespace, c.id.Name, c.model.Namespace, c.model.Name}
}

// forward is the path of an inference request.
func (g *Gateway) forward(w http.ResponseWriter, r *http.Request, ep openai.Endpoint, id catalog.Identity) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.o.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			openai.WriteError(w, http.StatusRequestEntityTooLarge, openai.TypeInvalidRequest, "request_too_large",
				fmt.Sprintf("The request body is larger than the gateway's limit of %d bytes.", g.o.MaxBodyBytes))
			return
		}
		return // the client went away
	}
	req, err := openai.Inspect(r.URL.Path, body)
	if err != nil {
		openai.ErrorFromRequest(err).Write(w)
		return
	}
	m, ok := g.o.Catalog.Resolve(id, req.Model)
	if !ok {
		modelNotFound(w, req.Model)
		return
	}
	c := &call{id: id, model: m, start: g.o.Now()}
	defer g.finish(c)

	reservation, ok := g.reserve(w, c, req)
	if !ok {
		return
	}
	settled := false
	defer func() {
		if !settled {
			reservation.Cancel()
		}
	}()

	strip := false
	if req.NeedsStreamUsage() {
		if forced, changed, err := openai.EnsureStreamUsage(body); err == nil && changed {
			// An engine whose include_usage defaults to true sends usage for "stream_options": {}: that client keeps it.
			body, strip = forced, !(req.IncludeUsageOmitted && m.StreamUsageByDefault)
		}
	}
	if !g.waitForReplica(w, r.Context(), c) {
		return
	}
	u, ok := g.proxy(w, r, c, body, req, strip)
	if !ok {
		return
	}
	reservation.Settle(u)
	settled = true
}

// reserve charges the key's and the model's buckets; false when a limit refuses (the answer is written).
func (g *Gateway) reserve(w http.ResponseWriter, c *call, req openai.Request) (*limit.Reservation, bool) {
	m := c.model
	perChoice := m.DefaultMaxTokens
	tokens := req.PromptTokenBound() + req.CompletionTokenBound(perChoice)
	if req.ServerState && m.MaxModelLen > 0 {
		// The prompt lives on the engine (previous_response_id and the like): reserve the whole context.
		tokens = max(tokens, m.MaxModelLen)
	}
	n := g.o.Replicas()
	buckets := []limit.Bucket{
		{ID: "key/" + c.id.Namespace + "/" + c.id.Name, Limit: limit.Share(c.id.Limits, n)},
		{ID: "model/" + m.Ref(), Limit: limit.Share(m.Limits, n)},
	}
	res, d := g.o.Limiter.Reserve(buckets, tokens)
	d.SetHeaders(w.Header())
	if d.Allowed {
		return res, true
	}
	which := "model"
	if strings.HasPrefix(d.Bucket, "key/") {
		which = "key"
	}
	if g.o.Metrics != nil {
		g.o.Metrics.rateLimited.WithLabelValues(append(c.keyLabels(), which)...).Inc()
	}
	if d.TooLarge {
		c.code = http.StatusBadRequest
		openai.WriteError(w, http.StatusBadRequest, openai.TypeInvalidRequest, "request_too_large", fmt.Sprintf(
			"The request may use up to %d tokens (prompt bound plus max_tokens), more than the %s's limit allows per minute on this gateway replica; lower max_tokens or the prompt.",
			tokens, limitOwner(which)))
		return nil, false
	}
	c.code = http.StatusTooManyRequests
	openai.RateLimited(rateLimitType(d), fmt.Sprintf("Rate limit of the %s reached for %s. Retry after %ds.",
		limitOwner(which), m.Served, int(d.RetryAfter/time.Second))).Write(w)
	return nil, false
}

// rateLimitType is the 429's type: requests when the requests limit is used up, else tokens.
func rateLimitType(d limit.Decision) string {
	if d.LimitRequests > 0 && d.RemainingRequests <= 0 {
		return openai.TypeRequests
	}
	return openai.TypeTokens
}

func limitOwner(which string) string {
	if which == "key" {
		return "API key"
	}
	return "model"
}

// waitForReplica holds a request for a model without a ready replica until one is ready, the wait's bound passes
// or the client goes away; false when the answer has been written (or the client is gone).
func (g *Gateway) waitForReplica(w http.ResponseWriter, ctx context.Context, c *call) bool {
	m := c.model
	if m.Pool.Len() > 0 {
		return true
	}
	if m.Replicas == 0 && !m.Autoscaled {
		c.code = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "60")
		openai.WriteError(w, http.StatusServiceUnavailable, openai.TypeServerError, "model_scaled_to_zero", fmt.Sprintf(
			"The model %s is scaled to zero replicas and has no autoscaling to wake it: scale LLMDeployment %s up.", m.Served, m.Ref()))
		return false
	}
	if m.Pool.Waiting() >= g.o.MaxQueue {
		c.code = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "10")
		openai.WriteError(w, http.StatusServiceUnavailable, openai.TypeServerError, "model_overloaded", fmt.Sprintf(
			"The model %s has no ready replica and %d requests are already waiting for one. Retry later.", m.Served, g.o.MaxQueue))
		return false
	}
	bound := min(g.o.MaxWait, m.StartupTimeout)
	if bound <= 0 {
		bound = g.o.MaxWait
	}
	wctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	if g.o.Metrics != nil {
		p := g.o.Metrics.pending.WithLabelValues(m.Namespace, m.Name)
		p.Inc()
		defer p.Dec()
	}
	err := m.Pool.WaitReady(wctx)
	switch {
	case err == nil:
		return true
	case ctx.Err() != nil:
		c.code = 499
		return false
	default:
		c.code = http.StatusServiceUnavailable
		retry := min(60, max(5, int(bound/time.Second)/4))
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		openai.WriteError(w, http.StatusServiceUnavailable, openai.TypeServerError, "model_starting", fmt.Sprintf(
			"The model %s is starting: no replica became ready within %s. Retry after %ds.", m.Served, bound, retry))
		return false
	}
}

// hopHeaders are not forwarded in either direction (RFC 9110 §7.6.1), nor is the client's key.
var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

// upstreamRequest is the request to one replica: the client's path, query, headers (less hop-by-hop ones, the
// key and Accept-Encoding) and body.
func upstreamRequest(ctx context.Context, r *http.Request, addr string, body []byte) (*http.Request, error) {
	u := *r.URL
	u.Scheme, u.Host = "http", addr
	out, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		if hopHeaders[k] || k == "Authorization" || k == "Cookie" || k == "Accept-Encoding" || k == "Content-Length" {
			continue
		}
		out.Header[k] = vs
	}
	if out.Header.Get("Content-Type") == "" {
		out.Header.Set("Content-Type", "application/json")
	}
	out.ContentLength = int64(len(body))
	return out, nil
}

// proxy sends the request to a replica, retrying on others while none answers, and copies the answer back. It
// returns the tokens to settle the reservation with, and false when no answer was written because the client left.
func (g *Gateway) proxy(w http.ResponseWriter, r *http.Request, c *call, body []byte, req openai.Request, strip bool) (int64, bool) {
	m := c.model
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	opts := balance.PickOptions{}
	if m.Routing == v1.RoutingPrefixHash {
		opts.Key, opts.HasKey = balance.PrefixKey(body, 0, 0)
	}
	var resp *http.Response
	var lease *balance.Lease
	for attempt := 0; ; attempt++ {
		var ok bool
		lease, ok = m.Pool.Pick(opts)
		if !ok {
			c.code = http.StatusServiceUnavailable
			w.Header().Set("Retry-After", "5")
			openai.WriteError(w, http.StatusServiceUnavailable, openai.TypeServerError, "no_replica",
				fmt.Sprintf("No replica of %s answered (%d tried). Retry later.", m.Served, len(opts.Exclude)))
			return 0, true
		}
		up, err := upstreamRequest(ctx, r, lease.Endpoint.Address, body)
		if err != nil {
			lease.Done()
			c.code = http.StatusInternalServerError
			openai.WriteError(w, http.StatusInternalServerError, openai.TypeServerError, "gateway_error", "The gateway could not build the upstream request.")
			return 0, true
		}
		resp, err = g.roundTrip(ctx, cancel, up)
		if err == nil {
			break
		}
		lease.Done()
		if r.Context().Err() != nil {
			c.code = 499
			return 0, false
		}
		if g.o.Metrics != nil {
			g.o.Metrics.upstreamErrs.WithLabelValues(m.Namespace, m.Name).Inc()
		}
		g.o.Log.V(1).Info("Upstream failed before answering", "model", m.Ref(), "endpoint", lease.Endpoint.Address, "attempt", attempt+1, "err", err.Error())
		opts.Exclude = append(opts.Exclude, lease.Endpoint.Address)
		if attempt >= g.o.Retries {
			c.code = http.StatusBadGateway
			openai.WriteError(w, http.StatusBadGateway, openai.TypeServerError, "upstream_error",
				fmt.Sprintf("No replica of %s answered (%d tried).", m.Served, attempt+1))
			return 0, true
		}
	}
	defer lease.Done()
	defer resp.Body.Close()
	if g.o.Metrics != nil {
		in := g.o.Metrics.inflight.WithLabelValues(m.Namespace, m.Name)
		in.Inc()
		defer in.Dec()
	}
	c.code = resp.StatusCode
	for k, vs := range resp.Header {
		if !hopHeaders[k] && k != "Content-Length" {
			w.Header()[k] = vs
		}
	}
	idle := newIdleReader(resp.Body, g.o.IdleTimeout, cancel)
	defer idle.stop()
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return g.stream(w, c, resp, idle, req, strip), true
	}
	return g.whole(w, c, resp, idle, req), true
}

// roundTrip sends up, cutting it when no response header comes within the idle timeout.
func (g *Gateway) roundTrip(ctx context.Context, cancel context.CancelFunc, up *http.Request) (*http.Response, error) {
	t := time.AfterFunc(g.o.IdleTimeout, cancel)
	resp, err := g.o.Transport.RoundTrip(up)
	if !t.Stop() && err == nil {
		resp.Body.Close()
		return nil, context.DeadlineExceeded
	}
	if err == nil && ctx.Err() != nil {
		resp.Body.Close()
		return nil, ctx.Err()
	}
	return resp, err
}

// stream copies an event stream to the client event by event, flushing each, and reads the usage on the way.
func (g *Gateway) stream(w http.ResponseWriter, c *call, resp *http.Response, body io.Reader, req openai.Request, strip bool) int64 {
	h := w.Header()
	h.Set("X-Accel-Buffering", "no")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(resp.StatusCode)
	flush := func() {}
	if f, ok := w.(http.Flusher); ok {
		flush = f.Flush
		f.Flush()
	}
	meter := openai.NewStreamMeter(w, flush, strip, openai.WithClock(g.o.Now))
	buf := copyBuffers.Get().(*[]byte)
	_, copyErr := io.CopyBuffer(meter, body, *buf)
	copyBuffers.Put(buf)
	closeErr := meter.Close()
	usage, ok := meter.Usage()
	g.meterStream(c, meter, usage, ok)
	if ok {
		return usage.PromptTokens + usage.CompletionTokens
	}
	if copyErr != nil || closeErr != nil {
		// Cut short (the client left, or the engine): count what was sent, and the prompt as reserved.
		return req.PromptTokenBound() + int64(meter.ContentChunks())
	}
	return int64(meter.ContentChunks())
}

// copyBuffers are the buffers streams are copied through: 4 KiB holds several events (the meter keeps a partial
// one), where io.Copy would allocate 32 KiB per open stream.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 4<<10); return &b }}

// whole copies a complete answer and reads its usage.
func (g *Gateway) whole(w http.ResponseWriter, c *call, resp *http.Response, body io.Reader, req openai.Request) int64 {
	buf, err := io.ReadAll(io.LimitReader(body, g.o.MaxResponseBytes+1))
	if err != nil {
		c.code = http.StatusBadGateway
		openai.WriteError(w, http.StatusBadGateway, openai.TypeServerError, "upstream_error", "The replica's answer was cut off.")
		return req.PromptTokenBound()
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(buf)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(buf)
	usage, ok := openai.ParseUsage(buf)
	g.meterUsage(c, usage, ok)
	if ok {
		return usage.PromptTokens + usage.CompletionTokens
	}
	if resp.StatusCode >= 400 {
		return 0
	}
	return req.PromptTokenBound() + req.CompletionTokenBound(c.model.DefaultMaxTokens)
}

func (g *Gateway) meterUsage(c *call, u openai.Usage, ok bool) {
	if g.o.Metrics == nil || !ok {
		return
	}
	mt := g.o.Metrics
	kl := c.keyLabels()
	mt.tokens.WithLabelValues(append(kl, "input")...).Add(float64(u.PromptTokens))
	mt.tokens.WithLabelValues(append(kl, "output")...).Add(float64(u.CompletionTokens))
	mt.tokens.WithLabelValues(append(kl, "cached")...).Add(float64(u.CachedTokens))
	mt.tokenUsage.WithLabelValues(c.model.Namespace, c.model.Name, "input").Observe(float64(u.PromptTokens))
	mt.tokenUsage.WithLabelValues(c.model.Namespace, c.model.Name, "output").Observe(float64(u.CompletionTokens))
}

func (g *Gateway) meterStream(c *call, meter *openai.StreamMeter, u openai.Usage, ok bool) {
	g.meterUsage(c, u, ok)
	if g.o.Metrics == nil {
		return
	}
	first := meter.FirstContentAt()
	if first.IsZero() {
		return
	}
	g.o.Metrics.ttft.WithLabelValues(c.model.Namespace, c.model.Name).Observe(first.Sub(c.start).Seconds())
	if ok && u.CompletionTokens > 1 {
		per := g.o.Now().Sub(first).Seconds() / float64(u.CompletionTokens-1)
		g.o.Metrics.tpot.WithLabelValues(c.model.Namespace, c.model.Name).Observe(per)
	}
}

// finish records the request's outcome.
func (g *Gateway) finish(c *call) {
	if g.o.Metrics == nil || c.code == 0 {
		return
	}
	code := codeLabel(c.code)
	g.o.Metrics.requests.WithLabelValues(append(c.keyLabels(), code)...).Inc()
	g.o.Metrics.duration.WithLabelValues(c.model.Namespace, c.model.Name, code).Observe(g.o.Now().Sub(c.start).Seconds())
}

// idleReader cuts a body that delivers nothing for the idle timeout, by cancelling its request.
type idleReader struct {
	r     io.Reader
	idle  time.Duration
	timer *time.Timer
}

func newIdleReader(r io.Reader, idle time.Duration, cancel context.CancelFunc) *idleReader {
	return &idleReader{r: r, idle: idle, timer: time.AfterFunc(idle, cancel)}
}

func (ir *idleReader) Read(p []byte) (int, error) {
	n, err := ir.r.Read(p)
	if n > 0 {
		ir.timer.Reset(ir.idle)
	}
	return n, err
}

func (ir *idleReader) stop() { ir.timer.Stop() }
