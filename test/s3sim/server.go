package s3sim

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Option configures a Server.
type Option func(*settings)

type settings struct {
	creds   map[string]string // access key → secret key
	region  string
	maxKeys int
	now     func() time.Time
	logf    func(format string, args ...any)
}

// Credentials makes the server accept an access key pair (repeatable).
func Credentials(accessKey, secretKey string) Option {
	return func(s *settings) { s.creds[accessKey] = secretKey }
}

// Region sets the region signatures must name (default us-east-1).
func Region(region string) Option { return func(s *settings) { s.region = region } }

// MaxKeys caps the keys of a listing page (default 1000, S3's), whatever max-keys the client asks for.
func MaxKeys(n int) Option { return func(s *settings) { s.maxKeys = max(n, 1) } }

// Clock sets the server's clock, against which a request's x-amz-date is checked (default time.Now).
func Clock(now func() time.Time) Option { return func(s *settings) { s.now = now } }

// Logf logs every request answered, one line each.
func Logf(logf func(format string, args ...any)) Option { return func(s *settings) { s.logf = logf } }

// BucketOptions describe a bucket.
type BucketOptions struct {
	// Public lets anonymous requests list and read it.
	Public bool
	// Readers are the access keys that may read it; empty lets every known key read it.
	Readers []string
}

// ObjectOptions describe how an object was uploaded.
type ObjectOptions struct {
	// ChecksumSHA256 stores a sha256 checksum with it (an upload with x-amz-checksum-algorithm SHA256), which
	// GET and HEAD answer with x-amz-checksum-mode: ENABLED.
	ChecksumSHA256 bool
	// Parts > 1 makes it a multipart upload of that many parts: a "-<parts>" ETag and, with ChecksumSHA256, a
	// COMPOSITE checksum.
	Parts int
}

// Object is an object as the server holds it.
type Object struct {
	Key     string
	Content []byte
	// ETag is without quotes; SHA256Checksum the x-amz-checksum-sha256 value ("" without one), ChecksumType
	// FULL_OBJECT or COMPOSITE.
	ETag, SHA256Checksum, ChecksumType string
	LastModified                       time.Time
}

// SHA256 is the hex sha256 of the content.
func (o Object) SHA256() string {
	sum := sha256.Sum256(o.Content)
	return hex.EncodeToString(sum[:])
}

type bucket struct {
	public  bool
	readers map[string]bool
	objects map[string]*Object
}

// Request is one logged request.
type Request struct {
	// Method, Resource (/<bucket>/<key>, whatever the addressing style), Query, Range and If-Match as received.
	Method, Resource, Query, Range, IfMatch string
	// VirtualHost is true for a virtual-hosted request, Anonymous for one without Authorization.
	VirtualHost, Anonymous bool
	// Status, Code (the S3 error code, if any), the body Bytes sent and the Fault that spoiled it, if any.
	Status int
	Code   string
	Bytes  int64
	Fault  string
}

// Server is a simulated S3 server. Safe for concurrent use; buckets, objects and faults may change while it
// serves.
type Server struct {
	s   settings
	srv *httptest.Server

	mu         sync.Mutex
	buckets    map[string]*bucket
	faults     []*Fault
	bodyFaults []*bodyFault
	log        []*Request
	requestID  int
}

// New starts a server on a free loopback port. Close stops it.
func New(opts ...Option) *Server {
	s := &Server{s: settings{creds: map[string]string{}, region: "us-east-1", maxKeys: 1000, now: time.Now},
		buckets: map[string]*bucket{}}
	for _, o := range opts {
		o(&s.s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// NewTest starts a server for a test and closes it when the test ends.
func NewTest(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := New(opts...)
	t.Cleanup(s.Close)
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// URL is the endpoint, e.g. http://127.0.0.1:41234. A virtual-hosted request names the bucket before the host:
// <bucket>.127.0.0.1:41234 (a client needs a dialer that sends it here).
func (s *Server) URL() string { return s.srv.URL }

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.srv.Listener.Addr().String() }

// AddBucket creates (or replaces the settings of) a bucket.
func (s *Server) AddBucket(name string, opts BucketOptions) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[name]
	if !ok {
		b = &bucket{objects: map[string]*Object{}}
		s.buckets[name] = b
	}
	b.public = opts.Public
	b.readers = map[string]bool{}
	for _, r := range opts.Readers {
		b.readers[r] = true
	}
}

// RemoveBucket deletes a bucket and its objects.
func (s *Server) RemoveBucket(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.buckets, name)
}

// PutObject stores an object (replacing one with the key) as an upload with opts would, and returns it. The
// bucket must exist.
func (s *Server) PutObject(bucketName, key string, content []byte, opts ObjectOptions) Object {
	o := &Object{Key: key, Content: append([]byte(nil), content...), LastModified: time.Now().UTC().Truncate(time.Millisecond)}
	if opts.Parts > 1 {
		var md5s, shas []byte
		for _, part := range split(o.Content, opts.Parts) {
			m := md5.Sum(part)
			h := sha256.Sum256(part)
			md5s, shas = append(md5s, m[:]...), append(shas, h[:]...)
		}
		m := md5.Sum(md5s)
		o.ETag = fmt.Sprintf("%s-%d", hex.EncodeToString(m[:]), opts.Parts)
		if opts.ChecksumSHA256 {
			h := sha256.Sum256(shas)
			o.SHA256Checksum = fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(h[:]), opts.Parts)
			o.ChecksumType = "COMPOSITE"
		}
	} else {
		m := md5.Sum(o.Content)
		o.ETag = hex.EncodeToString(m[:])
		if opts.ChecksumSHA256 {
			h := sha256.Sum256(o.Content)
			o.SHA256Checksum = base64.StdEncoding.EncodeToString(h[:])
			o.ChecksumType = "FULL_OBJECT"
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[bucketName]
	if !ok {
		panic("s3sim: PutObject into a bucket that does not exist: " + bucketName)
	}
	b.objects[key] = o
	return *o
}

// split cuts b into n parts of equal size (the last one shorter).
func split(b []byte, n int) [][]byte {
	size := (len(b) + n - 1) / n
	var parts [][]byte
	for i := 0; i < n; i++ {
		lo, hi := min(i*size, len(b)), min((i+1)*size, len(b))
		parts = append(parts, b[lo:hi])
	}
	return parts
}

// DeleteObject removes an object.
func (s *Server) DeleteObject(bucketName, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.buckets[bucketName]; ok {
		delete(b.objects, key)
	}
}

// Object returns a stored object.
func (s *Server) Object(bucketName, key string) (Object, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[bucketName]
	if !ok {
		return Object{}, false
	}
	o, ok := b.objects[key]
	if !ok {
		return Object{}, false
	}
	return *o, true
}

// sortedKeys are a bucket's keys in UTF-8 binary order, as S3 lists them.
func (b *bucket) sortedKeys() []string {
	keys := make([]string, 0, len(b.objects))
	for k := range b.objects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Requests returns the logged requests with this method ("" for any) whose resource contains substr.
func (s *Server) Requests(method, substr string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.log {
		if (method == "" || r.Method == method) && strings.Contains(r.Resource, substr) {
			out = append(out, *r)
		}
	}
	return out
}

// Count is len(Requests(method, substr)).
func (s *Server) Count(method, substr string) int { return len(s.Requests(method, substr)) }

// ResetLog forgets the logged requests.
func (s *Server) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}
