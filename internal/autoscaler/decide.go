// Package autoscaler decides how many replicas an LLMDeployment needs from what its engines report (queue depth,
// KV-cache use, requests in flight) and, for scale from zero, what the gateway reports (requests waiting and
// running), with HPA-style stabilization windows. Deciding is a pure function; the
// controller in controllers/autoscaler reads the metrics (internal/enginemetrics) and writes the decision through
// the /scale subresource.
package autoscaler

import (
	"fmt"
	"math"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/engine"
)

// tolerance keeps the replica count while the metric is within 10% of its target (as the HPA does), so that
// steady load does not flap.
const tolerance = 0.1

// maxHistory bounds the recommendations kept in status.
const maxHistory = 64

// Input is what one decision is made from.
type Input struct {
	// Spec is the autoscaling spec, defaults applied.
	Spec v1.AutoscalingSpec
	// Current is spec.replicas now.
	Current int32
	// Values holds the metric of each ready replica that could be scraped (KV cache as a fraction 0..1).
	Values []float64
	// ScrapeFailures counts the ready replicas whose metrics could not be read.
	ScrapeFailures int
	// History is the recommendations so far (status.autoscaling.recommendations).
	History []v1.Recommendation
	// Gateway is the model's load at the gateway; nil when there is no gateway to read.
	Gateway *GatewayLoad
	// Now is the time of the decision.
	Now time.Time
}

// GatewayLoad is what the gateway replicas report of one model.
type GatewayLoad struct {
	// Pending are requests waiting for a ready replica; InFlight are requests being answered.
	Pending, InFlight float64
	// Complete is false when some gateway replica could not be read: then the model is not scaled to zero.
	Complete bool
}

// Decision is the outcome.
type Decision struct {
	// Desired is the replica count to set.
	Desired int32
	// Raw is what the metrics alone ask for, before the stabilization windows.
	Raw int32
	// PerReplica is the metric's average over the scraped replicas (percent for KV cache).
	PerReplica float64
	// History is the updated recommendations.
	History []v1.Recommendation
	// Reason says why, in words.
	Reason string
}

// Decide computes the replica count. The raw recommendation is ceil(replicas × average / target), within 10% of
// the target nothing changes; unreadable replicas forbid a scale-down; a scale-up takes the lowest recommendation
// of the up window and a scale-down the highest of the down window; the result stays within [min, max].
//
// With minReplicas 0, a model at zero replicas wakes (one replica, at once: no window holds a scale from zero)
// when requests wait for it at the gateway, and a model with replicas goes to zero only when its engines are idle
// and every gateway replica reports nothing waiting or running for it; without a complete gateway reading it keeps
// one replica.
func Decide(in Input) Decision {
	lo, hi := minReplicas(in.Spec), in.Spec.MaxReplicas
	d := Decision{}
	g := in.Gateway
	switch {
	case in.Current == 0 && lo == 0:
		d.Raw = 0
		d.Reason = "scaled to zero: no request waits at the gateway"
		if g == nil {
			d.Reason = "scaled to zero: no gateway to wake the model"
		} else if g.Pending > 0 {
			d.Raw = 1
			d.Reason = fmt.Sprintf("%.0f requests wait at the gateway for a model at zero replicas", g.Pending)
		}
	case len(in.Values) == 0:
		d.Raw = in.Current
		d.Reason = fmt.Sprintf("no ready replica's metrics could be read (%d failed): holding", in.ScrapeFailures)
	default:
		sum := 0.0
		for _, v := range in.Values {
			sum += v
		}
		avg := sum / float64(len(in.Values))
		if in.Spec.Metric == v1.MetricKVCacheUtilization {
			avg *= 100
		}
		d.PerReplica = avg
		ratio := avg / float64(in.Spec.Target)
		if math.Abs(ratio-1) <= tolerance {
			d.Raw = in.Current
		} else {
			d.Raw = int32(math.Ceil(float64(len(in.Values)) * ratio))
		}
		d.Reason = fmt.Sprintf("%s %.1f per replica over %d replicas, target %d", metricText(in.Spec.Metric), avg, len(in.Values), in.Spec.Target)
		if in.ScrapeFailures > 0 && d.Raw < in.Current {
			d.Raw = in.Current
			d.Reason += fmt.Sprintf("; %d replicas could not be read, so no scale-down", in.ScrapeFailures)
		}
	}
	if lo == 0 && d.Raw == 0 && in.Current > 0 {
		switch {
		case g == nil || !g.Complete:
			d.Raw = 1
			d.Reason += "; the gateway's load of the model is unknown, so not to zero"
		case g.Pending+g.InFlight > 0:
			d.Raw = 1
			d.Reason += fmt.Sprintf("; %.0f requests wait or run at the gateway, so not to zero", g.Pending+g.InFlight)
		}
	}
	d.Raw = clamp(d.Raw, lo, hi)
	d.History = record(in.History, d.Raw, in.Now, maxWindow(in.Spec))

	up := windowExtreme(d.History, in.Now, duration(in.Spec.ScaleUpStabilizationWindow, 0), false)
	down := windowExtreme(d.History, in.Now, duration(in.Spec.ScaleDownStabilizationWindow, 5*time.Minute), true)
	if in.Current == 0 && d.Raw > 0 {
		up = d.Raw // requests wait: a window would only keep them waiting
	}
	d.Desired = in.Current
	if d.Desired < up {
		d.Desired = up
	}
	if d.Desired > down {
		d.Desired = down
	}
	d.Desired = clamp(d.Desired, lo, hi)
	switch {
	case d.Desired > in.Current:
		d.Reason = fmt.Sprintf("scale up from %d to %d: %s", in.Current, d.Desired, d.Reason)
	case d.Desired < in.Current:
		d.Reason = fmt.Sprintf("scale down from %d to %d: %s", in.Current, d.Desired, d.Reason)
	case d.Raw < in.Current:
		d.Reason = fmt.Sprintf("hold %d (the metrics ask for %d; scale-down window not over): %s", in.Current, d.Raw, d.Reason)
	default:
		d.Reason = fmt.Sprintf("hold %d: %s", in.Current, d.Reason)
	}
	return d
}

