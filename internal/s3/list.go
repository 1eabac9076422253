package s3

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Object is one entry of a bucket listing.
type Object struct {
	// Key is the object's full key.
	Key string
	// Size in bytes.
	Size int64
	// ETag is the entity tag without its quotes: the content's MD5 for a single-part upload, "<md5>-<parts>"
	// for a multipart one; it changes whenever the object does.
	ETag string
	// LastModified as the listing says.
	LastModified time.Time
	// StorageClass, e.g. STANDARD; GLACIER objects cannot be read before a restore.
	StorageClass string
}

// listBucketResult is ListObjectsV2's answer (API_ListObjectsV2.html; see doc.go).
type listBucketResult struct {
	XMLName               xml.Name `xml:"ListBucketResult"`
	Name                  string   `xml:"Name"`
	Prefix                string   `xml:"Prefix"`
	KeyCount              int      `xml:"KeyCount"`
	MaxKeys               int      `xml:"MaxKeys"`
	IsTruncated           bool     `xml:"IsTruncated"`
	ContinuationToken     string   `xml:"ContinuationToken"`
	NextContinuationToken string   `xml:"NextContinuationToken"`
	Contents              []struct {
		Key          string `xml:"Key"`
		LastModified string `xml:"LastModified"`
		ETag         string `xml:"ETag"`
		Size         int64  `xml:"Size"`
		StorageClass string `xml:"StorageClass"`
	} `xml:"Contents"`
}

// maxListPages bounds a listing, so a server that keeps answering "truncated" cannot loop forever (ten million
// objects at S3's 1000 a page).
const maxListPages = 10000

// ListObjects lists every object whose key starts with prefix: ListObjectsV2 (GET ?list-type=2&prefix=…),
// page after page with continuation-token while IsTruncated, in the server's (UTF-8 binary) key order.
func (c *Client) ListObjects(ctx context.Context, bucket, prefix string) ([]Object, error) {
	if err := ValidateBucket(bucket); err != nil {
		return nil, err
	}
	w := what{bucket: bucket, prefix: prefix}
	var out []Object
	token := ""
	for page := 0; page < maxListPages; page++ {
		q := url.Values{"list-type": {"2"}}
		if prefix != "" {
			q.Set("prefix", prefix)
		}
		if token != "" {
			q.Set("continuation-token", token)
		}
		if c.PageSize > 0 {
			q.Set("max-keys", strconv.Itoa(c.PageSize))
		}
		u, err := c.objectURL(bucket, "", q)
		if err != nil {
			return nil, err
		}
		resp, err := c.send(ctx, c.httpClient(), func() (*http.Request, error) {
			return c.newRequest(ctx, http.MethodGet, u)
		}, w)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, c.errorFromResponse(resp, w)
		}
		var r listBucketResult
		err = xml.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&r)
		drain(resp)
		if err != nil {
			return nil, badResponse(w, "the listing is not a ListBucketResult ("+err.Error()+")")
		}
		for _, e := range r.Contents {
			o := Object{Key: e.Key, Size: e.Size, ETag: normalizeETag(e.ETag), StorageClass: e.StorageClass}
			o.LastModified, _ = time.Parse(time.RFC3339Nano, e.LastModified)
			if o.Key == "" || o.Size < 0 {
				return nil, badResponse(w, "a listing entry without a key or with a negative size")
			}
			out = append(out, o)
		}
		if !r.IsTruncated {
			return out, nil
		}
		if r.NextContinuationToken == "" || r.NextContinuationToken == token {
			return nil, badResponse(w, "a truncated listing without a new NextContinuationToken")
		}
		token = r.NextContinuationToken
	}
	return nil, badResponse(w, fmt.Sprintf("the listing goes on past %d pages", maxListPages))
}

// normalizeETag strips the quotes (and a weak validator's W/) S3 puts around an ETag.
func normalizeETag(etag string) string {
	return strings.Trim(strings.TrimPrefix(strings.TrimSpace(etag), "W/"), `"`)
}
