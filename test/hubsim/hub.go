package hubsim

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server names one of the two servers of a Hub.
type Server string

const (
	// HubServer is the Hub itself: the API and /resolve (what HF_ENDPOINT points at).
	HubServer Server = "hub"
	// CDNServer is the CDN that /resolve redirects LFS files to (cdn-lfs.hf.co, cas-bridge.xethub.hf.co).
	CDNServer Server = "cdn"
)

// Request is one request a server answered, for assertions. It is logged when it arrives and its fields are
// filled in before the bytes they describe leave, so a client that has seen an answer finds it logged.
type Request struct {
	// Server is the server that answered it.
	Server Server
	// Method is the HTTP method.
	Method string
	// Path is the request URI: the escaped path and the query.
	Path string
	// Range is the Range header, "" if none.
	Range string
	// Authorization tells whether an Authorization header came (the token itself is not kept).
	Authorization bool
	// UserAgent is the User-Agent header.
	UserAgent string
	// Status is the status answered (200 when the handler wrote a body without one).
	Status int
	// Bytes is the number of body bytes sent.
	Bytes int64
	// Fault names the injected fault that spoiled the answer, "" for none: "status", "expired", "cut",
	// "stall", "corrupt" or "ignore-range".
	Fault string
}

// Option configures a Hub.
type Option func(*settings)

type settings struct {
	pageSize  int
	tokens    []string
	checks    []func(*http.Request) string
	report    func(format string, args ...any)
	logf      func(format string, args ...any)
	tls       bool
	urlTTL    time.Duration
	now       func() time.Time
	hubAddr   string
	cdnAddr   string
	hubListen net.Listener
	cdnListen net.Listener
	bandwidth int64
}

// PageSize sets how many entries a page of the tree listing holds (default 1000, the Hub's for expand=false).
func PageSize(n int) Option { return func(s *settings) { s.pageSize = n } }

// Tokens makes the Hub accept these tokens (as valid accounts' tokens). A token the Hub does not know is answered
// 401 "Invalid credentials in Authorization header". A repo's RepoOptions.Tokens are accepted too.
func Tokens(tokens ...string) Option {
	return func(s *settings) { s.tokens = append(s.tokens, tokens...) }
}

// Check adds a check run on every request to either server: a non-empty answer is a violation, reported (see
// Report) and kept (Violations). The request is answered anyway, as the real Hub would answer it.
func Check(check func(r *http.Request) string) Option {
	return func(s *settings) { s.checks = append(s.checks, check) }
}

// RequireUserAgent reports a violation for each request whose User-Agent does not contain substr.
func RequireUserAgent(substr string) Option {
	return Check(func(r *http.Request) string {
		if !strings.Contains(r.Header.Get("User-Agent"), substr) {
			return fmt.Sprintf("request %s %s without %q in its User-Agent (%q)", r.Method, r.URL, substr,
				r.Header.Get("User-Agent"))
		}
		return ""
	})
}

// Report sets the function violations are reported to as they happen (NewTest uses t.Errorf).
func Report(report func(format string, args ...any)) Option {
	return func(s *settings) { s.report = report }
}

// Logf logs every request answered, one line each (for a demo or a verbose test).
func Logf(logf func(format string, args ...any)) Option { return func(s *settings) { s.logf = logf } }

// TLS serves both servers over HTTPS with httptest's certificate (for 127.0.0.1 and localhost), which
// HTTPClient trusts and CertificatePEM gives.
func TLS() Option { return func(s *settings) { s.tls = true } }

// CDNURLLifetime sets how long a signed CDN URL from /resolve stays valid (default one hour); the CDN answers
// an expired one 403, as S3 does.
func CDNURLLifetime(d time.Duration) Option { return func(s *settings) { s.urlTTL = d } }

// Clock sets the clock that signs and checks CDN URLs (default time.Now).
func Clock(now func() time.Time) Option { return func(s *settings) { s.now = now } }

