package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/privatellm/privatellm/test/hubsim"
)

func TestResolveRevision(t *testing.T) {
	h := newHub(t)
	opts, sha := testRepo()
	h.AddRepo("acme/tiny", opts)
	c, _ := client(h, "")
	ctx := context.Background()

	for _, rev := range []string{"main", "v1.0", ""} {
		got, err := c.ResolveRevision(ctx, "acme/tiny", rev)
		if err != nil || got != sha {
			t.Errorf("ResolveRevision(%q) = %q, %v; want %s", rev, got, err, sha)
		}
	}
	if n := len(h.Requests(hubsim.HubServer, "/api/models/acme/tiny/revision/main")); n != 2 {
		t.Errorf("%d requests for revision main, want 2 (\"\" means main)", n)
	}

	h.ResetLog()
	got, err := c.ResolveRevision(ctx, "acme/tiny", sha)
	if err != nil || got != sha {
		t.Errorf("ResolveRevision(sha) = %q, %v", got, err)
	}
	if n := len(h.Requests(hubsim.HubServer, "")); n != 0 {
		t.Errorf("a commit sha took %d requests, want none", n)
	}
}

func TestResolveRevisionEscapesSlash(t *testing.T) {
	h := newHub(t)
	opts, sha := testRepo()
	opts.Refs["refs/pr/1"] = sha
	h.AddRepo("acme/tiny", opts)
	c, _ := client(h, "")
	got, err := c.ResolveRevision(context.Background(), "acme/tiny", "refs/pr/1")
	if err != nil || got != sha {
		t.Fatalf("ResolveRevision(refs/pr/1) = %q, %v", got, err)
	}
	if n := len(h.Requests(hubsim.HubServer, "/revision/refs%2Fpr%2F1")); n != 1 {
		t.Errorf("the revision was not sent as one escaped segment: %+v", h.Requests(hubsim.HubServer, ""))
	}
}

func TestModelInfo(t *testing.T) {
	h := newHub(t)
	opts, sha := testRepo()
	opts.Gated = "manual"
	h.AddRepo("acme/gated", opts)
	c, _ := client(h, goodToken)
	info, err := c.ModelInfo(context.Background(), "acme/gated", "main")
	if err != nil {
		t.Fatal(err)
	}
	want := ModelInfo{ID: "acme/gated", SHA: sha, Gated: "manual"}
	if *info != want {
		t.Errorf("ModelInfo = %+v, want %+v", *info, want)
	}
}

func TestListFilesPagination(t *testing.T) {
	h := newHub(t, hubsim.PageSize(2))
	opts, sha := testRepo()
	repo := h.AddRepo("acme/tiny", opts)
	c, _ := client(h, "")

	files, err := c.ListFiles(context.Background(), "acme/tiny", sha)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	wantPaths := []string{".gitattributes", "README.md", "config.json", "extra/deep/adapter.safetensors",
		"model.safetensors", "original/consolidated.00.pth", "tokenizer.json"}
	if !reflect.DeepEqual(paths, wantPaths) {
		t.Errorf("paths = %q, want %q (files only, sorted)", paths, wantPaths)
	}
	// 7 files + 3 directories (extra, extra/deep, original) = 10 entries at 2 a page: 5 pages.
	pages := h.Requests(hubsim.HubServer, "/api/models/acme/tiny/tree/")
	if len(pages) != 5 {
		t.Errorf("%d tree requests, want 5 pages", len(pages))
	}
	for i, p := range pages[1:] {
		if !strings.Contains(p.Path, "cursor=") || !strings.Contains(p.Path, "recursive=true") {
			t.Errorf("page %d was %s, want the Link URL with its cursor and recursive=true", i+2, p.Path)
		}
	}

	byPath := map[string]File{}
	for _, f := range files {
		byPath[f.Path] = f
	}
	model, cfg := repo.File("model.safetensors"), repo.File("config.json")
	if f := byPath["model.safetensors"]; f.LFS == nil || f.LFS.SHA256 != model.SHA256() ||
		f.Size != int64(len(model.Content)) || f.ETag() != model.SHA256() || f.XetHash == "" ||
		f.LFS.PointerSize != int64(len(model.Pointer())) {
		t.Errorf("model.safetensors = %+v (lfs %+v), want LFS sha256 %s", f, f.LFS, model.SHA256())
	}
	if f := byPath["config.json"]; f.LFS != nil || f.BlobID != cfg.GitOID() || f.ETag() != cfg.GitOID() {
		t.Errorf("config.json = %+v, want git blob %s", f, cfg.GitOID())
	}
}

func TestListFilesLinkLoop(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, srv.URL, r.URL.RequestURI()))
		_, _ = w.Write([]byte("[]"))
	}))
	t.Cleanup(srv.Close)
	c := NewClient(srv.URL, "", srv.Client())
	_, err := c.ListFiles(context.Background(), "acme/loop", "main")
	if !errors.Is(err, ErrBadResponse) {
		t.Fatalf("err = %v, want BadResponse for a Link that points back", err)
	}
}

