package hub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fake Hub answers like huggingface.co (see doc.go for the sources): the model info and tree APIs with their
// JSON fields, Link pagination, /resolve with X-Repo-Commit, ETag, X-Linked-Etag, X-Linked-Size and a 302 to a
// separate "CDN" server for LFS files, X-Error-Code/X-Error-Message on errors, 401 for a missing or private repo.
// The CDN refuses an Authorization header next to its signed URL (as S3 does) and honours Range.

const (
	goodToken  = "hf_good"
	otherToken = "hf_other" // valid, but not granted the gated repos
)

type fakeFile struct {
	path    string
	content []byte
	lfs     bool
}

func (f fakeFile) gitOID() string { return gitBlobSHA1(f.content) }

func (f fakeFile) sha256() string {
	s := sha256.Sum256(f.content)
	return hex.EncodeToString(s[:])
}

func (f fakeFile) pointer() string {
	return fmt.Sprintf("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", f.sha256(), len(f.content))
}

// etag is what /resolve reports: sha256 for LFS, the git oid otherwise.
func (f fakeFile) etag() string {
	if f.lfs {
		return f.sha256()
	}
	return f.gitOID()
}

func gitBlobSHA1(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

type fakeRepo struct {
	id      string
	refs    map[string]string     // branch or tag → commit
	commits map[string][]fakeFile // commit → files
	private bool
	gated   bool
}

// fault answers the next `times` requests whose path starts with prefix (on either server) with status.
type fault struct {
	prefix string
	times  int
	status int
	header http.Header
}

type logEntry struct {
	server, method, path, rangeHdr string
	status                         int
}

type fakeHub struct {
	t        *testing.T
	hub, cdn *httptest.Server
	pageSize int

	mu          sync.Mutex
	repos       map[string]*fakeRepo
	renamed     map[string]string // old repo id → new
	faults      []*fault
	cutOnce     map[string]int64 // sha256 or git oid → cut the body after N bytes, once
	stallOnce   map[string]int64 // sha256 or git oid → send N bytes, then nothing until the client leaves, once
	ignoreRange bool
	corrupt     map[string]bool // path → serve different bytes of the same length
	log         []logEntry
	cdnBytes    int64 // body bytes the CDN sent
}

func newFakeHub(t *testing.T) *fakeHub {
	t.Helper()
	h := &fakeHub{t: t, pageSize: 1000, repos: map[string]*fakeRepo{}, renamed: map[string]string{},
		cutOnce: map[string]int64{}, stallOnce: map[string]int64{}, corrupt: map[string]bool{}}
	h.hub = httptest.NewServer(http.HandlerFunc(h.serveHub))
	h.cdn = httptest.NewServer(http.HandlerFunc(h.serveCDN))
	t.Cleanup(h.hub.Close)
	t.Cleanup(h.cdn.Close)
	return h
}

func (h *fakeHub) addRepo(r *fakeRepo) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.repos[r.id] = r
}

func (h *fakeHub) inject(prefix string, times, status int, header http.Header) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.faults = append(h.faults, &fault{prefix: prefix, times: times, status: status, header: header})
}

// client returns a Client for the fake with the given token, no real sleeping, and the sleeps recorded.
func (h *fakeHub) client(token string) (*Client, *[]time.Duration) {
	var mu sync.Mutex
	slept := &[]time.Duration{}
	c := NewClient(h.hub.URL, token, h.hub.Client())
	c.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		*slept = append(*slept, d)
		return ctx.Err()
	}
	return c, slept
}

// requests returns the log entries of a server ("hub" or "cdn") whose path contains substr.
func (h *fakeHub) requests(server, substr string) []logEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []logEntry
	for _, e := range h.log {
		if e.server == server && strings.Contains(e.path, substr) {
			out = append(out, e)
		}
	}
	return out
}

func (h *fakeHub) sentBytes() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cdnBytes
}

func (h *fakeHub) resetLog() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log = nil
	h.cdnBytes = 0
}

// statusRecorder remembers the status for the log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (h *fakeHub) record(server string, r *http.Request, rec *statusRecorder) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log = append(h.log, logEntry{server: server, method: r.Method, path: r.URL.RequestURI(),
		rangeHdr: r.Header.Get("Range"), status: rec.status})
}