// Addrs sets the addresses the Hub and the CDN listen on ("127.0.0.1:0", the default, picks free ports), for a
// binary that serves a fixed HF_ENDPOINT.
func Addrs(hub, cdn string) Option { return func(s *settings) { s.hubAddr, s.cdnAddr = hub, cdn } }

// Bandwidth limits each file transfer to about bytesPerSecond (0: as fast as the machine goes), so that a demo
// or a test can watch a download in progress.
func Bandwidth(bytesPerSecond int64) Option {
	return func(s *settings) { s.bandwidth = bytesPerSecond }
}

// Listeners makes the Hub and the CDN serve on listeners the caller opened.
func Listeners(hub, cdn net.Listener) Option {
	return func(s *settings) { s.hubListen, s.cdnListen = hub, cdn }
}

// Hub is a simulated Hugging Face Hub and its CDN, each an HTTP server. It is safe for concurrent use; repos and
// faults may be changed while it serves.
type Hub struct {
	s        settings
	hub, cdn *httptest.Server
	key      []byte // signs CDN URLs
	closed   chan struct{}
	once     sync.Once

	mu         sync.Mutex
	repos      map[string]*repo
	renamed    map[string]string // old repo id → new
	tokens     map[string]bool
	signed     map[string]cdnObject // signature → what the URL names
	faults     []*statusFault
	fileFaults []*fileFault
	log        []*Request // entries are filled in as the answers are written, under mu
	violations []string
	sentBytes  int64
	requestID  int
}

// repo is a repo as the Hub holds it.
type repo struct {
	id       string
	refs     map[string]string  // branch or tag → commit
	commits  map[string][]*blob // commit → files, sorted by path
	private  bool
	gated    string
	disabled bool
	granted  map[string]bool
}

// blob is a file with its hashes computed once.
type blob struct {
	File
	sha256, gitOID, treeOID, pointer, xetHash string
}

func newBlob(f File) *blob {
	f.Content = append([]byte(nil), f.Content...)
	return &blob{File: f, sha256: f.SHA256(), gitOID: f.GitOID(), treeOID: f.TreeOID(), pointer: f.Pointer(),
		xetHash: f.XetHash()}
}

func (b *blob) etag() string {
	if b.LFS {
		return b.sha256
	}
	return b.gitOID
}

// cdnObject is what a signed CDN URL names.
type cdnObject struct {
	repo, path, sha256 string
	expires            int64
}

// New starts a Hub and its CDN on free loopback ports (or as Addrs or Listeners say). It panics if it cannot
// listen, as httptest.NewServer does. Close stops it.
func New(opts ...Option) *Hub {
	h, err := Listen(opts...)
	if err != nil {
		panic("hubsim: " + err.Error())
	}
	return h
}

// Listen is New returning the error of a listener it could not open.
func Listen(opts ...Option) (*Hub, error) {
	s := settings{pageSize: 1000, urlTTL: time.Hour, now: time.Now, hubAddr: "127.0.0.1:0", cdnAddr: "127.0.0.1:0"}
	for _, o := range opts {
		o(&s)
	}
	if s.pageSize < 1 {
		s.pageSize = 1
	}
	h := &Hub{s: s, closed: make(chan struct{}), repos: map[string]*repo{}, renamed: map[string]string{},
		tokens: map[string]bool{}, signed: map[string]cdnObject{}}
	h.key = make([]byte, 32)
	_, _ = rand.Read(h.key)
	for _, t := range s.tokens {
		h.tokens[t] = true
	}
	var err error
	if h.hub, err = h.start(s.hubListen, s.hubAddr, http.HandlerFunc(h.serveHub)); err != nil {
		return nil, err
	}
	if h.cdn, err = h.start(s.cdnListen, s.cdnAddr, http.HandlerFunc(h.serveCDN)); err != nil {
		h.hub.Close()
		return nil, err
	}
	return h, nil
}

func (h *Hub) start(l net.Listener, addr string, handler http.Handler) (*httptest.Server, error) {
	if l == nil {
		var err error
		if l, err = net.Listen("tcp", addr); err != nil {
			return nil, err
		}
	}
	srv := httptest.NewUnstartedServer(handler)
	_ = srv.Listener.Close()
	srv.Listener = l
	if h.s.tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	return srv, nil
}

