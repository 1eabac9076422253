package cost

import (
	"math"
	"time"
)

// Usage is what one LLMDeployment (or one API key of its gateway) used over a window.
type Usage struct {
	// GPUSeconds is the GPU time held in the window (see GPUSeconds).
	GPUSeconds float64
	// Dollars is what that GPU time cost (see Cost).
	Dollars float64
	// InputTokens and OutputTokens are the prompt and generated tokens served in the window.
	InputTokens, OutputTokens float64
	// Window is the length of the window.
	Window time.Duration
}

// Verdict says how self-hosting compared with an API over the window.
type Verdict string

const (
	// VerdictCheaper: self-hosting cost strictly less than the API would have for the same tokens.
	VerdictCheaper Verdict = "cheaper"
	// VerdictDearer: self-hosting cost as much as the API would have, or more.
	VerdictDearer Verdict = "dearer"
	// VerdictNoTraffic: no tokens were served, so there is nothing to compare.
	VerdictNoTraffic Verdict = "no-traffic"
)

// DefaultInputShare is the share of tokens assumed to be input when no tokens have been seen yet, for
// break-even figures: 0.75, a 3:1 input:output mix, typical of chat and retrieval-augmented traffic where
// prompts carry context and answers are short.
const DefaultInputShare = 0.75

// APICost is what the window's tokens would have cost on one reference API.
type APICost struct {
	Name    string  `json:"name"`
	Dollars float64 `json:"dollars"`
	Verdict Verdict `json:"verdict"`
}

// BreakEven is the traffic at which the GPUs now held cost the same per day as one reference API would for
// that traffic; above it self-hosting is cheaper.
type BreakEven struct {
	Name         string  `json:"name"`
	TokensPerDay float64 `json:"tokensPerDay"`
	// Never is true when the API costs nothing at this mix while the GPUs cost something: no traffic makes
	// self-hosting cheaper. TokensPerDay is then 0.
	Never bool `json:"never,omitempty"`
}

// Summary is the cost report's derived figures. Every number is finite: where a ratio has no meaning the
// number is 0 and a flag says why.
type Summary struct {
	// Tokens is input plus output tokens in the window.
	Tokens float64 `json:"tokens"`
	// NoTokens is true when no tokens were served; DollarsPerMTok is then 0 and means nothing.
	NoTokens bool `json:"noTokens,omitempty"`
	// DollarsPerMTok is the self-hosted cost of a million tokens over the window.
	DollarsPerMTok float64 `json:"dollarsPerMTok"`
	// TokensPerSecond is the average rate served over the window (0 for an empty window).
	TokensPerSecond float64 `json:"tokensPerSecond"`
	// Utilization is TokensPerSecond over the peak rate, in [0, 1]; 0 when the peak is unknown (0).
	Utilization float64 `json:"utilization"`
	// DollarsPerDay is what the GPUs held now cost per day: GPUs × hourly price × 24.
	DollarsPerDay float64 `json:"dollarsPerDay"`
	// InputShare is the share of tokens that are input, as used for break-even figures.
	InputShare float64 `json:"inputShare"`
	// DefaultMix is true when no tokens were seen and InputShare is DefaultInputShare, not observed.
	DefaultMix bool `json:"defaultMix,omitempty"`
	// APIEquivalent is, for each reference API in the order of Prices.APIs, what the window's tokens would
	// have cost there and how self-hosting compares.
	APIEquivalent []APICost `json:"apiEquivalent,omitempty"`
	// BreakEvenTokensPerDay is, for each reference API in the same order, the traffic at which the GPUs
	// held now cost the same as the API would.
	BreakEvenTokensPerDay []BreakEven `json:"breakEvenTokensPerDay,omitempty"`
}

// Summarize derives the report's figures from a window's usage. currentGPUs and currentHourly (dollars per
// GPU-hour) describe the GPUs held now, for break-even: the question is what traffic would pay for what is
// running, not for what ran. peakTokensPerSecond is the best rate seen (see PeakRate), for utilization.
//
// Negative, NaN and infinite inputs are read as 0, so that one bad figure cannot turn the report into NaN.
func Summarize(u Usage, prices Prices, currentGPUs int, currentHourly float64, peakTokensPerSecond float64) Summary {
	in, out := amount(u.InputTokens), amount(u.OutputTokens)
	dollars := amount(u.Dollars)
	s := Summary{Tokens: in + out}
	s.NoTokens = s.Tokens == 0

	if !s.NoTokens {
		s.DollarsPerMTok = finite(dollars / s.Tokens * 1e6)
		s.InputShare = in / s.Tokens
	} else {
		s.InputShare, s.DefaultMix = DefaultInputShare, true
	}
	if secs := u.Window.Seconds(); secs > 0 {
		s.TokensPerSecond = finite(s.Tokens / secs)
	}
	if peak := amount(peakTokensPerSecond); peak > 0 {
		s.Utilization = math.Min(1, s.TokensPerSecond/peak)
	}
	s.DollarsPerDay = finite(float64(max(currentGPUs, 0)) * amount(currentHourly) * 24)

	for _, api := range prices.APIs {
		inPrice, outPrice := amount(api.InputPerMTok), amount(api.OutputPerMTok)
		c := APICost{Name: api.Name, Dollars: finite(in/1e6*inPrice + out/1e6*outPrice)}
		switch {
		case s.NoTokens:
			c.Verdict = VerdictNoTraffic
		case dollars < c.Dollars:
			c.Verdict = VerdictCheaper
		default:
			c.Verdict = VerdictDearer
		}
		s.APIEquivalent = append(s.APIEquivalent, c)
		s.BreakEvenTokensPerDay = append(s.BreakEvenTokensPerDay, breakEven(api.Name, s.DollarsPerDay, s.InputShare, inPrice, outPrice))
	}
	return s
}

// breakEven is the tokens per day at which perDay dollars buy as much on the API as the GPUs cost, with a
// share inputShare of the tokens priced as input: perDay ÷ (dollars per token at that mix).
func breakEven(name string, perDay, inputShare, inPerMTok, outPerMTok float64) BreakEven {
	perToken := (inputShare*inPerMTok + (1-inputShare)*outPerMTok) / 1e6
	switch {
	case perDay == 0:
		return BreakEven{Name: name} // the GPUs cost nothing: any traffic breaks even
	case perToken == 0:
		return BreakEven{Name: name, Never: true}
	default:
		return BreakEven{Name: name, TokensPerDay: finite(perDay / perToken)}
	}
}

// amount is x as a non-negative finite quantity: negative, NaN and infinite inputs count as 0.
func amount(x float64) float64 {
	if x > 0 && !math.IsInf(x, 1) {
		return x
	}
	return 0
}

// finite guards an output against overflow to ±Inf (and NaN), which JSON cannot carry.
func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}
