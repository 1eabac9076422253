package cost_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/privatellm/privatellm/internal/cost"
)

// refAPIs are the reference APIs of the summary tests.
var refAPIs = cost.Prices{APIs: []cost.APIPrice{
	{Name: "big", InputPerMTok: 3, OutputPerMTok: 15},
	{Name: "small", InputPerMTok: 0.15, OutputPerMTok: 0.60},
	{Name: "free", InputPerMTok: 0, OutputPerMTok: 0},
}}

// day is a day's usage of 2 GPUs at $2.50/h: 2 × 2.50 × 24 = $120, with 40M input + 10M output tokens.
var day = cost.Usage{
	GPUSeconds:   2 * 24 * hour,
	Dollars:      120,
	InputTokens:  40e6,
	OutputTokens: 10e6,
	Window:       24 * time.Hour,
}

func TestSummarize(t *testing.T) {
	idle := day
	idle.InputTokens, idle.OutputTokens = 0, 0

	cases := []struct {
		name         string
		usage        cost.Usage
		gpus         int
		hourly, peak float64
		want         cost.Summary
	}{
		{
			// $120 / 50M tokens = $2.40 per Mtok. 50M tokens / 86,400 s = 578.7037 tok/s, over a peak of
			// 1,000 tok/s = 0.5787 utilization. The mix is 40M:10M, an input share of 0.8.
			// big:   40 × $3 + 10 × $15 = $120 + $150 = $270 > $120: cheaper.
			//        Break-even: $120/day ÷ ((0.8 × 3 + 0.2 × 15) / 1e6 = $5.4e-6 per token) = 22,222,222 tok/day.
			// small: 40 × $0.15 + 10 × $0.60 = $6 + $6 = $12 < $120: dearer.
			//        Break-even: $120 ÷ ((0.8 × 0.15 + 0.2 × 0.60) / 1e6 = $0.24e-6) = 500,000,000 tok/day.
			// free:  $0: dearer, and no traffic ever breaks even.
			name: "worked day", usage: day, gpus: 2, hourly: 2.5, peak: 1000,
			want: cost.Summary{
				Tokens: 50e6, DollarsPerMTok: 2.40, TokensPerSecond: 50e6 / 86400.0, Utilization: 50e6 / 86400.0 / 1000,
				DollarsPerDay: 120, InputShare: 0.8,
				APIEquivalent: []cost.APICost{
					{Name: "big", Dollars: 270, Verdict: cost.VerdictCheaper},
					{Name: "small", Dollars: 12, Verdict: cost.VerdictDearer},
					{Name: "free", Dollars: 0, Verdict: cost.VerdictDearer},
				},
				BreakEvenTokensPerDay: []cost.BreakEven{
					{Name: "big", TokensPerDay: 120 / 5.4e-6},
					{Name: "small", TokensPerDay: 500e6},
					{Name: "free", Never: true},
				},
			},
		},
		{
			// No tokens: no $/Mtok, no verdict, and break-even at the default 3:1 mix (input share 0.75):
			// big:   $120 ÷ ((0.75 × 3 + 0.25 × 15) / 1e6 = $6e-6) = 20,000,000 tok/day.
			// small: $120 ÷ ((0.75 × 0.15 + 0.25 × 0.60) / 1e6 = $0.2625e-6) = 457,142,857 tok/day.
			name: "zero tokens: break-even with the default mix", usage: idle, gpus: 2, hourly: 2.5, peak: 1000,
			want: cost.Summary{
				NoTokens: true, DollarsPerDay: 120, InputShare: 0.75, DefaultMix: true,
				APIEquivalent: []cost.APICost{
					{Name: "big", Verdict: cost.VerdictNoTraffic},
					{Name: "small", Verdict: cost.VerdictNoTraffic},
					{Name: "free", Verdict: cost.VerdictNoTraffic},
				},
				BreakEvenTokensPerDay: []cost.BreakEven{
					{Name: "big", TokensPerDay: 20e6},
					{Name: "small", TokensPerDay: 120 / 0.2625e-6},
					{Name: "free", Never: true},
				},
			},
		},
		{
			name: "zero peak: utilization 0, the rate still reported", usage: day, gpus: 2, hourly: 2.5, peak: 0,
			want: cost.Summary{
				Tokens: 50e6, DollarsPerMTok: 2.40, TokensPerSecond: 50e6 / 86400.0, Utilization: 0,
				DollarsPerDay: 120, InputShare: 0.8,
				APIEquivalent: []cost.APICost{
					{Name: "big", Dollars: 270, Verdict: cost.VerdictCheaper},
					{Name: "small", Dollars: 12, Verdict: cost.VerdictDearer},
					{Name: "free", Dollars: 0, Verdict: cost.VerdictDearer},
				},
				BreakEvenTokensPerDay: []cost.BreakEven{
					{Name: "big", TokensPerDay: 120 / 5.4e-6},
					{Name: "small", TokensPerDay: 500e6},
					{Name: "free", Never: true},
				},
			},
		},
		{
			// 578.7 tok/s over a peak of 100 tok/s is clipped to 1. With no GPUs held now the daily cost is 0
			// and any traffic breaks even, even against a free API.
			name: "utilization clipped to 1, no GPUs now", usage: day, gpus: 0, hourly: 2.5, peak: 100,
			want: cost.Summary{
				Tokens: 50e6, DollarsPerMTok: 2.40, TokensPerSecond: 50e6 / 86400.0, Utilization: 1,
				DollarsPerDay: 0, InputShare: 0.8,
				APIEquivalent: []cost.APICost{
					{Name: "big", Dollars: 270, Verdict: cost.VerdictCheaper},
					{Name: "small", Dollars: 12, Verdict: cost.VerdictDearer},
					{Name: "free", Dollars: 0, Verdict: cost.VerdictDearer},
				},
				BreakEvenTokensPerDay: []cost.BreakEven{{Name: "big"}, {Name: "small"}, {Name: "free"}},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := cost.Summarize(tc.usage, refAPIs, tc.gpus, tc.hourly, tc.peak)
			checkSummary(t, got, tc.want)
		})
	}
}

