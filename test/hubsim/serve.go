package hubsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Header and message names the Hub uses (see doc.go for the sources).
const (
	headerRepoCommit   = "X-Repo-Commit"
	headerLinkedETag   = "X-Linked-Etag"
	headerLinkedSize   = "X-Linked-Size"
	headerErrorCode    = "X-Error-Code"
	headerErrorMessage = "X-Error-Message"

	// InvalidCredentials is the X-Error-Message of the 401 for a token the Hub does not know.
	InvalidCredentials = "Invalid credentials in Authorization header"
	// DisabledMessage is the X-Error-Message of the 403 for a disabled repo.
	DisabledMessage = "Access to this resource is disabled."
)

// recorder fills in the request's log entry as the answer is written: the status, the body bytes (counted
// before they are sent) and the fault that spoils it.
type recorder struct {
	http.ResponseWriter
	h     *Hub
	entry *Request
}

func (rec *recorder) WriteHeader(code int) {
	rec.h.mu.Lock()
	if rec.entry.Status == 0 {
		rec.entry.Status = code
	}
	rec.h.mu.Unlock()
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	rec.h.mu.Lock()
	if rec.entry.Status == 0 {
		rec.entry.Status = http.StatusOK
	}
	rec.entry.Bytes += int64(len(b))
	rec.h.mu.Unlock()
	n, err := rec.ResponseWriter.Write(b)
	if n < len(b) {
		rec.h.mu.Lock()
		rec.entry.Bytes -= int64(len(b) - n)
		rec.h.mu.Unlock()
	}
	return n, err
}

func (rec *recorder) Flush() {
	if f, ok := rec.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// setFault names the fault that spoils the answer.
func (rec *recorder) setFault(kind string) {
	rec.h.mu.Lock()
	defer rec.h.mu.Unlock()
	rec.entry.Fault = kind
}

// begin runs the checks, logs the request and wraps w; the returned function ends the log entry (deferred, so
// that an answer cut with http.ErrAbortHandler is ended too) and writes the Logf line.
func (h *Hub) begin(server Server, w http.ResponseWriter, r *http.Request) (*recorder, func()) {
	var found []string
	for _, check := range h.s.checks {
		if v := check(r); v != "" {
			found = append(found, v)
		}
	}
	entry := &Request{Server: server, Method: r.Method, Path: r.URL.RequestURI(), Range: r.Header.Get("Range"),
		Authorization: r.Header.Get("Authorization") != "", UserAgent: r.Header.Get("User-Agent")}
	h.mu.Lock()
	h.violations = append(h.violations, found...)
	h.requestID++
	id := h.requestID
	h.log = append(h.log, entry)
	h.mu.Unlock()
	if h.s.report != nil {
		for _, v := range found {
			h.s.report("hubsim: %s", v)
		}
	}
	if server == HubServer {
		w.Header().Set("X-Request-Id", fmt.Sprintf("Root=1-%08x-%024x", id, id))
	}
	rec := &recorder{ResponseWriter: w, h: h, entry: entry}
	return rec, func() {
		h.mu.Lock()
		if entry.Status == 0 {
			entry.Status = http.StatusOK
		}
		e := *entry
		h.mu.Unlock()
		if h.s.logf != nil {
			h.s.logf("hubsim %s: %s %s range=%q -> %d (%d bytes) fault=%q", server, e.Method, e.Path, e.Range,
				e.Status, e.Bytes, e.Fault)
		}
	}
}

// hubError answers as the Hub does on an error: X-Error-Code (when there is one) and X-Error-Message headers,
// and a JSON body {"error": message}.
func hubError(w http.ResponseWriter, status int, code, msg string) {
	if code != "" {
		w.Header().Set(headerErrorCode, code)
	}
	w.Header().Set(headerErrorMessage, msg)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// s3Error answers as S3 (behind CloudFront) does: an XML error document.
func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>",
		code, msg)
}

