package hubsim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Always, as a number of times, makes a fault spoil every matching answer.
const Always = -1

// statusFault answers the next `times` requests whose path starts with prefix (on either server, or on one).
type statusFault struct {
	server  Server // "" for both
	prefix  string
	times   int
	status  int
	header  http.Header
	expired bool // the CDN's answer to an expired signed URL
}

// fileFault spoils the bytes of a file (any file when path is "") the next `times` times it is served.
type fileFault struct {
	path  string
	times int
	kind  string // "cut", "stall", "corrupt", "ignore-range"
	after int64  // cut and stall: the bytes sent first
}

func times(n int) int {
	if n == 0 {
		return 1
	}
	return n
}

// Fail answers the next `times` requests whose URL path (unescaped, without the query) starts with prefix, on
// either server, with status, the header's fields and an error body in the server's own style (the Hub's
// X-Error-Message and JSON; the CDN's S3 XML). Times 0 is taken as 1; Always fails every one. Hub paths are
// "/api/models/<repo>/..." and "/<repo>/resolve/..."; CDN paths "/repos/...". Use it for 429 (with RetryAfter
// or RateLimit headers), 5xx, 408 and the like.
func (h *Hub) Fail(prefix string, times, status int, header http.Header) {
	h.addFault(&statusFault{prefix: prefix, times: times, status: status, header: header.Clone()})
}

// FailOn is Fail for one server only.
func (h *Hub) FailOn(server Server, prefix string, times, status int, header http.Header) {
	h.addFault(&statusFault{server: server, prefix: prefix, times: times, status: status, header: header.Clone()})
}

// ExpireCDNURLs makes the CDN answer the next `times` requests (Always: every one) as S3 answers a presigned
// URL past its expiry: 403 AccessDenied "Request has expired". A client should go back to /resolve for a new
// URL.
func (h *Hub) ExpireCDNURLs(times int) {
	h.addFault(&statusFault{server: CDNServer, prefix: "/", times: times, status: http.StatusForbidden, expired: true})
}

func (h *Hub) addFault(f *statusFault) {
	f.times = times(f.times)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.faults = append(h.faults, f)
}

// CutBody makes the next `times` GETs of the file at path (in any repo; "" for every file) send `after` bytes of
// the body and then drop the connection, as a network failure would. Only an answer whose body is longer than
// `after` is cut, and only such an answer counts.
func (h *Hub) CutBody(path string, after int64, times int) {
	h.addFileFault(&fileFault{path: path, times: times, kind: "cut", after: after})
}

// StallBody makes the next `times` GETs of the file at path send `after` bytes and then nothing, until the client
// gives up (or the Hub closes). Only an answer whose body is longer than `after` stalls, and only such an answer
// counts.
func (h *Hub) StallBody(path string, after int64, times int) {
	h.addFileFault(&fileFault{path: path, times: times, kind: "stall", after: after})
}

// Corrupt makes the next `times` GETs of the file at path send other bytes of the same length (every byte
// inverted), so that only a hash check sees it.
func (h *Hub) Corrupt(path string, times int) {
	h.addFileFault(&fileFault{path: path, times: times, kind: "corrupt"})
}

// IgnoreRange makes the next `times` GETs of the file at path that carry a Range header answer 200 with the whole
// file, as a server without range support does.
func (h *Hub) IgnoreRange(path string, times int) {
	h.addFileFault(&fileFault{path: path, times: times, kind: "ignore-range"})
}

func (h *Hub) addFileFault(f *fileFault) {
	f.times = times(f.times)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fileFaults = append(h.fileFaults, f)
}

// ClearFaults removes every pending fault.
func (h *Hub) ClearFaults() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.faults, h.fileFaults = nil, nil
}

// takeFault returns the pending status fault for this request, if any, and uses it up once.
func (h *Hub) takeFault(server Server, r *http.Request) *statusFault {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range h.faults {
		if f.times != 0 && (f.server == "" || f.server == server) && strings.HasPrefix(r.URL.Path, f.prefix) {
			if f.times > 0 {
				f.times--
			}
			return f
		}
	}
	return nil
}

// takeFileFault returns the pending file fault of a kind for path, if any, and uses it up once when use says the
// answer is spoiled by it.
func (h *Hub) takeFileFault(path, kind string, use func(*fileFault) bool) *fileFault {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range h.fileFaults {
		if f.times != 0 && f.kind == kind && (f.path == "" || f.path == path) && use(f) {
			if f.times > 0 {
				f.times--
			}
			return f
		}
	}
	return nil
}

// RetryAfter is a Retry-After header of d in whole seconds, as the Hub sends with some 429 answers.
func RetryAfter(d time.Duration) http.Header {
	return http.Header{"Retry-After": {strconv.FormatInt(int64(d/time.Second), 10)}}
}

// RateLimit is the Hub's 429 headers (IETF draft-ietf-httpapi-ratelimit-headers, which huggingface_hub's
// parse_ratelimit_headers reads): RateLimit: "api";r=<remaining>;t=<seconds to reset> and RateLimit-Policy:
// "fixed window";"api";q=<quota>;w=300.
func RateLimit(remaining int, reset time.Duration, quota int) http.Header {
	return http.Header{
		"Ratelimit":        {fmt.Sprintf(`"api";r=%d;t=%d`, remaining, int64(reset/time.Second))},
		"Ratelimit-Policy": {fmt.Sprintf(`"fixed window";"api";q=%d;w=300`, quota)},
	}
}
