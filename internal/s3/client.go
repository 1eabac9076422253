package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/privatellm/privatellm/internal/hub"
)

const (
	// DefaultRegion is the signing region when none is given (MinIO's default too).
	DefaultRegion = "us-east-1"
	// DefaultUserAgent is sent when Client.UserAgent is empty.
	DefaultUserAgent = "privatellm-s3-loader (+https://github.com/privatellm/privatellm)"
	// DefaultMaxRetries bounds the retries of a request on 5xx, 429, 408 and network errors, and of a transfer
	// that makes no progress (as internal/hub does).
	DefaultMaxRetries = 5
	// DefaultRetryBackoff is the first wait between retries; it doubles up to 8 times as much.
	DefaultRetryBackoff = time.Second
	// DefaultStallTimeout is how long a transfer may receive nothing before it is cut and resumed.
	DefaultStallTimeout = 2 * time.Minute
	// DefaultMaxRetryAfter is the longest Retry-After waited in place; a longer one fails as RateLimited.
	DefaultMaxRetryAfter = 5 * time.Minute
)

// Client talks to S3 or an S3-compatible server (MinIO, Ceph RGW, …). Safe for concurrent use once set up.
type Client struct {
	// Endpoint is the server's base URL, e.g. http://minio.minio:9000; empty means
	// https://s3.<region>.amazonaws.com.
	Endpoint string
	// Region is the signing region; empty means DefaultRegion.
	Region string
	// PathStyle addresses objects as <endpoint>/<bucket>/<key> (MinIO, most private servers); otherwise as
	// <bucket>.<endpoint host>/<key> (virtual-hosted style, AWS's default).
	PathStyle bool
	// Credentials sign requests with Signature Version 4; nil sends them anonymously (a public bucket).
	Credentials *Credentials
	// HTTPClient sends the requests; nil means http.DefaultClient (hub.NewHTTPClient adds proxy and CA settings).
	HTTPClient *http.Client
	// UserAgent is sent with every request; empty means DefaultUserAgent.
	UserAgent string
	// PageSize is the max-keys of a listing page; 0 leaves it to the server (1000 on S3).
	PageSize int
	// MaxRetries bounds retries: 0 means DefaultMaxRetries, negative none.
	MaxRetries int
	// RetryBackoff is the first wait between retries: 0 means DefaultRetryBackoff.
	RetryBackoff time.Duration
	// StallTimeout cuts a transfer that receives nothing for this long: 0 means DefaultStallTimeout.
	StallTimeout time.Duration

	// Test hooks: clock signs requests (nil: time.Now); openFile opens a partial file (nil: os.OpenFile).
	clock    func() time.Time
	openFile func(name string) (partialFile, error)
}

func (c *Client) region() string {
	if c.Region != "" {
		return c.Region
	}
	return DefaultRegion
}

func (c *Client) maxRetries() int {
	switch {
	case c.MaxRetries < 0:
		return 0
	case c.MaxRetries == 0:
		return DefaultMaxRetries
	}
	return c.MaxRetries
}

func (c *Client) backoff() time.Duration {
	if c.RetryBackoff > 0 {
		return c.RetryBackoff
	}
	return DefaultRetryBackoff
}

func (c *Client) stallTimeout() time.Duration {
	if c.StallTimeout > 0 {
		return c.StallTimeout
	}
	return DefaultStallTimeout
}

func (c *Client) now() time.Time {
	if c.clock != nil {
		return c.clock()
	}
	return time.Now()
}

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return http.DefaultClient
}

