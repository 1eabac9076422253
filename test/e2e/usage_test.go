package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/privatellm/privatellm/test/testutil"
)

// TestUsageMatchesServedTokens: engine-sim pods serve a known number of tokens through the gateway, and the
// model's status.usage reports exactly those tokens (read from the engines' own counters), with its L4 time priced
// at the operator config's price and compared with the reference API, and the same tokens for the key that sent
// them (read from the gateway's metering).
func TestUsageMatchesServedTokens(t *testing.T) {
	ns := namespace(t)
	must(t)(kubectl("-n", ns, "apply", "-f", l4Sample))
	waitFor(t, ns, "llama-8b-awq", testutil.ReadyWith(1))
	key := issueKey(t, ns, "meter")
	model := llm(t, ns, "llama-8b-awq").ServedModelName()

	var prompt, completion int64
	for served := 0; served < 5; {
		resp, body := callGateway(t, key, chatBody(model, false))
		if resp.StatusCode != http.StatusOK {
			// The gateway may not know the endpoints yet: try again.
			time.Sleep(200 * time.Millisecond)
			continue
		}
		var answer struct {
			Usage struct {
				PromptTokens     int64 `json:"prompt_tokens"`
				CompletionTokens int64 `json:"completion_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(body), &answer); err != nil || answer.Usage.CompletionTokens == 0 {
			t.Fatalf("answer without usage (%v): %s", err, body)
		}
		prompt += answer.Usage.PromptTokens
		completion += answer.Usage.CompletionTokens
		served++
	}

	testutil.Eventually(t, timeout, func() error {
		u := llm(t, ns, "llama-8b-awq").Status.Usage
		if u == nil {
			return fmt.Errorf("no status.usage")
		}
		if u.Total.InputTokens != prompt || u.Total.OutputTokens != completion {
			return fmt.Errorf("status.usage counts %d in / %d out, the answers said %d / %d", u.Total.InputTokens, u.Total.OutputTokens, prompt, completion)
		}
		if h, _ := strconv.ParseFloat(u.Total.GPUHours, 64); h <= 0 {
			return fmt.Errorf("no GPU time: %+v", u.Total)
		}
		if c, _ := strconv.ParseFloat(u.Total.Cost, 64); c <= 0 || u.Total.CostPerMTok == "" {
			return fmt.Errorf("the L4's time is not priced: %+v", u.Total)
		}
		if len(u.Total.APIs) != 1 || u.Total.APIs[0].Name != "reference" || u.Total.APIs[0].Verdict == "NoTraffic" {
			return fmt.Errorf("no comparison with the reference API: %+v", u.Total.APIs)
		}
		// The gateway metered the same tokens for the key, which is charged the GPU time they took.
		if len(u.Keys) != 1 || u.Keys[0].Key != ns+"/meter" || u.Keys[0].InputTokens != prompt || u.Keys[0].OutputTokens != completion {
			return fmt.Errorf("usage by key %+v, want %s/meter with %d / %d", u.Keys, ns, prompt, completion)
		}
		if c, _ := strconv.ParseFloat(u.Keys[0].Cost, 64); c <= 0 || len(u.Keys[0].APIs) != 1 {
			return fmt.Errorf("the key is not charged: %+v", u.Keys[0])
		}
		return nil
	})
}
