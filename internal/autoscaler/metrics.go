// Package autoscaler decides how many replicas an LLMDeployment needs from what its engines report (queue depth,
// KV-cache use, requests in flight), with HPA-style stabilization windows. Parsing and deciding are pure functions;
// the controller in controllers/ scrapes the pods and writes the decision through the /scale subresource.
package autoscaler

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ParseMetrics reads the Prometheus text exposition format and returns, per metric name, the sum of its samples
// over all label sets. Histogram and summary series (_bucket, _sum, _count) are kept under their own names.
func ParseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest := line, ""
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		if strings.HasPrefix(rest, "{") {
			end := strings.LastIndex(rest, "}")
			if end < 0 {
				return nil, fmt.Errorf("metrics line %q: unterminated labels", line)
			}
			rest = rest[end+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return nil, fmt.Errorf("metrics line %q: no value", line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %w", line, err)
		}
		if math.IsNaN(v) {
			continue
		}
		out[name] += v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading metrics: %w", err)
	}
	return out, nil
}

// Signal returns the value of the first of names present in m: engines rename metrics (vLLM's
// vllm:gpu_cache_usage_perc became vllm:kv_cache_usage_perc), so a signal lists every name it has had.
func Signal(m map[string]float64, names []string) (float64, string, bool) {
	for _, n := range names {
		if v, ok := m[n]; ok {
			return v, n, true
		}
	}
	return 0, "", false
}
