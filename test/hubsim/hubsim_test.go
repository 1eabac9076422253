package hubsim_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privatellm/privatellm/test/hubsim"
)

const (
	reader  = "hf_reader"  // a valid token granted nothing
	granted = "hf_granted" // granted the private and gated repos
	commit  = "0e9e39f249a16976918f6564b8830bc894c89659"
)

// files is a small repo: files in git, LFS weights (one nested), a README.
func files() []hubsim.File {
	return []hubsim.File{
		hubsim.Text(".gitattributes", "*.safetensors filter=lfs diff=lfs merge=lfs -text\n"),
		hubsim.Text("README.md", "# tiny\n"),
		hubsim.GitFile("config.json", hubsim.ModelConfig(hubsim.Config{Layers: 2})),
		hubsim.Safetensors("model.safetensors", 10_000),
		hubsim.Safetensors("extra/deep/adapter.safetensors", 3_000),
	}
}

func newHub(t *testing.T, opts ...hubsim.Option) (*hubsim.Hub, hubsim.Repo) {
	t.Helper()
	h := hubsim.NewTest(t, append([]hubsim.Option{hubsim.Tokens(reader)}, opts...)...)
	repo := h.AddRepo("acme/tiny", hubsim.RepoOptions{Files: files(), Commit: commit,
		Refs: map[string]string{"v1.0": commit, "refs/pr/1": commit}})
	return h, repo
}

// do sends a request without following redirects and returns the answer with its body read.
func do(t *testing.T, h *hubsim.Hub, method, u string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	hc := *h.HTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, u, err)
	}
	return resp, body
}

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

func TestModelInfoShape(t *testing.T) {
	h, _ := newHub(t)
	for _, p := range []string{"/api/models/acme/tiny/revision/main", "/api/models/acme/tiny",
		"/api/models/acme/tiny/revision/v1.0", "/api/models/acme/tiny/revision/refs%2Fpr%2F1"} {
		resp, body := do(t, h, http.MethodGet, h.URL()+p, nil)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
			resp.Header.Get("X-Request-Id") == "" {
			t.Fatalf("%s: %d %v", p, resp.StatusCode, resp.Header)
		}
		var info map[string]any
		if err := json.Unmarshal(body, &info); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"_id", "id", "modelId", "author", "sha", "lastModified", "private", "gated",
			"disabled", "downloads", "likes", "library_name", "tags", "pipeline_tag", "siblings", "createdAt"} {
			if _, ok := info[k]; !ok {
				t.Errorf("%s: no %q in %s", p, k, body)
			}
		}
		if info["id"] != "acme/tiny" || info["sha"] != commit || info["private"] != false || info["gated"] != false ||
			info["author"] != "acme" || len(info["_id"].(string)) != 24 {
			t.Errorf("%s: %s", p, body)
		}
		var sib []string
		for _, s := range info["siblings"].([]any) {
			sib = append(sib, s.(map[string]any)["rfilename"].(string))
		}
		want := []string{".gitattributes", "README.md", "config.json", "extra/deep/adapter.safetensors", "model.safetensors"}
		if !reflect.DeepEqual(sib, want) {
			t.Errorf("siblings %q, want %q", sib, want)
		}
	}
}

type entry struct {
	Type, OID, Path, XetHash string
	Size                     int64
	LFS                      *struct {
		OID               string
		Size, PointerSize int64
	}
}

// listTree follows the Link pages from u and returns the entries and the pages' URLs.
func listTree(t *testing.T, h *hubsim.Hub, u string) ([]entry, []string) {
	t.Helper()
	var all []entry
	var pages []string
	for u != "" {
		pages = append(pages, u)
		resp, body := do(t, h, http.MethodGet, u, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", u, resp.StatusCode, body)
		}
		var page []entry
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		u = ""
		if l := resp.Header.Get("Link"); l != "" {
			target, rel, ok := strings.Cut(l, ";")
			if !ok || strings.TrimSpace(rel) != `rel="next"` {
				t.Fatalf("Link %q", l)
			}
			u = strings.Trim(target, "<>")
		}
		if len(pages) > 20 {
			t.Fatal("the listing does not end")
		}
	}
	return all, pages
}

