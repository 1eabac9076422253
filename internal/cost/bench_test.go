package cost_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/privatellm/privatellm/internal/cost"
)

// BenchmarkGPUSeconds measures a month's window over 1,000 spans, one in ten a second record of a pod
// already listed (the merge path), a third of them still running.
func BenchmarkGPUSeconds(b *testing.B) {
	from, to := t0, t0.Add(30*24*time.Hour)
	spans := make([]cost.Span, 1000)
	for i := range spans {
		pod := i
		if i%10 == 9 {
			pod = i - 5 // a second record of an earlier pod
		}
		s := cost.Span{
			Pod:     fmt.Sprintf("uid-%d", pod),
			GPUs:    1 + i%4,
			Product: "NVIDIA-L4",
			Start:   from.Add(time.Duration(i-100) * time.Hour),
		}
		if i%3 != 0 {
			s.End = s.Start.Add(time.Duration(1+i%48) * time.Hour)
		}
		spans[i] = s
	}
	b.ReportAllocs()
	for b.Loop() {
		cost.GPUSeconds(spans, from, to)
	}
}

// BenchmarkCountersObserve measures one observation of one of 1,000 tracked series.
func BenchmarkCountersObserve(b *testing.B) {
	var c cost.Counters
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = cost.SeriesKey(fmt.Sprintf("uid-%d", i), "vllm:prompt_tokens_total")
		c.Observe(keys[i], 0, t0, cost.Baseline)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Observe(keys[i%len(keys)], float64(i), t0.Add(time.Duration(i)), cost.Baseline)
		i++
	}
}
