package autoscaler

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func spec(min, max, target int32, up, down time.Duration) v1.AutoscalingSpec {
	return v1.AutoscalingSpec{MinReplicas: ptr.To(min), MaxReplicas: max, Metric: v1.MetricQueueDepth, Target: target,
		ScaleUpStabilizationWindow: &metav1.Duration{Duration: up}, ScaleDownStabilizationWindow: &metav1.Duration{Duration: down}}
}

func TestDecide(t *testing.T) {
	cases := []struct {
		name    string
		in      Input
		desired int32
		reason  string
	}{
		{"load step scales up at once", Input{Spec: spec(1, 8, 5, 0, time.Minute), Current: 1, Values: []float64{14}, Now: t0}, 3, "scale up from 1 to 3"},
		{"bounded by max", Input{Spec: spec(1, 4, 5, 0, time.Minute), Current: 1, Values: []float64{100}, Now: t0}, 4, "scale up"},
		{"within tolerance holds", Input{Spec: spec(1, 8, 5, 0, time.Minute), Current: 2, Values: []float64{5.2, 4.7}, Now: t0}, 2, "hold 2"},
		{"bounded by min", Input{Spec: spec(2, 8, 5, 0, 0), Current: 2, Values: []float64{0, 0}, Now: t0}, 2, "hold 2"},
		{"no load scales down once the window is over", Input{Spec: spec(1, 8, 5, 0, time.Minute), Current: 3, Values: []float64{0, 0, 0},
			History: []v1.Recommendation{{Replicas: 3, Since: metav1.NewTime(t0.Add(-10 * time.Minute))}, {Replicas: 1, Since: metav1.NewTime(t0.Add(-2 * time.Minute))}},
			Now:     t0}, 1, "scale down from 3 to 1"},
		{"no load within the window holds", Input{Spec: spec(1, 8, 5, 0, time.Minute), Current: 3, Values: []float64{0, 0, 0},
			History: []v1.Recommendation{{Replicas: 3, Since: metav1.NewTime(t0.Add(-10 * time.Minute))}},
			Now:     t0}, 3, "scale-down window not over"},
		{"an unreadable replica forbids a scale-down", Input{Spec: spec(1, 8, 5, 0, 0), Current: 3, Values: []float64{0, 0}, ScrapeFailures: 1, Now: t0}, 3, "could not be read"},
		{"nothing readable holds", Input{Spec: spec(1, 8, 5, 0, 0), Current: 3, ScrapeFailures: 3, Now: t0}, 3, "holding"},
		{"KV cache in percent", Input{Spec: v1.AutoscalingSpec{MinReplicas: ptr.To(int32(1)), MaxReplicas: 8, Metric: v1.MetricKVCacheUtilization, Target: 50},
			Current: 2, Values: []float64{0.9, 0.9}, Now: t0}, 4, "KV cache % used 90.0 per replica"},
		{"scale-up window takes the lowest", Input{Spec: spec(1, 8, 5, time.Minute, time.Minute), Current: 1, Values: []float64{40},
			History: []v1.Recommendation{{Replicas: 2, Since: metav1.NewTime(t0.Add(-30 * time.Second))}}, Now: t0}, 2, "scale up from 1 to 2"},
		{"current above max comes down", Input{Spec: spec(1, 4, 5, 0, 0), Current: 10, Values: []float64{50}, Now: t0}, 4, "scale down from 10 to 4"},
		{"at zero, requests waiting at the gateway wake the model at once", Input{Spec: spec(0, 4, 5, time.Minute, time.Minute), Current: 0,
			Gateway: &GatewayLoad{Pending: 3, Complete: true}, Now: t0}, 1, "scale up from 0 to 1: 3 requests wait at the gateway"},
		{"a partial gateway reading still wakes", Input{Spec: spec(0, 4, 5, 0, 0), Current: 0, Gateway: &GatewayLoad{Pending: 1}, Now: t0}, 1, "scale up from 0 to 1"},
		{"at zero with nothing waiting stays", Input{Spec: spec(0, 4, 5, 0, 0), Current: 0, Gateway: &GatewayLoad{Complete: true}, Now: t0}, 0, "hold 0: scaled to zero"},
		{"idle engines and an idle gateway go to zero after the window", Input{Spec: spec(0, 4, 5, 0, time.Minute), Current: 1, Values: []float64{0},
			Gateway: &GatewayLoad{Complete: true},
			History: []v1.Recommendation{{Replicas: 1, Since: metav1.NewTime(t0.Add(-10 * time.Minute))}, {Replicas: 0, Since: metav1.NewTime(t0.Add(-2 * time.Minute))}},
			Now:     t0}, 0, "scale down from 1 to 0"},
		{"requests running at the gateway keep one replica", Input{Spec: spec(0, 4, 5, 0, 0), Current: 1, Values: []float64{0},
			Gateway: &GatewayLoad{InFlight: 2, Complete: true}, Now: t0}, 1, "2 requests wait or run at the gateway, so not to zero"},
		{"an unreadable gateway keeps one replica", Input{Spec: spec(0, 4, 5, 0, 0), Current: 1, Values: []float64{0},
			Gateway: &GatewayLoad{Complete: false}, Now: t0}, 1, "unknown, so not to zero"},
		{"no gateway keeps one replica", Input{Spec: spec(0, 4, 5, 0, 0), Current: 2, Values: []float64{0, 0}, Now: t0}, 1, "scale down from 2 to 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(tc.in)
			if d.Desired != tc.desired || !strings.Contains(d.Reason, tc.reason) {
				t.Errorf("Decide = %d (%q), want %d (%q)", d.Desired, d.Reason, tc.desired, tc.reason)
			}
		})
	}
}

// TestSteadyLoadDoesNotFlap replays an hour of noisy load around the target, one decision per 15s, and counts
// replica changes after the first scale-up.
func TestSteadyLoadDoesNotFlap(t *testing.T) {
	s := spec(1, 8, 10, 0, 5*time.Minute)
	cur, changes := int32(1), 0
	var hist []v1.Recommendation
	for i := 0; i < 240; i++ {
		noise := float64((i*7)%5) - 2 // -2..2 requests
		total := 30 + noise           // ≈ 3 replicas' worth at target 10
		n := int(cur)
		vals := make([]float64, n)
		for j := range vals {
			vals[j] = total / float64(n)
		}
		d := Decide(Input{Spec: s, Current: cur, Values: vals, History: hist, Now: t0.Add(time.Duration(i) * 15 * time.Second)})
		hist = d.History
		if d.Desired != cur {
			if i > 0 {
				changes++
			}
			cur = d.Desired
		}
	}
	if cur != 3 || changes > 0 {
		t.Errorf("ended at %d replicas after %d changes past the first; want 3 and none", cur, changes)
	}
	if len(hist) > maxHistory {
		t.Errorf("history grew to %d", len(hist))
	}
}
