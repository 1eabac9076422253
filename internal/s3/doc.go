// Package s3 downloads a folder of objects from S3 or an S3-compatible server (MinIO, Ceph RGW, …) onto the
// model cache volume, verified and resumable, for the model cache's download Job (an s3:// source). It is a
// small client written against the REST API with the standard library only: ListObjectsV2 with paging,
// HeadObject and GetObject with Range and If-Match, Signature Version 4 (or anonymous requests), path-style or
// virtual-hosted addressing. Credentials come from the caller (the loader reads them from files mounted from a
// Secret).
//
// It shares the Hub client's vocabulary (internal/hub): failures are *hub.Error with the same reasons
// (NoSuchBucket is RepoNotFound, AccessDenied, InvalidAccessKeyId and SignatureDoesNotMatch are Unauthorized,
// SlowDown is RateLimited, other 5xx ServerError, no answer Unreachable, a full volume DiskFull, a bad size or
// checksum VerifyFailed; hub.Error.Transient says which a retry may mend), the file filter is a hub.Filter and
// progress a hub.Progress, so the loader treats both sources alike.
//
// The folder: Dir/<path below the prefix> for every selected object, each written to
// <path>.<12 hex of sha256(ETag)>.incomplete and renamed into place once its size (and, when the server keeps
// one, its sha256) checked out; then .privatellm-manifest.json, written last, lists the files with their sizes,
// ETags and sha256 and the selection's content id. A folder with a manifest that matches the listing is
// complete: nothing is fetched. While a download runs, .privatellm-manifest.json.incomplete records the files
// already in place, so a run that was cut does not fetch them again.
//
// # Where each fact comes from
//
// Amazon S3 API Reference (docs.aws.amazon.com/AmazonS3/latest/API/) and User Guide (…/userguide/), read
// through the search tool's docs corpus, with the AWS SDKs' generated references (docs.rs aws-sdk-s3
// ListObjectsV2Output, Ruby Aws::S3::Types, boto3 Object.checksum_sha256) for the field names:
//
//   - API_ListObjectsV2.html: GET /<bucket>?list-type=2&prefix=…&continuation-token=…&max-keys=…; the answer
//     ListBucketResult with Name, Prefix, KeyCount, MaxKeys, IsTruncated, ContinuationToken,
//     NextContinuationToken ("sent when IsTruncated is true … obfuscated and is not a real key") and Contents
//     (Key, LastModified, ETag, Size, StorageClass); at most 1000 keys a page; keys in UTF-8 binary order.
//   - API_HeadObject.html, API_GetObject.html: Range (one bytes range; 206 with Content-Range), If-Match (412
//     PreconditionFailed when the ETag differs), x-amz-checksum-mode: ENABLED to get x-amz-checksum-sha256
//     ("the Base64 encoded, 256-bit SHA256 digest of the object … only present if the checksum was uploaded with
//     the object") and x-amz-checksum-type.
//   - API_Checksum.html and API_ObjectPart.html (and userguide/checking-object-integrity.html): for a multipart upload the
//     checksum "may not be a direct checksum value of the full object … a calculation based on the checksum
//     values of each individual part" (type COMPOSITE, value "<base64>-<parts>"), so only a FULL_OBJECT value is
//     checked against the content; the ETag of a multipart upload is not the content's MD5 either, so ETags are
//     compared, never recomputed.
//   - sig-v4-header-based-auth.html ("Signature Calculations for the Authorization Header: Transferring Payload
//     in a Single Chunk"): the canonical request (HTTPMethod, CanonicalURI — the UriEncode'd path, '/' kept,
//     not normalized for S3 —, CanonicalQueryString — names and values UriEncode'd, sorted by name —,
//     CanonicalHeaders — lowercase names, trimmed values, sorted, host and every x-amz-* header —,
//     SignedHeaders, HashedPayload from x-amz-content-sha256, which is the empty body's sha256 or
//     UNSIGNED-PAYLOAD), the string to sign ("AWS4-HMAC-SHA256", x-amz-date, <date>/<region>/s3/aws4_request,
//     the canonical request's hex sha256) and the signing key (HMAC-SHA256 chain from "AWS4"+secret over the
//     date, region, "s3", "aws4_request"); UriEncode keeps A-Z, a-z, 0-9, '-', '.', '_', '~' and encodes every
//     other byte as %XX in uppercase. Its GET Object and GET Bucket examples (examplebucket,
//     AKIAIOSFODNN7EXAMPLE, 20130524T000000Z, signatures f0e8bdb8… and 34b48302…) are the tests of sigv4.go.
//   - ErrorResponses.html: the XML error document (Code, Message, Resource, RequestId) and the codes:
//     NoSuchBucket and NoSuchKey (404), AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch,
//     RequestTimeTooSkewed, InvalidObjectState (403), AuthorizationHeaderMalformed with Region and
//     InvalidBucketName (400), PermanentRedirect (301), SlowDown (503), InternalError (500).
//   - userguide/bucketnamingrules.html: 3–63 characters, lowercase letters, digits, '.' and '-', beginning and
//     ending with a letter or digit, no two adjacent periods.
//   - userguide/VirtualHosting.html: virtual-hosted <bucket>.<endpoint host>/<key> and path-style
//     <endpoint>/<bucket>/<key> (what MinIO and most private servers need: --s3-path-style); over TLS the
//     wildcard certificate does not match a bucket name with a '.', which then needs path style.
//
// Behaviour shared with internal/hub rather than taken from S3: retries on network errors, 408, 429 and 5xx
// (1 s doubling to 8 s, at most 5), a Retry-After in seconds when a server sends one, a transfer cut after
// StallTimeout without data and resumed, the verifying copy in 1 MiB writes, fsync before rename.
package s3
