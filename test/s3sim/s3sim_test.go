package s3sim

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// exampleRequest is the GET Object example of sig-v4-header-based-auth.html, with its documented signature.
func exampleRequest() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://examplebucket.s3.amazonaws.com/test.txt", nil)
	r.Host = "examplebucket.s3.amazonaws.com"
	r.Header.Set("Range", "bytes=0-9")
	r.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	r.Header.Set("X-Amz-Date", "20130524T000000Z")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"+
		"SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"+
		"Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
	return r
}

// TestAuthenticateIsStrict: the documented example request is accepted; each change the real S3 refuses is
// refused with S3's code.
func TestAuthenticateIsStrict(t *testing.T) {
	s := NewTest(t, Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
		Clock(func() time.Time { return time.Date(2013, 5, 24, 0, 5, 0, 0, time.UTC) }))
	if key, err := s.authenticate(exampleRequest()); err != nil || key != "AKIAIOSFODNN7EXAMPLE" {
		t.Fatalf("the documented example: key %q, %v", key, err)
	}
	for _, tc := range []struct {
		name   string
		spoil  func(r *http.Request)
		status int
		code   string
	}{
		{"another range than signed", func(r *http.Request) { r.Header.Set("Range", "bytes=0-10") }, 403, "SignatureDoesNotMatch"},
		{"another path", func(r *http.Request) { r.URL.Path = "/test2.txt" }, 403, "SignatureDoesNotMatch"},
		{"a query added", func(r *http.Request) { r.URL.RawQuery = "x=1" }, 403, "SignatureDoesNotMatch"},
		{"another host", func(r *http.Request) { r.Host = "otherbucket.s3.amazonaws.com" }, 403, "SignatureDoesNotMatch"},
		{"a wrong signature", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Signature=f0", "Signature=f1", 1))
		}, 403, "SignatureDoesNotMatch"},
		{"an unknown key", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AKIAIOSFODNN7EXAMPLE", "AKIAUNKNOWN", 1))
		}, 403, "InvalidAccessKeyId"},
		{"another region", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "us-east-1", "eu-west-1", 1))
		}, 400, "AuthorizationHeaderMalformed"},
		{"an unsigned x-amz header", func(r *http.Request) { r.Header.Set("X-Amz-Checksum-Mode", "ENABLED") }, 403, "AccessDenied"},
		{"no x-amz-content-sha256", func(r *http.Request) { r.Header.Del("X-Amz-Content-Sha256") }, 400, "InvalidRequest"},
		{"a date that is not the credential's", func(r *http.Request) { r.Header.Set("X-Amz-Date", "20130525T000000Z") }, 400, "AuthorizationHeaderMalformed"},
		{"signature version 2", func(r *http.Request) { r.Header.Set("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:abc") }, 400, "InvalidRequest"},
	} {
		r := exampleRequest()
		tc.spoil(r)
		_, err := s.authenticate(r)
		if err == nil || err.status != tc.status || err.code != tc.code {
			t.Errorf("%s: %v, want %d %s", tc.name, err, tc.status, tc.code)
		}
	}
	late := NewTest(t, Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
		Clock(func() time.Time { return time.Date(2013, 5, 24, 0, 16, 0, 0, time.UTC) }))
	if _, err := late.authenticate(exampleRequest()); err == nil || err.code != "RequestTimeTooSkewed" {
		t.Errorf("16 minutes late: %v, want RequestTimeTooSkewed", err)
	}
}

