package gatewaymetrics

import (
	"strings"
	"testing"

	"github.com/privatellm/privatellm/internal/enginemetrics"
)

// TestModelKeyTokens: the tokens of each key that called the model, from the gateway's counter; other models'
// series, the cached type and the other gateway metrics are left out.
func TestModelKeyTokens(t *testing.T) {
	page, err := enginemetrics.Parse(strings.NewReader(`# TYPE privatellm_gateway_tokens_total counter
privatellm_gateway_tokens_total{key_namespace="team-a",key="app",model_namespace="team-a",model="llama",type="input"} 120
privatellm_gateway_tokens_total{key_namespace="team-a",key="app",model_namespace="team-a",model="llama",type="output"} 30
privatellm_gateway_tokens_total{key_namespace="team-a",key="app",model_namespace="team-a",model="llama",type="cached"} 100
privatellm_gateway_tokens_total{key_namespace="team-b",key="bot",model_namespace="team-a",model="llama",type="input"} 7
privatellm_gateway_tokens_total{key_namespace="team-a",key="app",model_namespace="team-a",model="other",type="input"} 999
privatellm_gateway_tokens_total{key_namespace="team-a",key="app",model_namespace="team-c",model="llama",type="input"} 999
# TYPE privatellm_gateway_pending_requests gauge
privatellm_gateway_pending_requests{model_namespace="team-a",model="llama"} 3
`))
	if err != nil {
		t.Fatal(err)
	}
	got := ModelKeyTokens(page, "team-a", "llama")
	want := map[string]KeyTokens{"team-a/app": {Key: "team-a/app", Input: 120, Output: 30}, "team-b/bot": {Key: "team-b/bot", Input: 7}}
	if len(got) != len(want) {
		t.Fatalf("ModelKeyTokens = %+v, want %+v", got, want)
	}
	for _, kt := range got {
		if kt != want[kt.Key] {
			t.Errorf("%s: %+v, want %+v", kt.Key, kt, want[kt.Key])
		}
	}
	if none := ModelKeyTokens(page, "team-a", "absent"); len(none) != 0 {
		t.Errorf("a model no key called: %+v", none)
	}
}