// takeFault returns the pending fault for this request, if any.
func (h *fakeHub) takeFault(r *http.Request) *fault {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range h.faults {
		if f.times > 0 && strings.HasPrefix(r.URL.Path, f.prefix) {
			f.times--
			return f
		}
	}
	return nil
}

func hubError(w http.ResponseWriter, status int, code, msg string) {
	if code != "" {
		w.Header().Set("X-Error-Code", code)
	}
	w.Header().Set("X-Error-Message", msg)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func (h *fakeHub) serveHub(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w}
	defer h.record("hub", r, rec)
	w = rec
	if !strings.Contains(r.Header.Get("User-Agent"), "privatellm") {
		h.t.Errorf("request %s without a privatellm User-Agent", r.URL)
	}
	if f := h.takeFault(r); f != nil {
		for k, v := range f.header {
			w.Header()[k] = v
		}
		hubError(w, f.status, "", http.StatusText(f.status))
		return
	}
	// Split the escaped path so an escaped '/' in a revision stays inside its segment.
	var segs []string
	for _, s := range strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/") {
		u, err := url.PathUnescape(s)
		if err != nil {
			hubError(w, http.StatusBadRequest, "", "bad path")
			return
		}
		segs = append(segs, u)
	}
	switch {
	case len(segs) >= 6 && segs[0] == "api" && segs[1] == "models" && segs[4] == "revision" && r.Method == http.MethodGet:
		h.modelInfo(w, r, segs[2]+"/"+segs[3], strings.Join(segs[5:], "/"))
	case len(segs) >= 6 && segs[0] == "api" && segs[1] == "models" && segs[4] == "tree" && r.Method == http.MethodGet:
		h.tree(w, r, segs[2]+"/"+segs[3], segs[5])
	case len(segs) >= 5 && segs[2] == "resolve" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		h.resolve(w, r, segs[0]+"/"+segs[1], segs[3], strings.Join(segs[4:], "/"))
	default:
		hubError(w, http.StatusNotFound, "", "Not Found")
	}
}

// access applies the Hub's rules: unknown or private-without-access → 401 RepoNotFound; a bad token → 401
// "Invalid credentials"; gated without a token → 401 GatedRepo, with a token not granted → 403 GatedRepo.
func (h *fakeHub) access(w http.ResponseWriter, r *http.Request, id string) *fakeRepo {
	h.mu.Lock()
	repo := h.repos[id]
	h.mu.Unlock()
	auth := r.Header.Get("Authorization")
	token, hasToken := strings.CutPrefix(auth, "Bearer ")
	if auth != "" && (!hasToken || (token != goodToken && token != otherToken)) {
		hubError(w, http.StatusUnauthorized, "", "Invalid credentials in Authorization header")
		return nil
	}
	if repo == nil || (repo.private && token != goodToken) {
		hubError(w, http.StatusUnauthorized, "RepoNotFound", "Repository not found")
		return nil
	}
	if repo.gated && token == "" {
		hubError(w, http.StatusUnauthorized, "GatedRepo", "Access to model "+id+" is restricted. You must have "+
			"access to it and be authenticated to access it. Please log in.")
		return nil
	}
	if repo.gated && token != goodToken {
		hubError(w, http.StatusForbidden, "GatedRepo", "Access to model "+id+" is restricted and you are not in "+
			"the authorized list. Visit https://huggingface.co/"+id+" to ask for access.")
		return nil
	}
	return repo
}

func (h *fakeHub) commitOf(w http.ResponseWriter, repo *fakeRepo, rev string) (string, []fakeFile, bool) {
	sha := rev
	if c, ok := repo.refs[rev]; ok {
		sha = c
	}
	files, ok := repo.commits[sha]
	if !ok {
		hubError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
		return "", nil, false
	}
	return sha, files, true
}

func (h *fakeHub) modelInfo(w http.ResponseWriter, r *http.Request, id, rev string) {
	repo := h.access(w, r, id)
	if repo == nil {
		return
	}
	sha, files, ok := h.commitOf(w, repo, rev)
	if !ok {
		return
	}
	var siblings []map[string]string
	for _, f := range files {
		siblings = append(siblings, map[string]string{"rfilename": f.path})
	}
	var gated any = false
	if repo.gated {
		gated = "manual"
	}
	org, _, _ := strings.Cut(id, "/")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"_id": "66" + sha[:22], "id": id, "modelId": id, "author": org, "sha": sha,
		"lastModified": "2024-09-25T14:32:36.000Z", "private": repo.private, "gated": gated, "disabled": false,
		"downloads": 12345, "likes": 42, "library_name": "transformers", "tags": []string{"safetensors"},
		"pipeline_tag": "text-generation", "siblings": siblings, "createdAt": "2024-07-18T08:56:00.000Z",
	})
}

