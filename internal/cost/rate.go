package cost

import (
	"math"
	"sort"
	"time"
)

// Sample is a reading of a cumulative token count at a moment.
type Sample struct {
	At    time.Time
	Total float64
}

// PeakRate is the highest average rate, in tokens per second, over any stretch at least bucket long that
// starts and ends on a sample. For each sample it takes the first later sample at least bucket away and
// divides the tokens counted between them by the time between them; the highest of those is the peak.
// Measuring over a whole bucket, not between neighbouring samples, keeps one short scrape interval (a
// burst, or two scrapes close together) from passing for the deployment's capacity. With bucket ≤ 0 every
// pair of neighbouring samples is a stretch. When the samples span less than one bucket, the average over
// all of them is returned, the best estimate they allow; fewer than two samples give 0.
//
// Samples need not be sorted. Totals may come from counters that reset: a drop between neighbouring
// samples is read as a reset, as Counters does, and negative, NaN or infinite totals are skipped.
func PeakRate(samples []Sample, bucket time.Duration) float64 {
	ss := make([]Sample, 0, len(samples))
	for _, s := range samples {
		if s.Total >= 0 && !math.IsInf(s.Total, 1) {
			ss = append(ss, s)
		}
	}
	if len(ss) < 2 {
		return 0
	}
	sort.SliceStable(ss, func(a, b int) bool { return ss[a].At.Before(ss[b].At) })

	// counted[k] is the tokens counted from ss[0] to ss[k], resets allowed for.
	counted := make([]float64, len(ss))
	for k := 1; k < len(ss); k++ {
		inc := ss[k].Total - ss[k-1].Total
		if inc < 0 {
			inc = ss[k].Total
		}
		counted[k] = counted[k-1] + inc
	}
	rate := func(i, j int) float64 {
		return (counted[j] - counted[i]) / ss[j].At.Sub(ss[i].At).Seconds()
	}

	peak, found := 0.0, false
	j := 0
	for i := range ss {
		// j is the first sample at least bucket (and more than no time) after ss[i]; it only moves forward.
		for j < len(ss) && (!ss[j].At.After(ss[i].At) || ss[j].At.Sub(ss[i].At) < bucket) {
			j++
		}
		if j == len(ss) {
			break
		}
		peak, found = math.Max(peak, rate(i, j)), true
	}
	if !found {
		last := len(ss) - 1
		if !ss[last].At.After(ss[0].At) {
			return 0
		}
		return finite(rate(0, last))
	}
	return finite(peak)
}