func (h *Hub) serveHub(w http.ResponseWriter, r *http.Request) {
	rec, done := h.begin(HubServer, w, r)
	defer done()
	w = rec
	if f := h.takeFault(HubServer, r); f != nil {
		rec.setFault("status")
		for k, v := range f.header {
			w.Header()[k] = v
		}
		hubError(w, f.status, "", http.StatusText(f.status))
		return
	}
	// Split the escaped path so that an escaped '/' in a revision stays inside its segment.
	var segs []string
	for _, s := range strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/") {
		u, err := url.PathUnescape(s)
		if err != nil {
			hubError(w, http.StatusBadRequest, "", "bad path")
			return
		}
		segs = append(segs, u)
	}
	get := r.Method == http.MethodGet
	switch {
	case len(segs) >= 3 && segs[0] == "api" && segs[1] == "models" && get:
		h.serveAPI(w, r, segs[2:])
	case len(segs) >= 5 && segs[2] == "resolve" && (get || r.Method == http.MethodHead):
		h.resolve(w, r, segs[0]+"/"+segs[1], segs[3], strings.Join(segs[4:], "/"))
	case len(segs) >= 4 && segs[1] == "resolve" && (get || r.Method == http.MethodHead):
		h.resolve(w, r, segs[0], segs[2], strings.Join(segs[3:], "/"))
	default:
		hubError(w, http.StatusNotFound, "", "Not Found")
	}
}

// serveAPI routes /api/models/{repo}[/revision/{revision}] and /api/models/{repo}/tree/{revision}[/{path}], for
// a repo id of one segment or two.
func (h *Hub) serveAPI(w http.ResponseWriter, r *http.Request, segs []string) {
	verbAt := -1
	for _, i := range []int{2, 1} {
		if len(segs) > i+1 && (segs[i] == "revision" || segs[i] == "tree") {
			verbAt = i
			break
		}
	}
	switch {
	case verbAt < 0 && len(segs) <= 2:
		h.modelInfo(w, r, strings.Join(segs, "/"), "main")
	case verbAt > 0 && segs[verbAt] == "revision":
		h.modelInfo(w, r, strings.Join(segs[:verbAt], "/"), strings.Join(segs[verbAt+1:], "/"))
	case verbAt > 0:
		h.tree(w, r, strings.Join(segs[:verbAt], "/"), segs[verbAt+1], strings.Join(segs[verbAt+2:], "/"))
	default:
		hubError(w, http.StatusNotFound, "", "Not Found")
	}
}

// access applies the Hub's rules for a repo: a token the Hub does not know → 401 "Invalid credentials"; a repo
// that does not exist or is private and not granted to the token → 401 RepoNotFound; disabled → 403
// DisabledMessage; for the files of a gated repo (files: true; README.md excepted) no token → 401 GatedRepo, a
// token not granted → 403 GatedRepo.
func (h *Hub) access(w http.ResponseWriter, r *http.Request, id string, files bool, filePath string) *repo {
	auth := r.Header.Get("Authorization")
	token, bearer := strings.CutPrefix(auth, "Bearer ")
	h.mu.Lock()
	rp := h.repos[id]
	known := h.tokens[token]
	granted := rp != nil && rp.granted[token]
	h.mu.Unlock()
	if auth != "" && (!bearer || !known) {
		hubError(w, http.StatusUnauthorized, "", InvalidCredentials)
		return nil
	}
	if rp == nil || (rp.private && !granted) {
		hubError(w, http.StatusUnauthorized, "RepoNotFound", "Repository not found")
		return nil
	}
	if rp.disabled {
		hubError(w, http.StatusForbidden, "", DisabledMessage)
		return nil
	}
	if rp.gated != "" && files && filePath != "README.md" && !granted {
		if token == "" {
			hubError(w, http.StatusUnauthorized, "GatedRepo", "Access to model "+id+" is restricted. You must have "+
				"access to it and be authenticated to access it. Please log in.")
		} else {
			hubError(w, http.StatusForbidden, "GatedRepo", "Access to model "+id+" is restricted and you are not in "+
				"the authorized list. Visit https://huggingface.co/"+id+" to ask for access.")
		}
		return nil
	}
	return rp
}

// commitOf resolves a branch, tag or commit sha; an unknown one is answered 404 RevisionNotFound.
// A repo is not changed once added (AddRepo replaces it whole), so it is read without the lock.
func (h *Hub) commitOf(w http.ResponseWriter, rp *repo, rev string) (string, []*blob, bool) {
	sha := rev
	if c, ok := rp.refs[rev]; ok {
		sha = c
	}
	files, ok := rp.commits[sha]
	if !ok {
		hubError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
		return "", nil, false
	}
	return sha, files, true
}