func TestErrorsFromTheHub(t *testing.T) {
	h := newHub(t)
	openOpts, sha := testRepo()
	h.AddRepo("acme/open", openOpts)
	privateOpts, _ := testRepo()
	privateOpts.Private = true
	h.AddRepo("acme/private", privateOpts)
	gatedOpts, _ := testRepo()
	gatedOpts.Gated = "manual"
	h.AddRepo("meta-llama/gated", gatedOpts)

	for _, tc := range []struct {
		name, token, repo, rev string
		want                   *Error
		status                 int
		inMessage              string
	}{
		{"missing repo", "", "acme/missing", "main", ErrRepoNotFound, 401, "check the repo id"},
		{"private without token", "", "acme/private", "main", ErrRepoNotFound, 401, "set a token"},
		{"private, token without access", otherToken, "acme/private", "main", ErrRepoNotFound, 401, "set a token"},
		{"gated without token", "", "meta-llama/gated", "main", ErrGatedRepo, 401, "accept the model's conditions"},
		{"gated, token not granted", otherToken, "meta-llama/gated", "main", ErrGatedRepo, 403, "accept the model's conditions"},
		{"invalid token", "hf_bogus", "acme/open", "main", ErrUnauthorized, 401, "replace it with a valid read token"},
		{"missing revision", "", "acme/open", "no-such-branch", ErrRevisionNotFound, 404, "use an existing branch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := client(h, tc.token)
			_, err := c.Download(context.Background(), DownloadRequest{CacheDir: t.TempDir(), Repo: tc.repo, Revision: tc.rev})
			var he *Error
			if !errors.As(err, &he) || !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %s", err, tc.want.Reason)
			}
			if he.StatusCode != tc.status || ReasonOf(err) != tc.want.Reason || he.Transient() {
				t.Errorf("status %d reason %s transient %v, want %d %s and not transient",
					he.StatusCode, ReasonOf(err), he.Transient(), tc.status, tc.want.Reason)
			}
			if !strings.Contains(err.Error(), tc.inMessage) || strings.Contains(err.Error(), "hf_") {
				t.Errorf("message %q should say %q and never show a token", err, tc.inMessage)
			}
		})
	}

	t.Run("missing file", func(t *testing.T) {
		c, _ := client(h, "")
		_, err := c.head(context.Background(), "acme/open", sha, File{Path: "nope.bin"})
		if !errors.Is(err, ErrEntryNotFound) {
			t.Fatalf("err = %v, want EntryNotFound", err)
		}
	})
	t.Run("gated with a granted token works", func(t *testing.T) {
		c, _ := client(h, goodToken)
		if _, err := c.ResolveRevision(context.Background(), "meta-llama/gated", "main"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRateLimitedWaitsRetryAfter(t *testing.T) {
	h := newHub(t)
	opts, sha := testRepo()
	h.AddRepo("acme/tiny", opts)
	h.Fail("/api/models/acme/tiny/revision/", 2, http.StatusTooManyRequests, http.Header{"Retry-After": {"7"}})
	c, slept := client(h, "")
	got, err := c.ResolveRevision(context.Background(), "acme/tiny", "main")
	if err != nil || got != sha {
		t.Fatalf("ResolveRevision = %q, %v; want success after two 429s", got, err)
	}
	if want := []time.Duration{7 * time.Second, 7 * time.Second}; !reflect.DeepEqual(*slept, want) {
		t.Errorf("slept %v, want %v", *slept, want)
	}
	if n := len(h.Requests(hubsim.HubServer, "/revision/")); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestRateLimitedGivesUp(t *testing.T) {
	h := newHub(t)
	opts, _ := testRepo()
	h.AddRepo("acme/tiny", opts)
	h.Fail("/api/", 100, http.StatusTooManyRequests, http.Header{"Ratelimit": {`"api";r=0;t=55`}})
	c, slept := client(h, "")
	c.MaxRetries = 2
	_, err := c.ResolveRevision(context.Background(), "acme/tiny", "main")
	var he *Error
	if !errors.As(err, &he) || he.Reason != ReasonRateLimited || he.RetryAfter != 55*time.Second || !he.Transient() {
		t.Fatalf("err = %#v, want RateLimited with RetryAfter 55s", err)
	}
	if len(*slept) != 2 || len(h.Requests(hubsim.HubServer, "/api/")) != 3 {
		t.Errorf("slept %v over %d requests, want 2 waits and 3 requests", *slept, len(h.Requests(hubsim.HubServer, "/api/")))
	}
}

func TestRateLimitedTooLongReturnsAtOnce(t *testing.T) {
	h := newHub(t)
	opts, _ := testRepo()
	h.AddRepo("acme/tiny", opts)
	h.Fail("/api/", 1, http.StatusTooManyRequests, http.Header{"Retry-After": {"3600"}})
	c, slept := client(h, "")
	_, err := c.ResolveRevision(context.Background(), "acme/tiny", "main")
	var he *Error
	if !errors.As(err, &he) || he.Reason != ReasonRateLimited || he.RetryAfter != time.Hour {
		t.Fatalf("err = %v, want RateLimited carrying 1h", err)
	}
	if len(*slept) != 0 {
		t.Errorf("slept %v, want no wait in place for an hour's Retry-After", *slept)
	}
}

func TestServerErrorRetriedThenFails(t *testing.T) {
	h := newHub(t)
	opts, sha := testRepo()
	h.AddRepo("acme/tiny", opts)
	h.Fail("/api/models/acme/tiny/tree/", 100, http.StatusInternalServerError, nil)
	c, slept := client(h, "")
	_, err := c.ListFiles(context.Background(), "acme/tiny", sha)
	var he *Error
	if !errors.As(err, &he) || he.Reason != ReasonServerError || he.StatusCode != 500 || !IsTransient(err) {
		t.Fatalf("err = %v, want ServerError 500", err)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	if !reflect.DeepEqual(*slept, want) {
		t.Errorf("slept %v, want %v", *slept, want)
	}
	if n := len(h.Requests(hubsim.HubServer, "/tree/")); n != DefaultMaxRetries+1 {
		t.Errorf("%d requests, want %d", n, DefaultMaxRetries+1)
	}
}

func TestServerErrorRecovers(t *testing.T) {
	h := newHub(t)
	opts, _ := testRepo()
	h.AddRepo("acme/tiny", opts)
	h.Fail("/api/", 2, http.StatusServiceUnavailable, nil)
	c, slept := client(h, "")
	if _, err := c.Download(context.Background(), DownloadRequest{CacheDir: t.TempDir(), Repo: "acme/tiny"}); err != nil {
		t.Fatal(err)
	}
	if len(*slept) != 2 {
		t.Errorf("slept %v, want two backoffs", *slept)
	}
}

func TestUnreachable(t *testing.T) {
	// Its own transport: http.DefaultTransport would read the proxy variables before TestNewHTTPClient sets them.
	c := NewClient("http://127.0.0.1:1", "", &http.Client{Transport: &http.Transport{}})
	c.MaxRetries = -1
	_, err := c.ResolveRevision(context.Background(), "acme/tiny", "main")
	if !errors.Is(err, ErrUnreachable) || !IsTransient(err) || !strings.Contains(err.Error(), "HTTPS_PROXY") {
		t.Fatalf("err = %v, want Unreachable that names the proxy settings", err)
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{"Retry-After": {"120"}}, 2 * time.Minute},
		{http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second},
		{http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
		{http.Header{"Ratelimit": {`"api";r=0;t=55`}}, 55 * time.Second},
		{http.Header{"Ratelimit": {`"api";r=3;t=55`}}, 0}, // requests remain: not the reason
		{http.Header{}, 0},
	} {
		if got := retryAfter(tc.h, now); got != tc.want {
			t.Errorf("retryAfter(%v) = %v, want %v", tc.h, got, tc.want)
		}
	}
}

func TestValidation(t *testing.T) {
	for repo, ok := range map[string]bool{
		"meta-llama/Llama-3.1-8B-Instruct": true, "gpt2": true, "a/b": true, "Foo-BAR_foo.bar123": true,
		"": false, "a/b/c": false, "foo--bar": false, "a..b": false, "x/y.git": false, ".repo": false,
		"org/-name": false, strings.Repeat("a", 97): false, "org/" + strings.Repeat("a", 96): true,
	} {
		if got := ValidateRepoID(repo) == nil; got != ok {
			t.Errorf("ValidateRepoID(%q) ok = %v, want %v", repo, got, ok)
		}
	}
	for p, ok := range map[string]bool{
		"config.json": true, "a/b/c.bin": true, ".gitattributes": true,
		"": false, "/etc/passwd": false, "../x": false, "a/../../x": false, "a//b": false, "a/./b": false,
		`a\b`: false, "a\x00b": false,
	} {
		if got := ValidatePath(p) == nil; got != ok {
			t.Errorf("ValidatePath(%q) ok = %v, want %v", p, got, ok)
		}
	}
	for _, rev := range []string{"../../x", "/abs", "a//b"} {
		if err := validateRevision("a/b", rev); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("validateRevision(%q) = %v, want InvalidArgument", rev, err)
		}
	}
}

func TestEndpointFromEnv(t *testing.T) {
	t.Setenv(EndpointEnv, "")
	if got := EndpointFromEnv(); got != DefaultEndpoint {
		t.Errorf("unset: %q", got)
	}
	t.Setenv(EndpointEnv, "https://hf-mirror.internal/")
	if got := EndpointFromEnv(); got != "https://hf-mirror.internal" {
		t.Errorf("set: %q", got)
	}
}
