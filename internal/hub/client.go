package hub

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const (
	// DefaultEndpoint is the Hub's address when HF_ENDPOINT is unset (constants.py _HF_DEFAULT_ENDPOINT).
	DefaultEndpoint = "https://huggingface.co"
	// EndpointEnv is the variable that overrides the endpoint, as in huggingface_hub (constants.py ENDPOINT).
	EndpointEnv = "HF_ENDPOINT"
	// DefaultRevision is the revision used when none is given (constants.py DEFAULT_REVISION).
	DefaultRevision = "main"
	// DefaultUserAgent is sent when Client.UserAgent is empty.
	DefaultUserAgent = "privatellm-hub-loader (+https://github.com/privatellm/privatellm)"
	// DefaultMaxRetries bounds retries of one request on 408/429/5xx and network errors, and of one file's
	// transfer without progress (utils/_http.py _http_backoff_base max_retries=5; file_download.py http_get
	// _nb_retries=5).
	DefaultMaxRetries = 5
	// DefaultMaxRetryAfter is the longest Retry-After the client waits in place; a longer one is returned as
	// RateLimited at once so the caller can requeue instead of holding a Job.
	DefaultMaxRetryAfter = 5 * time.Minute
	// DefaultStallTimeout is how long a transfer may receive nothing before it is cut and resumed.
	DefaultStallTimeout = 2 * time.Minute
)

// Backoff between retries: 1s doubling to 8s (utils/_http.py base_wait_time=1, max_wait_time=8).
const (
	baseBackoff = time.Second
	maxBackoff  = 8 * time.Second
)

// Header names (constants.py HUGGINGFACE_HEADER_*, utils/_http.py hf_raise_for_status).
const (
	headerRepoCommit   = "X-Repo-Commit"
	headerLinkedETag   = "X-Linked-Etag"
	headerLinkedSize   = "X-Linked-Size"
	headerErrorCode    = "X-Error-Code"
	headerErrorMessage = "X-Error-Message"
	// invalidCredentials is the X-Error-Message of a 401 for a bad token, which hf_raise_for_status keeps apart
	// from the 401 the Hub answers for a missing or private repo.
	invalidCredentials = "Invalid credentials in Authorization header"
)

// Client talks to a Hugging Face Hub (or a mirror that speaks its HTTP API). The zero value is usable: it talks
// to DefaultEndpoint anonymously through http.DefaultClient. A Client is safe for concurrent use once set up.
type Client struct {
	// Endpoint is the Hub's base URL, such as EndpointFromEnv(); empty means DefaultEndpoint.
	Endpoint string
	// Token is sent as "Authorization: Bearer <token>" to the endpoint's own host only, never to a CDN it
	// redirects to. Empty means anonymous.
	Token string
	// HTTPClient sends the requests; nil means http.DefaultClient. Use NewHTTPClient for proxy and CA settings.
	// Its Timeout, if any, bounds whole transfers: leave it zero for large files (StallTimeout guards stalls).
	HTTPClient *http.Client
	// UserAgent is sent with every request; empty means DefaultUserAgent.
	UserAgent string
	// MaxRetries bounds the retries of a request and of a file transfer that makes no progress: 0 means
	// DefaultMaxRetries, negative means none.
	MaxRetries int
	// MaxRetryAfter is the longest Retry-After waited in place; 0 means DefaultMaxRetryAfter.
	MaxRetryAfter time.Duration
	// StallTimeout cuts a transfer that receives nothing for this long (it is then resumed); 0 means
	// DefaultStallTimeout.
	StallTimeout time.Duration

	// Test hooks: sleep waits (nil: a timer), clock is the clock (nil: time.Now), openFile opens a partial blob
	// (nil: os.OpenFile).
	sleep    func(ctx context.Context, d time.Duration) error
	clock    func() time.Time
	openFile func(name string, flag int, perm fs.FileMode) (blobFile, error)
}

// blobFile is what the download writes a partial blob through; *os.File is one.
type blobFile interface {
	io.Reader
	io.Writer
	io.Seeker
	Truncate(size int64) error
	Sync() error
	Close() error
	Stat() (fs.FileInfo, error)
}

// NewClient returns a Client for endpoint (empty: DefaultEndpoint) with an optional token and HTTP client.
func NewClient(endpoint, token string, httpClient *http.Client) *Client {
	return &Client{Endpoint: endpoint, Token: token, HTTPClient: httpClient}
}

// EndpointFromEnv returns $HF_ENDPOINT without a trailing slash, or DefaultEndpoint when it is unset or empty.
func EndpointFromEnv() string {
	if v := strings.TrimRight(strings.TrimSpace(os.Getenv(EndpointEnv)), "/"); v != "" {
		return v
	}
	return DefaultEndpoint
}