// endpointURL parses the endpoint: http or https, a host, no path, query or credentials.
func (c *Client) endpointURL() (*url.URL, error) {
	raw := strings.TrimRight(c.Endpoint, "/")
	if raw == "" {
		raw = "https://s3." + c.region() + ".amazonaws.com"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" ||
		u.RawQuery != "" || u.User != nil {
		return nil, &hub.Error{Reason: hub.ReasonInvalidArgument,
			Detail: fmt.Sprintf("invalid S3 endpoint %q: give the server's base URL, e.g. http://minio.minio:9000", c.Endpoint)}
	}
	return u, nil
}

// endpointString is the endpoint for messages.
func (c *Client) endpointString() string {
	if u, err := c.endpointURL(); err == nil {
		return u.String()
	}
	return c.Endpoint
}

// bucketRE is S3's bucket naming rule: 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a
// letter or digit.
var bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ValidateBucket refuses a bucket name S3 would refuse, before any request.
func ValidateBucket(bucket string) error {
	if !bucketRE.MatchString(bucket) || strings.Contains(bucket, "..") {
		return &hub.Error{Reason: hub.ReasonInvalidArgument, Repo: "s3://" + bucket,
			Detail: fmt.Sprintf("invalid bucket name %q: S3 bucket names are 3 to 63 lowercase letters, digits, '.' and '-'", bucket)}
	}
	return nil
}

// objectURL addresses a bucket (key "") or an object, path-style or virtual-hosted, with the path encoded as
// the signature encodes it (so what is sent is what is signed) and the query in canonical order.
func (c *Client) objectURL(bucket, key string, query url.Values) (*url.URL, error) {
	base, err := c.endpointURL()
	if err != nil {
		return nil, err
	}
	u := &url.URL{Scheme: base.Scheme, Host: base.Host}
	if c.PathStyle {
		u.Path = "/" + bucket
		if key != "" {
			u.Path += "/" + key
		}
	} else {
		u.Host = bucket + "." + base.Host
		u.Path = "/" + key
	}
	u.RawPath = uriEncode(u.Path, false)
	u.RawQuery = canonicalQuery(query)
	return u, nil
}

// what names the object of a request, for errors.
type what struct{ bucket, key, prefix string }

func (w what) String() string {
	if w.key != "" {
		return "s3://" + w.bucket + "/" + w.key
	}
	return "s3://" + w.bucket + "/" + w.prefix
}

// newRequest builds a GET or HEAD without a body; send signs it.
func (c *Client) newRequest(ctx context.Context, method string, u *url.URL) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, &hub.Error{Reason: hub.ReasonInvalidArgument, Err: err,
			Detail: fmt.Sprintf("invalid S3 request URL: %v: check --s3-endpoint", err)}
	}
	ua := c.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	req.Header.Set("User-Agent", ua)
	// Without it Go's transport asks for gzip and inflates on the fly, and sizes no longer match the listing.
	req.Header.Set("Accept-Encoding", "identity")
	return req, nil
}

// retryableStatus lists the answers worth retrying: 408, 429 and the 5xx S3 asks clients to retry (SlowDown is
// a 503).
func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// send signs and sends the request mk builds (a fresh one per attempt, so each carries a current date),
// retrying network errors and retryable answers with backoff up to maxRetries times; any other answer is
// returned for the caller to read and close.
func (c *Client) send(ctx context.Context, hc *http.Client, mk func() (*http.Request, error), w what) (*http.Response, error) {
	backoff := c.backoff()
	for attempt := 0; ; attempt++ {
		req, err := mk()
		if err != nil {
			return nil, err
		}
		if c.Credentials != nil {
			sign(req, *c.Credentials, c.region(), c.now())
		}
		resp, err := hc.Do(req)
		var last *hub.Error
		delay := backoff
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			last = unreachable(req.URL, err, w)
		case retryableStatus(resp.StatusCode):
			last = c.errorFromResponse(resp, w)
			if last.RetryAfter > DefaultMaxRetryAfter {
				return nil, last
			}
			if last.RetryAfter > 0 {
				delay = last.RetryAfter
			}
		default:
			return resp, nil
		}
		if attempt >= c.maxRetries() {
			return nil, last
		}
		if err := wait(ctx, delay); err != nil {
			return nil, err
		}
		backoff = min(2*backoff, 8*c.backoff())
	}
}

func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// unreachable wraps a transport error.
func unreachable(u *url.URL, err error, w what) *hub.Error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &hub.Error{Reason: hub.ReasonUnreachable, Repo: "s3://" + w.bucket, Path: w.key, Err: err,
		Detail: fmt.Sprintf("cannot reach the S3 server %s (%v): check --s3-endpoint, the network policy, "+
			"HTTPS_PROXY/NO_PROXY and the CA bundle", u.Host, err)}
}

// drain reads a little of an unwanted body so the connection can be reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	_ = resp.Body.Close()
}

// retryAfter reads Retry-After in seconds, which S3-compatible servers may send with 503 or 429; 0 if absent.
func retryAfter(h http.Header) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After"))); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}
