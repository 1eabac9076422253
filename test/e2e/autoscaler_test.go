package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/render"
	"github.com/privatellm/privatellm/test/simcluster"
	"github.com/privatellm/privatellm/test/testutil"
)

const autoscaledManifest = `apiVersion: serving.privatellm.dev/v1alpha1
kind: LLMDeployment
metadata:
  name: autoscaled
spec:
  model:
    uri: hf://meta-llama/Llama-3.1-8B-Instruct
    servedName: llama
  maxModelLen: 8192
  gpu:
    count: 1
    products: [NVIDIA-L4]
  autoscaling:
    minReplicas: 1
    maxReplicas: 4
    metric: InFlightRequests
    target: 6
    interval: 2s
    scaleDownStabilizationWindow: 20s
`

// loadGenerator sends completions from a fixed number of workers to the LLMDeployment's ready pods, round robin,
// on loopback only, until stopped or a request budget is spent.
type loadGenerator struct {
	stop     chan struct{}
	wg       sync.WaitGroup
	sent, ok atomic.Int64
}

func startLoad(t *testing.T, ns, name string, workers int, budget int64) *loadGenerator {
	g := &loadGenerator{stop: make(chan struct{})}
	hc := &http.Client{Timeout: 30 * time.Second}
	var next atomic.Int64
	body := []byte(`{"model":"llama","prompt":"hello","max_tokens":100}`) // 2s at engine-sim's 50 tokens/s
	for w := 0; w < workers; w++ {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			for {
				select {
				case <-g.stop:
					return
				default:
				}
				if g.sent.Add(1) > budget {
					return
				}
				ips := readyPodIPs(ns, name)
				if len(ips) == 0 {
					time.Sleep(100 * time.Millisecond) // no backend yet: back off
					continue
				}
				ip := ips[int(next.Add(1))%len(ips)]
				resp, err := hc.Post("http://"+ip+":8000/v1/completions", "application/json", bytes.NewReader(body))
				if err == nil {
					if resp.StatusCode == http.StatusOK {
						g.ok.Add(1)
					}
					resp.Body.Close()
				}
			}
		}()
	}
	t.Cleanup(g.halt)
	return g
}

func (g *loadGenerator) halt() {
	select {
	case <-g.stop:
	default:
		close(g.stop)
	}
	g.wg.Wait()
}

func readyPodIPs(ns, name string) []string {
	list := &corev1.PodList{}
	if err := c.List(context.Background(), list, client.InNamespace(ns), client.MatchingLabels{render.LabelLLMDeployment: name}); err != nil {
		return nil
	}
	var ips []string
	for _, p := range list.Items {
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue && p.Status.PodIP != "" && p.DeletionTimestamp.IsZero() {
				ips = append(ips, p.Status.PodIP)
			}
		}
	}
	return ips
}