// modelInfo answers GET /api/models/{repo}/revision/{revision} with the fields the Hub gives by default.
func (h *Hub) modelInfo(w http.ResponseWriter, r *http.Request, id, rev string) {
	rp := h.access(w, r, id, false, "")
	if rp == nil {
		return
	}
	sha, files, ok := h.commitOf(w, rp, rev)
	if !ok {
		return
	}
	siblings := []map[string]string{}
	for _, f := range files {
		siblings = append(siblings, map[string]string{"rfilename": f.Path})
	}
	var gated any = false
	if rp.gated != "" {
		gated = rp.gated
	}
	author, _, _ := strings.Cut(id, "/")
	idSum := sha256.Sum256([]byte(id))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"_id": "66" + hex.EncodeToString(idSum[:11]), "id": id, "modelId": id, "author": author, "sha": sha,
		"lastModified": "2024-09-25T14:32:36.000Z", "private": rp.private, "gated": gated, "disabled": rp.disabled,
		"downloads": 12345, "likes": 42, "library_name": "transformers", "tags": []string{"safetensors"},
		"pipeline_tag": "text-generation", "siblings": siblings, "createdAt": "2024-07-18T08:56:00.000Z",
	})
}

// treeCursor is the Link URL's cursor: opaque on the Hub; here it encodes the last path of the page.
func treeCursor(last string) string { return base64.RawURLEncoding.EncodeToString([]byte(last)) }

// tree answers GET /api/models/{repo}/tree/{revision}[/{path}]?recursive=...&cursor=...: the entries under
// path (all of them when recursive=true, else the direct children), directories included, in pages of
// PageSize with a Link rel="next" URL that carries the query and a cursor.
func (h *Hub) tree(w http.ResponseWriter, r *http.Request, id, rev, under string) {
	rp := h.access(w, r, id, false, "")
	if rp == nil {
		return
	}
	_, files, ok := h.commitOf(w, rp, rev)
	if !ok {
		return
	}
	q := r.URL.Query()
	recursive := q.Get("recursive") == "true" || q.Get("recursive") == "1"
	under = strings.Trim(under, "/")
	inScope := func(p string) bool {
		if under != "" {
			if !strings.HasPrefix(p, under+"/") {
				return false
			}
			p = p[len(under)+1:]
		}
		return recursive || !strings.Contains(p, "/")
	}
	// Entries as the Hub gives them: directories too, files with oid and size and, for LFS, lfs and xetHash.
	type entry = map[string]any
	dirs := map[string]bool{}
	var entries []entry
	exists := under == ""
	for _, f := range files {
		exists = exists || strings.HasPrefix(f.Path, under+"/")
		for d := f.Path; strings.Contains(d, "/"); {
			d = d[:strings.LastIndex(d, "/")]
			if !dirs[d] && inScope(d) {
				dirs[d] = true
				entries = append(entries, entry{"type": "directory", "oid": GitBlobSHA1([]byte(d)), "size": 0, "path": d})
			}
		}
		if !inScope(f.Path) {
			continue
		}
		e := entry{"type": "file", "oid": f.treeOID, "size": f.Size(), "path": f.Path}
		if f.LFS {
			e["lfs"] = entry{"oid": f.sha256, "size": f.Size(), "pointerSize": len(f.pointer)}
			e["xetHash"] = f.xetHash
		}
		entries = append(entries, e)
	}
	if !exists {
		hubError(w, http.StatusNotFound, "EntryNotFound", fmt.Sprintf("%s does not exist on %q", under, rev))
		return
	}
	sortEntries(entries)
	start := 0
	if c := q.Get("cursor"); c != "" {
		last, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil {
			hubError(w, http.StatusBadRequest, "", "Invalid cursor")
			return
		}
		for start < len(entries) && entries[start]["path"].(string) <= string(last) {
			start++
		}
	}
	end := min(start+h.s.pageSize, len(entries))
	if end < len(entries) {
		next := *r.URL
		nq := next.Query()
		nq.Set("cursor", treeCursor(entries[end-1]["path"].(string)))
		next.RawQuery = nq.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, h.hub.URL, next.RequestURI()))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(append([]entry{}, entries[start:end]...))
}

func sortEntries(entries []map[string]any) {
	sort.Slice(entries, func(i, j int) bool { return entries[i]["path"].(string) < entries[j]["path"].(string) })
}

