package cost_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/privatellm/privatellm/internal/cost"
)

// t0 starts every test window; at(h) is h hours after it.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }

const hour = 3600.0 // seconds

func TestGPUSeconds(t *testing.T) {
	// Every case uses the window [0h, 10h) unless it says otherwise.
	from, to := at(0), at(10)
	var running time.Time // zero End: still running

	cases := []struct {
		name     string
		spans    []cost.Span
		from, to time.Time
		want     float64
	}{
		{name: "none", want: 0},
		{name: "starts before the window, ends inside: 2 GPUs × 3h",
			spans: []cost.Span{{Pod: "a", GPUs: 2, Start: at(-2), End: at(3)}}, want: 2 * 3 * hour},
		{name: "starts inside, still running: 1 GPU × 6h until the window's end",
			spans: []cost.Span{{Pod: "a", GPUs: 1, Start: at(4), End: running}}, want: 6 * hour},
		{name: "starts before, still running: the whole window",
			spans: []cost.Span{{Pod: "a", GPUs: 4, Start: at(-100), End: running}}, want: 4 * 10 * hour},
		{name: "starts inside, ends after the window: clipped at the end",
			spans: []cost.Span{{Pod: "a", GPUs: 1, Start: at(7), End: at(12)}}, want: 3 * hour},
		{name: "entirely before or after the window counts nothing",
			spans: []cost.Span{
				{Pod: "a", GPUs: 1, Start: at(-5), End: at(-1)},
				{Pod: "b", GPUs: 1, Start: at(11), End: running},
			}, want: 0},
		{name: "the window is half-open: ending at from or starting at to counts nothing",
			spans: []cost.Span{
				{Pod: "a", GPUs: 1, Start: at(-5), End: at(0)},
				{Pod: "b", GPUs: 1, Start: at(10), End: at(11)},
			}, want: 0},
		{name: "two pods overlapping add up: 1 GPU × 6h + 1 GPU × 6h",
			spans: []cost.Span{
				{Pod: "a", GPUs: 1, Start: at(0), End: at(6)},
				{Pod: "b", GPUs: 1, Start: at(4), End: running},
			}, want: 12 * hour},
		{name: "same UID seen twice, running then finished: counted once, the union 1h to 10h",
			spans: []cost.Span{
				{Pod: "a", GPUs: 1, Start: at(1), End: running},
				{Pod: "a", GPUs: 1, Start: at(1), End: at(8)},
			}, want: 9 * hour},
		{name: "same UID, overlapping records: union 1h to 8h × 2 GPUs",
			spans: []cost.Span{
				{Pod: "a", GPUs: 2, Start: at(1), End: at(5)},
				{Pod: "a", GPUs: 2, Start: at(3), End: at(8)},
			}, want: 2 * 7 * hour},
		{name: "same UID, identical records: counted once",
			spans: []cost.Span{
				{Pod: "a", GPUs: 1, Start: at(2), End: at(4)},
				{Pod: "a", GPUs: 1, Start: at(2), End: at(4)},
				{Pod: "a", GPUs: 1, Start: at(2), End: at(4)},
			}, want: 2 * hour},
		{name: "same UID with a gap: both stretches, not the gap",
			spans: []cost.Span{
				{Pod: "a", GPUs: 1, Start: at(1), End: at(2)},
				{Pod: "a", GPUs: 1, Start: at(4), End: at(5)},
			}, want: 2 * hour},
		{name: "same UID disagreeing on GPUs: the larger count over the overlap, never the sum",
			spans: []cost.Span{
				{Pod: "a", GPUs: 1, Start: at(0), End: at(4)},
				{Pod: "a", GPUs: 2, Start: at(2), End: at(6)},
			}, want: 1*2*hour + 2*4*hour}, // 0h–2h at 1 GPU, 2h–6h at 2 GPUs
		{name: "same UID merged while another pod adds up",
			spans: []cost.Span{
				{Pod: "a", GPUs: 1, Start: at(0), End: at(5)},
				{Pod: "b", GPUs: 1, Start: at(0), End: at(5)},
				{Pod: "a", GPUs: 1, Start: at(0), End: running},
			}, want: 10*hour + 5*hour},
		{name: "empty UIDs are not merged",
			spans: []cost.Span{
				{GPUs: 1, Start: at(0), End: at(5)},
				{GPUs: 1, Start: at(0), End: at(5)},
			}, want: 10 * hour},
		{name: "no GPUs and impossible records are ignored",
			spans: []cost.Span{
				{Pod: "a", GPUs: 0, Start: at(0), End: running},
				{Pod: "b", GPUs: -1, Start: at(0), End: running},
				{Pod: "c", GPUs: 1, Start: at(5), End: at(3)},
			}, want: 0},
		{name: "inverted window counts nothing",
			spans: []cost.Span{{Pod: "a", GPUs: 1, Start: at(0), End: running}},
			from:  at(10), to: at(0), want: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, e := from, to
			if !tc.from.IsZero() {
				f, e = tc.from, tc.to
			}
			if got := cost.GPUSeconds(tc.spans, f, e); !near(got, tc.want) {
				t.Errorf("GPUSeconds = %v (%v GPU-h), want %v (%v GPU-h)", got, got/hour, tc.want, tc.want/hour)
			}
		})
	}
}

