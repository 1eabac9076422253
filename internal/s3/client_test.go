package s3

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/privatellm/privatellm/internal/hub"
	"github.com/privatellm/privatellm/test/s3sim"
)

// The tests run against the S3 simulator (test/s3sim), which verifies Signature Version 4 on its own.

const (
	accessKey = "AKIDPRIVATELLMTEST"
	secretKey = "privatellm/test+secret"
)

func newSim(t *testing.T, opts ...s3sim.Option) *s3sim.Server {
	t.Helper()
	return s3sim.NewTest(t, append([]s3sim.Option{s3sim.Credentials(accessKey, secretKey)}, opts...)...)
}

// newClient is a path-style client with the good keys and millisecond backoff.
func newClient(s *s3sim.Server) *Client {
	return &Client{Endpoint: s.URL(), PathStyle: true, Credentials: &Credentials{AccessKey: accessKey, SecretKey: secretKey},
		RetryBackoff: time.Millisecond, MaxRetries: 2}
}

// TestListObjectsFollowsContinuationTokens: a listing longer than a page (the server's cap or the client's
// max-keys) comes back whole, in key order, one request a page.
func TestListObjectsFollowsContinuationTokens(t *testing.T) {
	s := newSim(t, s3sim.MaxKeys(2))
	s.AddBucket("models", s3sim.BucketOptions{})
	for _, k := range []string{"m/e", "m/a", "m/d", "m/b", "m/c", "n/z"} {
		s.PutObject("models", k, []byte(k), s3sim.ObjectOptions{})
	}
	c := newClient(s)
	objs, err := c.ListObjects(context.Background(), "models", "m/")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
		if o.Size != 3 || o.ETag == "" || strings.Contains(o.ETag, `"`) || o.LastModified.IsZero() {
			t.Errorf("object %+v", o)
		}
	}
	if strings.Join(keys, ",") != "m/a,m/b,m/c,m/d,m/e" {
		t.Errorf("keys %v", keys)
	}
	if n := s.Count("GET", "/models"); n != 3 {
		t.Errorf("%d list requests, want 3 pages of 2", n)
	}
	s.ResetLog()
	c.PageSize = 1
	if objs, err := c.ListObjects(context.Background(), "models", "m/"); err != nil || len(objs) != 5 {
		t.Fatalf("max-keys 1: %d objects, %v", len(objs), err)
	}
	reqs := s.Requests("GET", "/models")
	if len(reqs) != 5 || !strings.Contains(reqs[0].Query, "max-keys=1") || !strings.Contains(reqs[1].Query, "continuation-token=") {
		t.Errorf("max-keys 1: requests %+v", reqs)
	}
}

// TestVirtualHostedStyle: without PathStyle the bucket goes into the host name.
func TestVirtualHostedStyle(t *testing.T) {
	s := newSim(t)
	s.AddBucket("models", s3sim.BucketOptions{})
	o := s.PutObject("models", "a b/w+1.bin", []byte("weights"), s3sim.ObjectOptions{ChecksumSHA256: true})
	dialer := &net.Dialer{}
	c := newClient(s)
	c.PathStyle = false
	c.HTTPClient = &http.Client{Transport: &http.Transport{
		// <bucket>.127.0.0.1:<port> does not resolve: dial the simulator whatever the host.
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, s.Addr())
		},
	}}
	objs, err := c.ListObjects(context.Background(), "models", "")
	if err != nil || len(objs) != 1 || objs[0].Key != "a b/w+1.bin" {
		t.Fatalf("list: %+v, %v", objs, err)
	}
	m, err := c.HeadObject(context.Background(), "models", "a b/w+1.bin")
	if err != nil || m.Size != 7 || m.ETag != o.ETag || m.SHA256 != o.SHA256() {
		t.Fatalf("head: %+v, %v", m, err)
	}
	for _, r := range s.Requests("", "") {
		if !r.VirtualHost || r.Anonymous {
			t.Errorf("request %+v, want virtual-hosted and signed", r)
		}
	}
}

