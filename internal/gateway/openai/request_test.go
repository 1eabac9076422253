package openai_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/privatellm/privatellm/internal/gateway/openai"
)

func TestInspect(t *testing.T) {
	for _, tc := range []struct {
		name string
		path string
		body string
		want openai.Request
	}{{
		name: "chat streaming with usage; max_completion_tokens wins over max_tokens",
		path: "/v1/chat/completions",
		body: `{"model":"llama","messages":[{"role":"user","content":"Hi"}],"stream":true,` +
			`"stream_options":{"include_usage":true},"max_tokens":10,"max_completion_tokens":20,"n":2}`,
		want: openai.Request{Endpoint: openai.ChatCompletions, Model: "llama", Stream: true, IncludeUsage: true,
			MaxTokens: 20, MaxTokensSet: true, N: 2, Prompts: 1, PromptBytes: 4 + 2, Messages: 1},
	}, {
		name: "chat with the deprecated max_tokens only, trailing slash",
		path: "/v1/chat/completions/",
		body: `{"messages":[{"role":"user","content":"Hi"}],"max_tokens":10,"model":"m"}`,
		want: openai.Request{Endpoint: openai.ChatCompletions, Model: "m", MaxTokens: 10, MaxTokensSet: true, N: 1,
			Prompts: 1, PromptBytes: 6, Messages: 1},
	}, {
		name: "nulls mean unset; include_usage false; integral 1e2",
		path: "/v1/chat/completions",
		body: `{"model":"m","messages":[],"stream":null,"stream_options":{"include_usage":false},` +
			`"max_completion_tokens":null,"max_tokens":1e2,"n":null}`,
		want: openai.Request{Endpoint: openai.ChatCompletions, Model: "m", MaxTokens: 100, MaxTokensSet: true, N: 1,
			Prompts: 1},
	}, {
		name: "keys are case-sensitive and the last repeated key wins, escaped keys match",
		path: "/v1/chat/completions",
		body: `{"model":"a","MAX_TOKENS":5,"mod\u0065l":"b","messages":[],"stream":true,"stream":false}`,
		want: openai.Request{Endpoint: openai.ChatCompletions, Model: "b", N: 1, Prompts: 1},
	}, {
		name: "stream_options without include_usage (vLLM's default is true)",
		path: "/v1/completions",
		body: `{"model":"m","stream":true,"stream_options":{"continuous_usage_stats":true}}`,
		want: openai.Request{Endpoint: openai.Completions, Model: "m", Stream: true, IncludeUsageOmitted: true, N: 1,
			Prompts: 1},
	}, {
		name: "completions with a string prompt and best_of",
		path: "/v1/completions",
		body: `{"model":"m","prompt":"Once upon","max_tokens":16,"n":2,"best_of":3,"stream":true}`,
		want: openai.Request{Endpoint: openai.Completions, Model: "m", Stream: true, MaxTokens: 16,
			MaxTokensSet: true, N: 2, BestOf: 3, Prompts: 1, PromptBytes: 9},
	}, {
		name: "completions with a batch of prompts and a suffix",
		path: "/v1/completions",
		body: `{"model":"m","prompt":["ab","cde"],"suffix":"xyz"}`,
		want: openai.Request{Endpoint: openai.Completions, Model: "m", N: 1, Prompts: 2, PromptBytes: 8},
	}, {
		name: "completions with token IDs",
		path: "/v1/completions",
		body: `{"model":"m","prompt":[1,2,3]}`,
		want: openai.Request{Endpoint: openai.Completions, Model: "m", N: 1, Prompts: 1, PromptTokenIDs: 3},
	}, {
		name: "completions with a batch of token ID prompts",
		path: "/v1/completions",
		body: `{"model":"m","prompt":[[1,2],[3]],"max_tokens":4}`,
		want: openai.Request{Endpoint: openai.Completions, Model: "m", N: 1, Prompts: 2, PromptTokenIDs: 3,
			MaxTokens: 4, MaxTokensSet: true},
	}, {
		name: "completions with prompt_embeds depend on what the body does not show",
		path: "/v1/completions",
		body: `{"model":"m","prompt_embeds":"AAAA"}`,
		want: openai.Request{Endpoint: openai.Completions, Model: "m", N: 1, Prompts: 1, ServerState: true},
	}, {
		name: "embeddings of a string; stream, n and max_tokens are not read",
		path: "/v1/embeddings",
		body: `{"model":"e","input":"héllo","stream":"ignored","n":"ignored","max_tokens":"ignored"}`,
		want: openai.Request{Endpoint: openai.Embeddings, Model: "e", N: 1, Prompts: 1, PromptBytes: 6},
	}, {
		name: "embeddings of strings and of token arrays",
		path: "/v1/embeddings",
		body: `{"model":"e","input":[[5,6,7],[8]]}`,
		want: openai.Request{Endpoint: openai.Embeddings, Model: "e", N: 1, Prompts: 2, PromptTokenIDs: 4},
	}, {
		name: "vLLM's chat-style embeddings",
		path: "/v1/embeddings",
		body: `{"model":"e","messages":[{"role":"user","content":"abc"}]}`,
		want: openai.Request{Endpoint: openai.Embeddings, Model: "e", N: 1, Prompts: 1, PromptBytes: 7,
			Messages: 1},
	}, {
		name: "responses with instructions and a string input",
		path: "/v1/responses",
		body: `{"model":"r","instructions":"Be brief.","input":"Hello","max_output_tokens":50,"stream":true,"n":3}`,
		want: openai.Request{Endpoint: openai.Responses, Model: "r", Stream: true, MaxTokens: 50, MaxTokensSet: true,
			N: 1, Prompts: 1, PromptBytes: 9 + 5, Messages: 2},
	}, {
		name: "responses continuing a stored response",
		path: "/v1/responses",
		body: `{"model":"r","previous_response_id":"resp_1","input":[{"role":"user","content":"more"}]}`,
		want: openai.Request{Endpoint: openai.Responses, Model: "r", N: 1, Prompts: 1, PromptBytes: 4 + 4,
			Messages: 1, ServerState: true},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := openai.Inspect(tc.path, []byte(tc.body))
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if got != tc.want {
				t.Errorf("Inspect =\n %+v\nwant\n %+v", got, tc.want)
			}
		})
	}
}

