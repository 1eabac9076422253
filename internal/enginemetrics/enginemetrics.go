// Package enginemetrics reads inference engines' Prometheus pages: one bounded scraper and one parser (the standard
// Prometheus text parser) for the autoscaler, the gateway and cost reporting. Metric names come from the engine
// registry (internal/engine.Metrics); a signal lists every name an engine has given it and the first present wins.
package enginemetrics

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"

	"github.com/privatellm/privatellm/internal/engine"
)

// Bounds of one scrape.
const (
	// DefaultTimeout bounds a whole scrape, connection to last byte.
	DefaultTimeout = 2 * time.Second
	// MaxPageBytes bounds the page read: engines' pages are tens of KiB, a larger one is refused, not buffered.
	MaxPageBytes = 4 << 20
)

// ErrPageTooLarge is returned for a page over MaxPageBytes.
var ErrPageTooLarge = errors.New("metrics page larger than 4 MiB")

// Scraper fetches metrics pages. Its zero value is not usable; use NewScraper.
type Scraper struct {
	client *http.Client
}

// NewScraper returns a scraper whose requests each take at most timeout (DefaultTimeout when 0), with its own
// connection pool so that slow engines cannot hold the operator's API connections.
func NewScraper(timeout time.Duration) *Scraper {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tr := &http.Transport{
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: timeout,
		DisableCompression:    false,
	}
	return &Scraper{client: &http.Client{Timeout: timeout, Transport: tr}}
}

// Scrape fetches and parses one page. With names, only the families of those names are parsed (see ParseOnly).
func (s *Scraper) Scrape(ctx context.Context, url string, names ...string) (Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Page{}, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := s.client.Do(req)
	if err != nil {
		return Page{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return Page{}, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	body := io.LimitReader(resp.Body, MaxPageBytes+1)
	counted := &countingReader{r: body}
	p, err := ParseOnly(counted, names)
	if counted.n > MaxPageBytes {
		return Page{}, fmt.Errorf("GET %s: %w", url, ErrPageTooLarge)
	}
	if err != nil {
		return Page{}, fmt.Errorf("GET %s: %w", url, err)
	}
	return p, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// URL is where an engine pod exports its metrics: the container port named "metrics", else "http", on the
// pod's IP.
func URL(p *corev1.Pod) string {
	var port int32
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == "metrics" || (cp.Name == "http" && port == 0) {
				port = cp.ContainerPort
			}
		}
	}
	return "http://" + net.JoinHostPort(p.Status.PodIP, strconv.Itoa(int(port))) + "/metrics"
}

// Page is one parsed metrics page.
type Page struct {
	families map[string]*dto.MetricFamily
}

// Parse reads the Prometheus text exposition format.
func Parse(r io.Reader) (Page, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return Page{}, fmt.Errorf("parsing metrics: %w", err)
	}
	return Page{families: fams}, nil
}

// ParseOnly parses only the families of names (a family's own name, or its _sum, _count or _bucket series'
// base name) and skips every other line before parsing: engines export hundreds of series and a reader needs a
// handful. With no names it parses the whole page. Lines of other families are not checked.
func ParseOnly(r io.Reader, names []string) (Page, error) {
	if len(names) == 0 {
		return Parse(r)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
		want[baseName(n)] = true
	}
	var kept bytes.Buffer
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), MaxPageBytes)
	for sc.Scan() {
		line := sc.Bytes()
		name := line
		if rest, ok := bytes.CutPrefix(line, []byte("# ")); ok {
			_, rest, _ = bytes.Cut(rest, []byte(" ")) // HELP or TYPE
			name = rest
		}
		if i := bytes.IndexAny(name, "{ \t"); i >= 0 {
			name = name[:i]
		}
		if n := string(name); want[n] || want[baseName(n)] {
			kept.Write(line)
			kept.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		return Page{}, fmt.Errorf("reading metrics: %w", err)
	}
	return Parse(&kept)
}

// baseName strips a histogram's or summary's series suffix.
func baseName(n string) string {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if b, ok := strings.CutSuffix(n, suffix); ok {
			return b
		}
	}
	return n
}

// Names are every series name of an engine's metrics, for ParseOnly.
func Names(m engine.Metrics) []string {
	var out []string
	for _, l := range [][]string{m.RequestsRunning, m.RequestsWaiting, m.KVCacheUsage, m.PromptTokens, m.GenerationTokens,
		m.TimeToFirstToken, m.RequestLatency} {
		out = append(out, l...)
	}
	return out
}

// Has says whether the page has a series of that name: a family, or the _sum, _count or _bucket series of a
// histogram or summary.
func (p Page) Has(name string) bool {
	_, ok := p.Value(name)
	return ok
}

// Value is the sum over label sets of a gauge, counter or untyped series; for a name ending in _sum or _count, also
// the sum or count of a histogram or summary of the base name. NaN samples are skipped.
func (p Page) Value(name string) (float64, bool) {
	if _, ok := p.families[name]; ok {
		return p.ValueWith(name, nil)
	}
	for _, suffix := range []string{"_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		if h, ok := p.Histogram(base); ok {
			if suffix == "_sum" {
				return h.Sum, true
			}
			return h.Count, true
		}
	}
	return 0, false
}

