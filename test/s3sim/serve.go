package s3sim

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// recorder fills in the request's log entry as the answer is written.
type recorder struct {
	http.ResponseWriter
	s     *Server
	entry *Request
}

func (rec *recorder) WriteHeader(code int) {
	rec.s.mu.Lock()
	if rec.entry.Status == 0 {
		rec.entry.Status = code
	}
	rec.s.mu.Unlock()
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	n, err := rec.ResponseWriter.Write(b)
	rec.s.mu.Lock()
	if rec.entry.Status == 0 {
		rec.entry.Status = http.StatusOK
	}
	rec.entry.Bytes += int64(n)
	rec.s.mu.Unlock()
	return n, err
}

func (rec *recorder) Flush() {
	if f, ok := rec.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (rec *recorder) set(f func(*Request)) {
	rec.s.mu.Lock()
	defer rec.s.mu.Unlock()
	f(rec.entry)
}

// address finds the bucket and key of a request: virtual-hosted when the Host is <bucket>.<the server's host>,
// else path-style /<bucket>/<key>.
func (s *Server) address(r *http.Request) (bucketName, key string, virtual bool) {
	hostname := r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		hostname = h
	}
	base, _, _ := net.SplitHostPort(s.Addr())
	if b, ok := strings.CutSuffix(hostname, "."+base); ok && b != "" {
		return b, strings.TrimPrefix(r.URL.Path, "/"), true
	}
	bucketName, key, _ = strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	return bucketName, key, false
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	bucketName, key, virtual := s.address(r)
	resource := "/" + bucketName
	if key != "" {
		resource += "/" + key
	}
	entry := &Request{Method: r.Method, Resource: resource, Query: r.URL.RawQuery, Range: r.Header.Get("Range"), IfMatch: r.Header.Get("If-Match"),
		VirtualHost: virtual, Anonymous: r.Header.Get("Authorization") == ""}
	s.mu.Lock()
	s.log = append(s.log, entry)
	s.requestID++
	id := s.requestID
	s.mu.Unlock()
	rec := &recorder{ResponseWriter: w, s: s, entry: entry}
	defer func() {
		if s.s.logf != nil {
			s.mu.Lock()
			e := *entry
			s.mu.Unlock()
			s.s.logf("s3sim: %s %s?%s range=%q -> %d %s (%d bytes) fault=%q", e.Method, e.Resource, e.Query, e.Range,
				e.Status, e.Code, e.Bytes, e.Fault)
		}
	}()
	w = rec
	w.Header().Set("X-Amz-Request-Id", fmt.Sprintf("%016X", id))
	w.Header().Set("Server", "AmazonS3")

	fail := func(status int, code, msg string, extra map[string]string) {
		rec.set(func(e *Request) { e.Code = code })
		writeError(w, r, status, code, msg, resource, fmt.Sprintf("%016X", id), extra)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		fail(http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.", nil)
		return
	}
	accessKey, aerr := s.authenticate(r)
	if aerr != nil {
		fail(aerr.status, aerr.code, aerr.message, aerr.extra)
		return
	}
	if f := s.takeFault(r.Method, resource); f != nil {
		rec.set(func(e *Request) { e.Fault = "status" })
		fail(f.Status, f.Code, "Simulated fault: "+f.Code, nil)
		return
	}
	if bucketName == "" {
		fail(http.StatusNotImplemented, "NotImplemented", "s3sim does not simulate ListBuckets", nil)
		return
	}
	s.mu.Lock()
	b, ok := s.buckets[bucketName]
	var public, granted bool
	if ok {
		public, granted = b.public, len(b.readers) == 0 || b.readers[accessKey]
	}
	s.mu.Unlock()
	switch {
	case !ok:
		fail(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", map[string]string{"BucketName": bucketName})
		return
	case accessKey == "" && !public, accessKey != "" && !granted && !public:
		fail(http.StatusForbidden, "AccessDenied", "Access Denied", nil)
		return
	}
	if key == "" {
		if r.Method == http.MethodHead { // HeadBucket
			w.WriteHeader(http.StatusOK)
			return
		}
		s.list(w, r, bucketName, fail)
		return
	}
	s.object(rec, r, bucketName, key, fail)
}

// writeError writes S3's XML error document (none for HEAD, as S3).
func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg, resource, requestID string, extra map[string]string) {
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	var b strings.Builder
	b.WriteString(xml.Header + "<Error><Code>" + esc(code) + "</Code><Message>" + esc(msg) + "</Message>")
	for k, v := range extra {
		b.WriteString("<" + k + ">" + esc(v) + "</" + k + ">")
	}
	b.WriteString("<Resource>" + esc(resource) + "</Resource><RequestId>" + requestID + "</RequestId></Error>")
	_, _ = w.Write([]byte(b.String()))
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

type listResult struct {
	XMLName               xml.Name     `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string       `xml:"Name"`
	Prefix                string       `xml:"Prefix"`
	StartAfter            string       `xml:"StartAfter,omitempty"`
	KeyCount              int          `xml:"KeyCount"`
	MaxKeys               int          `xml:"MaxKeys"`
	IsTruncated           bool         `xml:"IsTruncated"`
	ContinuationToken     string       `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string       `xml:"NextContinuationToken,omitempty"`
	Contents              []listObject `xml:"Contents"`
}

type listObject struct {
	Key               string `xml:"Key"`
	LastModified      string `xml:"LastModified"`
	ETag              string `xml:"ETag"`
	ChecksumAlgorithm string `xml:"ChecksumAlgorithm,omitempty"`
	Size              int64  `xml:"Size"`
	StorageClass      string `xml:"StorageClass"`
}

// list answers ListObjectsV2.
func (s *Server) list(w http.ResponseWriter, r *http.Request, bucketName string, fail func(int, string, string, map[string]string)) {
	q := r.URL.Query()
	if q.Get("list-type") != "2" {
		fail(http.StatusNotImplemented, "NotImplemented", "s3sim simulates ListObjectsV2 (list-type=2) only", nil)
		return
	}
	if q.Has("delimiter") {
		fail(http.StatusNotImplemented, "NotImplemented", "s3sim does not simulate delimiter listings", nil)
		return
	}
	maxKeys := s.s.maxKeys
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			fail(http.StatusBadRequest, "InvalidArgument", "Provided max-keys not an integer or within integer range", nil)
			return
		}
		maxKeys = min(n, s.s.maxKeys)
	}
	prefix, after := q.Get("prefix"), q.Get("start-after")
	res := listResult{Name: bucketName, Prefix: prefix, StartAfter: after, MaxKeys: maxKeys, ContinuationToken: q.Get("continuation-token")}
	if tok := res.ContinuationToken; tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || !strings.HasPrefix(string(raw), "s3sim:") {
			fail(http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect", nil)
			return
		}
		after = strings.TrimPrefix(string(raw), "s3sim:")
	}
	s.mu.Lock()
	b, ok := s.buckets[bucketName]
	var matching []*Object
	if ok {
		for _, k := range b.sortedKeys() {
			if strings.HasPrefix(k, prefix) && k > after {
				matching = append(matching, b.objects[k])
			}
		}
	}
	s.mu.Unlock()
	page := matching[:min(maxKeys, len(matching))]
	for _, o := range page {
		e := listObject{Key: o.Key, LastModified: o.LastModified.Format("2006-01-02T15:04:05.000Z"), ETag: `"` + o.ETag + `"`,
			Size: int64(len(o.Content)), StorageClass: "STANDARD"}
		if o.SHA256Checksum != "" {
			e.ChecksumAlgorithm = "SHA256"
		}
		res.Contents = append(res.Contents, e)
	}
	res.KeyCount = len(page)
	if maxKeys > 0 && len(matching) > len(page) {
		res.IsTruncated = true
		res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte("s3sim:" + page[len(page)-1].Key))
	}
	raw, _ := xml.Marshal(res)
	w.Header().Set("Content-Type", "application/xml")
	_, _ = w.Write(append([]byte(xml.Header), raw...))
}