// NewHTTPClient returns an HTTP client for the Hub: http.DefaultTransport's settings, the proxy from
// HTTPS_PROXY/HTTP_PROXY/NO_PROXY (http.ProxyFromEnvironment), and, when caBundlePath is not empty, the PEM
// certificates in that file trusted in addition to the system pool (for a TLS-inspecting proxy or a private
// mirror). It sets no overall timeout, so multi-gigabyte transfers are not cut; headers must come within a minute.
func NewHTTPClient(caBundlePath string) (*http.Client, error) {
	base, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, errors.New("http.DefaultTransport is not an *http.Transport")
	}
	t := base.Clone()
	t.Proxy = http.ProxyFromEnvironment
	t.ResponseHeaderTimeout = time.Minute
	if caBundlePath != "" {
		pem, err := os.ReadFile(caBundlePath)
		if err != nil {
			return nil, fmt.Errorf("reading the CA bundle: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("the CA bundle %s holds no PEM certificate", caBundlePath)
		}
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if t.TLSClientConfig != nil {
			cfg = t.TLSClientConfig.Clone()
		}
		cfg.RootCAs = pool
		t.TLSClientConfig = cfg
	}
	return &http.Client{Transport: t}, nil
}

func (c *Client) endpoint() string {
	if e := strings.TrimRight(c.Endpoint, "/"); e != "" {
		return e
	}
	return DefaultEndpoint
}

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return http.DefaultClient
}

// noRedirectClient is the caller's client that hands back 3xx answers instead of following them.
func (c *Client) noRedirectClient() *http.Client {
	hc := *c.httpClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
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

func (c *Client) maxRetryAfter() time.Duration {
	if c.MaxRetryAfter > 0 {
		return c.MaxRetryAfter
	}
	return DefaultMaxRetryAfter
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

func (c *Client) wait(ctx context.Context, d time.Duration) error {
	if c.sleep != nil {
		return c.sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// sameOrigin reports whether u is on the endpoint's scheme and host, the only place the token goes
// (file_download.py _get_metadata_or_catch_error drops "authorization" when the download URL's netloc differs).
func (c *Client) sameOrigin(u *url.URL) bool {
	e, err := url.Parse(c.endpoint())
	return err == nil && strings.EqualFold(e.Scheme, u.Scheme) && strings.EqualFold(e.Host, u.Host)
}

// newRequest builds a request with the User-Agent and, for the endpoint's own host, the token.
func (c *Client) newRequest(ctx context.Context, method, rawURL string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return nil, &Error{Reason: ReasonInvalidArgument, Err: err,
			Detail: fmt.Sprintf("invalid Hub URL: %v: check HF_ENDPOINT", err)}
	}
	ua := c.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	req.Header.Set("User-Agent", ua)
	if c.Token != "" && c.sameOrigin(req.URL) {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return req, nil
}

// retryableStatus lists the answers worth retrying (utils/_http.py _DEFAULT_RETRY_ON_STATUS_CODES).
func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// send sends the request built by mk, retrying network errors, 408, 429 and 5xx with backoff (Retry-After for
// 429) up to maxRetries times; any other answer, success or not, is returned for the caller to read and close.
// what names the repo, revision and file for errors.
func (c *Client) send(ctx context.Context, hc *http.Client, mk func() (*http.Request, error), w what) (*http.Response, error) {
	backoff := baseBackoff
	for attempt := 0; ; attempt++ {
		req, err := mk()
		if err != nil {
			return nil, err
		}
		resp, err := hc.Do(req)
		var delay time.Duration
		var last *Error
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			last = c.unreachable(req.URL, err, w)
			delay = backoff
		case retryableStatus(resp.StatusCode):
			last = c.errorFromResponse(resp, w.repo, w.revision, w.path)
			drain(resp)
			delay = backoff
			if last.Reason == ReasonRateLimited && last.RetryAfter > 0 {
				if last.RetryAfter > c.maxRetryAfter() {
					return nil, last
				}
				delay = last.RetryAfter
			}
		default:
			return resp, nil
		}
		if attempt >= c.maxRetries() {
			return nil, last
		}
		if err := c.wait(ctx, delay); err != nil {
			return nil, err
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// what names the object of a request, for errors.
type what struct{ repo, revision, path string }

// unreachable wraps a transport error; the URL (which may be signed) is left out of the message.
func (c *Client) unreachable(u *url.URL, err error, w what) *Error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &Error{
		Reason: ReasonUnreachable, Repo: w.repo, Revision: w.revision, Path: w.path, Err: err,
		Detail: fmt.Sprintf("cannot reach %s (%v): check the network policy, HTTPS_PROXY/NO_PROXY, "+
			"the CA bundle and HF_ENDPOINT", u.Host, err),
	}
}

// drain reads a little of an unwanted body so the connection can be reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	_ = resp.Body.Close()
}

// rateLimitRE parses the IETF draft RateLimit header the Hub sends, e.g. `"api";r=0;t=55`
// (utils/_http.py _RATELIMIT_REGEX).
var rateLimitRE = regexp.MustCompile(`"(\w+)"\s*;\s*r\s*=\s*(\d+)\s*;\s*t\s*=\s*(\d+)`)

// retryAfter returns how long a 429 asks to wait: Retry-After in seconds or as an HTTP date, else the RateLimit
// header's reset time when no requests remain (utils/_http.py _parse_retry_after, parse_ratelimit_headers);
// 0 when neither says.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if s, err := strconv.Atoi(v); err == nil && s >= 0 {
			return time.Duration(s) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	if m := rateLimitRE.FindStringSubmatch(h.Get("RateLimit")); m != nil && m[2] == "0" {
		if s, err := strconv.Atoi(m[3]); err == nil {
			return time.Duration(s) * time.Second
		}
	}
	return 0
}
