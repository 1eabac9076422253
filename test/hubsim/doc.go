// Package hubsim is a simulated Hugging Face Hub and its CDN, for unit tests, end-to-end tests and the demo:
// point HF_ENDPOINT (or hub.Client.Endpoint) at Hub.URL.
//
//	h := hubsim.NewTest(t, hubsim.Tokens("hf_reader"))
//	repo := h.AddRepo("acme/tiny", hubsim.RepoOptions{
//		Files:  hubsim.ModelFiles(hubsim.Config{Layers: 2, HiddenSize: 256}, 300_000),
//		Gated:  "manual",
//		Tokens: []string{"hf_granted"},
//	})
//	h.CutBody("model.safetensors", 100_000, 1) // the first GET of the weights breaks after 100 kB
//	... download from h.URL() ...
//	gets := h.Requests(hubsim.CDNServer, repo.File("model.safetensors").SHA256())
//
// It is as strict as the Hub: it answers what huggingface.co answers, with the same JSON fields, headers and
// error codes, and refuses what the Hub or its CDN refuses. Where a client must behave in a way the Hub does
// not enforce (a User-Agent, say), Check and RequireUserAgent record a violation, which NewTest turns into a
// test error. Faults (Fail, ExpireCDNURLs, CutBody, StallBody, Corrupt, IgnoreRange) spoil a given number of
// answers and then stop; each request is logged (Requests) with the fault that spoiled it, if any.
//
// # Where each behaviour comes from
//
// The HTTP API is the one the huggingface_hub Python library speaks, version 1.29.0.dev0, commit
// ee0a4510f4bc15e26cb722be2efc2bdb01383ca0 (github.com/huggingface/huggingface_hub, 2026-08-20), the same
// source internal/hub/doc.go cites; files under src/huggingface_hub/:
//
//   - hf_api.py model_info: GET /api/models/{repo}/revision/{quote(revision, safe="")} (and /api/models/{repo}
//     for the default revision), answered with "_id", "id", "modelId", "author", "sha", "lastModified",
//     "private", "gated" (false, "auto" or "manual"), "disabled", "downloads", "likes", "library_name", "tags",
//     "pipeline_tag", "siblings" [{"rfilename"}] and "createdAt" (ModelInfo.__init__).
//   - hf_api.py list_repo_tree: GET /api/models/{repo}/tree/{revision}[/{path}] with recursive and expand;
//     entries {"type": "file"|"directory", "oid", "size", "path"} and, for LFS files, "lfs": {"oid" (sha256),
//     "size", "pointerSize"} and "xetHash" (RepoFile, RepoFolder, BlobLfsInfo). Without recursive only the
//     direct children are listed, as on the Hub.
//   - utils/_pagination.py paginate: a page's Link header gives the next page's URL as rel="next", the query
//     kept and a cursor added (the Hub's cursor is opaque; here it encodes the page's last path).
//   - file_download.py hf_hub_url and get_hf_file_metadata: /{repo}/resolve/{revision}/{path} answers
//     X-Repo-Commit; for a file in git the content with ETag "<git blob id>"; for an LFS file a 302 whose
//     Location is the CDN, with X-Linked-Etag "<sha256>", X-Linked-Size and the redirect's own (weak) ETag;
//     constants.py HUGGINGFACE_HEADER_X_REPO_COMMIT, _X_LINKED_ETAG, _X_LINKED_SIZE. tests/test_file_download.py
//     (file_etag = blob_id, lfs_etag = lfs.sha256): the etags are the git blob id and the sha256.
//   - utils/_http.py _httpx_follow_relative_redirects_with_backoff: a renamed repo's /resolve answers a relative
//     redirect (RenameRepo: 307), the CDN an absolute one.
//   - file_download.py _get_metadata_or_catch_error: the Authorization header is not sent to the CDN, whose URL is
//     signed; the CDN (S3 behind CloudFront) refuses a request that carries both (400 InvalidArgument "Only one
//     auth mechanism allowed"), a URL without a valid signature (403 AccessDenied) and an expired one (403
//     "Request has expired"; ExpireCDNURLs forces it).
//   - file_download.py http_get: "Range: bytes=<resume>-" is answered 206 with Content-Range; a 200 to a Range
//     request is what a server that ignores Range sends (IgnoreRange).
//   - utils/_http.py hf_raise_for_status and errors.py: errors carry X-Error-Code (RevisionNotFound,
//     EntryNotFound, GatedRepo, RepoNotFound) and X-Error-Message; a missing repo, or a private one the token
//     cannot read, is 401 RepoNotFound ("401 is misleading as it is returned for private and gated repos if user
//     is not authenticated, missing repos"); a token the Hub does not know is 401 "Invalid credentials in
//     Authorization header"; a disabled repo is 403 "Access to this resource is disabled." without a code
//     (DisabledRepoError's docstring shows the 403); a gated repo's files are 401 GatedRepo without a token and
//     403 GatedRepo with one not granted (GatedRepoError's docstring).
//   - utils/_http.py _http_backoff_base, _parse_retry_after and parse_ratelimit_headers: a 429 carries
//     Retry-After (seconds) or RateLimit: "api";r=<remaining>;t=<reset> with RateLimit-Policy (RetryAfter and
//     RateLimit build them for Fail).
//   - utils/_headers.py build_hf_headers: "authorization: Bearer <token>".
//
// From the Hub's behaviour rather than the library: a gated repo's model info and tree are public and only its
// files are gated (huggingface/huggingface.js#945: "it's now possible to list gated files with the API"), and its
// README.md is readable without access (huggingface/transformers#26257, "README files readable even on gated
// repo"). Errors have a JSON body {"error": message} and every answer of the Hub an X-Request-Id.
package hubsim
