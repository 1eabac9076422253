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
