package openai

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Endpoint is one of the OpenAI API operations the gateway inspects.
type Endpoint string

// The inspected endpoints, named as the API reference names them.
const (
	ChatCompletions Endpoint = "chat.completions" // POST /v1/chat/completions
	Completions     Endpoint = "completions"      // POST /v1/completions
	Embeddings      Endpoint = "embeddings"       // POST /v1/embeddings
	Responses       Endpoint = "responses"        // POST /v1/responses
)

// EndpointOf returns the endpoint served at path ("/v1/chat/completions", a trailing slash allowed), or false.
func EndpointOf(path string) (Endpoint, bool) {
	switch strings.TrimSuffix(path, "/") {
	case "/v1/chat/completions":
		return ChatCompletions, true
	case "/v1/completions":
		return Completions, true
	case "/v1/embeddings":
		return Embeddings, true
	case "/v1/responses":
		return Responses, true
	}
	return "", false
}

// ErrUnsupportedPath is returned by Inspect for a path that is not one of the four endpoints; the gateway answers it
// 404 (or forwards the request uninspected, if it serves other paths).
var ErrUnsupportedPath = errors.New("openai: the path is not one of the inspected endpoints")

// RequestError is a fault in a client's request body. The gateway answers it with 400 invalid_request_error, its
// Param as the error's param and its Message as the message ([ErrorFromRequest] builds that answer).
type RequestError struct {
	// Param is the offending parameter as OpenAI writes it ("stream_options.include_usage", "messages[2]"), or ""
	// when the body as a whole is at fault.
	Param string
	// Message says what is wrong and what was expected, in the words of OpenAI's own errors.
	Message string
}

// Error returns the message.
func (e *RequestError) Error() string { return e.Message }

func invalidType(b []byte, param string, vs int, want string) *RequestError {
	return &RequestError{Param: param, Message: fmt.Sprintf("Invalid type for '%s': expected %s, but got %s instead.",
		param, want, kindOf(b, vs))}
}

func missing(param string) *RequestError {
	return &RequestError{Param: param, Message: fmt.Sprintf("Missing required parameter: '%s'.", param)}
}

func invalidValue(param, why string) *RequestError {
	return &RequestError{Param: param, Message: fmt.Sprintf("Invalid value for '%s': %s.", param, why)}
}

// Request is what the gateway needs to know of a request body before forwarding it.
type Request struct {
	Endpoint Endpoint
	// Model is the model the client asked for: the gateway routes on it.
	Model string
	// Stream is the body's "stream" (chat, completions, responses).
	Stream bool
	// IncludeUsage is true when the body set stream_options.include_usage to true (chat, completions): the client
	// asked for the final usage chunk and must get it.
	IncludeUsage bool
	// IncludeUsageOmitted is true when stream_options is an object without include_usage. OpenAI, SGLang, TGI and
	// llama.cpp then send no usage chunk, but vLLM does: its StreamOptions.include_usage defaults to true
	// (vllm/entrypoints/openai/engine/protocol.py). A gateway that knows the request goes to vLLM should not strip
	// the usage chunk of such a request, since the client would have received it from vLLM directly.
	IncludeUsageOmitted bool
	// MaxTokens is the cap on generated tokens per choice the body set: max_completion_tokens, else the deprecated
	// max_tokens (chat); max_tokens (completions); max_output_tokens (responses). MaxTokensSet is false when none is
	// set (or it is null); the engine then generates up to the model's context length.
	MaxTokens    int64
	MaxTokensSet bool
	// N is the number of choices per prompt ("n", default 1; always 1 for responses and embeddings).
	N int64
	// BestOf is the completions endpoint's best_of (0 when unset): the engine generates max(N, BestOf) sequences.
	BestOf int64
	// Prompts is the number of prompts the engine runs: the length of a batched completions prompt or of an
	// embeddings input list, else 1.
	Prompts int

	// The parts of the prompt token bound (see PromptTokenBound).

	// PromptBytes counts the bytes a tokenizer can see: the decoded UTF-8 bytes of every string of the messages,
	// prompt, input and instructions (content, names, roles, tool call names and arguments), and for structured
	// values a template renders as JSON (tool definitions, tool results) an upper bound of their rendered length.
	PromptBytes int64
	// Messages counts chat messages and responses input items (and the instructions), each of which a chat template
	// wraps in role headers and separators.
	Messages int
	// ToolCalls counts the tool calls in assistant messages, Tools the tool (or function) definitions.
	ToolCalls int
	Tools     int
	// MediaParts counts image, audio, video and file parts, which are not text and get a fixed allowance each.
	MediaParts int
	// PromptTokenIDs counts prompts given as token IDs (completions, embeddings), which are exact.
	PromptTokenIDs int64
	// ServerState is true when the prompt includes context the body does not carry (previous_response_id,
	// conversation, a stored prompt, item_reference, prompt_embeds): PromptTokenBound is then no bound, and the
	// gateway should reserve the model's context length instead.
	ServerState bool
}