// record appends raw when it differs from the last recommendation and drops what no window can reach any more.
func record(h []v1.Recommendation, raw int32, now time.Time, keep time.Duration) []v1.Recommendation {
	out := append([]v1.Recommendation(nil), h...)
	if len(out) == 0 || out[len(out)-1].Replicas != raw {
		out = append(out, v1.Recommendation{Replicas: raw, Since: metav1.NewTime(now)})
	}
	// An entry is still needed while the next one started after the oldest window's start.
	start := now.Add(-keep)
	for len(out) > 1 && !out[1].Since.Time.After(start) {
		out = out[1:]
	}
	if len(out) > maxHistory {
		out = out[len(out)-maxHistory:]
	}
	return out
}

// windowExtreme is the highest (or lowest) recommendation in force at some time in [now-window, now].
func windowExtreme(h []v1.Recommendation, now time.Time, window time.Duration, highest bool) int32 {
	start := now.Add(-window)
	var v int32
	found := false
	for i, r := range h {
		end := now
		if i+1 < len(h) {
			end = h[i+1].Since.Time
		}
		if i+1 < len(h) && !end.After(start) {
			continue // superseded before the window began
		}
		if !found || (highest && r.Replicas > v) || (!highest && r.Replicas < v) {
			v, found = r.Replicas, true
		}
	}
	return v
}

func minReplicas(s v1.AutoscalingSpec) int32 {
	if s.MinReplicas == nil || *s.MinReplicas < 0 {
		return 1
	}
	return *s.MinReplicas
}

func maxWindow(s v1.AutoscalingSpec) time.Duration {
	up, down := duration(s.ScaleUpStabilizationWindow, 0), duration(s.ScaleDownStabilizationWindow, 5*time.Minute)
	if up > down {
		return up
	}
	return down
}

func duration(d *metav1.Duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return d.Duration
}

func clamp(v, lo, hi int32) int32 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

func metricText(m v1.AutoscalingMetric) string {
	switch m {
	case v1.MetricKVCacheUtilization:
		return "KV cache % used"
	case v1.MetricInFlightRequests:
		return "requests in flight"
	default:
		return "requests waiting"
	}
}

// MetricNames are the engine metric names of a signal, from the engine's metric table.
func MetricNames(m v1.AutoscalingMetric, em engine.Metrics) []string {
	switch m {
	case v1.MetricKVCacheUtilization:
		return em.KVCacheUsage
	case v1.MetricInFlightRequests:
		return em.RequestsRunning
	default:
		return em.RequestsWaiting
	}
}
