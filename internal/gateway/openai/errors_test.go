package openai_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/privatellm/privatellm/internal/gateway/openai"
)

func TestWriteError(t *testing.T) {
	rec := httptest.NewRecorder()
	openai.WriteError(rec, http.StatusTooManyRequests, "tokens", "rate_limit_exceeded", `Limit <30000> & "more"`)
	if rec.Code != http.StatusTooManyRequests {
		t.Errorf("status %d, want 429", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	want := `{"error":{"message":"Limit <30000> & \"more\"","type":"tokens","param":null,"code":"rate_limit_exceeded"}}` + "\n"
	if rec.Body.String() != want {
		t.Errorf("body\n %s\nwant\n %s", rec.Body.String(), want)
	}

	rec = httptest.NewRecorder()
	openai.WriteError(rec, http.StatusServiceUnavailable, "server_error", "", "starting")
	if want := `{"error":{"message":"starting","type":"server_error","param":null,"code":null}}` + "\n"; rec.Body.String() != want {
		t.Errorf("an empty code must be null: body\n %s\nwant\n %s", rec.Body.String(), want)
	}
}

func TestErrorConstructors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  *openai.Error
		body string
	}{
		{"invalid request with a param", openai.InvalidRequest("messages[0]", "bad"),
			`{"error":{"message":"bad","type":"invalid_request_error","param":"messages[0]","code":null}}`},
		{"invalid API key", openai.InvalidAPIKey("Incorrect API key provided: sk-a...wxyz."),
			`{"error":{"message":"Incorrect API key provided: sk-a...wxyz.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`},
		{"model not found", openai.ModelNotFound("llama-9"),
			"{\"error\":{\"message\":\"The model `llama-9` does not exist or you do not have access to it.\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"model_not_found\"}}"},
		{"rate limited on requests", openai.RateLimited(openai.TypeRequests, "slow down"),
			`{"error":{"message":"slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}`},
		{"unavailable", openai.Unavailable("The model is starting."),
			`{"error":{"message":"The model is starting.","type":"server_error","param":null,"code":null}}`},
	} {
		rec := httptest.NewRecorder()
		rec.Header().Set("Retry-After", "5")
		tc.err.Write(rec)
		if rec.Code != tc.err.Status || rec.Body.String() != tc.body+"\n" {
			t.Errorf("%s: wrote %d %s, want %d %s", tc.name, rec.Code, rec.Body.String(), tc.err.Status, tc.body)
		}
		if rec.Header().Get("Retry-After") != "5" {
			t.Errorf("%s: a header set before Write was lost", tc.name)
		}
	}
	statuses := map[*openai.Error]int{
		openai.InvalidRequest("", ""): 400, openai.InvalidAPIKey(""): 401, openai.ModelNotFound(""): 404,
		openai.RateLimited(openai.TypeTokens, ""): 429, openai.Unavailable(""): 503,
	}
	for e, want := range statuses {
		if e.Status != want {
			t.Errorf("%+v: status %d, want %d", e, e.Status, want)
		}
	}
}

func TestErrorFromRequest(t *testing.T) {
	_, err := openai.Inspect("/v1/chat/completions", []byte(`{"model":"m","messages":[],"stream":1}`))
	e := openai.ErrorFromRequest(err)
	if e.Status != 400 || e.Type != openai.TypeInvalidRequest || e.Param != "stream" || e.Message != err.Error() {
		t.Errorf("ErrorFromRequest(%v) = %+v", err, e)
	}
	if e := openai.ErrorFromRequest(openai.ErrUnsupportedPath); e.Status != 404 {
		t.Errorf("ErrorFromRequest(ErrUnsupportedPath) = %+v, want 404", e)
	}
	if e := openai.ErrorFromRequest(errors.New("boom")); e.Status != 500 || e.Type != openai.TypeServerError {
		t.Errorf("ErrorFromRequest(other) = %+v, want 500 server_error", e)
	}
}
