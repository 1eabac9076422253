package hub

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// Reason names a failure in CamelCase, ready for a status condition's Reason.
type Reason string

// The reasons a Hub download can fail with. Each one has a sentinel below so callers can write
// errors.Is(err, hub.ErrGatedRepo); ReasonOf gives the Reason of any error this package returns.
const (
	// ReasonGatedRepo: the repo is gated and the token (or its absence) has not been granted access.
	ReasonGatedRepo Reason = "GatedRepo"
	// ReasonUnauthorized: the Hub rejected the token itself (invalid, expired) or it lacks permission (403).
	ReasonUnauthorized Reason = "Unauthorized"
	// ReasonRepoNotFound: no such repo, or it is private and the token cannot see it (the Hub answers 401).
	ReasonRepoNotFound Reason = "RepoNotFound"
	// ReasonRepoDisabled: the repo exists but the Hub has disabled access to it.
	ReasonRepoDisabled Reason = "RepoDisabled"
	// ReasonRevisionNotFound: the repo exists but not the branch, tag or commit.
	ReasonRevisionNotFound Reason = "RevisionNotFound"
	// ReasonEntryNotFound: the repo and revision exist but not the file.
	ReasonEntryNotFound Reason = "EntryNotFound"
	// ReasonNoMatchingFiles: the include/exclude patterns left nothing to download.
	ReasonNoMatchingFiles Reason = "NoMatchingFiles"
	// ReasonRateLimited: the Hub answered 429 more times than the client retries, or asked to wait too long.
	ReasonRateLimited Reason = "RateLimited"
	// ReasonServerError: the Hub or its CDN answered 5xx (or 408) more times than the client retries.
	ReasonServerError Reason = "ServerError"
	// ReasonUnreachable: no HTTP answer at all (DNS, connect, TLS, proxy, stalled transfer), after retries.
	ReasonUnreachable Reason = "Unreachable"
	// ReasonBadResponse: an answer that does not look like the Hub's (missing X-Repo-Commit, ETag or size,
	// unparseable JSON, an unexpected status). Usually a wrong HF_ENDPOINT or a proxy that rewrites answers.
	ReasonBadResponse Reason = "BadResponse"
	// ReasonDiskFull: the cache volume is full (ENOSPC) or over quota (EDQUOT).
	ReasonDiskFull Reason = "DiskFull"
	// ReasonVerifyFailed: the downloaded bytes have the wrong size or hash; the partial file was removed.
	ReasonVerifyFailed Reason = "VerifyFailed"
	// ReasonInvalidArgument: a repo id, revision, file path or pattern this package refuses before any request.
	ReasonInvalidArgument Reason = "InvalidArgument"
)

// Sentinels, one per Reason: errors.Is(err, ErrX) is true for any *Error with that Reason.
var (
	ErrGatedRepo        = &Error{Reason: ReasonGatedRepo}
	ErrUnauthorized     = &Error{Reason: ReasonUnauthorized}
	ErrRepoNotFound     = &Error{Reason: ReasonRepoNotFound}
	ErrRepoDisabled     = &Error{Reason: ReasonRepoDisabled}
	ErrRevisionNotFound = &Error{Reason: ReasonRevisionNotFound}
	ErrEntryNotFound    = &Error{Reason: ReasonEntryNotFound}
	ErrNoMatchingFiles  = &Error{Reason: ReasonNoMatchingFiles}
	ErrRateLimited      = &Error{Reason: ReasonRateLimited}
	ErrServerError      = &Error{Reason: ReasonServerError}
	ErrUnreachable      = &Error{Reason: ReasonUnreachable}
	ErrBadResponse      = &Error{Reason: ReasonBadResponse}
	ErrDiskFull         = &Error{Reason: ReasonDiskFull}
	ErrVerifyFailed     = &Error{Reason: ReasonVerifyFailed}
	ErrInvalidArgument  = &Error{Reason: ReasonInvalidArgument}
)

// Error is every failure this package returns (besides the context's own error when the caller cancels).
// Error() is a sentence that says what to do; it names the repo and file but never the token, a request id or a
// signed URL, so it is stable across retries and safe for a condition message.
type Error struct {
	// Reason classifies the failure.
	Reason Reason
	// Repo, Revision and Path say what was being fetched, where known.
	Repo, Revision, Path string
	// StatusCode is the HTTP status of the answer that failed, 0 if there was none.
	StatusCode int
	// ErrorCode and ServerMessage are the Hub's X-Error-Code and X-Error-Message headers, if any.
	ErrorCode, ServerMessage string
	// RequestID is the Hub's X-Request-Id (for a support ticket; kept out of Error()).
	RequestID string
	// RetryAfter is how long the Hub asked to wait (RateLimited), 0 if it did not say.
	RetryAfter time.Duration
	// Detail is the sentence Error() returns.
	Detail string
	// Err is the underlying error (a syscall errno for DiskFull, a net error for Unreachable), if any.
	Err error
}

// Error returns the sentence that says what went wrong and what to do.
func (e *Error) Error() string {
	if e.Detail != "" {
		return e.Detail
	}
	return string(e.Reason)
}