func TestCost(t *testing.T) {
	from, to := at(0), at(10)
	prices := cost.Prices{GPUHourly: map[string]float64{"NVIDIA-L4": 0.80, "NVIDIA-H100-80GB-HBM3": 4}}
	withDefault := prices
	withDefault.DefaultGPUHourly = 1

	cases := []struct {
		name         string
		spans        []cost.Span
		prices       cost.Prices
		wantDollars  float64
		wantUnpriced []string
	}{
		{name: "priced products: 2 L4 × 10h × $0.80 + 1 H100 × 5h × $4 = $16 + $20",
			spans: []cost.Span{
				{Pod: "a", GPUs: 2, Product: "NVIDIA-L4", Start: at(-1)},
				{Pod: "b", GPUs: 1, Product: "NVIDIA-H100-80GB-HBM3", Start: at(5)},
			}, prices: prices, wantDollars: 36},
		{name: "unpriced products are reported, sorted and unique, and not priced at 0 in silence",
			spans: []cost.Span{
				{Pod: "a", GPUs: 2, Product: "NVIDIA-L4", Start: at(0), End: at(10)}, // $16
				{Pod: "b", GPUs: 1, Product: "Tesla-T4", Start: at(0), End: at(1)},
				{Pod: "c", GPUs: 1, Product: "NVIDIA-A10G", Start: at(0), End: at(1)},
				{Pod: "d", GPUs: 1, Product: "Tesla-T4", Start: at(2), End: at(3)},
			}, prices: prices, wantDollars: 16, wantUnpriced: []string{"NVIDIA-A10G", "Tesla-T4"}},
		{name: "a product with no time in the window is not reported",
			spans: []cost.Span{
				{Pod: "a", GPUs: 1, Product: "Tesla-T4", Start: at(-3), End: at(-1)},
			}, prices: prices, wantDollars: 0},
		{name: "the default prices unlisted products: 1 A10G × 3h × $1",
			spans: []cost.Span{
				{Pod: "a", GPUs: 1, Product: "NVIDIA-A10G", Start: at(7), End: at(12)},
			}, prices: withDefault, wantDollars: 3},
		{name: "same UID twice is paid once: 1 H100 × 10h × $4",
			spans: []cost.Span{
				{Pod: "a", GPUs: 1, Product: "NVIDIA-H100-80GB-HBM3", Start: at(0)},
				{Pod: "a", GPUs: 1, Product: "NVIDIA-H100-80GB-HBM3", Start: at(0), End: at(6)},
			}, prices: prices, wantDollars: 40},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dollars, unpriced := cost.Cost(tc.spans, tc.prices, from, to)
			if !near(dollars, tc.wantDollars) {
				t.Errorf("dollars = %v, want %v", dollars, tc.wantDollars)
			}
			if !reflect.DeepEqual(unpriced, tc.wantUnpriced) {
				t.Errorf("unpriced = %q, want %q", unpriced, tc.wantUnpriced)
			}
		})
	}
}
