// Package limit enforces requests-per-minute and tokens-per-minute limits for the gateway's API keys and models,
// so that they are never overshot.
//
// # Reserve, then settle
//
// Before the gateway forwards a request it calls [Limiter.Reserve] with every bucket that applies to the request
// (typically the API key's bucket and the model's bucket) and an estimate of the tokens the request can use: the
// prompt estimate plus max_tokens. Reserve charges one request and the estimate to every bucket, or, when any of
// them cannot take that, charges none of them: reservations are all-or-nothing. When the response is done the
// gateway calls [Reservation.Settle] with the real usage (prompt plus completion tokens from the engine's usage
// report), which gives back what was reserved but not used. [Reservation.Cancel] gives back the request and all
// its tokens, for a request that was never served.
//
// # The window
//
// A limit holds over a sliding window of 60 seconds: a request is admitted at time T only if, in every bucket, the
// charges made in (T-60s, T] plus the new one stay within the bucket's limit, for requests and for tokens. So no
// 60-second interval ever holds more than the limit. (A token bucket would not do: a full bucket plus its refill
// admits up to twice the limit within 60 s.) Settling only lowers a charge, so it cannot break that bound either;
// only debt (below) can.
//
// Each bucket keeps 61 one-second slots, each with the requests and tokens charged in that second and the time of
// its latest charge, and a slot counts in full until 60 s after its latest charge. A charge that is the latest of
// its second is therefore counted for exactly 60 s, and an earlier one of the same second for less than 1 s
// longer: the window may refuse up to a second early, but never admits too much. The slots make a bucket's memory
// fixed, about 1.5 KiB, whatever its limits (a log of single reservations would hold 100000 entries for a bucket
// with 100000 requests per minute, and be unbounded for one that limits only tokens), and keep Reserve at constant
// time. Charges are recorded whether or not a dimension is limited, so a limit that is set at runtime applies to
// the traffic already in the window.
//
// A refused request gets a RetryAfter: the earliest time at which it would fit, assuming nothing else is reserved
// or settled meanwhile, rounded up to whole seconds. A request whose estimate exceeds a bucket's whole
// TokensPerMinute never fits; it is refused with [Decision.TooLarge] instead.
//
// # Debt
//
// When a request uses more tokens than it reserved, Settle charges the excess, at the time of the Settle, to every
// bucket of the reservation, even if that takes a bucket over its limit: the tokens have been spent. Later
// requests then wait until the debt has left the window. The bound above holds as long as requests use no more
// than they reserve, which is what max_tokens ensures when the prompt estimate is not low.
//
// # Buckets
//
// Buckets are named by the caller, who passes each bucket's current [Limit] on every call, so limits can change
// at runtime; a call uses the limits it is given. Buckets are created on first use and forgotten once their window
// is empty: [Limiter.Sweep] forgets them, and Reserve sweeps by itself at most once a minute.
//
// # Replicas
//
// A Limiter knows only the requests of its own process. With several gateway replicas, each enforces its
// [Share] of every limit, so the total over the cluster never exceeds the limit (provided the limit is at least
// the number of replicas: a share is never below 1). The price is that one replica may refuse a request while
// others still have room, and that a request larger than a replica's share of TokensPerMinute is TooLarge even
// though the cluster-wide limit would allow it.
package limit

import (
	"net/http"
	"strconv"
	"time"
)

// Limit is the most a bucket may be charged within any 60 seconds. Zero (or less) means unlimited, for each
// dimension separately.
type Limit struct {
	// RequestsPerMinute limits the number of requests.
	RequestsPerMinute int64
	// TokensPerMinute limits the number of tokens, prompt and completion together.
	TokensPerMinute int64
}

// Bucket names one limit that a request is subject to, with the limit to enforce on this call.
type Bucket struct {
	// ID identifies the bucket within a Limiter (for example "key/" plus the key's name, or "model/" plus the
	// model's). Calls with the same ID share one window.
	ID string
	// Limit is the bucket's current limit.
	Limit Limit
}