func TestSummarizeVerdictTie(t *testing.T) {
	// Self-hosting at exactly the API's $270 is not cheaper.
	u := day
	u.Dollars = 270
	got := cost.Summarize(u, cost.Prices{APIs: refAPIs.APIs[:1]}, 2, 2.5, 1000)
	if v := got.APIEquivalent[0].Verdict; v != cost.VerdictDearer {
		t.Errorf("verdict at a tie = %q, want %q", v, cost.VerdictDearer)
	}
}

func TestSummarizeIsAlwaysFinite(t *testing.T) {
	cases := []struct {
		name         string
		usage        cost.Usage
		gpus         int
		hourly, peak float64
		prices       cost.Prices
	}{
		{"all zero", cost.Usage{}, 0, 0, 0, refAPIs},
		{"NaN and Inf inputs", cost.Usage{Dollars: math.NaN(), InputTokens: math.Inf(1), OutputTokens: math.NaN(), Window: time.Hour},
			2, math.Inf(1), math.NaN(), refAPIs},
		{"negative inputs", cost.Usage{Dollars: -5, InputTokens: -1, OutputTokens: 10, Window: -time.Hour},
			-3, -2, -1, cost.Prices{APIs: []cost.APIPrice{{"neg", -3, math.NaN()}}}},
		{"overflowing figures", cost.Usage{Dollars: math.MaxFloat64, InputTokens: math.SmallestNonzeroFloat64, Window: time.Nanosecond},
			math.MaxInt, math.MaxFloat64, math.SmallestNonzeroFloat64, cost.Prices{APIs: []cost.APIPrice{{"tiny", math.SmallestNonzeroFloat64, 0}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := cost.Summarize(tc.usage, tc.prices, tc.gpus, tc.hourly, tc.peak)
			// encoding/json refuses NaN and ±Inf, so a clean marshal proves every figure is finite.
			if _, err := json.Marshal(s); err != nil {
				t.Fatalf("Summary does not marshal: %v (%+v)", err, s)
			}
			if s.Utilization < 0 || s.Utilization > 1 {
				t.Errorf("Utilization = %v, want it in [0, 1]", s.Utilization)
			}
			if s.InputShare < 0 || s.InputShare > 1 {
				t.Errorf("InputShare = %v, want it in [0, 1]", s.InputShare)
			}
		})
	}
}

// checkSummary compares two summaries, floats to a part in a billion.
func checkSummary(t *testing.T, got, want cost.Summary) {
	t.Helper()
	floats := []struct {
		field     string
		got, want float64
	}{
		{"Tokens", got.Tokens, want.Tokens},
		{"DollarsPerMTok", got.DollarsPerMTok, want.DollarsPerMTok},
		{"TokensPerSecond", got.TokensPerSecond, want.TokensPerSecond},
		{"Utilization", got.Utilization, want.Utilization},
		{"DollarsPerDay", got.DollarsPerDay, want.DollarsPerDay},
		{"InputShare", got.InputShare, want.InputShare},
	}
	for _, f := range floats {
		if !near(f.got, f.want) {
			t.Errorf("%s = %v, want %v", f.field, f.got, f.want)
		}
	}
	if got.NoTokens != want.NoTokens || got.DefaultMix != want.DefaultMix {
		t.Errorf("NoTokens, DefaultMix = %v, %v; want %v, %v", got.NoTokens, got.DefaultMix, want.NoTokens, want.DefaultMix)
	}
	if len(got.APIEquivalent) != len(want.APIEquivalent) {
		t.Fatalf("APIEquivalent = %+v, want %+v", got.APIEquivalent, want.APIEquivalent)
	}
	for i, w := range want.APIEquivalent {
		g := got.APIEquivalent[i]
		if g.Name != w.Name || g.Verdict != w.Verdict || !near(g.Dollars, w.Dollars) {
			t.Errorf("APIEquivalent[%d] = %+v, want %+v", i, g, w)
		}
	}
	if len(got.BreakEvenTokensPerDay) != len(want.BreakEvenTokensPerDay) {
		t.Fatalf("BreakEvenTokensPerDay = %+v, want %+v", got.BreakEvenTokensPerDay, want.BreakEvenTokensPerDay)
	}
	for i, w := range want.BreakEvenTokensPerDay {
		g := got.BreakEvenTokensPerDay[i]
		if g.Name != w.Name || g.Never != w.Never || !near(g.TokensPerDay, w.TokensPerDay) {
			t.Errorf("BreakEvenTokensPerDay[%d] = %+v, want %+v", i, g, w)
		}
	}
}
