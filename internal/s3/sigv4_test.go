package s3

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The examples of the S3 API Reference, sig-v4-header-based-auth.html ("Examples: Signature Calculations"):
// bucket examplebucket, us-east-1, 2013-05-24T00:00:00Z, and the documentation's example key pair.
var (
	exampleCreds = Credentials{AccessKey: "AKIAIOSFODNN7EXAMPLE", SecretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	exampleTime  = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
)

// TestSignMatchesTheAWSExamples: GET Object with a Range and GET Bucket (list objects) sign to the signatures
// the documentation gives.
func TestSignMatchesTheAWSExamples(t *testing.T) {
	for _, tc := range []struct {
		name, url, rangeHeader, signed, signature string
	}{
		{"GET Object", "https://examplebucket.s3.amazonaws.com/test.txt", "bytes=0-9",
			"host;range;x-amz-content-sha256;x-amz-date", "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"},
		{"GET Bucket (List Objects)", "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J", "",
			"host;x-amz-content-sha256;x-amz-date", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"},
	} {
		req, err := http.NewRequest(http.MethodGet, tc.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.rangeHeader != "" {
			req.Header.Set("Range", tc.rangeHeader)
		}
		req.Header.Set("User-Agent", "not signed")
		sign(req, exampleCreds, "us-east-1", exampleTime)
		want := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=" +
			tc.signed + ", Signature=" + tc.signature
		if got := req.Header.Get("Authorization"); got != want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, want)
		}
		if req.Header.Get("X-Amz-Date") != "20130524T000000Z" || req.Header.Get("X-Amz-Content-Sha256") != EmptyPayloadHash {
			t.Errorf("%s: headers %v", tc.name, req.Header)
		}
	}
}

// TestURIEncodeAndCanonicalQuery: SigV4's UriEncode keeps only the unreserved characters (and '/' in a path),
// and the canonical query sorts parameters and encodes spaces as %20, never '+'.
func TestURIEncodeAndCanonicalQuery(t *testing.T) {
	if got := uriEncode("models/a b+c~d_e.f-g/ü?", false); got != "models/a%20b%2Bc~d_e.f-g/%C3%BC%3F" {
		t.Errorf("path: %s", got)
	}
	if got := uriEncode("a/b", true); got != "a%2Fb" {
		t.Errorf("with slash: %s", got)
	}
	q := url.Values{"prefix": {"my models/"}, "list-type": {"2"}, "continuation-token": {"a+b=="}}
	if got := canonicalQuery(q); got != "continuation-token=a%2Bb%3D%3D&list-type=2&prefix=my%20models%2F" {
		t.Errorf("query: %s", got)
	}
	if strings.Contains(canonicalQuery(url.Values{"k": {"a b"}}), "+") {
		t.Error("a space must be %20")
	}
}
