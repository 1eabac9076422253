// Package cost does the arithmetic behind the operator's cost report: what self-hosting an LLMDeployment
// costs in GPU-hours and dollars, how many tokens it served, and how that compares with a hosted API's
// price per token.
//
// It knows nothing of Kubernetes or HTTP and never reads the clock: callers pass pods as Spans, counter
// readings as plain numbers, and every time explicitly, so each figure can be reproduced in a test.
// No function here returns NaN or ±Inf; where a ratio has no meaning (no tokens, no peak, no price) the
// result is 0 and a field or flag says why, because the figures end up in JSON status and in Prometheus.
package cost