// TestAutoscalerUnderLoad: real requests to engine-sim pods. A load step of 16 concurrent requests (at most 8
// run per replica) scales 1 → 3 replicas at a target of 6 in flight per replica; steady load keeps 3; removing the
// load scales down to 1 after the 20s window, not before; the count never leaves [1, 4]. The figures are logged.
func TestAutoscalerUnderLoad(t *testing.T) {
	ns := namespace(t)
	must(t)(kubectl("-n", ns, "apply", "-f", writeManifest(t, autoscaledManifest)))
	waitFor(t, ns, "autoscaled", testutil.ReadyWith(1))

	var maxSeen atomic.Int32
	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	go func() { // record the highest replica count the autoscaler ever set
		for watchCtx.Err() == nil {
			l := &v1.LLMDeployment{}
			if c.Get(watchCtx, client.ObjectKey{Namespace: ns, Name: "autoscaled"}, l) == nil && l.Spec.Replicas != nil && *l.Spec.Replicas > maxSeen.Load() {
				maxSeen.Store(*l.Spec.Replicas)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()

	step := time.Now()
	load := startLoad(t, ns, "autoscaled", 16, 5000)
	var decided time.Duration
	testutil.Eventually(t, 60*time.Second, func() error {
		l := llm(t, ns, "autoscaled")
		if decided == 0 && *l.Spec.Replicas > 1 {
			decided = time.Since(step)
		}
		if *l.Spec.Replicas != 3 {
			return fmt.Errorf("replicas %d, want 3 (%+v)", *l.Spec.Replicas, l.Status.Autoscaling)
		}
		return nil
	})
	waitFor(t, ns, "autoscaled", testutil.ReadyWith(3))
	allReady := time.Since(step)

	// Steady load: 20s without a change.
	steadyFrom := time.Now()
	changes := 0
	last := int32(3)
	for time.Since(steadyFrom) < 20*time.Second {
		if r := *llm(t, ns, "autoscaled").Spec.Replicas; r != last {
			changes++
			last = r
		}
		time.Sleep(500 * time.Millisecond) // sampling the count, not waiting for a condition
	}
	if changes != 0 {
		t.Errorf("%d replica changes under steady load", changes)
	}

	load.halt()
	stopped := time.Now()
	testutil.Eventually(t, 60*time.Second, func() error {
		if r := *llm(t, ns, "autoscaled").Spec.Replicas; r != 1 {
			return fmt.Errorf("replicas %d, want 1", r)
		}
		return nil
	})
	down := time.Since(stopped)
	if down < 18*time.Second {
		t.Errorf("scaled down %s after the load stopped, before the 20s window", down)
	}
	if m := maxSeen.Load(); m > 4 {
		t.Errorf("the autoscaler set %d replicas, above maxReplicas 4", m)
	}
	l := llm(t, ns, "autoscaled")
	t.Logf("autoscaler figures: load step → scale decision %.1fs, → 3 replicas Ready %.1fs; %d changes in 20s of steady load; load removed → scaled down %.1fs (window 20s); %d requests sent, %d answered; last decision: %s",
		decided.Seconds(), allReady.Seconds(), changes, down.Seconds(), load.sent.Load(), load.ok.Load(), l.Status.Autoscaling.LastDecision)
}

// TestAutoscalerHoldsOnBrokenMetrics: every replica's /metrics answers 500 (engine-sim's fail-metrics); with no load
// a working autoscaler would go down to minReplicas after its 4s window, but with nothing readable it holds 3.
func TestAutoscalerHoldsOnBrokenMetrics(t *testing.T) {
	ns := namespace(t)
	manifest := fmt.Sprintf(`apiVersion: serving.privatellm.dev/v1alpha1
kind: LLMDeployment
metadata:
  name: broken
spec:
  model:
    uri: hf://meta-llama/Llama-3.1-8B-Instruct
  gpu:
    count: 1
    products: [NVIDIA-L4]
  podAnnotations:
    %s: "true"
  autoscaling:
    minReplicas: 1
    maxReplicas: 4
    metric: QueueDepth
    target: 4
    interval: 1s
    scaleDownStabilizationWindow: 4s
`, simcluster.AnnotationFailMetrics)
	must(t)(kubectl("-n", ns, "apply", "-f", writeManifest(t, manifest)))
	waitFor(t, ns, "broken", testutil.ReadyWith(1))
	must(t)(kubectl("-n", ns, "scale", "llmdeployment/broken", "--replicas=3"))
	waitFor(t, ns, "broken", testutil.ReadyWith(3))
	// A negative check needs a span of time: well past the down window and several intervals.
	time.Sleep(10 * time.Second)
	l := llm(t, ns, "broken")
	if *l.Spec.Replicas != 3 {
		t.Fatalf("replicas %d with unreadable metrics, want the count held at 3 (last decision %+v)", *l.Spec.Replicas, l.Status.Autoscaling)
	}
	if !strings.Contains(l.Status.Autoscaling.LastDecision, "hold 3: no ready replica's metrics could be read") {
		t.Errorf("last decision %q must say why the count holds", l.Status.Autoscaling.LastDecision)
	}
}
