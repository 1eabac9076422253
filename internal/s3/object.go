package s3

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ObjectMeta is what HeadObject says of an object.
type ObjectMeta struct {
	Size int64
	ETag string
	// SHA256 is the hex sha256 of the whole object when the server stores one (an upload with
	// x-amz-checksum-algorithm SHA256, full-object type); "" otherwise — a multipart upload's COMPOSITE checksum
	// ("<base64>-<parts>") is a checksum of the parts' checksums, not of the content.
	SHA256 string
}

// HeadObject asks for an object's size, ETag and, with x-amz-checksum-mode: ENABLED, its sha256.
func (c *Client) HeadObject(ctx context.Context, bucket, key string) (ObjectMeta, error) {
	w := what{bucket: bucket, key: key}
	u, err := c.objectURL(bucket, key, nil)
	if err != nil {
		return ObjectMeta{}, err
	}
	resp, err := c.send(ctx, c.httpClient(), func() (*http.Request, error) {
		req, err := c.newRequest(ctx, http.MethodHead, u)
		if err == nil {
			req.Header.Set("X-Amz-Checksum-Mode", "ENABLED")
		}
		return req, err
	}, w)
	if err != nil {
		return ObjectMeta{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return ObjectMeta{}, c.errorFromResponse(resp, w)
	}
	drain(resp)
	m := ObjectMeta{ETag: normalizeETag(resp.Header.Get("ETag")), SHA256: fullObjectSHA256(resp.Header)}
	m.Size, err = strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64)
	if err != nil || m.Size < 0 || m.ETag == "" {
		return ObjectMeta{}, badResponse(w, "no Content-Length or ETag in the HEAD answer")
	}
	return m, nil
}

// fullObjectSHA256 reads x-amz-checksum-sha256 (base64) as hex, unless x-amz-checksum-type says COMPOSITE or
// the value carries a part count; "" when there is none to check against.
func fullObjectSHA256(h http.Header) string {
	v := strings.TrimSpace(h.Get("X-Amz-Checksum-Sha256"))
	if v == "" || strings.Contains(v, "-") || strings.EqualFold(h.Get("X-Amz-Checksum-Type"), "COMPOSITE") {
		return ""
	}
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(raw) != 32 {
		return ""
	}
	return hex.EncodeToString(raw)
}

// getObject GETs an object from byte `from` (Range: bytes=<from>-) on the condition that its ETag is still
// ifMatch (If-Match), so a resumed file is never stitched from two versions. The answer is the caller's to
// read and close, whatever its status.
func (c *Client) getObject(ctx context.Context, bucket, key string, from int64, ifMatch string) (*http.Response, error) {
	w := what{bucket: bucket, key: key}
	u, err := c.objectURL(bucket, key, url.Values(nil))
	if err != nil {
		return nil, err
	}
	return c.send(ctx, c.httpClient(), func() (*http.Request, error) {
		req, err := c.newRequest(ctx, http.MethodGet, u)
		if err != nil {
			return nil, err
		}
		if from > 0 {
			req.Header.Set("Range", "bytes="+strconv.FormatInt(from, 10)+"-")
		}
		if ifMatch != "" {
			req.Header.Set("If-Match", `"`+ifMatch+`"`)
		}
		return req, nil
	}, w)
}

// contentRangeStart parses the first byte of "bytes <start>-<end>/<total>".
func contentRangeStart(h string) (int64, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes ")
	if !ok {
		return 0, false
	}
	start, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(start), 10, 64)
	return n, err == nil
}