// Share returns the part of l that each of replicas gateway replicas enforces: each limited dimension divided by
// replicas, rounded down, but at least 1. Unlimited dimensions stay unlimited, and replicas of 1 or less return l
// unchanged. The shares add up to at most l when l is at least replicas in each limited dimension.
func Share(l Limit, replicas int) Limit {
	if replicas <= 1 {
		return l
	}
	return Limit{
		RequestsPerMinute: share(l.RequestsPerMinute, replicas),
		TokensPerMinute:   share(l.TokensPerMinute, replicas),
	}
}

func share(v int64, replicas int) int64 {
	if v <= 0 {
		return v
	}
	return max(v/int64(replicas), 1)
}

// Decision is the outcome of a Reserve and what the gateway needs to answer with OpenAI-style rate limit headers.
//
// The header fields describe, for each dimension separately, the bucket with the least remaining among the
// buckets that limit that dimension; they are zero when no bucket limits it. When the request was admitted they
// include its own charge.
type Decision struct {
	// Allowed reports that the request was admitted and charged to every bucket.
	Allowed bool
	// TooLarge reports that the request was refused because its token estimate exceeds the TokensPerMinute of
	// the bucket named by Bucket: it will never be admitted, and retrying does not help.
	TooLarge bool
	// Bucket is the ID of the bucket that refused the request (of the one that makes it wait longest when several
	// refuse); empty when the request was admitted.
	Bucket string
	// RetryAfter is, for a request refused for lack of room, how long until it would fit: whole seconds, at least
	// one. Zero when the request was admitted or is TooLarge.
	RetryAfter time.Duration

	// LimitRequests is the tightest bucket's RequestsPerMinute (x-ratelimit-limit-requests).
	LimitRequests int64
	// RemainingRequests is how many more requests that bucket admits now (x-ratelimit-remaining-requests).
	RemainingRequests int64
	// ResetRequests is how long until all requests now in that bucket's window have left it
	// (x-ratelimit-reset-requests).
	ResetRequests time.Duration
	// LimitTokens is the tightest bucket's TokensPerMinute (x-ratelimit-limit-tokens).
	LimitTokens int64
	// RemainingTokens is how many more tokens that bucket admits now (x-ratelimit-remaining-tokens).
	RemainingTokens int64
	// ResetTokens is how long until all tokens now in that bucket's window have left it
	// (x-ratelimit-reset-tokens).
	ResetTokens time.Duration
}

// SetHeaders writes d as the OpenAI rate limit headers x-ratelimit-limit-requests, x-ratelimit-remaining-requests,
// x-ratelimit-reset-requests and their -tokens counterparts, leaving out those of a dimension that no bucket
// limits. Resets are written as Go durations rounded up to the millisecond ("1s", "6m0s", "59.5s"), as OpenAI
// does. A request refused for lack of room also gets Retry-After, in whole seconds.
func (d Decision) SetHeaders(h http.Header) {
	if d.LimitRequests > 0 {
		h.Set("X-Ratelimit-Limit-Requests", strconv.FormatInt(d.LimitRequests, 10))
		h.Set("X-Ratelimit-Remaining-Requests", strconv.FormatInt(d.RemainingRequests, 10))
		h.Set("X-Ratelimit-Reset-Requests", formatReset(d.ResetRequests))
	}
	if d.LimitTokens > 0 {
		h.Set("X-Ratelimit-Limit-Tokens", strconv.FormatInt(d.LimitTokens, 10))
		h.Set("X-Ratelimit-Remaining-Tokens", strconv.FormatInt(d.RemainingTokens, 10))
		h.Set("X-Ratelimit-Reset-Tokens", formatReset(d.ResetTokens))
	}
	if !d.Allowed && !d.TooLarge && d.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64(ceil(d.RetryAfter, time.Second)/time.Second), 10))
	}
}

func formatReset(d time.Duration) string {
	return ceil(max(d, 0), time.Millisecond).String()
}

// ceil rounds d (not negative) up to a multiple of unit.
func ceil(d, unit time.Duration) time.Duration {
	if r := d % unit; r != 0 {
		d += unit - r
	}
	return d
}