func (h *fakeHub) tree(w http.ResponseWriter, r *http.Request, id, rev string) {
	repo := h.access(w, r, id)
	if repo == nil {
		return
	}
	q := r.URL.Query()
	if q.Get("recursive") != "true" {
		h.t.Errorf("tree listing without recursive=true: %s", r.URL)
	}
	_, files, ok := h.commitOf(w, repo, rev)
	if !ok {
		return
	}
	// Entries as the Hub gives them: directories too, files with oid/size and, for LFS, lfs and xetHash.
	type entry = map[string]any
	dirs := map[string]bool{}
	var entries []entry
	for _, f := range files {
		for d := f.path; strings.Contains(d, "/"); {
			d = d[:strings.LastIndex(d, "/")]
			if !dirs[d] {
				dirs[d] = true
				entries = append(entries, entry{"type": "directory", "oid": gitBlobSHA1([]byte(d)), "size": 0, "path": d})
			}
		}
		e := entry{"type": "file", "oid": f.gitOID(), "size": len(f.content), "path": f.path}
		if f.lfs {
			e["oid"] = gitBlobSHA1([]byte(f.pointer()))
			e["lfs"] = entry{"oid": f.sha256(), "size": len(f.content), "pointerSize": len(f.pointer())}
			e["xetHash"] = strings.Repeat("ab", 32)
		}
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i]["path"].(string) < entries[j]["path"].(string) })
	start := 0
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil {
			hubError(w, http.StatusBadRequest, "", "bad cursor")
			return
		}
		start = n
	}
	end := min(start+h.pageSize, len(entries))
	if end < len(entries) {
		next := *r.URL
		nq := next.Query()
		nq.Set("cursor", strconv.Itoa(end))
		next.RawQuery = nq.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, h.hub.URL, next.RequestURI()))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(entries[start:end])
}

func (h *fakeHub) resolve(w http.ResponseWriter, r *http.Request, id, rev, path string) {
	h.mu.Lock()
	newID, renamed := h.renamed[id]
	h.mu.Unlock()
	if renamed { // a renamed repo: a relative redirect, as the Hub sends
		w.Header().Set("Location", "/"+newID+"/resolve/"+url.PathEscape(rev)+"/"+path)
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	repo := h.access(w, r, id)
	if repo == nil {
		return
	}
	sha, files, ok := h.commitOf(w, repo, rev)
	if !ok {
		return
	}
	w.Header().Set("X-Repo-Commit", sha)
	var file *fakeFile
	for i := range files {
		if files[i].path == path {
			file = &files[i]
		}
	}
	if file == nil {
		hubError(w, http.StatusNotFound, "EntryNotFound", "Entry not found")
		return
	}
	if file.lfs {
		w.Header().Set("X-Linked-Etag", `"`+file.sha256()+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(file.content)))
		w.Header().Set("ETag", `W/"`+file.gitOID()[:20]+`"`) // the redirect's own etag, not the file's
		w.Header().Set("Location", fmt.Sprintf("%s/repos/%s/%s?Expires=1999999999&Signature=sig-%s",
			h.cdn.URL, file.sha256()[:4], file.sha256(), file.sha256()[:8]))
		w.WriteHeader(http.StatusFound)
		return
	}
	w.Header().Set("ETag", `"`+file.gitOID()+`"`)
	h.serveBytes(w, r, *file, file.gitOID())
}

func (h *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w}
	defer h.record("cdn", r, rec)
	w = rec
	if r.Header.Get("Authorization") != "" {
		// S3 refuses a presigned URL with an Authorization header too.
		http.Error(w, "<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>",
			http.StatusBadRequest)
		return
	}
	if f := h.takeFault(r); f != nil {
		for k, v := range f.header {
			w.Header()[k] = v
		}
		http.Error(w, http.StatusText(f.status), f.status)
		return
	}
	if r.URL.Query().Get("Signature") == "" {
		http.Error(w, "AccessDenied", http.StatusForbidden)
		return
	}
	sum := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	h.mu.Lock()
	var file *fakeFile
	for _, repo := range h.repos {
		for _, files := range repo.commits {
			for i := range files {
				if files[i].lfs && files[i].sha256() == sum {
					file = &files[i]
				}
			}
		}
	}
	h.mu.Unlock()
	if file == nil {
		http.Error(w, "NoSuchKey", http.StatusNotFound)
		return
	}
	w.Header().Set("ETag", `"`+file.sha256()+`"`)
	h.serveBytes(w, r, *file, sum)
}