func TestInspectErrors(t *testing.T) {
	chat := "/v1/chat/completions"
	for _, tc := range []struct {
		name, path, body string
		param, message   string // message: a substring
	}{
		{"not JSON", chat, `{"model":`, "", "not valid JSON"},
		{"not an object", chat, `["model"]`, "", "must be a JSON object, but got an array"},
		{"model missing", chat, `{"messages":[]}`, "model", "Missing required parameter: 'model'"},
		{"model null", chat, `{"model":null,"messages":[]}`, "model", "Missing required parameter"},
		{"model not a string", chat, `{"model":7,"messages":[]}`, "model",
			"Invalid type for 'model': expected a string, but got a number instead."},
		{"model empty", chat, `{"model":"","messages":[]}`, "model", "non-empty string"},
		{"stream not a boolean", chat, `{"model":"m","messages":[],"stream":"true"}`, "stream",
			"expected a boolean, but got a string"},
		{"stream_options not an object", chat, `{"model":"m","messages":[],"stream_options":true}`,
			"stream_options", "expected an object, but got a boolean"},
		{"include_usage not a boolean", chat, `{"model":"m","messages":[],"stream_options":{"include_usage":1}}`,
			"stream_options.include_usage", "expected a boolean, but got a number"},
		{"max_tokens a string", chat, `{"model":"m","messages":[],"max_tokens":"9"}`, "max_tokens",
			"expected an integer, but got a string"},
		{"max_completion_tokens negative", chat, `{"model":"m","messages":[],"max_completion_tokens":-1}`,
			"max_completion_tokens", "expected an integer >= 0"},
		{"max_tokens fractional", chat, `{"model":"m","messages":[],"max_tokens":1.5}`, "max_tokens",
			"expected an integer >= 0"},
		{"max_tokens too large", chat, `{"model":"m","messages":[],"max_tokens":1e30}`, "max_tokens",
			"expected an integer >= 0"},
		{"n zero", chat, `{"model":"m","messages":[],"n":0}`, "n", "expected an integer >= 1"},
		{"messages missing", chat, `{"model":"m"}`, "messages", "Missing required parameter: 'messages'"},
		{"messages an object", chat, `{"model":"m","messages":{}}`, "messages", "expected an array"},
		{"a message not an object", chat, `{"model":"m","messages":[{"role":"user"},"hi"]}`, "messages[1]",
			"expected an object, but got a string"},
		{"tools an object", chat, `{"model":"m","messages":[],"tools":{}}`, "tools", "expected an array"},
		{"prompt a number", "/v1/completions", `{"model":"m","prompt":5}`, "prompt",
			"expected a string or an array, but got a number"},
		{"prompt mixed", "/v1/completions", `{"model":"m","prompt":["a",1]}`, "prompt[1]", "the same type"},
		{"prompt of objects", "/v1/completions", `{"model":"m","prompt":[{}]}`, "prompt[0]", "the same type"},
		{"token array of strings", "/v1/completions", `{"model":"m","prompt":[[1],["2"]]}`, "prompt[1][0]",
			"expected an integer token ID"},
		{"prompt empty", "/v1/completions", `{"model":"m","prompt":[]}`, "prompt", "non-empty array"},
		{"best_of zero", "/v1/completions", `{"model":"m","best_of":0}`, "best_of", ">= 1"},
		{"suffix a number", "/v1/completions", `{"model":"m","suffix":1}`, "suffix", "expected a string"},
		{"embeddings input missing", "/v1/embeddings", `{"model":"e"}`, "input", "Missing required parameter"},
		{"instructions a number", "/v1/responses", `{"model":"r","instructions":1}`, "instructions",
			"expected a string"},
		{"responses input a number", "/v1/responses", `{"model":"r","input":1}`, "input", "expected an array"},
		{"max_output_tokens a boolean", "/v1/responses", `{"model":"r","max_output_tokens":true}`,
			"max_output_tokens", "expected an integer, but got a boolean"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := openai.Inspect(tc.path, []byte(tc.body))
			var re *openai.RequestError
			if !errors.As(err, &re) {
				t.Fatalf("Inspect error = %v, want a *RequestError", err)
			}
			if re.Param != tc.param || !strings.Contains(re.Message, tc.message) {
				t.Errorf("Inspect error = {Param: %q, Message: %q}, want param %q and a message with %q",
					re.Param, re.Message, tc.param, tc.message)
			}
		})
	}
	if _, err := openai.Inspect("/v1/models", []byte(`{}`)); !errors.Is(err, openai.ErrUnsupportedPath) {
		t.Errorf("Inspect(/v1/models) = %v, want ErrUnsupportedPath", err)
	}
}

