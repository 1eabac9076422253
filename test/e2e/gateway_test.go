package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/controllers/apikey"
	"github.com/privatellm/privatellm/test/testutil"
)

// issueKey creates an APIKey and returns the key from the Secret the operator wrote, checking that the Secret is
// ready for an OpenAI client (OPENAI_API_KEY, OPENAI_BASE_URL).
func issueKey(t *testing.T, ns, name string) string {
	t.Helper()
	ctx := context.Background()
	if err := c.Create(ctx, &v1.APIKey{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, timeout, func() error {
		k := &v1.APIKey{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, k); err != nil {
			return err
		}
		if r := meta.FindStatusCondition(k.Status.Conditions, v1.ConditionReady); r == nil || r.Status != metav1.ConditionTrue {
			return fmt.Errorf("APIKey not Ready: %+v", k.Status.Conditions)
		}
		return nil
	})
	s := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
		t.Fatal(err)
	}
	if string(s.Data[apikey.SecretKeyBaseURL]) != gatewayURL || string(s.Data[apikey.SecretKeyOpenAI]) == "" {
		t.Errorf("the key's Secret is not ready for an OpenAI client: base URL %q", s.Data[apikey.SecretKeyBaseURL])
	}
	return string(s.Data[apikey.SecretKeyAPIKey])
}

// callGateway sends a request body to the gateway's chat completions.
func callGateway(t *testing.T, key, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, gatewayURL+"/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

func chatBody(model string, stream bool) string {
	return fmt.Sprintf(`{"model":%q,"stream":%v,"max_tokens":4,"messages":[{"role":"user","content":"hello there"}]}`, model, stream)
}

// TestGateway: two models behind the gateway, a key issued by the operator. The gateway routes by model over the
// models' EndpointSlices, refuses a missing key (401) and another namespace's model (404) until that model is shared,
// streams, and meters the tokens.
func TestGateway(t *testing.T) {
	ns, other := namespace(t), namespace(t)
	must(t)(kubectl("-n", ns, "apply", "-f", l4Sample))
	must(t)(kubectl("-n", ns, "apply", "-f", tgiSample))
	waitFor(t, ns, "llama-8b-awq", testutil.ReadyWith(1))
	waitFor(t, ns, "mistral-7b-tgi", testutil.ReadyWith(1))
	key := issueKey(t, ns, "app")
	otherKey := issueKey(t, other, "app")
	llama, mistral := llm(t, ns, "llama-8b-awq").ServedModelName(), llm(t, ns, "mistral-7b-tgi").ServedModelName()

	// The gateway learns of the ready endpoints from the EndpointSlices: poll until it answers. vLLM answers with
	// the served name, TGI with its model id (it serves one model and ignores the request's name).
	answeredBy := map[string]string{llama: llama, mistral: "mistralai/Mistral-7B-Instruct-v0.3"}
	for model, by := range answeredBy {
		testutil.Eventually(t, timeout, func() error {
			resp, body := callGateway(t, key, chatBody(model, false))
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: %d %s", model, resp.StatusCode, body)
			}
			var answer struct {
				Model string `json:"model"`
				Usage struct {
					CompletionTokens int `json:"completion_tokens"`
				} `json:"usage"`
			}
			if err := json.Unmarshal([]byte(body), &answer); err != nil || answer.Model != by || answer.Usage.CompletionTokens != 4 {
				return fmt.Errorf("%s answered by %q (%v): %s", model, answer.Model, err, body)
			}
			return nil
		})
	}

	if resp, body := callGateway(t, "", chatBody(llama, false)); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "invalid_api_key") {
		t.Errorf("without a key: %d %s", resp.StatusCode, body)
	}
	if resp, body := callGateway(t, otherKey, chatBody(llama, false)); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "model_not_found") {
		t.Errorf("another namespace's key: %d %s", resp.StatusCode, body)
	}
	must(t)(kubectl("-n", ns, "patch", "llmdeployment/llama-8b-awq", "--type=merge", "-p", fmt.Sprintf(`{"spec":{"gateway":{"sharedWith":[%q]}}}`, other)))
	testutil.Eventually(t, timeout, func() error {
		if resp, body := callGateway(t, otherKey, chatBody(llama, false)); resp.StatusCode != http.StatusOK {
			return fmt.Errorf("shared model: %d %s", resp.StatusCode, body)
		}
		return nil
	})

	// A stream, event by event, without the usage chunk the client did not ask for.
	req, err := http.NewRequest(http.MethodPost, gatewayURL+"/chat/completions", strings.NewReader(chatBody(llama, true)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	events, sawDone := 0, false
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, `"usage"`) {
			t.Errorf("usage chunk reached a client that did not ask: %s", line)
		}
		if line == "data: [DONE]" {
			sawDone = true
		} else if strings.HasPrefix(line, "data: ") {
			events++
		}
	}
	resp.Body.Close()
	if !sawDone || events < 5 {
		t.Errorf("stream: %d events, done %v", events, sawDone)
	}

	// Metering: tokens per key and model on the gateway's metrics page.
	testutil.Eventually(t, 30*time.Second, func() error {
		resp, err := http.Get(gatewayMetrics)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		page, _ := io.ReadAll(resp.Body)
		want := fmt.Sprintf(`privatellm_gateway_tokens_total{key="app",key_namespace=%q,model="llama-8b-awq",model_namespace=%q,type="output"}`, ns, ns)
		for _, line := range strings.Split(string(page), "\n") {
			if strings.HasPrefix(line, want+" ") {
				return nil
			}
		}
		return fmt.Errorf("no %s on the gateway's metrics page", want)
	})
}