// serveBytes answers GET/HEAD with the content, honouring "Range: bytes=N-" and "bytes=N-M" with 206 unless
// ignoreRange, and applying cutOnce and corrupt.
func (h *fakeHub) serveBytes(w http.ResponseWriter, r *http.Request, f fakeFile, key string) {
	content := f.content
	h.mu.Lock()
	if h.corrupt[f.path] {
		content = append([]byte(nil), content...)
		for i := range content {
			content[i] ^= 0xff
		}
	}
	ignoreRange := h.ignoreRange
	cut, cutting := h.cutOnce[key]
	stall, stalling := h.stallOnce[key]
	delete(h.stallOnce, key)
	h.mu.Unlock()

	w.Header().Set("Accept-Ranges", "bytes")
	w.Header().Set("Content-Type", "application/octet-stream")
	start, end := int64(0), int64(len(content))-1
	status := http.StatusOK
	if rg := r.Header.Get("Range"); rg != "" && !ignoreRange {
		spec, ok := strings.CutPrefix(rg, "bytes=")
		a, b, ok2 := strings.Cut(spec, "-")
		s, err := strconv.ParseInt(a, 10, 64)
		if !ok || !ok2 || err != nil {
			http.Error(w, "bad range", http.StatusBadRequest)
			return
		}
		if s >= int64(len(content)) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(content)))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		if b != "" {
			e, err := strconv.ParseInt(b, 10, 64)
			if err != nil {
				http.Error(w, "bad range", http.StatusBadRequest)
				return
			}
			end = min(e, end)
		}
		start, status = s, http.StatusPartialContent
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, len(content)))
	}
	body := content[start : end+1]
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	if stalling && stall < int64(len(body)) {
		h.mu.Lock()
		h.cdnBytes += stall
		h.mu.Unlock()
		_, _ = w.Write(body[:stall])
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the client gives up on the silent connection
		return
	}
	if cutting && cut < int64(len(body)) {
		h.mu.Lock()
		delete(h.cutOnce, key)
		h.cdnBytes += cut
		h.mu.Unlock()
		_, _ = w.Write(body[:cut])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // closes the connection mid-body
	}
	h.mu.Lock()
	h.cdnBytes += int64(len(body))
	h.mu.Unlock()
	_, _ = w.Write(body)
}

// testRepo is a small model repo: config and tokenizer files in git, weights in LFS (one nested two levels), the
// original/ consolidated weights a filter skips, a README.
func testRepo(id string) (*fakeRepo, string) {
	const sha = "0e9e39f249a16976918f6564b8830bc894c89659"
	weights := make([]byte, 300_000)
	for i := range weights {
		weights[i] = byte(i*7 + i/251)
	}
	nested := make([]byte, 70_001)
	for i := range nested {
		nested[i] = byte(i * 13)
	}
	files := []fakeFile{
		{path: ".gitattributes", content: []byte("*.safetensors filter=lfs diff=lfs merge=lfs -text\n")},
		{path: "README.md", content: []byte("# test model\n")},
		{path: "config.json", content: []byte(`{"architectures":["LlamaForCausalLM"],"num_hidden_layers":2}`)},
		{path: "tokenizer.json", content: []byte(`{"version":"1.0","model":{"type":"BPE"}}`)},
		{path: "model.safetensors", content: weights, lfs: true},
		{path: "extra/deep/adapter.safetensors", content: nested, lfs: true},
		{path: "original/consolidated.00.pth", content: []byte("pickled weights we skip"), lfs: true},
	}
	return &fakeRepo{
		id:      id,
		refs:    map[string]string{"main": sha, "v1.0": sha},
		commits: map[string][]fakeFile{sha: files},
	}, sha
}

func (r *fakeRepo) file(sha, path string) fakeFile {
	for _, f := range r.commits[sha] {
		if f.path == path {
			return f
		}
	}
	panic("no file " + path)
}