func get(t *testing.T, url string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func errorCode(body []byte) string {
	var e struct{ Code string }
	_ = xml.Unmarshal(body, &e)
	return e.Code
}

// TestListObjectsV2Pages: keys come in binary order, max-keys pages (capped by MaxKeys), continuation tokens
// lead on, a prefix narrows; a foreign token is refused.
func TestListObjectsV2Pages(t *testing.T) {
	s := NewTest(t, MaxKeys(2))
	s.AddBucket("models", BucketOptions{Public: true})
	for _, k := range []string{"m/b", "m/a", "m/c/d", "n/x", "m/e"} {
		s.PutObject("models", k, []byte(k), ObjectOptions{})
	}
	var keys []string
	token, pages := "", 0
	for {
		u := s.URL() + "/models?list-type=2&prefix=m%2F&max-keys=10"
		if token != "" {
			u += "&continuation-token=" + token
		}
		resp, body := get(t, u, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("list: %d %s", resp.StatusCode, body)
		}
		var r listResult
		if err := xml.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		pages++
		if r.MaxKeys != 2 || r.KeyCount != len(r.Contents) {
			t.Errorf("page %d: MaxKeys %d KeyCount %d for %d keys", pages, r.MaxKeys, r.KeyCount, len(r.Contents))
		}
		for _, c := range r.Contents {
			keys = append(keys, c.Key)
		}
		if !r.IsTruncated {
			break
		}
		token = r.NextContinuationToken
		if pages > 5 {
			t.Fatal("the listing does not end")
		}
	}
	if strings.Join(keys, ",") != "m/a,m/b,m/c/d,m/e" || pages != 2 {
		t.Errorf("keys %v in %d pages", keys, pages)
	}
	if resp, body := get(t, s.URL()+"/models?list-type=2&continuation-token=bogus", nil); resp.StatusCode != 400 || errorCode(body) != "InvalidArgument" {
		t.Errorf("a bogus token: %d %s", resp.StatusCode, body)
	}
	if resp, body := get(t, s.URL()+"/absent?list-type=2", nil); resp.StatusCode != 404 || errorCode(body) != "NoSuchBucket" {
		t.Errorf("a missing bucket: %d %s", resp.StatusCode, body)
	}
}

// TestGetObjectRangesChecksumsAndConditions: ranges answer 206 with Content-Range (416 past the end); the
// stored sha256 comes with x-amz-checksum-mode for the whole object only; If-Match guards the version; a
// private bucket refuses anonymous requests; a virtual-hosted request reaches the same object.
func TestGetObjectRangesChecksumsAndConditions(t *testing.T) {
	s := NewTest(t)
	s.AddBucket("models", BucketOptions{Public: true})
	s.AddBucket("private", BucketOptions{})
	o := s.PutObject("models", "w.bin", []byte("0123456789"), ObjectOptions{ChecksumSHA256: true})
	mode := http.Header{"X-Amz-Checksum-Mode": {"ENABLED"}}

	resp, body := get(t, s.URL()+"/models/w.bin", mode)
	if resp.StatusCode != 200 || string(body) != "0123456789" || resp.Header.Get("ETag") != `"`+o.ETag+`"` ||
		resp.Header.Get("X-Amz-Checksum-Sha256") != o.SHA256Checksum || resp.Header.Get("X-Amz-Checksum-Type") != "FULL_OBJECT" {
		t.Errorf("whole object: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, body = get(t, s.URL()+"/models/w.bin", http.Header{"Range": {"bytes=4-"}, "X-Amz-Checksum-Mode": {"ENABLED"}})
	if resp.StatusCode != 206 || string(body) != "456789" || resp.Header.Get("Content-Range") != "bytes 4-9/10" ||
		resp.Header.Get("X-Amz-Checksum-Sha256") != "" {
		t.Errorf("range: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if resp, body := get(t, s.URL()+"/models/w.bin", http.Header{"Range": {"bytes=10-"}}); resp.StatusCode != 416 || errorCode(body) != "InvalidRange" {
		t.Errorf("past the end: %d %s", resp.StatusCode, body)
	}
	if resp, body := get(t, s.URL()+"/models/w.bin", http.Header{"If-Match": {`"other"`}}); resp.StatusCode != 412 || errorCode(body) != "PreconditionFailed" {
		t.Errorf("If-Match another version: %d %s", resp.StatusCode, body)
	}
	if resp, body := get(t, s.URL()+"/models/w.bin", http.Header{"If-Match": {`"` + o.ETag + `"`}}); resp.StatusCode != 200 || len(body) != 10 {
		t.Errorf("If-Match this version: %d", resp.StatusCode)
	}
	if resp, body := get(t, s.URL()+"/models/nothing", nil); resp.StatusCode != 404 || errorCode(body) != "NoSuchKey" {
		t.Errorf("a missing key: %d %s", resp.StatusCode, body)
	}
	if resp, body := get(t, s.URL()+"/private/w.bin", nil); resp.StatusCode != 403 || errorCode(body) != "AccessDenied" {
		t.Errorf("anonymous on a private bucket: %d %s", resp.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/w.bin", nil)
	req.Host = "models." + s.Addr()
	vresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	vbody, _ := io.ReadAll(vresp.Body)
	vresp.Body.Close()
	if vresp.StatusCode != 200 || string(vbody) != "0123456789" || s.Requests("GET", "/models/w.bin")[len(s.Requests("GET", "/models/w.bin"))-1].VirtualHost != true {
		t.Errorf("virtual-hosted: %d %q", vresp.StatusCode, vbody)
	}

	multi := s.PutObject("models", "multi.bin", make([]byte, 1000), ObjectOptions{ChecksumSHA256: true, Parts: 3})
	if !strings.HasSuffix(multi.ETag, "-3") || !strings.HasSuffix(multi.SHA256Checksum, "-3") || multi.ChecksumType != "COMPOSITE" {
		t.Errorf("multipart object %+v", multi)
	}
}

// TestFaults: a Fail answers its code the given number of times and then stops; CutBody drops the connection
// after the bytes asked for.
func TestFaults(t *testing.T) {
	s := NewTest(t)
	s.AddBucket("models", BucketOptions{Public: true})
	s.PutObject("models", "w.bin", make([]byte, 5000), ObjectOptions{})
	s.Fail(Fault{Method: "GET", Resource: "/models/w", Times: 2, Status: 503, Code: "SlowDown"})
	for i := 0; i < 2; i++ {
		if resp, body := get(t, s.URL()+"/models/w.bin", nil); resp.StatusCode != 503 || errorCode(body) != "SlowDown" {
			t.Errorf("fault %d: %d %s", i, resp.StatusCode, body)
		}
	}
	if resp, _ := get(t, s.URL()+"/models/w.bin", nil); resp.StatusCode != 200 {
		t.Errorf("after the faults: %d", resp.StatusCode)
	}
	s.CutBody("w.bin", 1000, 1)
	resp, err := http.Get(s.URL() + "/models/w.bin")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil || n != 1000 {
		t.Errorf("a cut body: %d bytes, %v", n, err)
	}
	if got := s.Requests("GET", "/models/w.bin"); len(got) != 4 || got[3].Fault != "cut" || got[0].Code != "SlowDown" {
		t.Errorf("log %+v", got)
	}
}
