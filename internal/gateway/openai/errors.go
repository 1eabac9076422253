package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// The error types and codes the gateway answers with, as OpenAI's API returns them. OpenAI documents the statuses
// and their causes (https://developers.openai.com/docs/guides/error-codes) but shows no bodies; the type and code
// values below are those of bodies OpenAI has returned, as quoted in client issue reports:
//
//   - 401 {"type":"invalid_request_error","param":null,"code":"invalid_api_key"}, message "Incorrect API key
//     provided: sk-...": github.com/chatanywhere/GPT_API_free issue 62 (2023), github.com/continuedev/continue
//     issue 11409 (2026).
//   - 404 {"type":"invalid_request_error","param":null,"code":"model_not_found"}, message "The model `gpt-4` does
//     not exist or you do not have access to it.": github.com/timkmecl/chatgpt-vscode issue 45 (2024),
//     github.com/ksred/GitPilotAI issue 12 (2024).
//   - 429 {"type":"tokens","param":null,"code":"rate_limit_exceeded"}, message "Rate limit reached for gpt-4o in
//     organization org-... on tokens per min (TPM): Limit 30000, Used 14567, Requested 24754. Please try again in
//     18.642s.": github.com/TheR1D/shell_gpt issue 653 (2024), github.com/openai/codex issue 88 (2025). The type is
//     "requests" for the requests-per-minute limit (RPM); no quoted body of that one was found, so "requests" rests
//     on OpenAI naming its limits requests and tokens.
//   - 503 {"type":"server_error","param":null,"code":null}, message "That model is currently overloaded with other
//     requests. You can retry your request ...": github.com/ikechan8370/chatgpt-plugin issue 125 (2023). OpenAI's
//     newer Responses API streams {"type":"service_unavailable_error","code":"server_is_overloaded"} instead
//     (github.com/Wei-Shaw/sub2api issue 6631, 2026); this package keeps the chat-era shape, which every client
//     handles.
//
// Client libraries raise by status, not by type or code: the Stainless-generated clients (openai-python,
// openai-node) map 400 to BadRequestError, 401 AuthenticationError, 403 PermissionDeniedError, 404 NotFoundError,
// 409 ConflictError, 422 UnprocessableEntityError, 429 RateLimitError and >= 500 InternalServerError
// (_make_status_error), and retry 408, 409, 429 and >= 500 unless the response says "x-should-retry: false",
// waiting for retry-after-ms or Retry-After when given (_should_retry; read in Stainless-generated SDK sources, not
// in the openai-python repository itself). So a model that is starting should be answered 503 with a Retry-After
// header: clients retry it by themselves.
const (
	TypeInvalidRequest = "invalid_request_error" // 400, 401 and 404: the client's request is at fault
	TypeServerError    = "server_error"          // 5xx: the service is at fault, retry later
	TypeRequests       = "requests"              // 429 of a requests-per-minute limit
	TypeTokens         = "tokens"                // 429 of a tokens-per-minute limit

	CodeInvalidAPIKey     = "invalid_api_key"     // 401
	CodeModelNotFound     = "model_not_found"     // 404
	CodeRateLimitExceeded = "rate_limit_exceeded" // 429
)

// Error is an error the gateway answers in OpenAI's shape:
//
//	{"error":{"message":"...","type":"...","param":null,"code":"..."}}
type Error struct {
	Status  int
	Type    string
	Code    string // "" is written as null
	Param   string // "" is written as null
	Message string
}

// Error returns the status, type and message.
func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Type, e.Message) }

// Write writes the error as the response: Content-Type application/json, the status, and the body. Set other
// headers (Retry-After) on w before calling it.
func (e *Error) Write(w http.ResponseWriter) {
	body := e.body()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

type errorBody struct {
	Error errorObject `json:"error"`
}

type errorObject struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (e *Error) body() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(errorBody{errorObject{Message: e.Message, Type: e.Type, Param: orNull(e.Param), Code: orNull(e.Code)}})
	return buf.Bytes() // with the encoder's trailing newline
}

// WriteError writes {"error":{"message":message,"type":typ,"param":null,"code":code}} with the status; an empty
// code is written as null.
func WriteError(w http.ResponseWriter, status int, typ, code, message string) {
	(&Error{Status: status, Type: typ, Code: code, Message: message}).Write(w)
}

// InvalidRequest is a 400 invalid_request_error about param ("" for none).
func InvalidRequest(param, message string) *Error {
	return &Error{Status: http.StatusBadRequest, Type: TypeInvalidRequest, Param: param, Message: message}
}

// ErrorFromRequest turns an error of Inspect or EnsureStreamUsage into the answer: a *RequestError becomes a 400
// invalid_request_error with its param; ErrUnsupportedPath a 404; anything else a 500 server_error.
func ErrorFromRequest(err error) *Error {
	var re *RequestError
	switch {
	case errors.As(err, &re):
		return InvalidRequest(re.Param, re.Message)
	case errors.Is(err, ErrUnsupportedPath):
		return &Error{Status: http.StatusNotFound, Type: TypeInvalidRequest, Message: "Unknown request URL."}
	default:
		return &Error{Status: http.StatusInternalServerError, Type: TypeServerError, Message: err.Error()}
	}
}

// InvalidAPIKey is the 401 for a missing or unknown API key (type invalid_request_error, code invalid_api_key, as
// OpenAI answers it). message should not echo the whole key; OpenAI shows its first and last four characters.
func InvalidAPIKey(message string) *Error {
	return &Error{Status: http.StatusUnauthorized, Type: TypeInvalidRequest, Code: CodeInvalidAPIKey, Message: message}
}

// ModelNotFound is the 404 for a model the gateway does not serve (or the key may not use), worded as OpenAI words
// it.
func ModelNotFound(model string) *Error {
	return &Error{Status: http.StatusNotFound, Type: TypeInvalidRequest, Code: CodeModelNotFound,
		Message: fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", model)}
}

// RateLimited is the 429 for a limit that was hit: limitType is TypeRequests or TypeTokens. Set Retry-After on the
// response before writing it.
func RateLimited(limitType, message string) *Error {
	return &Error{Status: http.StatusTooManyRequests, Type: limitType, Code: CodeRateLimitExceeded, Message: message}
}

// Unavailable is the 503 server_error for a model that is starting (scaled from zero, loading weights) or
// overloaded. Set Retry-After on the response before writing it; OpenAI clients retry a 503 by themselves.
func Unavailable(message string) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Type: TypeServerError, Message: message}
}