// Unwrap gives the underlying error, so errors.Is(err, syscall.ENOSPC) holds for DiskFull.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrX) compare Reasons.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == e.Reason && t.Detail == "" && t.Err == nil
}

// Transient reports whether waiting and retrying may help without anyone changing anything: RateLimited,
// ServerError, Unreachable and VerifyFailed (usually a transfer that went wrong). The others need the user: a
// token, an accepted licence, a name, a pattern or a bigger volume.
func (e *Error) Transient() bool {
	switch e.Reason {
	case ReasonRateLimited, ReasonServerError, ReasonUnreachable, ReasonVerifyFailed:
		return true
	}
	return false
}

// ReasonOf returns the Reason of an error from this package, "" for nil and for errors that are not (such as
// context.Canceled).
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// IsTransient reports whether err is an *Error whose Transient() is true.
func IsTransient(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Transient()
}

// isDiskFull reports whether err comes from a full or over-quota file system.
func isDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// diskFullError wraps a write, sync or rename error on the cache volume.
func diskFullError(repo, path string, size int64, err error) *Error {
	what := "the cache of " + repo
	if path != "" {
		what = fmt.Sprintf("%s of %s (%d bytes)", path, repo, size)
	}
	return &Error{
		Reason: ReasonDiskFull, Repo: repo, Path: path, Err: err,
		Detail: "no space left on the cache volume while writing " + what +
			": enlarge the cache volume or narrow the file filter, then retry; a partial file is kept to resume",
	}
}

// errorFromResponse turns a failed Hub answer into an *Error, following huggingface_hub's hf_raise_for_status
// (utils/_http.py): X-Error-Code RevisionNotFound, EntryNotFound and GatedRepo first; X-Error-Message "Access to
// this resource is disabled."; then RepoNotFound, or any 401 on a repo URL unless the message says the
// credentials are invalid (the Hub answers 401 for a repo that does not exist or is private); then 403, 429, 5xx.
// The body is not read.
func (c *Client) errorFromResponse(resp *http.Response, repo, revision, path string) *Error {
	code := resp.Header.Get(headerErrorCode)
	msg := resp.Header.Get(headerErrorMessage)
	e := &Error{
		Repo: repo, Revision: revision, Path: path, StatusCode: resp.StatusCode,
		ErrorCode: code, ServerMessage: msg, RequestID: resp.Header.Get("X-Request-Id"),
	}
	where := repo
	if path != "" {
		where = path + " in " + repo
	}
	switch {
	case code == "RevisionNotFound":
		e.Reason = ReasonRevisionNotFound
		e.Detail = fmt.Sprintf("revision %q not found in %s: use an existing branch, tag or full commit sha", revision, repo)
	case code == "EntryNotFound":
		e.Reason = ReasonEntryNotFound
		e.Detail = fmt.Sprintf("file %s not found in %s at revision %s: check the file name and the revision", path, repo, revision)
	case code == "GatedRepo":
		e.Reason = ReasonGatedRepo
		e.Detail = fmt.Sprintf("%s is a gated repo and the token has no access (HTTP %d): accept the model's conditions "+
			"on its Hub page with the account that owns the token, and set a token of that account", repo, resp.StatusCode)
	case msg == "Access to this resource is disabled.":
		e.Reason = ReasonRepoDisabled
		e.Detail = fmt.Sprintf("access to %s is disabled on the Hub: choose another repo", repo)
	case code == "RepoNotFound" || (resp.StatusCode == http.StatusUnauthorized && msg != invalidCredentials):
		e.Reason = ReasonRepoNotFound
		e.Detail = fmt.Sprintf("repo %s not found at %s (HTTP %d): check the repo id; if it is private or gated, "+
			"set a token that can read it", repo, c.endpoint(), resp.StatusCode)
	case resp.StatusCode == http.StatusUnauthorized:
		e.Reason = ReasonUnauthorized
		e.Detail = fmt.Sprintf("the Hub rejected the token (HTTP 401) for %s: replace it with a valid read token", where)
	case resp.StatusCode == http.StatusForbidden:
		e.Reason = ReasonUnauthorized
		e.Detail = fmt.Sprintf("the token may not read %s (HTTP 403): give it read access to this repo "+
			"(fine-grained tokens need the repo listed)", where)
	case resp.StatusCode == http.StatusTooManyRequests:
		e.Reason = ReasonRateLimited
		e.RetryAfter = retryAfter(resp.Header, c.now())
		e.Detail = fmt.Sprintf("the Hub rate-limits these requests (HTTP 429) for %s after retries: "+
			"retry after the error's RetryAfter; a token raises the limit", where)
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout:
		e.Reason = ReasonServerError
		e.Detail = fmt.Sprintf("the Hub answered HTTP %d for %s after retries: it is retried later; "+
			"check the Hub's status page if it persists", resp.StatusCode, where)
	default:
		e.Reason = ReasonBadResponse
		e.Detail = fmt.Sprintf("unexpected HTTP %d from %s for %s: check HF_ENDPOINT and any proxy in between",
			resp.StatusCode, c.endpoint(), where)
	}
	if msg != "" && e.Reason != ReasonRateLimited && e.Reason != ReasonServerError {
		e.Detail += " (Hub says: " + strings.TrimSuffix(msg, ".") + ")"
	}
	return e
}
