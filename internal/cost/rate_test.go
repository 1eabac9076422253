package cost_test

import (
	"math"
	"testing"
	"time"

	"github.com/privatellm/privatellm/internal/cost"
)

// sec is the moment s seconds after t0.
func sec(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func TestPeakRate(t *testing.T) {
	cases := []struct {
		name    string
		samples []cost.Sample
		bucket  time.Duration
		want    float64
	}{
		{name: "no samples", want: 0},
		{name: "one sample", samples: []cost.Sample{{sec(0), 100}}, bucket: time.Minute, want: 0},
		{name: "steady 100 tok/s scraped every 15s",
			samples: []cost.Sample{{sec(0), 0}, {sec(15), 1500}, {sec(30), 3000}, {sec(45), 4500}, {sec(60), 6000}},
			bucket:  30 * time.Second, want: 100},
		{
			// 3,000 tokens between the 15s and 30s scrapes, none otherwise. Over a 60s bucket the best
			// stretch holds them all: 3,000 / 60 s = 50 tok/s, not the 200 tok/s of one scrape interval.
			name:    "a burst is averaged over the bucket",
			samples: []cost.Sample{{sec(0), 0}, {sec(15), 0}, {sec(30), 3000}, {sec(45), 3000}, {sec(60), 3000}, {sec(75), 3000}},
			bucket:  time.Minute, want: 50,
		},
		{
			name:    "bucket 0 takes neighbouring samples: 3,000 / 15 s",
			samples: []cost.Sample{{sec(0), 0}, {sec(15), 0}, {sec(30), 3000}, {sec(45), 3000}},
			bucket:  0, want: 200,
		},
		{
			// The stretch from 0s reaches the first sample at least 25s on, 30s: (600 + 300) / 30 s = 30;
			// from 10s it reaches 40s: (300 + 2100) / 30 s = 80.
			name:    "samples not on bucket edges stretch to the next sample",
			samples: []cost.Sample{{sec(0), 0}, {sec(10), 600}, {sec(30), 900}, {sec(40), 3000}},
			bucket:  25 * time.Second, want: 80,
		},
		{
			// 1,000 → 2,000 is 100 tok/s; the drop to 1,500 is a restart that counted 1,500: 150 tok/s.
			name:    "a drop is a counter reset",
			samples: []cost.Sample{{sec(0), 1000}, {sec(10), 2000}, {sec(20), 1500}},
			bucket:  10 * time.Second, want: 150,
		},
		{
			name:    "unsorted samples are sorted",
			samples: []cost.Sample{{sec(30), 3000}, {sec(0), 0}, {sec(15), 0}, {sec(45), 3000}},
			bucket:  0, want: 200,
		},
		{
			name:    "samples spanning less than a bucket give their average: 300 / 30 s",
			samples: []cost.Sample{{sec(0), 0}, {sec(10), 250}, {sec(30), 300}},
			bucket:  time.Minute, want: 10,
		},
		{
			name:    "samples all at one moment give 0",
			samples: []cost.Sample{{sec(5), 0}, {sec(5), 100}},
			bucket:  0, want: 0,
		},
		{
			name:    "invalid totals are skipped",
			samples: []cost.Sample{{sec(0), 0}, {sec(5), math.NaN()}, {sec(10), 1000}, {sec(15), math.Inf(1)}, {sec(20), -1}},
			bucket:  0, want: 100,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := cost.PeakRate(tc.samples, tc.bucket); !near(got, tc.want) {
				t.Errorf("PeakRate = %v, want %v", got, tc.want)
			}
		})
	}
}
