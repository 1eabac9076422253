// Package s3sim is a simulated S3 server (an httptest server), for the tests of internal/s3 and the loader, and
// for end-to-end tests that need an s3:// source: point the S3 client's endpoint at Server.URL.
//
//	s := s3sim.NewTest(t, s3sim.Credentials("AKIDEXAMPLE", "secret"), s3sim.MaxKeys(2))
//	s.AddBucket("models", s3sim.BucketOptions{})
//	s.PutObject("models", "llama/config.json", raw, s3sim.ObjectOptions{ChecksumSHA256: true})
//	s.Fail(s3sim.Fault{Method: "GET", Resource: "/models/llama/", Times: 2, Status: 503, Code: "SlowDown"})
//	s.CutBody("llama/model.safetensors", 100_000, 1) // the first GET of the weights breaks after 100 kB
//	... download ...
//	gets := s.Count("GET", "/models/llama/model.safetensors")
//
// It is as strict as S3: it verifies Signature Version 4 itself (its own implementation, not the client's) and
// answers a wrong one 403 SignatureDoesNotMatch, an unknown access key 403 InvalidAccessKeyId, a wrong region
// 400 AuthorizationHeaderMalformed with the right one, a clock more than 15 minutes off 403
// RequestTimeTooSkewed, an x-amz-* header left out of the signature 403 AccessDenied, a missing
// x-amz-content-sha256 400 InvalidRequest; an anonymous request to a bucket that is not public 403
// AccessDenied; a missing bucket 404 NoSuchBucket and a missing key 404 NoSuchKey, with S3's XML error document
// (none for HEAD). It serves both path-style (/<bucket>/<key>) and virtual-hosted (<bucket>.<host>/<key>)
// requests. Faults (Fail, CutBody, Corrupt) spoil a given number of answers and then stop; every request is
// logged (Requests, Count).
//
// # Where each behaviour comes from
//
// Amazon S3 API Reference (docs.aws.amazon.com/AmazonS3/latest/API/), the pages internal/s3/doc.go cites:
//
//   - API_ListObjectsV2.html: GET /<bucket>?list-type=2 with prefix, continuation-token, start-after and max-keys
//     (at most 1000 keys a page); the answer ListBucketResult (xmlns http://s3.amazonaws.com/doc/2006-03-01/)
//     with Name, Prefix, KeyCount, MaxKeys, IsTruncated, ContinuationToken, NextContinuationToken (opaque) and
//     Contents (Key, LastModified, ETag, Size, StorageClass, ChecksumAlgorithm), keys in UTF-8 binary order.
//   - API_GetObject.html and API_HeadObject.html: Range (RFC 9110 bytes ranges; 206 with Content-Range; a range
//     past the end 416 InvalidRange), If-Match (412 PreconditionFailed), x-amz-checksum-mode: ENABLED answering
//     x-amz-checksum-sha256 (base64) and x-amz-checksum-type (FULL_OBJECT or COMPOSITE) — only for the whole
//     object, not for a range; ETag quoted; the ETag of a multipart upload is the MD5 of the parts' MD5s with
//     "-<parts>", its COMPOSITE checksum the sha256 of the parts' sha256s with "-<parts>" (checking-object-
//     integrity.html).
//   - sig-v4-header-based-auth.html and sigv4-auth-using-authorization-header.html: the Authorization header
//     "AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/s3/aws4_request, SignedHeaders=…, Signature=…", the
//     canonical request (method, UriEncode'd path, sorted canonical query, lowercase trimmed headers, signed
//     header list, payload hash from x-amz-content-sha256 or UNSIGNED-PAYLOAD), the string to sign and the
//     HMAC key chain; the doc's GET-object example is a test case.
//   - ErrorResponses.html: the XML error document <Error><Code/><Message/><Resource/><RequestId/></Error> and
//     the codes and statuses above, SlowDown being 503.
package s3sim
