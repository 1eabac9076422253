package openai

import "encoding/json"

// Usage is the token usage an engine reports for a request.
type Usage struct {
	// PromptTokens is usage.prompt_tokens (responses API: usage.input_tokens).
	PromptTokens int64
	// CompletionTokens is usage.completion_tokens (responses API: usage.output_tokens; embeddings: 0).
	CompletionTokens int64
	// TotalTokens is usage.total_tokens, or PromptTokens + CompletionTokens when the engine left it out.
	TotalTokens int64
	// CachedTokens is usage.prompt_tokens_details.cached_tokens (responses API:
	// usage.input_tokens_details.cached_tokens): prompt tokens served from the prefix cache. vLLM reports it only
	// with --enable-prompt-tokens-details, SGLang only with --enable-cache-report; TGI never. 0 when absent.
	CachedTokens int64
}

type usageJSON struct {
	PromptTokens     *int64        `json:"prompt_tokens"`
	CompletionTokens *int64        `json:"completion_tokens"`
	TotalTokens      *int64        `json:"total_tokens"`
	InputTokens      *int64        `json:"input_tokens"`
	OutputTokens     *int64        `json:"output_tokens"`
	PromptDetails    *cachedDetail `json:"prompt_tokens_details"`
	InputDetails     *cachedDetail `json:"input_tokens_details"`
}

type cachedDetail struct {
	CachedTokens *int64 `json:"cached_tokens"`
}

// parseUsageObject decodes a usage object (raw must be an object, not null). It reports false when the object
// holds no token count or a count is not an integer.
func parseUsageObject(raw []byte) (Usage, bool) {
	if len(raw) == 0 || raw[0] != '{' {
		return Usage{}, false
	}
	var j usageJSON
	if json.Unmarshal(raw, &j) != nil {
		return Usage{}, false
	}
	first := func(ps ...*int64) (int64, bool) {
		for _, p := range ps {
			if p != nil {
				return *p, true
			}
		}
		return 0, false
	}
	var u Usage
	prompt, okP := first(j.PromptTokens, j.InputTokens)
	completion, okC := first(j.CompletionTokens, j.OutputTokens)
	total, okT := first(j.TotalTokens)
	if !okP && !okC && !okT {
		return Usage{}, false
	}
	u.PromptTokens, u.CompletionTokens, u.TotalTokens = prompt, completion, total
	if !okT {
		u.TotalTokens = prompt + completion
	}
	for _, d := range []*cachedDetail{j.PromptDetails, j.InputDetails} {
		if d != nil && d.CachedTokens != nil {
			u.CachedTokens = *d.CachedTokens
			break
		}
	}
	return u, true
}

// ParseUsage reads the top-level usage object of a non-streaming response body (chat completion, completion,
// embeddings, or a responses API response, whose input_tokens/output_tokens it maps to prompt/completion). It
// reports false when there is none (absent, null, not an object, or the body is not a JSON object).
func ParseUsage(body []byte) (Usage, bool) {
	start := skipSpace(body, 0)
	vs, ve, ok := member(body, start, "usage")
	if !ok {
		return Usage{}, false
	}
	return parseUsageObject(body[vs:ve])
}