// TestScaleFromZero: a model with autoscaling.minReplicas 0 goes to zero when idle, says how to wake it, and a
// request through the gateway wakes it: the request waits at the gateway, the autoscaler sees it waiting and scales
// to one replica, and the request is answered once the replica is ready.
func TestScaleFromZero(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	l := &v1.LLMDeployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sleepy"},
		Spec: v1.LLMDeploymentSpec{
			Model:       v1.ModelSpec{URI: "hf://Qwen/Qwen2.5-7B-Instruct"},
			MaxModelLen: ptr.To(int32(4096)),
			GPU:         v1.GPUSpec{Count: ptr.To(int32(1)), Products: []string{"NVIDIA-A100-SXM4-40GB"}},
			Autoscaling: &v1.AutoscalingSpec{
				MinReplicas: ptr.To(int32(0)), MaxReplicas: 1, Metric: v1.MetricInFlightRequests, Target: 4,
				Interval:                     &metav1.Duration{Duration: 2 * time.Second},
				ScaleDownStabilizationWindow: &metav1.Duration{Duration: 5 * time.Second},
			},
		},
	}
	if err := c.Create(ctx, l); err != nil {
		t.Fatal(err)
	}
	key := issueKey(t, ns, "app")
	waitFor(t, ns, "sleepy", func(l *v1.LLMDeployment) error {
		r := meta.FindStatusCondition(l.Status.Conditions, v1.ConditionReady)
		if r == nil || r.Reason != v1.ReasonScaledToZero || l.Status.Replicas != 0 || !strings.Contains(r.Message, "through the gateway wakes it") {
			return fmt.Errorf("not scaled to zero yet: replicas %d, %+v", l.Status.Replicas, r)
		}
		return nil
	})

	start := time.Now()
	resp, body := callGateway(t, key, chatBody("sleepy", false))
	waited := time.Since(start)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"completion_tokens":4`) {
		t.Fatalf("the request to a model at zero: %d %s", resp.StatusCode, body)
	}
	woken := llm(t, ns, "sleepy")
	if woken.Spec.Replicas == nil || *woken.Spec.Replicas != 1 || woken.Status.Autoscaling == nil ||
		!strings.Contains(woken.Status.Autoscaling.LastDecision, "wait at the gateway") {
		t.Errorf("the model was not woken by the autoscaler: replicas %v, %+v", woken.Spec.Replicas, woken.Status.Autoscaling)
	}
	t.Logf("scale from zero: answered after %s (autoscaler interval 2s, pod ready delay 2s)", waited.Round(100*time.Millisecond))
}
