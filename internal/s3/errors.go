package s3

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"

	"github.com/privatellm/privatellm/internal/hub"
)

// Failures are *hub.Error values with the Hub client's reasons, so the loader, its report and the operator treat
// both sources alike (hub.ReasonOf, hub.IsTransient, errors.Is(err, hub.ErrRepoNotFound)). ErrorCode is the S3
// error code, ServerMessage its message, RequestID the x-amz-request-id.

// errorBody is S3's REST error document (ErrorResponses.html): <Error><Code/><Message/>…</Error>, with Region
// for AuthorizationHeaderMalformed and Endpoint for PermanentRedirect.
type errorBody struct {
	Code      string `xml:"Code"`
	Message   string `xml:"Message"`
	RequestID string `xml:"RequestId"`
	Region    string `xml:"Region"`
	Endpoint  string `xml:"Endpoint"`
}

// errorFromResponse reads a failed answer's error document (HEAD answers have none: the status decides) and
// maps its code to a reason, then closes the body.
func (c *Client) errorFromResponse(resp *http.Response, w what) *hub.Error {
	var body errorBody
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	_ = xml.Unmarshal(raw, &body)
	e := &hub.Error{Repo: "s3://" + w.bucket, Path: w.key, StatusCode: resp.StatusCode, ErrorCode: body.Code,
		ServerMessage: body.Message, RequestID: firstNonEmpty(body.RequestID, resp.Header.Get("X-Amz-Request-Id"))}
	status := resp.StatusCode
	code := body.Code
	switch {
	case code == "NoSuchBucket" || (code == "" && status == http.StatusNotFound && w.key == ""):
		e.Reason = hub.ReasonRepoNotFound
		e.Detail = fmt.Sprintf("bucket %s not found at %s: check the bucket in the source and --s3-endpoint", w.bucket, c.endpointString())
	case code == "NoSuchKey" || (code == "" && status == http.StatusNotFound):
		e.Reason = hub.ReasonEntryNotFound
		e.Detail = fmt.Sprintf("%s was listed but is not there any more: the bucket changed during the download; retry", w)
	case code == "InvalidAccessKeyId":
		e.Reason = hub.ReasonUnauthorized
		e.Detail = fmt.Sprintf("the S3 server does not know the access key (InvalidAccessKeyId) for %s: check the access key in the Secret", w)
	case code == "SignatureDoesNotMatch":
		e.Reason = hub.ReasonUnauthorized
		e.Detail = fmt.Sprintf("the S3 server refused the signature (SignatureDoesNotMatch) for %s: check the secret key in the "+
			"Secret (a proxy that rewrites requests breaks signatures too)", w)
	case code == "ExpiredToken" || code == "InvalidToken" || code == "TokenRefreshRequired":
		e.Reason = hub.ReasonUnauthorized
		e.Detail = fmt.Sprintf("the S3 session token is not valid (%s) for %s: renew the credentials in the Secret", code, w)
	case code == "RequestTimeTooSkewed":
		e.Reason = hub.ReasonUnauthorized
		e.Detail = fmt.Sprintf("the S3 server refused the request for %s because the node's clock is more than 15 minutes off "+
			"(RequestTimeTooSkewed): fix the node's time synchronization", w)
	case code == "AuthorizationHeaderMalformed" && body.Region != "":
		e.Reason = hub.ReasonInvalidArgument
		e.Detail = fmt.Sprintf("the bucket %s is in region %s, not %s: set --s3-region %s", w.bucket, body.Region, c.region(), body.Region)
	case code == "PermanentRedirect" || code == "TemporaryRedirect" || status == http.StatusMovedPermanently:
		e.Reason = hub.ReasonInvalidArgument
		e.Detail = fmt.Sprintf("the bucket %s is served at another endpoint (%s): set --s3-endpoint and --s3-region for it",
			w.bucket, firstNonEmpty(body.Endpoint, "see the server's answer"))
	case code == "InvalidObjectState":
		e.Reason = hub.ReasonEntryNotFound
		e.Detail = fmt.Sprintf("%s is archived (InvalidObjectState): restore it or copy it to a standard storage class", w)
	case code == "SlowDown" || status == http.StatusTooManyRequests:
		e.Reason = hub.ReasonRateLimited
		e.RetryAfter = retryAfter(resp.Header)
		e.Detail = fmt.Sprintf("the S3 server asks to slow down (HTTP %d %s) for %s after retries: the download is retried later",
			status, firstNonEmpty(code, "SlowDown"), w)
	case status >= 500 || status == http.StatusRequestTimeout:
		e.Reason = hub.ReasonServerError
		e.Detail = fmt.Sprintf("the S3 server answered HTTP %d %s for %s after retries: the download is retried later", status, code, w)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Reason = hub.ReasonUnauthorized
		e.Detail = fmt.Sprintf("access to %s denied (HTTP %d %s): give the access key s3:ListBucket on the bucket and "+
			"s3:GetObject on its objects, or make them public for anonymous access", w, status, code)
	case code == "InvalidBucketName" || code == "InvalidArgument" || code == "InvalidRequest":
		e.Reason = hub.ReasonInvalidArgument
		e.Detail = fmt.Sprintf("the S3 server refused the request for %s (%s): check the source, --s3-endpoint and --s3-path-style", w, code)
	default:
		e.Reason = hub.ReasonBadResponse
		e.Detail = fmt.Sprintf("unexpected HTTP %d %s from the S3 server for %s: check --s3-endpoint, --s3-path-style and any "+
			"proxy in between", status, code, w)
	}
	if body.Message != "" && e.Reason != hub.ReasonRateLimited && e.Reason != hub.ReasonServerError {
		e.Detail += " (S3 says: " + strings.TrimSuffix(body.Message, ".") + ")"
	}
	return e
}

func badResponse(w what, detail string) *hub.Error {
	return &hub.Error{Reason: hub.ReasonBadResponse, Repo: "s3://" + w.bucket, Path: w.key,
		Detail: fmt.Sprintf("the S3 server's answer for %s is unusable: %s: check --s3-endpoint and any proxy in between", w, detail)}
}

func verifyFailed(w what, detail string) *hub.Error {
	return &hub.Error{Reason: hub.ReasonVerifyFailed, Repo: "s3://" + w.bucket, Path: w.key,
		Detail: fmt.Sprintf("%s failed verification: %s; retry the download", w, detail)}
}

// isDiskFull reports whether err comes from a full or over-quota file system.
func isDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// fsError classifies an error writing the destination: DiskFull for ENOSPC/EDQUOT, else wrapped as is (a
// permission or I/O error; no retry helps).
func fsError(w what, size int64, err error) error {
	if isDiskFull(err) {
		return &hub.Error{Reason: hub.ReasonDiskFull, Repo: "s3://" + w.bucket, Path: w.key, Err: err,
			Detail: fmt.Sprintf("no space left on the cache volume while writing %s (%d bytes): enlarge the cache volume or "+
				"narrow the file filter, then retry; a partial file is kept to resume", w, size)}
	}
	return fmt.Errorf("writing %s to the cache: %w", w, err)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