// resolve answers GET and HEAD /{repo}/resolve/{revision}/{path}: X-Repo-Commit always; for a file in git the
// bytes with ETag "<git blob id>"; for an LFS file a 302 to a signed CDN URL with X-Linked-Etag "<sha256>",
// X-Linked-Size and the redirect's own weak ETag; a renamed repo's old id gets a relative 307.
func (h *Hub) resolve(w http.ResponseWriter, r *http.Request, id, rev, filePath string) {
	h.mu.Lock()
	newID, renamed := h.renamed[id]
	h.mu.Unlock()
	if renamed {
		segs := strings.Split(filePath, "/")
		for i, s := range segs {
			segs[i] = url.PathEscape(s)
		}
		w.Header().Set("Location", "/"+newID+"/resolve/"+url.PathEscape(rev)+"/"+strings.Join(segs, "/"))
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	rp := h.access(w, r, id, true, filePath)
	if rp == nil {
		return
	}
	sha, files, ok := h.commitOf(w, rp, rev)
	if !ok {
		return
	}
	w.Header().Set(headerRepoCommit, sha)
	var file *blob
	for _, f := range files {
		if f.Path == filePath {
			file = f
		}
	}
	if file == nil {
		hubError(w, http.StatusNotFound, "EntryNotFound", "Entry not found")
		return
	}
	if file.LFS {
		w.Header().Set(headerLinkedETag, `"`+file.sha256+`"`)
		w.Header().Set(headerLinkedSize, strconv.FormatInt(file.Size(), 10))
		w.Header().Set("ETag", `W/"`+file.gitOID[:20]+`"`) // the redirect's own etag, not the file's
		w.Header().Set("Location", h.signCDNURL(id, file))
		w.WriteHeader(http.StatusFound)
		return
	}
	w.Header().Set("ETag", `"`+file.gitOID+`"`)
	h.serveBytes(w, r, file)
}

// signCDNURL returns a CDN URL for an LFS file, shaped like the Hub's: /repos/<2 hex>/<2 hex>/<sha256> with
// response-content-disposition, Expires, Signature and Key-Pair-Id in the query.
func (h *Hub) signCDNURL(id string, f *blob) string {
	expires := h.s.now().Add(h.s.urlTTL).Unix()
	p := "/repos/" + f.sha256[:2] + "/" + f.sha256[2:4] + "/" + f.sha256
	base := path.Base(f.Path)
	q := url.Values{
		"response-content-disposition": {fmt.Sprintf("inline; filename*=UTF-8''%s; filename=\"%s\";", url.PathEscape(base), base)},
		"Expires":                      {strconv.FormatInt(expires, 10)},
		"Key-Pair-Id":                  {"K3RPWS32NSSJCE"},
	}
	mac := hmac.New(sha256.New, h.key)
	fmt.Fprintf(mac, "%s\n%s\n%d\n%s", p, q.Get("response-content-disposition"), expires, f.Path)
	sig := hex.EncodeToString(mac.Sum(nil))
	q.Set("Signature", sig)
	h.mu.Lock()
	h.signed[sig] = cdnObject{repo: id, path: f.Path, sha256: f.sha256, expires: expires}
	h.mu.Unlock()
	return h.cdn.URL + p + "?" + q.Encode()
}

// serveCDN answers GET and HEAD on a signed URL with the file's bytes, as S3 behind CloudFront does: an
// Authorization header next to the signature is refused (400), a URL without a valid signature is denied (403),
// an expired one too.
func (h *Hub) serveCDN(w http.ResponseWriter, r *http.Request) {
	rec, done := h.begin(CDNServer, w, r)
	defer done()
	w = rec
	if r.Header.Get("Authorization") != "" {
		// S3 refuses a presigned URL with an Authorization header too.
		s3Error(w, http.StatusBadRequest, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm "+
			"query parameter, Signature query string parameter or the Authorization header should be specified")
		return
	}
	if f := h.takeFault(CDNServer, r); f != nil {
		for k, v := range f.header {
			w.Header()[k] = v
		}
		if f.expired {
			rec.setFault("expired")
			s3Error(w, http.StatusForbidden, "AccessDenied", "Request has expired")
			return
		}
		rec.setFault("status")
		s3Error(w, f.status, strings.ReplaceAll(http.StatusText(f.status), " ", ""), http.StatusText(f.status))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s3Error(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
		return
	}
	sig := r.URL.Query().Get("Signature")
	h.mu.Lock()
	obj, signed := h.signed[sig]
	h.mu.Unlock()
	if !signed || !strings.HasSuffix(r.URL.Path, "/"+obj.sha256) {
		s3Error(w, http.StatusForbidden, "AccessDenied", "Access Denied")
		return
	}
	if h.s.now().Unix() > obj.expires {
		s3Error(w, http.StatusForbidden, "AccessDenied", "Request has expired")
		return
	}
	file := h.findLFS(obj)
	if file == nil {
		s3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	w.Header().Set("ETag", `"`+file.sha256+`"`)
	h.serveBytes(w, r, file)
}

// findLFS finds the LFS file a signed URL names: in its repo by path, else anywhere by sha256 (the CDN stores
// by content).
func (h *Hub) findLFS(obj cdnObject) *blob {
	h.mu.Lock()
	defer h.mu.Unlock()
	var found *blob
	if rp := h.repos[obj.repo]; rp != nil {
		for _, files := range rp.commits {
			for _, f := range files {
				if f.LFS && f.sha256 == obj.sha256 && (found == nil || f.Path == obj.path) {
					found = f
				}
			}
		}
	}
	for _, rp := range h.repos {
		for _, files := range rp.commits {
			for _, f := range files {
				if found == nil && f.LFS && f.sha256 == obj.sha256 {
					found = f
				}
			}
		}
	}
	return found
}

// serveBytes answers GET and HEAD with a file's content, with Accept-Ranges, honouring "Range: bytes=N-",
// "bytes=N-M" and "bytes=-N" with 206 and Content-Range (416 past the end; a malformed Range is ignored, as RFC
// 9110 says), and applying the file faults.
func (h *Hub) serveBytes(w http.ResponseWriter, r *http.Request, f *blob) {
	rec := w.(*recorder)
	get := r.Method == http.MethodGet
	content := f.Content
	if get && h.takeFileFault(f.Path, "corrupt", func(*fileFault) bool { return true }) != nil {
		rec.setFault("corrupt")
		content = append([]byte(nil), content...)
		for i := range content {
			content[i] ^= 0xff
		}
	}
	rg := r.Header.Get("Range")
	if get && rg != "" && h.takeFileFault(f.Path, "ignore-range", func(*fileFault) bool { return true }) != nil {
		rec.setFault("ignore-range")
		rg = ""
	}

	w.Header().Set("Accept-Ranges", "bytes")
	w.Header().Set("Content-Type", "application/octet-stream")
	size := int64(len(content))
	start, end := int64(0), size-1
	status := http.StatusOK
	if s, e, ok := parseRange(rg, size); ok {
		if s < 0 {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", size))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		start, end, status = s, e, http.StatusPartialContent
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, size))
	}
	body := content[start : end+1]
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if !get {
		return
	}
	longer := func(ff *fileFault) bool { return ff.after < int64(len(body)) }
	if ff := h.takeFileFault(f.Path, "stall", longer); ff != nil {
		rec.setFault("stall")
		h.addSent(ff.after)
		_, _ = w.Write(body[:ff.after])
		rec.Flush()
		select { // the client gives up on the silent connection
		case <-r.Context().Done():
		case <-h.closed:
		}
		return
	}
	if ff := h.takeFileFault(f.Path, "cut", longer); ff != nil {
		rec.setFault("cut")
		h.addSent(ff.after)
		_, _ = w.Write(body[:ff.after])
		rec.Flush()
		panic(http.ErrAbortHandler) // closes the connection mid-body
	}
	if bw := h.s.bandwidth; bw > 0 {
		h.writeThrottled(w, r, body, bw)
		return
	}
	h.addSent(int64(len(body)))
	_, _ = w.Write(body)
}

// writeThrottled sends body in chunks of a tenth of a second's worth at bw bytes per second.
func (h *Hub) writeThrottled(w http.ResponseWriter, r *http.Request, body []byte, bw int64) {
	chunk := max(bw/10, 1)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for len(body) > 0 {
		n := min(int64(len(body)), chunk)
		if _, err := w.Write(body[:n]); err != nil {
			return
		}
		h.addSent(n)
		w.(http.Flusher).Flush()
		body = body[n:]
		if len(body) == 0 {
			return
		}
		select {
		case <-tick.C:
		case <-r.Context().Done():
			return
		case <-h.closed:
			return
		}
	}
}

func (h *Hub) addSent(n int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sentBytes += n
}

// parseRange parses a single byte range of a file of size bytes. ok is false when there is no usable Range
// (none, malformed, several ranges: the whole file is sent); start < 0 means not satisfiable (416).
func parseRange(rg string, size int64) (start, end int64, ok bool) {
	spec, isBytes := strings.CutPrefix(rg, "bytes=")
	if rg == "" || !isBytes || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	a, b, hasDash := strings.Cut(strings.TrimSpace(spec), "-")
	if !hasDash {
		return 0, 0, false
	}
	if a == "" { // the last b bytes
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, false
		}
		if n == 0 || size == 0 {
			return -1, 0, true
		}
		return max(0, size-n), size - 1, true
	}
	s, err := strconv.ParseInt(a, 10, 64)
	if err != nil || s < 0 {
		return 0, 0, false
	}
	e := size - 1
	if b != "" {
		if e, err = strconv.ParseInt(b, 10, 64); err != nil || e < s {
			return 0, 0, false
		}
		e = min(e, size-1)
	}
	if s >= size {
		return -1, 0, true
	}
	return s, e, true
}
