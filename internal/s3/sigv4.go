package s3

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Signature Version 4 constants (sig-v4-header-based-auth.html; see doc.go).
const (
	signAlgorithm = "AWS4-HMAC-SHA256"
	// EmptyPayloadHash is the hex sha256 of an empty body: every request of this client has none, so it signs
	// the exact payload hash instead of UNSIGNED-PAYLOAD, which strict S3-compatible servers may refuse over HTTP.
	EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	// UnsignedPayload is the payload hash a request may sign instead of the body's.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	amzDateFormat   = "20060102T150405Z"
	service         = "s3"
)

// Credentials are an access key pair, read from files mounted from a Secret.
type Credentials struct {
	AccessKey, SecretKey string
	// SessionToken is sent as X-Amz-Security-Token when set (temporary credentials).
	SessionToken string
}

// sign adds X-Amz-Date, X-Amz-Content-Sha256 (and X-Amz-Security-Token) and the Authorization header of
// Signature Version 4 to a request that has no body. It signs Host, Range, If-Match and every X-Amz-* header;
// not User-Agent or Accept-Encoding, which proxies may rewrite.
func sign(req *http.Request, cred Credentials, region string, now time.Time) {
	now = now.UTC()
	req.Header.Set("X-Amz-Date", now.Format(amzDateFormat))
	req.Header.Set("X-Amz-Content-Sha256", EmptyPayloadHash)
	if cred.SessionToken != "" {
		req.Header.Set("X-Amz-Security-Token", cred.SessionToken)
	}
	signed, canonicalHeaders := canonicalHeaders(req)
	canonical := strings.Join([]string{
		req.Method,
		req.URL.EscapedPath(),
		canonicalQuery(req.URL.Query()),
		canonicalHeaders,
		signed,
		EmptyPayloadHash,
	}, "\n")
	day := now.Format("20060102")
	scope := day + "/" + region + "/" + service + "/aws4_request"
	toSign := signAlgorithm + "\n" + now.Format(amzDateFormat) + "\n" + scope + "\n" + hexSHA256(canonical)
	key := signingKey(cred.SecretKey, day, region, service)
	sig := hex.EncodeToString(hmacSHA256(key, toSign))
	req.Header.Set("Authorization", signAlgorithm+" Credential="+cred.AccessKey+"/"+scope+
		", SignedHeaders="+signed+", Signature="+sig)
}

// canonicalHeaders returns the signed header names ("host;range;x-amz-date", sorted) and the canonical header
// block: "name:value\n" per header, lowercase names, values trimmed with inner runs of spaces collapsed.
func canonicalHeaders(req *http.Request) (signed, block string) {
	values := map[string]string{"host": hostOf(req)}
	for name, vs := range req.Header {
		l := strings.ToLower(name)
		if l == "range" || l == "if-match" || strings.HasPrefix(l, "x-amz-") {
			trimmed := make([]string, len(vs))
			for i, v := range vs {
				trimmed[i] = strings.Join(strings.Fields(v), " ")
			}
			values[l] = strings.Join(trimmed, ",")
		}
	}
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n + ":" + values[n] + "\n")
	}
	return strings.Join(names, ";"), b.String()
}

// hostOf is the Host header the request will carry.
func hostOf(req *http.Request) string {
	if req.Host != "" {
		return req.Host
	}
	return req.URL.Host
}

// canonicalQuery is the canonical query string: parameters sorted by name (then value), names and values
// URI-encoded ('/' too), joined with '&'; a parameter without a value keeps its '='.
func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, uriEncode(k, true)+"="+uriEncode(v, true))
		}
	}
	return strings.Join(parts, "&")
}

// uriEncode is SigV4's UriEncode: every byte but A-Z, a-z, 0-9, '-', '.', '_' and '~' as %XX (uppercase hex),
// and '/' too when encodeSlash is set (it is not for an object key in the path).
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// signingKey derives the day's key: HMAC chain over "AWS4"+secret, the date, the region, the service and
// "aws4_request".
func signingKey(secret, day, region, svc string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), day)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, svc)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
