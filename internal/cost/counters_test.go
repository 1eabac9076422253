package cost_test

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/privatellm/privatellm/internal/cost"
)

func TestCountersObserve(t *testing.T) {
	type obs struct {
		value float64
		start cost.Start
		want  float64 // delta
	}
	cases := []struct {
		name string
		seq  []obs
	}{
		{"a series already counting is a baseline, then grows", []obs{
			{100, cost.Baseline, 0}, {150, cost.Baseline, 50}, {150, cost.Baseline, 0}, {151.5, cost.Baseline, 1.5},
		}},
		{"a series new since tracking began counts from zero", []obs{
			{100, cost.FromZero, 100}, {130, cost.FromZero, 30},
		}},
		{"reset mid-series: the value after the drop is what was counted since the restart", []obs{
			{100, cost.Baseline, 0}, {250, cost.Baseline, 150}, {40, cost.Baseline, 40}, {70, cost.Baseline, 30},
		}},
		{"reset to exactly 0, then growth", []obs{
			{100, cost.Baseline, 0}, {0, cost.Baseline, 0}, {5, cost.Baseline, 5},
		}},
		{"start is ignored once the series is known", []obs{
			{100, cost.Baseline, 0}, {120, cost.FromZero, 20},
		}},
		{"invalid readings give 0 and leave the series as it was", []obs{
			{100, cost.Baseline, 0}, {math.NaN(), cost.Baseline, 0}, {-1, cost.Baseline, 0},
			{math.Inf(1), cost.Baseline, 0}, {120, cost.Baseline, 20},
		}},
		{"an invalid first reading does not make the series known", []obs{
			{math.NaN(), cost.FromZero, 0}, {50, cost.FromZero, 50},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c cost.Counters
			for i, o := range tc.seq {
				if got := c.Observe("s", o.value, at(float64(i)), o.start); !near(got, o.want) {
					t.Errorf("observation %d (%v): delta = %v, want %v", i, o.value, got, o.want)
				}
			}
		})
	}
}

func TestCountersSeriesAreSeparate(t *testing.T) {
	var c cost.Counters
	a, b := cost.SeriesKey("uid-a", "prompt"), cost.SeriesKey("uid-b", "prompt")
	c.Observe(a, 100, at(0), cost.Baseline)
	c.Observe(b, 500, at(0), cost.Baseline)
	// a drop in b is b's reset, not a's.
	if got := c.Observe(b, 20, at(1), cost.Baseline); got != 20 {
		t.Errorf("b after reset: delta = %v, want 20", got)
	}
	if got := c.Observe(a, 110, at(1), cost.Baseline); got != 10 {
		t.Errorf("a: delta = %v, want 10", got)
	}
	if c.Len() != 2 {
		t.Errorf("Len = %d, want 2", c.Len())
	}
}

func TestCountersForget(t *testing.T) {
	cases := []struct {
		name      string
		reseen    float64
		start     cost.Start
		wantDelta float64
	}{
		// Forgotten at 300, the series comes back at 320: as Baseline its earlier counts are not taken
		// again (at the price of the 20 counted while it was forgotten) …
		{"forgotten and re-seen as Baseline starts anew at 0", 320, cost.Baseline, 0},
		// … and as FromZero the whole value is taken, which is right only for a truly new series.
		{"forgotten and re-seen as FromZero takes the whole value", 320, cost.FromZero, 320},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c cost.Counters
			c.Observe("gone", 100, at(0), cost.Baseline)
			c.Observe("gone", 300, at(1), cost.Baseline)
			c.Observe("kept", 7, at(1), cost.Baseline)
			c.Forget("gone")
			c.Forget("never-seen") // forgetting an unknown series is harmless
			if c.Len() != 1 {
				t.Fatalf("Len after Forget = %d, want 1", c.Len())
			}
			if got := c.Observe("gone", tc.reseen, at(2), tc.start); got != tc.wantDelta {
				t.Errorf("re-seen: delta = %v, want %v", got, tc.wantDelta)
			}
			if got := c.Observe("gone", tc.reseen+5, at(3), cost.Baseline); got != 5 {
				t.Errorf("after re-seen: delta = %v, want 5", got)
			}
			if got := c.Observe("kept", 9, at(3), cost.Baseline); got != 2 {
				t.Errorf("other series: delta = %v, want 2", got)
			}
		})
	}
}

func TestCountersSweep(t *testing.T) {
	var c cost.Counters
	c.Observe("b", 1, at(1), cost.Baseline)
	c.Observe("a", 1, at(1), cost.Baseline)
	c.Observe("c", 1, at(2), cost.Baseline)
	c.Observe("d", 1, at(3), cost.Baseline)
	c.Observe("b", 2, at(3), cost.Baseline) // b seen again: kept
	c.Observe("d", math.NaN(), at(9), cost.Baseline)

	steps := []struct {
		seenBefore time.Time
		want       []string
		wantLen    int
	}{
		{at(1), nil, 4},                  // strictly before: seen at 1h is kept
		{at(2.5), []string{"a", "c"}, 2}, // sorted
		{at(2.5), nil, 2},                // nothing left to sweep
		{at(4), []string{"b", "d"}, 0},   // an invalid reading does not count as seen
	}
	for i, s := range steps {
		got := c.Sweep(s.seenBefore)
		if !reflect.DeepEqual(got, s.want) || c.Len() != s.wantLen {
			t.Errorf("step %d: Sweep = %q, Len = %d; want %q, %d", i, got, c.Len(), s.want, s.wantLen)
		}
	}
	// A swept series re-seen as Baseline starts anew.
	if got := c.Observe("a", 50, at(5), cost.Baseline); got != 0 {
		t.Errorf("swept and re-seen: delta = %v, want 0", got)
	}
}
