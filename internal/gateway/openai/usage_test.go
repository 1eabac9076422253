package openai_test

import (
	"testing"

	"github.com/privatellm/privatellm/internal/gateway/openai"
)

func TestParseUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want openai.Usage
		ok   bool
	}{
		{"chat completion with cached tokens (vLLM --enable-prompt-tokens-details)",
			`{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant",` +
				`"content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"total_tokens":15,` +
				`"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":8}}}`,
			openai.Usage{PromptTokens: 12, CompletionTokens: 3, TotalTokens: 15, CachedTokens: 8}, true},
		{"completion with null details (SGLang)",
			`{"object":"text_completion","usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12,` +
				`"prompt_tokens_details":null,"reasoning_tokens":0}}`,
			openai.Usage{PromptTokens: 5, CompletionTokens: 7, TotalTokens: 12}, true},
		{"embeddings",
			`{"object":"list","data":[{"embedding":[0.1,0.2]}],"usage":{"prompt_tokens":4,"total_tokens":4}}`,
			openai.Usage{PromptTokens: 4, TotalTokens: 4}, true},
		{"responses API",
			`{"id":"resp_1","object":"response","output":[],"usage":{"input_tokens":20,` +
				`"input_tokens_details":{"cached_tokens":16},"output_tokens":5,"output_tokens_details":` +
				`{"reasoning_tokens":2},"total_tokens":25}}`,
			openai.Usage{PromptTokens: 20, CompletionTokens: 5, TotalTokens: 25, CachedTokens: 16}, true},
		{"total missing is the sum",
			`{"usage":{"prompt_tokens":2,"completion_tokens":3}}`,
			openai.Usage{PromptTokens: 2, CompletionTokens: 3, TotalTokens: 5}, true},
		{"the last usage wins", `{"usage":{"prompt_tokens":1},"usage":{"prompt_tokens":2}}`,
			openai.Usage{PromptTokens: 2, TotalTokens: 2}, true},
		{"no usage", `{"choices":[]}`, openai.Usage{}, false},
		{"usage null", `{"usage":null}`, openai.Usage{}, false},
		{"usage not an object", `{"usage":[1]}`, openai.Usage{}, false},
		{"usage without counts", `{"usage":{}}`, openai.Usage{}, false},
		{"a count not an integer", `{"usage":{"prompt_tokens":"3"}}`, openai.Usage{}, false},
		{"nested usage is not the response's", `{"data":{"usage":{"prompt_tokens":1}}}`, openai.Usage{}, false},
		{"not JSON", `{"usage":{"prompt_tokens":1}`, openai.Usage{}, false},
		{"not an object", `[{"usage":{"prompt_tokens":1}}]`, openai.Usage{}, false},
	} {
		got, ok := openai.ParseUsage([]byte(tc.body))
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: ParseUsage = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
