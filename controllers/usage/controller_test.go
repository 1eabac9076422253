package usage

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/render"
	"github.com/privatellm/privatellm/test/testutil"
)

// fakeVLLM serves a vLLM /metrics page with token counters the test sets.
type fakeVLLM struct {
	prompt, generation atomic.Int64
	srv                *httptest.Server
}

func newFakeVLLM(t *testing.T) *fakeVLLM {
	f := &fakeVLLM{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name=\"m\"} 2\n"+
			"# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{model_name=\"m\"} 3\n"+
			"# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc{model_name=\"m\"} 0.25\n"+
			"# TYPE vllm:prompt_tokens counter\nvllm:prompt_tokens_total{model_name=\"m\"} %d\n"+
			"# TYPE vllm:generation_tokens counter\nvllm:generation_tokens_total{model_name=\"m\"} %d\n",
			f.prompt.Load(), f.generation.Load())
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeVLLM) port(t *testing.T) int32 { return testutil.ServerPort(t, f.srv.URL) }

// TestUsageIsCountedAndPriced: a model whose one pod holds an L4 and serves a known number of tokens gets
// status.usage with those tokens, GPU time priced at the config's L4 price, the API equivalent, and the same
// figures on the metrics.
func TestUsageIsCountedAndPriced(t *testing.T) {
	ctx := context.Background()
	ns := testutil.NewNamespace(t, k8sClient)
	engine := newFakeVLLM(t)
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "gpu-" + ns, Labels: map[string]string{"nvidia.com/gpu.product": "NVIDIA-L4"}}}
	if err := k8sClient.Create(ctx, node); err != nil {
		t.Fatal(err)
	}
	llm := &v1.LLMDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "chat"}}
	llm.Spec.Model.URI = "hf://meta-llama/Llama-3.1-8B-Instruct"
	llm.Spec.GPU.Count = ptr.To(int32(1))
	if err := k8sClient.Create(ctx, llm); err != nil {
		t.Fatal(err)
	}
	engine.prompt.Store(1000)
	engine.generation.Store(200)
	gpu := resource.MustParse("1")
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "chat-0", Labels: map[string]string{
			render.LabelLLMDeployment: "chat", render.LabelManagedBy: render.ManagedByValue,
		}},
		Spec: corev1.PodSpec{NodeName: node.Name, Containers: []corev1.Container{{Name: "vllm", Image: "vllm/vllm-openai:v0.18.0",
			Ports:     []corev1.ContainerPort{{Name: "http", ContainerPort: engine.port(t)}},
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{"nvidia.com/gpu": gpu}, Limits: corev1.ResourceList{"nvidia.com/gpu": gpu}},
		}}},
	}
	if err := k8sClient.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	scheduled := metav1.NewTime(time.Now().Add(-time.Hour)) // bound an hour ago: about 1 GPU-hour, $0.80
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "127.0.0.1", PodIPs: []corev1.PodIP{{IP: "127.0.0.1"}},
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: scheduled},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue},
		}}
	if err := k8sClient.Status().Update(ctx, pod); err != nil {
		t.Fatal(err)
	}

	// The model was created while the operator was counting, so its pods' counters count in full.
	usage := waitForUsage(t, ns, "chat", func(u *v1.UsageStatus) error {
		if u.Total.InputTokens != 1000 || u.Total.OutputTokens != 200 {
			return fmt.Errorf("tokens %d/%d, want 1000/200", u.Total.InputTokens, u.Total.OutputTokens)
		}
		return nil
	})
	// GPU time counts from the model's creation (the pod's "hour" before that cannot have been).
	if h, _ := strconv.ParseFloat(usage.Total.GPUHours, 64); h <= 0 || h > 0.02 {
		t.Errorf("GPU-hours %s, want the seconds since the model was created: %+v", usage.Total.GPUHours, usage)
	}
	if usage.Currency != "USD" || len(usage.Total.APIs) != 1 || usage.Total.APIs[0].Name != "big" || usage.Last24h == nil {
		t.Fatalf("usage %+v", usage)
	}
	// 1000 in × $3/M + 200 out × $15/M = $0.003 + $0.003 = $0.006
	if usage.Total.APIs[0].Cost != "0.006" {
		t.Errorf("API equivalent %s, want 0.006", usage.Total.APIs[0].Cost)
	}

	engine.prompt.Store(1500)
	engine.generation.Store(300)
	waitForUsage(t, ns, "chat", func(u *v1.UsageStatus) error {
		if u.Total.InputTokens != 1500 || u.Total.OutputTokens != 300 || u.Last24h.InputTokens != 1500 {
			return fmt.Errorf("tokens %d/%d (24h %d), want 1500/300", u.Total.InputTokens, u.Total.OutputTokens, u.Last24h.InputTokens)
		}
		return nil
	})
	if got := prom.ToFloat64(tokens.WithLabelValues(ns, "chat", "input")); got != 1500 {
		t.Errorf("privatellm_tokens_total{direction=input} = %v, want 1500", got)
	}
	if got := prom.ToFloat64(requestsWaiting.WithLabelValues(ns, "chat")); got != 3 {
		t.Errorf("privatellm_llmdeployment_requests_waiting = %v, want the engine's 3", got)
	}
	if got := prom.ToFloat64(gpusHeld.WithLabelValues(ns, "chat")); got != 1 {
		t.Errorf("privatellm_llmdeployment_gpus = %v, want 1", got)
	}
	if got := prom.ToFloat64(costTotal.WithLabelValues(ns, "chat")); got <= 0 {
		t.Errorf("privatellm_cost_total = %v, want the L4's time priced", got)
	}

	// The model goes: its series go with it.
	if err := k8sClient.Delete(ctx, llm); err != nil {
		t.Fatal(err)
	}
	// (This suite's only model: no token series may remain.)
	testutil.Eventually(t, 20*time.Second, func() error {
		if n := prom.CollectAndCount(tokens, "privatellm_tokens_total"); n != 0 {
			return fmt.Errorf("%d token series remain after the model was deleted", n)
		}
		return nil
	})
}

func waitForUsage(t *testing.T, ns, name string, check func(*v1.UsageStatus) error) *v1.UsageStatus {
	t.Helper()
	var got *v1.UsageStatus
	testutil.Eventually(t, 20*time.Second, func() error {
		l := &v1.LLMDeployment{}
		if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, l); err != nil {
			return err
		}
		if l.Status.Usage == nil {
			return fmt.Errorf("no status.usage yet")
		}
		got = l.Status.Usage
		return check(got)
	})
	return got
}