// NeedsStreamUsage reports whether the gateway must force stream_options.include_usage on this request to meter it:
// a streaming chat or completions request that did not ask for usage itself. The responses API always reports usage
// in its response.completed event and has no such option.
func (r Request) NeedsStreamUsage() bool {
	return r.Stream && !r.IncludeUsage && (r.Endpoint == ChatCompletions || r.Endpoint == Completions)
}

// CompletionTokenBound is the most tokens the request can generate: max tokens (or fallback, what the gateway
// assumes when the client set none, typically the model's context length) for each of max(N, BestOf) choices of
// each prompt. Embeddings generate nothing.
func (r Request) CompletionTokenBound(fallback int64) int64 {
	if r.Endpoint == Embeddings {
		return 0
	}
	perChoice := fallback
	if r.MaxTokensSet {
		perChoice = r.MaxTokens
	}
	choices := max(r.N, r.BestOf, 1)
	return satMul(satMul(perChoice, choices), int64(max(r.Prompts, 1)))
}

func satMul(a, b int64) int64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}

// fields holds the value spans of the top-level members Inspect reads (end == 0: absent).
type fields struct {
	model, stream, streamOptions, maxTokens, maxCompletionTokens, maxOutputTokens, n, bestOf span
	messages, prompt, suffix, input, instructions, tools, functions, documents               span
	previousResponseID, conversation, promptEmbeds                                           span
}

type span struct{ s, e int }

func (v span) ok() bool { return v.e > 0 }

func (f *fields) set(name []byte, v span) {
	switch string(name) {
	case "model":
		f.model = v
	case "stream":
		f.stream = v
	case "stream_options":
		f.streamOptions = v
	case "max_tokens":
		f.maxTokens = v
	case "max_completion_tokens":
		f.maxCompletionTokens = v
	case "max_output_tokens":
		f.maxOutputTokens = v
	case "n":
		f.n = v
	case "best_of":
		f.bestOf = v
	case "messages":
		f.messages = v
	case "prompt":
		f.prompt = v
	case "suffix":
		f.suffix = v
	case "input":
		f.input = v
	case "instructions":
		f.instructions = v
	case "tools":
		f.tools = v
	case "functions":
		f.functions = v
	case "documents":
		f.documents = v
	case "previous_response_id":
		f.previousResponseID = v
	case "conversation":
		f.conversation = v
	case "prompt_embeds":
		f.promptEmbeds = v
	}
}

