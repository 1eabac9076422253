package autoscaler

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/render"
	"github.com/privatellm/privatellm/test/testutil"
)

// fakeEngine serves a vLLM /metrics page with a queue depth the test sets, or answers 500 when broken.
type fakeEngine struct {
	waiting atomic.Int64
	broken  atomic.Bool
	srv     *httptest.Server
}

func newFakeEngine(t *testing.T) *fakeEngine {
	f := &fakeEngine{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.broken.Load() || r.URL.Path != "/metrics" {
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{model_name=\"m\"} %d\n", f.waiting.Load())
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeEngine) port(t *testing.T) int32 { return testutil.ServerPort(t, f.srv.URL) }

// readyEnginePod plays the ReplicaSet controller and kubelet: a ready pod whose engine is the fake one.
func readyEnginePod(t *testing.T, ns, owner, name string, port int32) {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{
			render.LabelLLMDeployment: owner, render.LabelManagedBy: render.ManagedByValue,
		}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "vllm", Image: "vllm/vllm-openai:v0.18.0",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: port}}}}},
	}
	if err := k8sClient.Create(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "127.0.0.1", PodIPs: []corev1.PodIP{{IP: "127.0.0.1"}},
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	if err := k8sClient.Status().Update(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
}

// TestAutoscalerScalesOnQueueDepth: the autoscaler reads the engine's queue from a ready pod's /metrics, scales up
// through /scale, holds the count while the metrics are broken, and scales down only after its window.
func TestAutoscalerScalesOnQueueDepth(t *testing.T) {
	ns := newNamespace(t)
	engine := newFakeEngine(t)
	llm := sampleLLM(ns, "auto")
	llm.Spec.Replicas = nil
	llm.Spec.Autoscaling = &v1.AutoscalingSpec{
		MinReplicas: ptr.To(int32(1)), MaxReplicas: 4, Metric: v1.MetricQueueDepth, Target: 5,
		ScaleDownStabilizationWindow: &metav1.Duration{Duration: 4 * time.Second}, Interval: &metav1.Duration{Duration: time.Second},
	}
	if err := k8sClient.Create(context.Background(), llm); err != nil {
		t.Fatal(err)
	}
	readyEnginePod(t, ns, "auto", "auto-0", engine.port(t))

	engine.waiting.Store(14) // 14 waiting at 5 per replica: 3 replicas
	testutil.Eventually(t, 20*time.Second, func() error {
		l := get(t, &v1.LLMDeployment{}, ns, "auto")
		if *l.Spec.Replicas != 3 || l.Status.Autoscaling == nil {
			return fmt.Errorf("replicas %d, status %+v", *l.Spec.Replicas, l.Status.Autoscaling)
		}
		if !strings.Contains(l.Status.Autoscaling.LastDecision, "scale up from 1 to 3") || l.Status.Autoscaling.LastScaleTime == nil {
			return fmt.Errorf("last decision %q", l.Status.Autoscaling.LastDecision)
		}
		return nil
	})

	// Broken metrics: nothing readable, the count holds.
	engine.broken.Store(true)
	engine.waiting.Store(0)
	// A negative check needs a span of time: longer than the down window, where a wrong implementation scales down.
	time.Sleep(5 * time.Second)
	if l := get(t, &v1.LLMDeployment{}, ns, "auto"); *l.Spec.Replicas != 3 {
		t.Fatalf("replicas %d with unreadable metrics, want the count held at 3", *l.Spec.Replicas)
	}

	// Metrics back, queue empty: down to min, but not before the 4s window.
	engine.broken.Store(false)
	fixed := time.Now()
	testutil.Eventually(t, 20*time.Second, func() error {
		if l := get(t, &v1.LLMDeployment{}, ns, "auto"); *l.Spec.Replicas != 1 {
			return fmt.Errorf("replicas %d", *l.Spec.Replicas)
		}
		return nil
	})
	if waited := time.Since(fixed); waited < 3*time.Second {
		t.Errorf("scaled down %s after the queue emptied, before the 4s stabilization window", waited)
	}
}