// object answers GetObject and HeadObject.
func (s *Server) object(rec *recorder, r *http.Request, bucketName, key string, fail func(int, string, string, map[string]string)) {
	s.mu.Lock()
	o := s.buckets[bucketName].objects[key]
	s.mu.Unlock()
	if o == nil {
		fail(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", map[string]string{"Key": key})
		return
	}
	size := int64(len(o.Content))
	h := rec.Header()
	h.Set("ETag", `"`+o.ETag+`"`)
	h.Set("Last-Modified", o.LastModified.Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Type", "application/octet-stream")
	if im := r.Header.Get("If-Match"); im != "" && !etagMatches(im, o.ETag) {
		fail(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
			map[string]string{"Condition": "If-Match"})
		return
	}
	start, end, partial, ok := parseRange(r.Header.Get("Range"), size)
	if !ok {
		h.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
		fail(http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable",
			map[string]string{"RangeRequested": r.Header.Get("Range"), "ActualObjectSize": strconv.FormatInt(size, 10)})
		return
	}
	// S3 returns the stored checksum only for the whole object: a range's bytes cannot be checked against it.
	if strings.EqualFold(r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") && o.SHA256Checksum != "" && !partial {
		h.Set("X-Amz-Checksum-Sha256", o.SHA256Checksum)
		h.Set("X-Amz-Checksum-Type", o.ChecksumType)
	}
	body := o.Content[start:end]
	h.Set("Content-Length", strconv.Itoa(len(body)))
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, size))
	}
	if r.Method == http.MethodHead {
		rec.WriteHeader(status)
		return
	}
	if s.takeBodyFault(key, "corrupt", int64(len(body))) != nil {
		rec.set(func(e *Request) { e.Fault = "corrupt" })
		spoiled := make([]byte, len(body))
		for i, c := range body {
			spoiled[i] = ^c
		}
		body = spoiled
	}
	if f := s.takeBodyFault(key, "cut", int64(len(body))); f != nil {
		rec.set(func(e *Request) { e.Fault = "cut" })
		rec.WriteHeader(status)
		_, _ = rec.Write(body[:f.after])
		rec.Flush()
		panic(http.ErrAbortHandler) // closes the connection mid-body
	}
	rec.WriteHeader(status)
	_, _ = rec.Write(body)
}

// etagMatches compares an If-Match list with an ETag ("*" matches any).
func etagMatches(header, etag string) bool {
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimSpace(v)
		if v == "*" || strings.Trim(strings.TrimPrefix(v, "W/"), `"`) == etag {
			return true
		}
	}
	return false
}

// parseRange reads a single "bytes=a-b", "bytes=a-" or "bytes=-n" range as [start, end). A header S3 cannot
// read (or several ranges) is ignored: the whole object. ok is false for a range that starts past the end.
func parseRange(h string, size int64) (start, end int64, partial, ok bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, size, false, true
	}
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return 0, size, false, true
	}
	if a == "" { // suffix: the last n bytes
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return 0, size, false, true
		}
		if size == 0 {
			return 0, 0, false, false
		}
		return max(size-n, 0), size, true, true
	}
	first, err := strconv.ParseInt(a, 10, 64)
	if err != nil || first < 0 {
		return 0, size, false, true
	}
	last := size - 1
	if b != "" {
		if last, err = strconv.ParseInt(b, 10, 64); err != nil || last < first {
			return 0, size, false, true
		}
		last = min(last, size-1)
	}
	if first >= size {
		return 0, 0, false, false
	}
	return first, last + 1, true, true
}