// NewTest starts a Hub for a test: violations are reported with t.Errorf (unless opts set Report) and the Hub
// is closed when the test ends.
func NewTest(t testing.TB, opts ...Option) *Hub {
	t.Helper()
	h := New(append([]Option{Report(t.Errorf)}, opts...)...)
	t.Cleanup(h.Close)
	return h
}

// Close stops both servers; a stalled answer is released. It may be called more than once.
func (h *Hub) Close() {
	h.once.Do(func() {
		close(h.closed)
		h.hub.Close()
		h.cdn.Close()
	})
}

// URL is the Hub's base URL, for HF_ENDPOINT.
func (h *Hub) URL() string { return h.hub.URL }

// CDNURL is the CDN's base URL.
func (h *Hub) CDNURL() string { return h.cdn.URL }

// HTTPClient returns an HTTP client for both servers, with a transport of its own (no proxy from the
// environment) that trusts the servers' certificate when TLS is on.
func (h *Hub) HTTPClient() *http.Client { return h.hub.Client() }

// CertificatePEM is the servers' certificate in PEM, for a CA bundle; nil without TLS.
func (h *Hub) CertificatePEM() []byte {
	if !h.s.tls {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.hub.Certificate().Raw})
}

// AddToken makes the Hub accept more tokens (see Tokens).
func (h *Hub) AddToken(tokens ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range tokens {
		h.tokens[t] = true
	}
}

// RepoOptions describes a model repo.
type RepoOptions struct {
	// Files are the files at Commit.
	Files []File
	// Commit is the 40-hex sha of Files' commit; empty derives one from the id and the files.
	Commit string
	// Refs maps branches and tags ("main", "v1.0", "refs/pr/1") to commits; "main" points at Commit unless
	// Refs names it.
	Refs map[string]string
	// Commits are further commits, sha → files.
	Commits map[string][]File
	// Private hides the repo from anyone without one of Tokens: the Hub answers 401 RepoNotFound as for a repo
	// that does not exist.
	Private bool
	// Gated is "" for an open repo, else the gating mode, "auto" or "manual". A gated repo's model info, tree
	// and README.md are public; its other files need one of Tokens (401 GatedRepo without a token, 403 with one
	// not granted).
	Gated string
	// Disabled makes every request for the repo answer 403 "Access to this resource is disabled.".
	Disabled bool
	// Tokens are the tokens granted read access to a private or gated repo; the Hub accepts them.
	Tokens []string
}

// Repo is a repo as AddRepo stored it: a copy, except for the files' contents, which are shared with the Hub and
// must not be changed.
type Repo struct {
	// ID is "org/name" (or "name").
	ID string
	// Commit is the commit of RepoOptions.Files.
	Commit string
	// Refs maps branches and tags to commits.
	Refs map[string]string
	// Commits maps every commit to its files, sorted by path.
	Commits map[string][]File
}

// Files are the files at Commit, sorted by path.
func (r Repo) Files() []File { return r.Commits[r.Commit] }

// File returns the file at path at Commit; it panics when there is none (a test's mistake).
func (r Repo) File(path string) File {
	f, ok := r.FileAt(r.Commit, path)
	if !ok {
		panic(fmt.Sprintf("hubsim: %s has no file %s at %s", r.ID, path, r.Commit))
	}
	return f
}

// FileAt returns the file at path at a commit.
func (r Repo) FileAt(commit, path string) (File, bool) {
	for _, f := range r.Commits[commit] {
		if f.Path == path {
			return f, true
		}
	}
	return File{}, false
}

var shaRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// AddRepo adds a model repo, or replaces the one with that id, and returns it. It panics on options that
// cannot describe a repo (a commit that is not 40 hex digits, a ref to an unknown commit, two files with one
// path in a commit, an unknown gating mode).
func (h *Hub) AddRepo(id string, opts RepoOptions) Repo {
	commit := opts.Commit
	if commit == "" {
		commit = deriveCommit(id, opts.Files)
	}
	commits := map[string][]File{commit: opts.Files}
	for sha, files := range opts.Commits {
		commits[sha] = files
	}
	refs := map[string]string{"main": commit}
	for ref, sha := range opts.Refs {
		refs[ref] = sha
	}
	switch opts.Gated {
	case "", "auto", "manual":
	default:
		panic(fmt.Sprintf("hubsim: %s: gated %q, want \"\", \"auto\" or \"manual\"", id, opts.Gated))
	}
	r := &repo{id: id, refs: refs, commits: map[string][]*blob{}, private: opts.Private, gated: opts.Gated,
		disabled: opts.Disabled, granted: map[string]bool{}}
	out := Repo{ID: id, Commit: commit, Refs: map[string]string{}, Commits: map[string][]File{}}
	for ref, sha := range refs {
		out.Refs[ref] = sha
	}
	for sha, files := range commits {
		if !shaRE.MatchString(sha) {
			panic(fmt.Sprintf("hubsim: %s: commit %q is not 40 hex digits", id, sha))
		}
		seen := map[string]bool{}
		for _, f := range files {
			if seen[f.Path] {
				panic(fmt.Sprintf("hubsim: %s: two files %s at %s", id, f.Path, sha))
			}
			seen[f.Path] = true
			b := newBlob(f)
			r.commits[sha] = append(r.commits[sha], b)
			out.Commits[sha] = append(out.Commits[sha], b.File)
		}
		sort.Slice(r.commits[sha], func(i, j int) bool { return r.commits[sha][i].Path < r.commits[sha][j].Path })
		sort.Slice(out.Commits[sha], func(i, j int) bool { return out.Commits[sha][i].Path < out.Commits[sha][j].Path })
		if r.commits[sha] == nil {
			r.commits[sha], out.Commits[sha] = []*blob{}, []File{}
		}
	}
	for ref, sha := range refs {
		if _, ok := r.commits[sha]; !ok {
			panic(fmt.Sprintf("hubsim: %s: ref %s points at unknown commit %s", id, ref, sha))
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range opts.Tokens {
		r.granted[t] = true
		h.tokens[t] = true
	}
	h.repos[id] = r
	return out
}

// deriveCommit makes a stable commit sha from a repo's id and files.
func deriveCommit(id string, files []File) string {
	s := sha1.New()
	fmt.Fprintf(s, "commit %s\n", id)
	for _, f := range files {
		fmt.Fprintf(s, "%s %s %v\n", f.Path, f.SHA256(), f.LFS)
	}
	return hex.EncodeToString(s.Sum(nil))
}

// RemoveRepo deletes a repo: it is then answered as one that does not exist.
func (h *Hub) RemoveRepo(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.repos, id)
}

// RenameRepo makes /resolve under oldID answer with a relative 307 to the same path under newID, as the Hub does
// for a renamed repo.
func (h *Hub) RenameRepo(oldID, newID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.renamed[oldID] = newID
}

// Requests returns the requests a server answered whose Path (request URI) contains substr, in the order they
// were answered; an empty server means both.
func (h *Hub) Requests(server Server, substr string) []Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Request
	for _, e := range h.log {
		if (server == "" || e.Server == server) && strings.Contains(e.Path, substr) {
			out = append(out, *e)
		}
	}
	return out
}

// Count is len(Requests(server, substr)).
func (h *Hub) Count(server Server, substr string) int { return len(h.Requests(server, substr)) }

// SentBytes is the number of file content bytes both servers sent (the CDN's bodies and those of /resolve for
// files in git) since the start or ResetLog.
func (h *Hub) SentBytes() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sentBytes
}

// ResetLog forgets the requests answered and the bytes sent.
func (h *Hub) ResetLog() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log = nil
	h.sentBytes = 0
}

// Violations returns the violations the checks found (see Check).
func (h *Hub) Violations() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.violations...)
}