// ValueWith is the sum of a gauge, counter or untyped series over the label sets that carry every label of
// match (e.g. one model's series on the gateway's page); false when the family is absent.
func (p Page) ValueWith(name string, match map[string]string) (float64, bool) {
	f, ok := p.families[name]
	if !ok {
		return 0, false
	}
	switch f.GetType() {
	case dto.MetricType_HISTOGRAM, dto.MetricType_SUMMARY, dto.MetricType_GAUGE_HISTOGRAM:
		return 0, false
	}
	sum := 0.0
	for _, m := range f.GetMetric() {
		if !hasLabels(m, match) {
			continue
		}
		var v float64
		switch {
		case m.Gauge != nil:
			v = m.Gauge.GetValue()
		case m.Counter != nil:
			v = m.Counter.GetValue()
		case m.Untyped != nil:
			v = m.Untyped.GetValue()
		}
		if !math.IsNaN(v) {
			sum += v
		}
	}
	return sum, true
}

// Each calls fn with the labels and value of every series of a gauge, counter or untyped family (NaN samples
// skipped), e.g. the gateway's token counter per key and model.
func (p Page) Each(name string, fn func(labels map[string]string, value float64)) {
	f, ok := p.families[name]
	if !ok {
		return
	}
	for _, m := range f.GetMetric() {
		var v float64
		switch {
		case m.Gauge != nil:
			v = m.Gauge.GetValue()
		case m.Counter != nil:
			v = m.Counter.GetValue()
		case m.Untyped != nil:
			v = m.Untyped.GetValue()
		default:
			continue
		}
		if math.IsNaN(v) {
			continue
		}
		labels := make(map[string]string, len(m.GetLabel()))
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		fn(labels, v)
	}
}

func hasLabels(m *dto.Metric, match map[string]string) bool {
	found := 0
	for _, l := range m.GetLabel() {
		if v, ok := match[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			found++
		}
	}
	return found == len(match)
}

// Histogram is a histogram summed over label sets.
type Histogram struct {
	// Sum and Count of the observations.
	Sum, Count float64
	// Buckets are the cumulative counts by upper bound (+Inf included when exposed).
	Buckets map[float64]float64
}

// Mean is Sum/Count, 0 without observations.
func (h Histogram) Mean() float64 {
	if h.Count == 0 {
		return 0
	}
	return h.Sum / h.Count
}

// Histogram reads a histogram by its base name: a typed histogram (or summary, without buckets) family, or the
// untyped _sum, _count and _bucket series of a page without TYPE lines.
func (p Page) Histogram(name string) (Histogram, bool) {
	h := Histogram{Buckets: map[float64]float64{}}
	if f, ok := p.families[name]; ok {
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			for _, m := range f.GetMetric() {
				h.Sum += m.GetHistogram().GetSampleSum()
				h.Count += float64(m.GetHistogram().GetSampleCount())
				for _, b := range m.GetHistogram().GetBucket() {
					h.Buckets[b.GetUpperBound()] += float64(b.GetCumulativeCount())
				}
			}
			return h, true
		case dto.MetricType_SUMMARY:
			for _, m := range f.GetMetric() {
				h.Sum += m.GetSummary().GetSampleSum()
				h.Count += float64(m.GetSummary().GetSampleCount())
			}
			return h, true
		}
		return Histogram{}, false
	}
	sum, okSum := p.families[name+"_sum"]
	count, okCount := p.families[name+"_count"]
	if !okSum || !okCount {
		return Histogram{}, false
	}
	h.Sum, _ = p.Value(sum.GetName())
	h.Count, _ = p.Value(count.GetName())
	if b, ok := p.families[name+"_bucket"]; ok {
		for _, m := range b.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() != "le" {
					continue
				}
				if bound, err := strconv.ParseFloat(l.GetValue(), 64); err == nil {
					h.Buckets[bound] += m.GetUntyped().GetValue()
				}
			}
		}
	}
	return h, true
}

// First is the value of the first of names on the page, and the name it was found under.
func (p Page) First(names []string) (float64, string, bool) {
	for _, n := range names {
		if v, ok := p.Value(n); ok {
			return v, n, true
		}
	}
	return 0, "", false
}

// Signal reads one of an engine's signals: the first of names present, or 0 when every one of names is a gauge
// the engine creates on first use (m.CreatedOnFirstUse) and the page — which parsed — has none of them yet.
func (p Page) Signal(names []string, m engine.Metrics) (float64, bool) {
	if len(names) == 0 {
		return 0, false
	}
	if v, _, ok := p.First(names); ok {
		return v, true
	}
	for _, n := range names {
		if !contains(m.CreatedOnFirstUse, n) {
			return 0, false
		}
	}
	return 0, true
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// Load is what one engine's page says of its load and work, by the engine's metric names.
type Load struct {
	// Running is the number of requests being generated; Waiting the queue depth.
	Running, Waiting float64
	// KVCache is the fraction of KV cache in use (0..1); HasKVCache is false when the engine exports none.
	KVCache    float64
	HasKVCache bool
	// PromptTokens and GenerationTokens are the engine's token counters (0 when it has none).
	PromptTokens, GenerationTokens float64
}

// ReadLoad reads an engine's load signals from a page. Running and Waiting must be present (or created on first
// use); an error names what is missing.
func ReadLoad(p Page, m engine.Metrics) (Load, error) {
	var l Load
	var ok bool
	if l.Running, ok = p.Signal(m.RequestsRunning, m); !ok {
		return Load{}, fmt.Errorf("the page has none of %v", m.RequestsRunning)
	}
	if l.Waiting, ok = p.Signal(m.RequestsWaiting, m); !ok {
		return Load{}, fmt.Errorf("the page has none of %v", m.RequestsWaiting)
	}
	l.KVCache, l.HasKVCache = p.Signal(m.KVCacheUsage, m)
	l.PromptTokens, _ = p.Signal(m.PromptTokens, m)
	l.GenerationTokens, _ = p.Signal(m.GenerationTokens, m)
	return l, nil
}