// Inspect reads the request body of the endpoint at path. It decodes only the members it needs, leaving every
// string in place, and fails with a *RequestError when the body is not a JSON object, model is missing or not a
// non-empty string, or a member it reads has the wrong type; with ErrUnsupportedPath for another path.
func Inspect(path string, body []byte) (Request, error) {
	ep, ok := EndpointOf(path)
	if !ok {
		return Request{}, ErrUnsupportedPath
	}
	if !json.Valid(body) {
		return Request{}, &RequestError{Message: "We could not parse the JSON body of your request: it is not valid JSON."}
	}
	b := body
	start := skipSpace(b, 0)
	if b[start] != '{' {
		return Request{}, &RequestError{Message: fmt.Sprintf(
			"The request body must be a JSON object, but got %s instead.", kindOf(b, start))}
	}
	var f fields
	forEachMember(b, start, func(key []byte, vs, ve int) bool {
		f.set(keyName(key), span{vs, ve})
		return true
	})

	r := Request{Endpoint: ep, N: 1, Prompts: 1}
	var err error
	if r.Model, err = modelOf(b, f.model); err != nil {
		return Request{}, err
	}
	if ep != Embeddings {
		if r.Stream, err = boolOf(b, "stream", f.stream); err != nil {
			return Request{}, err
		}
	}
	if ep == ChatCompletions || ep == Completions {
		if r.IncludeUsage, r.IncludeUsageOmitted, err = includeUsageOf(b, f.streamOptions); err != nil {
			return Request{}, err
		}
		n, set, err := intOf(b, "n", f.n, 1)
		if err != nil {
			return Request{}, err
		}
		if set {
			r.N = n
		}
	}
	switch ep {
	case ChatCompletions:
		// max_completion_tokens replaced max_tokens; OpenAI and vLLM take it over max_tokens when both are set.
		if r.MaxTokens, r.MaxTokensSet, err = intOf(b, "max_completion_tokens", f.maxCompletionTokens, 0); err != nil {
			return Request{}, err
		}
		if !r.MaxTokensSet {
			if r.MaxTokens, r.MaxTokensSet, err = intOf(b, "max_tokens", f.maxTokens, 0); err != nil {
				return Request{}, err
			}
		}
	case Completions:
		if r.MaxTokens, r.MaxTokensSet, err = intOf(b, "max_tokens", f.maxTokens, 0); err != nil {
			return Request{}, err
		}
		if r.BestOf, _, err = intOf(b, "best_of", f.bestOf, 1); err != nil {
			return Request{}, err
		}
	case Responses:
		if r.MaxTokens, r.MaxTokensSet, err = intOf(b, "max_output_tokens", f.maxOutputTokens, 0); err != nil {
			return Request{}, err
		}
	}
	if err := countPrompt(b, &f, &r); err != nil {
		return Request{}, err
	}
	return r, nil
}

func modelOf(b []byte, v span) (string, error) {
	if !v.ok() || isNull(b[v.s:v.e]) {
		return "", missing("model")
	}
	if b[v.s] != '"' {
		return "", invalidType(b, "model", v.s, "a string")
	}
	var m string
	if err := json.Unmarshal(b[v.s:v.e], &m); err != nil {
		return "", invalidType(b, "model", v.s, "a string")
	}
	if m == "" {
		return "", invalidValue("model", "expected a non-empty string")
	}
	return m, nil
}

// boolOf reads a boolean member; absent and null are false.
func boolOf(b []byte, param string, v span) (bool, error) {
	if !v.ok() {
		return false, nil
	}
	switch string(b[v.s:v.e]) {
	case "true":
		return true, nil
	case "false", "null":
		return false, nil
	}
	return false, invalidType(b, param, v.s, "a boolean")
}

// includeUsageOf reads stream_options.include_usage, and reports whether stream_options is an object without it.
func includeUsageOf(b []byte, v span) (include, omitted bool, err error) {
	if !v.ok() || isNull(b[v.s:v.e]) {
		return false, false, nil
	}
	if b[v.s] != '{' {
		return false, false, invalidType(b, "stream_options", v.s, "an object")
	}
	s, e, ok := member(b, v.s, "include_usage")
	if !ok {
		return false, true, nil
	}
	include, err = boolOf(b, "stream_options.include_usage", span{s, e})
	return include, false, err
}

// intOf reads an integer member of at least least; absent and null are unset. An integral number written with a
// fraction or exponent (100.0, 1e3) is taken as the integer, as the engines' pydantic models take it.
func intOf(b []byte, param string, v span, least int64) (int64, bool, error) {
	if !v.ok() || isNull(b[v.s:v.e]) {
		return 0, false, nil
	}
	want := func() string { return fmt.Sprintf("expected an integer >= %d", least) }
	c := b[v.s]
	if c != '-' && (c < '0' || c > '9') {
		return 0, false, invalidType(b, param, v.s, "an integer")
	}
	text := string(b[v.s:v.e])
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(text, 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) >= math.MaxInt64 {
			return 0, false, invalidValue(param, want())
		}
		n = int64(f)
	}
	if n < least {
		return 0, false, invalidValue(param, want())
	}
	return n, true, nil
}
