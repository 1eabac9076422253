package proxy

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the gateway's Prometheus metrics: metering per API key and model, and the queue the autoscaler reads.
// Names follow the OpenTelemetry GenAI semantic conventions where they have one (gen_ai.client.token.usage,
// gen_ai.server.time_to_first_token, gen_ai.server.time_per_output_token, gen_ai.server.request.duration, in their
// Prometheus spelling); the rest are privatellm_gateway_*. Keys are named by namespace/name of their APIKey, never
// by the key; models by namespace/name of their LLMDeployment.
type Metrics struct {
	requests     *prometheus.CounterVec
	tokens       *prometheus.CounterVec
	tokenUsage   *prometheus.HistogramVec
	ttft         *prometheus.HistogramVec
	tpot         *prometheus.HistogramVec
	duration     *prometheus.HistogramVec
	pending      *prometheus.GaugeVec
	inflight     *prometheus.GaugeVec
	rateLimited  *prometheus.CounterVec
	upstreamErrs *prometheus.CounterVec
}

// The metrics the operator's autoscaler reads of each model (labels model_namespace and model): requests waiting
// for a ready replica, and requests being answered.
const (
	PendingMetric  = "privatellm_gateway_pending_requests"
	InFlightMetric = "privatellm_gateway_inflight_requests"
)

// Labels of the metering metrics.
var (
	keyLabels   = []string{"key_namespace", "key", "model_namespace", "model"}
	modelLabels = []string{"model_namespace", "model"}
)

// NewMetrics registers the gateway's metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	latency := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300}
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "privatellm_gateway_requests_total", Help: "Requests answered, by API key, model and HTTP status code.",
		}, append(append([]string{}, keyLabels...), "code")),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "privatellm_gateway_tokens_total",
			Help: "Tokens metered from the engines' usage reports, by API key, model and type (input, output, cached: the part of input served from the prefix cache).",
		}, append(append([]string{}, keyLabels...), "type")),
		tokenUsage: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gen_ai_client_token_usage", Help: "Tokens per request (OpenTelemetry gen_ai.client.token.usage), by model and gen_ai_token_type (input, output).",
			Buckets: prometheus.ExponentialBuckets(1, 4, 12),
		}, append(append([]string{}, modelLabels...), "gen_ai_token_type")),
		ttft: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gen_ai_server_time_to_first_token_seconds", Help: "Time from the request to the first generated content of a stream (gen_ai.server.time_to_first_token).",
			Buckets: latency,
		}, modelLabels),
		tpot: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gen_ai_server_time_per_output_token_seconds", Help: "Time per output token after the first (gen_ai.server.time_per_output_token).",
			Buckets: []float64{.001, .0025, .005, .01, .02, .04, .06, .08, .1, .15, .25, .5, 1},
		}, modelLabels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gen_ai_server_request_duration_seconds", Help: "Request duration through the gateway, including any wait for a replica (gen_ai.server.request.duration).",
			Buckets: latency,
		}, append(append([]string{}, modelLabels...), "code")),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: PendingMetric, Help: "Requests waiting for a ready replica of the model (the autoscaler scales a model at zero replicas up on it).",
		}, modelLabels),
		inflight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: InFlightMetric, Help: "Requests forwarded to the model and not yet answered in full.",
		}, modelLabels),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "privatellm_gateway_rate_limited_total", Help: "Requests refused by a limit, by API key, model and the limit (key or model).",
		}, append(append([]string{}, keyLabels...), "limit")),
		upstreamErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "privatellm_gateway_upstream_errors_total", Help: "Requests to an engine that failed before a response (and were retried on another replica when one was left).",
		}, modelLabels),
	}
	for _, c := range []prometheus.Collector{m.requests, m.tokens, m.tokenUsage, m.ttft, m.tpot, m.duration, m.pending, m.inflight, m.rateLimited, m.upstreamErrs} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func codeLabel(status int) string { return strconv.Itoa(status) }
