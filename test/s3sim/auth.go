package s3sim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
)

// authError is a refusal: the status, the S3 code and message, and extra elements of the error document.
type authError struct {
	status        int
	code, message string
	extra         map[string]string
}

func (e *authError) Error() string { return e.code + ": " + e.message }

const (
	emptySHA256     = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	unsignedPayload = "UNSIGNED-PAYLOAD"
	maxSkew         = 15 * time.Minute
)

var (
	authRE = regexp.MustCompile(`^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]{64})$`)
	hex64  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// authenticate checks a request's Signature Version 4 from what was received — the decoded path re-encoded, the
// query as sent, the headers named in SignedHeaders — and returns the access key, "" for an anonymous request.
func (s *Server) authenticate(r *http.Request) (string, *authError) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		if r.URL.Query().Has("X-Amz-Signature") {
			return "", &authError{status: 501, code: "NotImplemented", message: "s3sim does not simulate presigned URLs"}
		}
		return "", nil
	}
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		return "", &authError{status: 400, code: "InvalidRequest",
			message: "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."}
	}
	m := authRE.FindStringSubmatch(auth)
	if m == nil {
		return "", &authError{status: 400, code: "AuthorizationHeaderMalformed",
			message: "The authorization header is malformed; the Credential, SignedHeaders and Signature are required."}
	}
	credential, signedList, signature := m[1], m[2], m[3]
	parts := strings.Split(credential, "/")
	if len(parts) != 5 || parts[3] != "s3" || parts[4] != "aws4_request" {
		return "", &authError{status: 400, code: "AuthorizationHeaderMalformed",
			message: "The authorization header is malformed; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."}
	}
	accessKey, day, region := parts[0], parts[1], parts[2]
	secret, known := s.s.creds[accessKey]
	if !known {
		return "", &authError{status: 403, code: "InvalidAccessKeyId",
			message: "The AWS Access Key Id you provided does not exist in our records."}
	}
	if region != s.s.region {
		return "", &authError{status: 400, code: "AuthorizationHeaderMalformed",
			message: fmt.Sprintf("The authorization header is malformed; the region '%s' is wrong; expecting '%s'", region, s.s.region),
			extra:   map[string]string{"Region": s.s.region}}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return "", &authError{status: 403, code: "AccessDenied", message: "AWS authentication requires a valid Date or x-amz-date header"}
	}
	if amzDate[:8] != day {
		return "", &authError{status: 400, code: "AuthorizationHeaderMalformed",
			message: "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date."}
	}
	if skew := s.s.now().Sub(t); skew > maxSkew || skew < -maxSkew {
		return "", &authError{status: 403, code: "RequestTimeTooSkewed",
			message: "The difference between the request time and the current time is too large."}
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	switch {
	case payload == "":
		return "", &authError{status: 400, code: "InvalidRequest", message: "Missing required header for this request: x-amz-content-sha256"}
	case payload != unsignedPayload && !hex64.MatchString(payload):
		return "", &authError{status: 400, code: "InvalidArgument", message: "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value."}
	case payload != unsignedPayload && r.ContentLength <= 0 && payload != emptySHA256:
		return "", &authError{status: 400, code: "XAmzContentSHA256Mismatch",
			message: "The provided 'x-amz-content-sha256' header does not match what was computed."}
	}
	signed := strings.Split(signedList, ";")
	if !sort.StringsAreSorted(signed) || !contains(signed, "host") {
		return "", &authError{status: 403, code: "SignatureDoesNotMatch",
			message: "The request signature we calculated does not match the signature you provided. Check your key and signing method."}
	}
	var unsigned []string
	for name := range r.Header {
		if l := strings.ToLower(name); strings.HasPrefix(l, "x-amz-") && !contains(signed, l) {
			unsigned = append(unsigned, l)
		}
	}
	if len(unsigned) > 0 {
		sort.Strings(unsigned)
		return "", &authError{status: 403, code: "AccessDenied", message: "There were headers present in the request which were not signed",
			extra: map[string]string{"HeadersNotSigned": strings.Join(unsigned, ", ")}}
	}

	canonical := r.Method + "\n" + encodePath(r.URL.Path) + "\n" + canonicalQueryOf(r.URL.RawQuery) + "\n" +
		canonicalHeaderBlock(r, signed) + "\n" + signedList + "\n" + payload
	scope := day + "/" + region + "/s3/aws4_request"
	stringToSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + sha256Hex([]byte(canonical))
	key := mac([]byte("AWS4"+secret), day)
	for _, p := range []string{region, "s3", "aws4_request"} {
		key = mac(key, p)
	}
	want := hex.EncodeToString(mac(key, stringToSign))
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return "", &authError{status: 403, code: "SignatureDoesNotMatch",
			message: "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
			extra:   map[string]string{"AWSAccessKeyId": accessKey, "StringToSign": stringToSign, "CanonicalRequest": canonical}}
	}
	return accessKey, nil
}

// canonicalHeaderBlock is "name:value\n" for each signed header (host from the request's Host), values trimmed
// and inner spaces collapsed, several values joined with ','.
func canonicalHeaderBlock(r *http.Request, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		var vals []string
		if name == "host" {
			vals = []string{r.Host}
		} else {
			vals = r.Header.Values(name)
		}
		for i, v := range vals {
			vals[i] = strings.Join(strings.Fields(v), " ")
		}
		b.WriteString(name + ":" + strings.Join(vals, ",") + "\n")
	}
	return b.String()
}

// canonicalQueryOf decodes the query as received and re-encodes it in canonical form.
func canonicalQueryOf(raw string) string {
	type kv struct{ k, v string }
	var pairs []kv
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			dk, dv = k, v
		}
		pairs = append(pairs, kv{awsEscape(dk, true), awsEscape(dv, true)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.k + "=" + p.v
	}
	return strings.Join(out, "&")
}

// encodePath is the canonical URI of a decoded path: every segment escaped, '/' kept (S3 does not normalize).
func encodePath(p string) string {
	if p == "" {
		return "/"
	}
	return awsEscape(p, false)
}

// awsEscape percent-encodes every byte outside the unreserved set, in uppercase hex.
func awsEscape(s string, slash bool) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		unreserved := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0
		if unreserved || (c == '/' && !slash) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