func TestNeedsStreamUsage(t *testing.T) {
	for _, tc := range []struct {
		r    openai.Request
		want bool
	}{
		{openai.Request{Endpoint: openai.ChatCompletions, Stream: true}, true},
		{openai.Request{Endpoint: openai.Completions, Stream: true}, true},
		{openai.Request{Endpoint: openai.ChatCompletions, Stream: true, IncludeUsage: true}, false},
		{openai.Request{Endpoint: openai.ChatCompletions}, false},
		{openai.Request{Endpoint: openai.Responses, Stream: true}, false},
	} {
		if got := tc.r.NeedsStreamUsage(); got != tc.want {
			t.Errorf("%+v.NeedsStreamUsage() = %v, want %v", tc.r, got, tc.want)
		}
	}
}

func TestCompletionTokenBound(t *testing.T) {
	for _, tc := range []struct {
		name     string
		r        openai.Request
		fallback int64
		want     int64
	}{
		{"n times max tokens", openai.Request{Endpoint: openai.ChatCompletions, N: 3, MaxTokens: 100,
			MaxTokensSet: true, Prompts: 1}, 8192, 300},
		{"fallback when unset", openai.Request{Endpoint: openai.ChatCompletions, N: 2, Prompts: 1}, 8192, 16384},
		{"max tokens 0 is set", openai.Request{Endpoint: openai.Completions, N: 1, MaxTokensSet: true,
			Prompts: 1}, 8192, 0},
		{"best_of above n", openai.Request{Endpoint: openai.Completions, N: 2, BestOf: 5, MaxTokens: 10,
			MaxTokensSet: true, Prompts: 1}, 0, 50},
		{"every prompt of a batch", openai.Request{Endpoint: openai.Completions, N: 2, MaxTokens: 10,
			MaxTokensSet: true, Prompts: 4}, 0, 80},
		{"saturates", openai.Request{Endpoint: openai.Completions, N: math.MaxInt64 / 2, MaxTokens: 10,
			MaxTokensSet: true, Prompts: 1}, 0, math.MaxInt64},
		{"embeddings generate nothing", openai.Request{Endpoint: openai.Embeddings, N: 1, Prompts: 1}, 8192, 0},
	} {
		if got := tc.r.CompletionTokenBound(tc.fallback); got != tc.want {
			t.Errorf("%s: CompletionTokenBound(%d) = %d, want %d", tc.name, tc.fallback, got, tc.want)
		}
	}
}

// FuzzInspect checks that no body makes Inspect panic or give a negative bound.
func FuzzInspect(f *testing.F) {
	f.Add("/v1/chat/completions", []byte(`{"model":"m","messages":[{"role":"tool","content":[{"type":"image_url"}]}]}`))
	f.Add("/v1/completions", []byte(`{"model":"m","prompt":[[1,2],[3]],"n":2}`))
	f.Add("/v1/responses", []byte(`{"model":"m","input":[{"type":"function_call","arguments":"{\"a\":[1,2.5]}"}]}`))
	f.Add("/v1/embeddings", []byte(`{"model":"m","input":["a","b"]}`))
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		r, err := openai.Inspect(path, body)
		if err != nil {
			return
		}
		if r.PromptTokenBound() < int64(r.Messages) || r.CompletionTokenBound(100) < 0 {
			t.Fatalf("bounds of %+v: %d, %d", r, r.PromptTokenBound(), r.CompletionTokenBound(100))
		}
	})
}