func TestTreeShapeAndPagination(t *testing.T) {
	h, repo := newHub(t, hubsim.PageSize(2))
	entries, pages := listTree(t, h, h.URL()+"/api/models/acme/tiny/tree/main?recursive=true&expand=false")
	// 5 files and 2 directories (extra, extra/deep) at 2 a page: 4 pages.
	if len(entries) != 7 || len(pages) != 4 {
		t.Fatalf("%d entries over %d pages, want 7 over 4", len(entries), len(pages))
	}
	for _, p := range pages[1:] {
		u, _ := url.Parse(p)
		if !strings.HasPrefix(p, h.URL()+"/") || u.Query().Get("cursor") == "" || u.Query().Get("recursive") != "true" ||
			u.Query().Get("expand") != "false" {
			t.Errorf("next page %s: want an absolute URL with the query and a cursor", p)
		}
	}
	byPath := map[string]entry{}
	for i, e := range entries {
		byPath[e.Path] = e
		if i > 0 && entries[i-1].Path >= e.Path {
			t.Errorf("entries out of order or repeated: %s then %s", entries[i-1].Path, e.Path)
		}
	}
	if d := byPath["extra/deep"]; d.Type != "directory" || d.LFS != nil {
		t.Errorf("extra/deep = %+v, want a directory", d)
	}
	cfg, model := repo.File("config.json"), repo.File("model.safetensors")
	if e := byPath["config.json"]; e.Type != "file" || e.OID != cfg.GitOID() || e.Size != cfg.Size() || e.LFS != nil ||
		e.XetHash != "" {
		t.Errorf("config.json = %+v, want the git blob %s", e, cfg.GitOID())
	}
	if e := byPath["model.safetensors"]; e.LFS == nil || e.LFS.OID != model.SHA256() || e.LFS.Size != model.Size() ||
		e.LFS.PointerSize != int64(len(model.Pointer())) || e.Size != model.Size() || e.OID != model.TreeOID() ||
		e.OID != hubsim.GitBlobSHA1([]byte(model.Pointer())) || len(e.XetHash) != 64 {
		t.Errorf("model.safetensors = %+v, want LFS %s", e, model.SHA256())
	}

	// Without recursive: the direct children only; under a path: its children.
	top, _ := listTree(t, h, h.URL()+"/api/models/acme/tiny/tree/main")
	var paths []string
	for _, e := range top {
		paths = append(paths, e.Path)
	}
	if want := []string{".gitattributes", "README.md", "config.json", "extra", "model.safetensors"}; !reflect.DeepEqual(paths, want) {
		t.Errorf("non-recursive listing %q, want %q", paths, want)
	}
	sub, _ := listTree(t, h, h.URL()+"/api/models/acme/tiny/tree/main/extra")
	if len(sub) != 1 || sub[0].Path != "extra/deep" {
		t.Errorf("listing of extra/: %+v", sub)
	}
	resp, _ := do(t, h, http.MethodGet, h.URL()+"/api/models/acme/tiny/tree/main/nowhere", nil)
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("X-Error-Code") != "EntryNotFound" {
		t.Errorf("listing a missing folder: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestResolveAndCDN(t *testing.T) {
	h, repo := newHub(t)
	cfg, model := repo.File("config.json"), repo.File("model.safetensors")

	// A file in git: its bytes from the Hub.
	for _, method := range []string{http.MethodHead, http.MethodGet} {
		resp, body := do(t, h, method, h.URL()+"/acme/tiny/resolve/main/config.json", nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Repo-Commit") != commit ||
			resp.Header.Get("ETag") != `"`+cfg.GitOID()+`"` || resp.Header.Get("Content-Length") != strconv.FormatInt(cfg.Size(), 10) ||
			resp.Header.Get("Accept-Ranges") != "bytes" {
			t.Errorf("%s config.json: %d %v", method, resp.StatusCode, resp.Header)
		}
		if method == http.MethodGet && !bytes.Equal(body, cfg.Content) {
			t.Errorf("GET config.json: other bytes")
		}
	}

	// An LFS file: a 302 to a signed CDN URL.
	resp, _ := do(t, h, http.MethodHead, h.URL()+"/acme/tiny/resolve/"+commit+"/model.safetensors", nil)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("X-Repo-Commit") != commit ||
		resp.Header.Get("X-Linked-Etag") != `"`+model.SHA256()+`"` ||
		resp.Header.Get("X-Linked-Size") != strconv.FormatInt(model.Size(), 10) ||
		!strings.HasPrefix(resp.Header.Get("ETag"), `W/"`) || !strings.HasPrefix(loc, h.CDNURL()+"/repos/") {
		t.Fatalf("HEAD model.safetensors: %d %v", resp.StatusCode, resp.Header)
	}
	u, _ := url.Parse(loc)
	if !strings.HasSuffix(u.Path, "/"+model.SHA256()) || u.Query().Get("Signature") == "" || u.Query().Get("Expires") == "" ||
		!strings.Contains(u.Query().Get("response-content-disposition"), `filename="model.safetensors"`) {
		t.Errorf("CDN URL %s", loc)
	}

	resp, body := do(t, h, http.MethodGet, loc, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, model.Content) || resp.Header.Get("ETag") != `"`+model.SHA256()+`"` {
		t.Errorf("GET from the CDN: %d, %d bytes", resp.StatusCode, len(body))
	}
	for _, tc := range []struct {
		rg     string
		status int
		want   []byte
		cr     string
	}{
		{"bytes=9990-", 206, model.Content[9990:], "bytes 9990-9999/10000"},
		{"bytes=10-19", 206, model.Content[10:20], "bytes 10-19/10000"},
		{"bytes=-4", 206, model.Content[9996:], "bytes 9996-9999/10000"},
		{"bytes=10000-", 416, nil, "bytes */10000"},
		{"bytes=abc", 200, model.Content, ""}, // malformed: ignored (RFC 9110)
	} {
		resp, body := do(t, h, http.MethodGet, loc, http.Header{"Range": {tc.rg}})
		if resp.StatusCode != tc.status || !bytes.Equal(body, tc.want) || resp.Header.Get("Content-Range") != tc.cr {
			t.Errorf("Range %s: %d %q, %d bytes; want %d %q", tc.rg, resp.StatusCode, resp.Header.Get("Content-Range"),
				len(body), tc.status, tc.cr)
		}
	}

	// The CDN refuses a token next to the signature, a URL whose signature is wrong, and an unsigned one.
	resp, body = do(t, h, http.MethodGet, loc, bearer(reader))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "Only one auth mechanism allowed") {
		t.Errorf("CDN with Authorization: %d %s", resp.StatusCode, body)
	}
	q := u.Query()
	q.Set("Signature", strings.Repeat("0", 64))
	for _, bad := range []string{h.CDNURL() + u.Path + "?" + q.Encode(), h.CDNURL() + u.Path} {
		if resp, body := do(t, h, http.MethodGet, bad, nil); resp.StatusCode != http.StatusForbidden ||
			!strings.Contains(string(body), "<Code>AccessDenied</Code>") {
			t.Errorf("CDN with a bad signature: %d %s", resp.StatusCode, body)
		}
	}
}

func TestCDNURLExpires(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h, _ := newHub(t, hubsim.Clock(clock), hubsim.CDNURLLifetime(time.Minute))
	resp, _ := do(t, h, http.MethodHead, h.URL()+"/acme/tiny/resolve/main/model.safetensors", nil)
	loc := resp.Header.Get("Location")
	if u, _ := url.Parse(loc); u.Query().Get("Expires") != "1800000060" {
		t.Errorf("Expires in %s, want now + 1 minute", loc)
	}
	if resp, _ := do(t, h, http.MethodGet, loc, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh URL: %d", resp.StatusCode)
	}
	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	if resp, body := do(t, h, http.MethodGet, loc, nil); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(string(body), "Request has expired") {
		t.Errorf("expired URL: %d %s", resp.StatusCode, body)
	}
}

func TestAccessRules(t *testing.T) {
	h, _ := newHub(t)
	h.AddRepo("acme/private", hubsim.RepoOptions{Files: files(), Private: true, Tokens: []string{granted}})
	h.AddRepo("meta-llama/gated", hubsim.RepoOptions{Files: files(), Gated: "manual", Tokens: []string{granted}})
	h.AddRepo("acme/disabled", hubsim.RepoOptions{Files: files(), Disabled: true})

	for _, tc := range []struct {
		name, path, token string
		status            int
		code, message     string
	}{
		{"open repo", "/api/models/acme/tiny/revision/main", "", 200, "", ""},
		{"missing repo", "/api/models/acme/missing/revision/main", "", 401, "RepoNotFound", "Repository not found"},
		{"missing repo's file", "/acme/missing/resolve/main/config.json", reader, 401, "RepoNotFound", "Repository not found"},
		{"private, no token", "/api/models/acme/private/revision/main", "", 401, "RepoNotFound", "Repository not found"},
		{"private, token not granted", "/api/models/acme/private/tree/main", reader, 401, "RepoNotFound", "Repository not found"},
		{"private, granted", "/acme/private/resolve/main/config.json", granted, 200, "", ""},
		{"unknown token", "/api/models/acme/tiny/revision/main", "hf_bogus", 401, "", hubsim.InvalidCredentials},
		{"not a bearer", "/api/models/acme/tiny/revision/main", "", 401, "", hubsim.InvalidCredentials},
		{"disabled", "/api/models/acme/disabled/revision/main", "", 403, "", hubsim.DisabledMessage},
		{"gated info is public", "/api/models/meta-llama/gated/revision/main", "", 200, "", ""},
		{"gated tree is public", "/api/models/meta-llama/gated/tree/main?recursive=true", "", 200, "", ""},
		{"gated README is public", "/meta-llama/gated/resolve/main/README.md", "", 200, "", ""},
		{"gated file, no token", "/meta-llama/gated/resolve/main/config.json", "", 401, "GatedRepo", "Please log in."},
		{"gated file, not granted", "/meta-llama/gated/resolve/main/config.json", reader, 403, "GatedRepo", "ask for access"},
		{"gated file, granted", "/meta-llama/gated/resolve/main/model.safetensors", granted, 302, "", ""},
		{"missing revision", "/api/models/acme/tiny/revision/nope", "", 404, "RevisionNotFound", "Invalid rev id: nope"},
		{"missing file", "/acme/tiny/resolve/main/nope.bin", "", 404, "EntryNotFound", "Entry not found"},
		{"unknown route", "/api/spaces/acme/tiny", "", 404, "", "Not Found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			header := http.Header{}
			if tc.token != "" {
				header = bearer(tc.token)
			}
			if tc.name == "not a bearer" {
				header.Set("Authorization", "token "+reader)
			}
			resp, body := do(t, h, http.MethodGet, h.URL()+tc.path, header)
			if resp.StatusCode != tc.status || resp.Header.Get("X-Error-Code") != tc.code ||
				!strings.Contains(resp.Header.Get("X-Error-Message"), tc.message) {
				t.Fatalf("%d code %q message %q, want %d %q %q", resp.StatusCode, resp.Header.Get("X-Error-Code"),
					resp.Header.Get("X-Error-Message"), tc.status, tc.code, tc.message)
			}
			if tc.status >= 400 {
				var e struct{ Error string }
				if err := json.Unmarshal(body, &e); err != nil || e.Error != resp.Header.Get("X-Error-Message") {
					t.Errorf("body %s, want {\"error\": message}", body)
				}
			}
		})
	}
	var info struct{ Gated any }
	_, body := do(t, h, http.MethodGet, h.URL()+"/api/models/meta-llama/gated", nil)
	if err := json.Unmarshal(body, &info); err != nil || info.Gated != "manual" {
		t.Errorf("gated = %v, want \"manual\"", info.Gated)
	}
}

func TestRenameRepo(t *testing.T) {
	h, _ := newHub(t)
	h.RenameRepo("acme/old", "acme/tiny")
	resp, _ := do(t, h, http.MethodHead, h.URL()+"/acme/old/resolve/main/extra/deep/adapter.safetensors", nil)
	if resp.StatusCode != http.StatusTemporaryRedirect ||
		resp.Header.Get("Location") != "/acme/tiny/resolve/main/extra/deep/adapter.safetensors" {
		t.Errorf("%d Location %q, want a relative 307", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestStatusFaultsFireAsConfigured(t *testing.T) {
	h, _ := newHub(t)
	h.Fail("/api/models/acme/tiny/revision/", 1, http.StatusTooManyRequests, hubsim.RetryAfter(7*time.Second))
	h.Fail("/api/models/acme/tiny/tree/", 2, http.StatusServiceUnavailable, nil)
	h.FailOn(hubsim.HubServer, "/acme/tiny/resolve/", hubsim.Always, http.StatusBadGateway,
		hubsim.RateLimit(0, 55*time.Second, 500))

	info := h.URL() + "/api/models/acme/tiny/revision/main"
	resp, _ := do(t, h, http.MethodGet, info, nil)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" || resp.Header.Get("X-Error-Message") == "" {
		t.Errorf("first: %d %v, want 429 Retry-After 7", resp.StatusCode, resp.Header)
	}
	if resp, _ := do(t, h, http.MethodGet, info, nil); resp.StatusCode != 200 {
		t.Errorf("second: %d, want the fault spent", resp.StatusCode)
	}
	var statuses []int
	for range 3 {
		resp, _ := do(t, h, http.MethodGet, h.URL()+"/api/models/acme/tiny/tree/main?recursive=true", nil)
		statuses = append(statuses, resp.StatusCode)
	}
	if !reflect.DeepEqual(statuses, []int{503, 503, 200}) {
		t.Errorf("tree answers %v, want two 503s then 200", statuses)
	}
	for range 3 {
		resp, _ := do(t, h, http.MethodHead, h.URL()+"/acme/tiny/resolve/main/config.json", nil)
		if resp.StatusCode != 502 || resp.Header.Get("Ratelimit") != `"api";r=0;t=55` ||
			resp.Header.Get("Ratelimit-Policy") != `"fixed window";"api";q=500;w=300` {
			t.Errorf("Always: %d %v", resp.StatusCode, resp.Header)
		}
	}
	if n := len(h.Requests(hubsim.HubServer, "/tree/")); n != 3 {
		t.Errorf("%d tree requests logged, want 3", n)
	}
	var faults []string
	for _, r := range h.Requests(hubsim.HubServer, "/api/") {
		faults = append(faults, r.Fault)
	}
	if !reflect.DeepEqual(faults, []string{"status", "", "status", "status", ""}) {
		t.Errorf("faults logged %q", faults)
	}
	h.ClearFaults()
	if resp, _ := do(t, h, http.MethodHead, h.URL()+"/acme/tiny/resolve/main/config.json", nil); resp.StatusCode != 200 {
		t.Errorf("after ClearFaults: %d", resp.StatusCode)
	}

	// An expired CDN URL, once.
	h.ExpireCDNURLs(1)
	resp, _ = do(t, h, http.MethodHead, h.URL()+"/acme/tiny/resolve/main/model.safetensors", nil)
	loc := resp.Header.Get("Location")
	first, body := do(t, h, http.MethodGet, loc, nil)
	second, _ := do(t, h, http.MethodGet, loc, nil)
	if first.StatusCode != 403 || !strings.Contains(string(body), "Request has expired") || second.StatusCode != 200 {
		t.Errorf("ExpireCDNURLs(1): %d then %d", first.StatusCode, second.StatusCode)
	}
}

// cdnURL asks /resolve for an LFS file's CDN URL.
func cdnURL(t *testing.T, h *hubsim.Hub, path string) string {
	t.Helper()
	resp, _ := do(t, h, http.MethodHead, h.URL()+"/acme/tiny/resolve/main/"+path, nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("HEAD %s: %d", path, resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

func TestFileFaultsFireOnce(t *testing.T) {
	h, repo := newHub(t)
	model := repo.File("model.safetensors")
	loc := cdnURL(t, h, "model.safetensors")
	get := func(header http.Header) (int, []byte, error) {
		req, _ := http.NewRequest(http.MethodGet, loc, nil)
		req.Header = header
		if req.Header == nil {
			req.Header = http.Header{}
		}
		resp, err := h.HTTPClient().Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}

	t.Run("cut", func(t *testing.T) {
		h.ResetLog()
		h.CutBody("model.safetensors", 4000, 1)
		h.CutBody("config.json", 1, 1) // another file: untouched by the GETs below
		_, b, err := get(nil)
		if err == nil || len(b) != 4000 {
			t.Errorf("first GET: %d bytes, %v; want 4000 and a broken connection", len(b), err)
		}
		status, b, err := get(nil)
		if err != nil || status != 200 || !bytes.Equal(b, model.Content) {
			t.Errorf("second GET: %d, %d bytes, %v; want it whole", status, len(b), err)
		}
		// A Range answer shorter than the cut is not cut and does not use the fault up.
		h.CutBody("model.safetensors", 4000, 1)
		status, b, err = get(http.Header{"Range": {"bytes=9000-"}})
		if err != nil || status != 206 || len(b) != 1000 {
			t.Errorf("short Range GET: %d, %d bytes, %v", status, len(b), err)
		}
		if _, b, err := get(nil); err == nil || len(b) != 4000 {
			t.Errorf("the pending cut did not fire: %d bytes, %v", len(b), err)
		}
		log := h.Requests(hubsim.CDNServer, "")
		if len(log) != 4 || log[0].Fault != "cut" || log[0].Bytes != 4000 || log[1].Fault != "" || log[2].Fault != "" ||
			log[3].Fault != "cut" {
			t.Errorf("log %+v", log)
		}
		if got, want := h.SentBytes(), int64(4000+10_000+1000+4000); got != want {
			t.Errorf("SentBytes = %d, want %d", got, want)
		}
		// The fault for config.json waited for its own file.
		resp, err := h.HTTPClient().Get(h.URL() + "/acme/tiny/resolve/main/config.json")
		if err != nil {
			t.Fatal(err)
		}
		b, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil || len(b) != 1 {
			t.Errorf("config.json: %d bytes, %v; want 1 and a broken connection", len(b), err)
		}
	})

	t.Run("stall", func(t *testing.T) {
		h.StallBody("model.safetensors", 100, 1)
		req, _ := http.NewRequest(http.MethodGet, loc, nil)
		resp, err := h.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 100)
		if _, err := io.ReadFull(resp.Body, buf); err != nil || !bytes.Equal(buf, model.Content[:100]) {
			t.Fatalf("the first 100 bytes: %v", err)
		}
		got := make(chan error, 1)
		go func() { _, err := resp.Body.Read(make([]byte, 1)); got <- err }()
		select {
		case err := <-got:
			t.Fatalf("a stalled body went on: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		resp.Body.Close() // the client gives up
		<-got
		if status, b, err := get(nil); err != nil || status != 200 || !bytes.Equal(b, model.Content) {
			t.Errorf("after the stall: %d, %d bytes, %v", status, len(b), err)
		}
	})

	t.Run("corrupt", func(t *testing.T) {
		h.Corrupt("model.safetensors", 1)
		_, first, _ := get(nil)
		_, second, _ := get(nil)
		if len(first) != len(model.Content) || bytes.Equal(first, model.Content) || first[0] != ^model.Content[0] {
			t.Errorf("first GET not corrupted")
		}
		if !bytes.Equal(second, model.Content) {
			t.Errorf("second GET corrupted too")
		}
		// Twice, for a file in git served by the Hub.
		h.Corrupt("config.json", 2)
		cfg := repo.File("config.json")
		for i, want := range []bool{true, true, false} {
			_, b := do(t, h, http.MethodGet, h.URL()+"/acme/tiny/resolve/main/config.json", nil)
			if bad := !bytes.Equal(b, cfg.Content); bad != want {
				t.Errorf("config.json GET %d corrupted = %v, want %v", i+1, bad, want)
			}
		}
	})

	t.Run("ignore range", func(t *testing.T) {
		h.IgnoreRange("", 1)
		// A GET without Range does not use it up.
		if status, _, _ := get(nil); status != 200 {
			t.Errorf("plain GET: %d", status)
		}
		status, b, _ := get(http.Header{"Range": {"bytes=100-"}})
		if status != 200 || len(b) != len(model.Content) {
			t.Errorf("first Range GET: %d, %d bytes; want the whole file with 200", status, len(b))
		}
		status, b, _ = get(http.Header{"Range": {"bytes=100-"}})
		if status != 206 || len(b) != len(model.Content)-100 {
			t.Errorf("second Range GET: %d, %d bytes; want 206", status, len(b))
		}
	})
}

func TestChecksReportViolations(t *testing.T) {
	var mu sync.Mutex
	var reported []string
	h := hubsim.New(hubsim.RequireUserAgent("privatellm"), hubsim.Report(func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		reported = append(reported, format)
	}))
	defer h.Close()
	h.AddRepo("acme/tiny", hubsim.RepoOptions{Files: files()})
	do(t, h, http.MethodGet, h.URL()+"/api/models/acme/tiny", http.Header{"User-Agent": {"privatellm/1"}})
	resp, _ := do(t, h, http.MethodGet, h.URL()+"/api/models/acme/tiny", http.Header{"User-Agent": {"curl/8"}})
	if resp.StatusCode != 200 {
		t.Errorf("a violation must still be answered as the Hub would: %d", resp.StatusCode)
	}
	v := h.Violations()
	if len(v) != 1 || !strings.Contains(v[0], "curl/8") || len(reported) != 1 {
		t.Errorf("violations %q, reported %d", v, len(reported))
	}
	if r := h.Requests("", ""); len(r) != 2 || r[1].UserAgent != "curl/8" || r[1].Authorization {
		t.Errorf("log %+v", r)
	}
}

func TestTLS(t *testing.T) {
	h := hubsim.NewTest(t, hubsim.TLS())
	h.AddRepo("gpt2", hubsim.RepoOptions{Files: files()})
	if !strings.HasPrefix(h.URL(), "https://") || !bytes.HasPrefix(h.CertificatePEM(), []byte("-----BEGIN CERTIFICATE-----")) {
		t.Fatalf("URL %s", h.URL())
	}
	// A repo id of one segment, through HTTPS to the Hub and the CDN.
	resp, body := do(t, h, http.MethodGet, h.URL()+"/api/models/gpt2/revision/main", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"id":"gpt2"`) {
		t.Errorf("model info: %d %s", resp.StatusCode, body)
	}
	resp, _ = do(t, h, http.MethodHead, h.URL()+"/gpt2/resolve/main/model.safetensors", nil)
	loc := resp.Header.Get("Location")
	if resp, _ := do(t, h, http.MethodGet, loc, nil); !strings.HasPrefix(loc, "https://") || resp.StatusCode != 200 {
		t.Errorf("CDN %s: %d", loc, resp.StatusCode)
	}
}

func TestAddRepo(t *testing.T) {
	h := hubsim.NewTest(t)
	other := "1111111111111111111111111111111111111111"
	repo := h.AddRepo("acme/two", hubsim.RepoOptions{Files: files(),
		Commits: map[string][]hubsim.File{other: {hubsim.Text("config.json", "{}")}},
		Refs:    map[string]string{"dev": other}})
	if len(repo.Commit) != 40 || repo.Refs["main"] != repo.Commit || repo.Refs["dev"] != other {
		t.Fatalf("repo %+v", repo)
	}
	if again := h.AddRepo("acme/two2", hubsim.RepoOptions{Files: files()}); again.Commit == repo.Commit {
		t.Errorf("the derived commit does not depend on the id")
	}
	if f, ok := repo.FileAt(other, "config.json"); !ok || string(f.Content) != "{}" {
		t.Errorf("FileAt = %+v, %v", f, ok)
	}
	_, body := do(t, h, http.MethodGet, h.URL()+"/api/models/acme/two/revision/dev", nil)
	if !strings.Contains(string(body), other) {
		t.Errorf("dev → %s", body)
	}
	h.RemoveRepo("acme/two")
	if resp, _ := do(t, h, http.MethodGet, h.URL()+"/api/models/acme/two", nil); resp.StatusCode != 401 {
		t.Errorf("removed repo: %d", resp.StatusCode)
	}
	for name, opts := range map[string]hubsim.RepoOptions{
		"short commit": {Commit: "abc"},
		"unknown ref":  {Refs: map[string]string{"dev": other}},
		"gating mode":  {Gated: "yes"},
		"same path":    {Files: []hubsim.File{hubsim.Text("a", "1"), hubsim.Text("a", "2")}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			h.AddRepo("acme/bad", opts)
		}()
	}
}

func TestModelConfig(t *testing.T) {
	var cfg map[string]any
	body := hubsim.ModelConfig(hubsim.Config{Architecture: "MistralForCausalLM", Layers: 4, KVHeads: 2,
		Quantization: hubsim.AWQ()})
	if err := json.Unmarshal(body, &cfg); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"architectures": []any{"MistralForCausalLM"}, "model_type": "mistral",
		"num_hidden_layers": 4.0, "hidden_size": 4096.0, "num_attention_heads": 32.0, "num_key_value_heads": 2.0,
		"max_position_embeddings": 131072.0, "torch_dtype": "bfloat16"}
	for k, v := range want {
		if !reflect.DeepEqual(cfg[k], v) {
			t.Errorf("%s = %v, want %v", k, cfg[k], v)
		}
	}
	if q, _ := cfg["quantization_config"].(map[string]any); q["quant_method"] != "awq" || q["bits"] != 4.0 {
		t.Errorf("quantization_config = %v", cfg["quantization_config"])
	}
	if plain := hubsim.ModelConfig(hubsim.Config{}); bytes.Contains(plain, []byte("quantization_config")) ||
		!bytes.Contains(plain, []byte(`"LlamaForCausalLM"`)) || !bytes.HasSuffix(plain, []byte("}\n")) {
		t.Errorf("default config:\n%s", plain)
	}
	for _, q := range []map[string]any{hubsim.GPTQ(), hubsim.FP8()} {
		if q["quant_method"] == "" {
			t.Errorf("no quant_method in %v", q)
		}
	}
}

func TestSafetensors(t *testing.T) {
	for _, size := range []int64{0, 10, 95, 150, 1000, 4096, 123_457} {
		f := hubsim.Safetensors("model.safetensors", size)
		if f.Size() != size || !f.LFS {
			t.Fatalf("size %d: got %d bytes, LFS %v", size, f.Size(), f.LFS)
		}
		if size < 150 {
			continue
		}
		n := binary.LittleEndian.Uint64(f.Content[:8])
		var header map[string]struct {
			Dtype       string
			Shape       []int64
			DataOffsets []int64 `json:"data_offsets"`
		}
		if n%8 != 0 || 8+n > uint64(size) {
			t.Fatalf("size %d: header length %d", size, n)
		}
		if err := json.Unmarshal(bytes.TrimRight(f.Content[8:8+n], " "), &header); err != nil {
			t.Fatalf("size %d: header: %v", size, err)
		}
		if tensor := header["filler"]; tensor.Dtype != "U8" || len(tensor.DataOffsets) != 2 ||
			tensor.DataOffsets[1] != size-8-int64(n) || tensor.Shape[0] != tensor.DataOffsets[1] {
			t.Errorf("size %d: tensor %+v", size, tensor)
		}
	}
	a, b := hubsim.Safetensors("a.safetensors", 5000), hubsim.Safetensors("b.safetensors", 5000)
	if a.SHA256() == b.SHA256() || !bytes.Equal(a.Content, hubsim.Safetensors("a.safetensors", 5000).Content) {
		t.Errorf("filler should differ by path and repeat for the same path")
	}
	if len(a.SHA256()) != 64 || a.ETag() != a.SHA256() || !strings.Contains(a.Pointer(), "oid sha256:"+a.SHA256()) {
		t.Errorf("LFS hashes: %s %s", a.SHA256(), a.Pointer())
	}
	// git's blob id of "hello\n" (git hash-object).
	if got := hubsim.Text("x", "hello\n").GitOID(); got != "ce013625030ba8dba906f756967f9e9ca394464a" {
		t.Errorf("GitOID = %s", got)
	}
}

func TestModelFiles(t *testing.T) {
	one := hubsim.ModelFiles(hubsim.Config{}, 1000)
	three := hubsim.ModelFiles(hubsim.Config{}, 1000, 2000, 500)
	paths := func(fs []hubsim.File) map[string]hubsim.File {
		m := map[string]hubsim.File{}
		for _, f := range fs {
			m[f.Path] = f
		}
		return m
	}
	p1, p3 := paths(one), paths(three)
	if !p1["model.safetensors"].LFS || p1["config.json"].LFS || len(p1) != 7 {
		t.Errorf("one shard: %v", p1)
	}
	var index struct {
		Metadata struct {
			TotalSize int64 `json:"total_size"`
		}
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(p3["model.safetensors.index.json"].Content, &index); err != nil || index.Metadata.TotalSize != 3500 {
		t.Fatalf("index: %+v, %v", index, err)
	}
	for _, name := range index.WeightMap {
		if !p3[name].LFS {
			t.Errorf("the index names %s, which is not an LFS shard", name)
		}
	}
	if p3["model-00002-of-00003.safetensors"].Size() != 2000 {
		t.Errorf("shard sizes")
	}
	h := hubsim.NewTest(t)
	h.AddRepo("acme/model", hubsim.RepoOptions{Files: three})
	if resp, _ := do(t, h, http.MethodGet, h.URL()+"/api/models/acme/model", nil); resp.StatusCode != 200 {
		t.Errorf("a ModelFiles repo: %d", resp.StatusCode)
	}
}

func TestListenOnAddress(t *testing.T) {
	h, err := hubsim.Listen(hubsim.Addrs("127.0.0.1:0", "127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if !strings.HasPrefix(h.URL(), "http://127.0.0.1:") || !strings.HasPrefix(h.CDNURL(), "http://127.0.0.1:") ||
		h.URL() == h.CDNURL() {
		t.Errorf("URLs %s %s", h.URL(), h.CDNURL())
	}
	if _, err := hubsim.Listen(hubsim.Addrs("256.0.0.1:1", "")); err == nil {
		t.Errorf("a bad address was accepted")
	}
	h.Close()
	h.Close() // twice is fine
	if resp, err := h.HTTPClient().Get(h.URL()); err == nil {
		resp.Body.Close()
		t.Errorf("the Hub still answers after Close")
	}
}
