package enginesim

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Bucket bounds in seconds, as the engines define them.
var (
	// vLLM's vllm:time_to_first_token_seconds buckets.
	ttftBuckets = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
		20, 40, 80, 160, 640, 2560}
	// vLLM's vllm:e2e_request_latency_seconds buckets.
	latencyBuckets = []float64{0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960,
		1920, 7680}
	// Token-count buckets of TGI's input length and generated tokens histograms (a coarse version of its 100).
	tokenBuckets = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768}
)

// histogram is a Prometheus histogram; the caller holds the server's lock.
type histogram struct {
	bounds []float64
	counts []uint64 // per bucket, not cumulative; the last one is +Inf
	sum    float64
	count  uint64
}

func newHistogram(bounds []float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

func (h *histogram) observe(v float64) {
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.counts[i]++
	h.sum += v
	h.count++
}

// metricsWriter writes the Prometheus text exposition format (version 0.0.4).
type metricsWriter struct {
	w      io.Writer
	labels string // `{model_name="x"}` or ""
	err    error
}

func (m *metricsWriter) printf(format string, args ...any) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.w, format, args...)
	}
}

func (m *metricsWriter) header(name, typ, help string) {
	m.printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

// gauge writes a gauge, or a counter when typ is "counter" (name then carries its _total suffix, if any).
func (m *metricsWriter) sample(name, typ, help string, v float64) {
	m.header(name, typ, help)
	m.printf("%s%s %s\n", name, m.labels, formatFloat(v))
}

func (m *metricsWriter) histogram(name, help string, h *histogram) {
	m.header(name, "histogram", help)
	var cum uint64
	for i, b := range h.bounds {
		cum += h.counts[i]
		m.printf("%s_bucket%s %d\n", name, m.withLabel("le", formatFloat(b)), cum)
	}
	cum += h.counts[len(h.bounds)]
	m.printf("%s_bucket%s %d\n", name, m.withLabel("le", "+Inf"), cum)
	m.printf("%s_sum%s %s\n", name, m.labels, formatFloat(h.sum))
	m.printf("%s_count%s %d\n", name, m.labels, h.count)
}

// withLabel returns the writer's labels plus one more.
func (m *metricsWriter) withLabel(name, value string) string {
	l := name + `="` + value + `"`
	if m.labels == "" {
		return "{" + l + "}"
	}
	return strings.TrimSuffix(m.labels, "}") + "," + l + "}"
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// escapeLabel escapes a label value for the text format.
func escapeLabel(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}