// TestErrorsHaveTheHubsReasons: S3's refusals come back as the Hub client's reasons, transient only when a
// retry may help, with a message that says what to fix and never the secret.
func TestErrorsHaveTheHubsReasons(t *testing.T) {
	s := newSim(t, s3sim.Credentials("AKIDOTHER", "other-secret"))
	s.AddBucket("models", s3sim.BucketOptions{Readers: []string{accessKey}})
	s.AddBucket("busy", s3sim.BucketOptions{})
	s.AddBucket("broken", s3sim.BucketOptions{})
	s.PutObject("models", "m/config.json", []byte("{}"), s3sim.ObjectOptions{})
	s.Fail(s3sim.Fault{Resource: "/busy", Times: s3sim.Always, Status: 503, Code: "SlowDown"})
	s.Fail(s3sim.Fault{Resource: "/broken", Times: s3sim.Always, Status: 500, Code: "InternalError"})

	closed := s3sim.New()
	closed.Close()
	for _, tc := range []struct {
		name      string
		change    func(c *Client)
		bucket    string
		reason    hub.Reason
		code      string
		transient bool
		says      string
	}{
		{"a wrong secret key", func(c *Client) { c.Credentials.SecretKey = "wrong" }, "models", hub.ReasonUnauthorized, "SignatureDoesNotMatch", false, "secret key"},
		{"an unknown access key", func(c *Client) { c.Credentials.AccessKey = "AKIDNOBODY" }, "models", hub.ReasonUnauthorized, "InvalidAccessKeyId", false, "access key"},
		{"a key the bucket does not grant", func(c *Client) { c.Credentials = &Credentials{AccessKey: "AKIDOTHER", SecretKey: "other-secret"} }, "models", hub.ReasonUnauthorized, "AccessDenied", false, "s3:GetObject"},
		{"anonymous on a private bucket", func(c *Client) { c.Credentials = nil }, "models", hub.ReasonUnauthorized, "AccessDenied", false, "public"},
		{"another region", func(c *Client) { c.Region = "eu-west-1" }, "models", hub.ReasonInvalidArgument, "AuthorizationHeaderMalformed", false, "--s3-region us-east-1"},
		{"a clock 20 minutes late", func(c *Client) { c.clock = func() time.Time { return time.Now().Add(-20 * time.Minute) } }, "models", hub.ReasonUnauthorized, "RequestTimeTooSkewed", false, "clock"},
		{"a missing bucket", func(*Client) {}, "absent", hub.ReasonRepoNotFound, "NoSuchBucket", false, "bucket absent not found"},
		{"SlowDown past the retries", func(*Client) {}, "busy", hub.ReasonRateLimited, "SlowDown", true, "slow down"},
		{"InternalError past the retries", func(*Client) {}, "broken", hub.ReasonServerError, "InternalError", true, "HTTP 500"},
		{"an unreachable server", func(c *Client) { c.Endpoint = closed.URL() }, "models", hub.ReasonUnreachable, "", true, "cannot reach"},
		{"an invalid bucket name", func(*Client) {}, "Bad_Bucket", hub.ReasonInvalidArgument, "", false, "invalid bucket name"},
	} {
		c := newClient(s)
		tc.change(c)
		_, err := c.ListObjects(context.Background(), tc.bucket, "m/")
		var e *hub.Error
		if !errors.As(err, &e) {
			t.Errorf("%s: %v, want a *hub.Error", tc.name, err)
			continue
		}
		if e.Reason != tc.reason || e.ErrorCode != tc.code || e.Transient() != tc.transient || !strings.Contains(e.Error(), tc.says) {
			t.Errorf("%s: %s/%s transient=%v %q, want %s/%s transient=%v saying %q", tc.name, e.Reason, e.ErrorCode,
				e.Transient(), e.Error(), tc.reason, tc.code, tc.transient, tc.says)
		}
		if strings.Contains(e.Error(), secretKey) {
			t.Errorf("%s: the secret key is in the message", tc.name)
		}
	}
	if n := s.Count("GET", "/busy"); n != 3 {
		t.Errorf("SlowDown: %d requests, want 1 and 2 retries", n)
	}
}

// TestSlowDownIsRetried: a server that asks to slow down twice is waited out.
func TestSlowDownIsRetried(t *testing.T) {
	s := newSim(t)
	s.AddBucket("models", s3sim.BucketOptions{})
	s.PutObject("models", "m/a", []byte("a"), s3sim.ObjectOptions{})
	s.Fail(s3sim.Fault{Method: "GET", Resource: "/models", Times: 2, Status: 503, Code: "SlowDown"})
	objs, err := newClient(s).ListObjects(context.Background(), "models", "m/")
	if err != nil || len(objs) != 1 {
		t.Fatalf("%d objects, %v", len(objs), err)
	}
	if n := s.Count("GET", "/models"); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

// TestAnonymousPublicBucket: without credentials nothing is signed, and a public bucket answers.
func TestAnonymousPublicBucket(t *testing.T) {
	s := newSim(t)
	s.AddBucket("open", s3sim.BucketOptions{Public: true})
	s.PutObject("open", "m/a", []byte("a"), s3sim.ObjectOptions{})
	c := newClient(s)
	c.Credentials = nil
	if objs, err := c.ListObjects(context.Background(), "open", "m/"); err != nil || len(objs) != 1 {
		t.Fatalf("%d objects, %v", len(objs), err)
	}
	if r := s.Requests("GET", "/open"); len(r) != 1 || !r[0].Anonymous {
		t.Errorf("requests %+v, want one anonymous", r)
	}
}
