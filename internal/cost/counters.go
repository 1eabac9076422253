package cost

import (
	"math"
	"sort"
	"time"
)

// Start says how to read the first observation of a series that Counters does not know.
type Start int

const (
	// Baseline: the series was counting before tracking began (a pod that predates the operator's start,
	// or one whose earlier readings were forgotten), so its first value is only a baseline and gives a
	// delta of 0. This is the safe choice when in doubt: it can miss counts, never count them twice.
	Baseline Start = iota
	// FromZero: the series began after tracking began (a pod created since), so every count in its first
	// value is new and the whole value is the delta.
	FromZero
)

// SeriesKey names a counter of one pod: its UID and the counter's name, e.g.
// SeriesKey(uid, "vllm:prompt_tokens_total"). Keying by UID, not pod name, keeps a replacement pod with the
// same name from being read as a reset of the old one.
func SeriesKey(podUID, counter string) string { return podUID + "/" + counter }

// Counters turns scraped cumulative counters (Prometheus counters of engine pods) into increments,
// allowing for resets: a pod's engine restarting sets its counters back to 0.
//
// The zero value is ready to use. It is not safe for concurrent use; guard it with a mutex if several
// goroutines observe.
type Counters struct {
	series map[string]reading
}

// reading is the last value of a series and when it was observed.
type reading struct {
	value float64
	at    time.Time
}

// Observe records value for series, observed at at, and returns how much the counter grew since the last
// observation: value-last when value >= last, and value itself when value < last, because a drop means
// the counter was reset and value is what was counted since the restart. For a series it does not know,
// start decides: Baseline gives 0, FromZero gives value.
//
// A negative, NaN or infinite value is not a counter reading; it gives 0 and leaves the series as it was.
func (c *Counters) Observe(series string, value float64, at time.Time, start Start) (delta float64) {
	if value < 0 || math.IsNaN(value) || math.IsInf(value, 0) {
		return 0
	}
	if c.series == nil {
		c.series = map[string]reading{}
	}
	last, known := c.series[series]
	c.series[series] = reading{value: value, at: at}
	switch {
	case !known && start == FromZero:
		return value
	case !known:
		return 0
	case value >= last.value:
		return value - last.value
	default:
		return value
	}
}

// Forget drops a series, for a pod that is gone. Observing it again starts it anew (see Start).
func (c *Counters) Forget(series string) { delete(c.series, series) }

// Sweep forgets every series last observed before seenBefore and returns their keys, sorted, so that
// memory stays bounded when pods vanish without the caller noticing. A swept series that comes back should
// be observed with Baseline: its counts up to the sweep were already taken.
func (c *Counters) Sweep(seenBefore time.Time) []string {
	var gone []string
	for key, r := range c.series {
		if r.at.Before(seenBefore) {
			gone = append(gone, key)
			delete(c.series, key)
		}
	}
	sort.Strings(gone)
	return gone
}

// Len is how many series are tracked.
func (c *Counters) Len() int { return len(c.series) }
