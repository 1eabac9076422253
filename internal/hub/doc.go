// Package hub downloads model repos from a Hugging Face Hub into the Hugging Face cache layout, verified, so
// that engines (vLLM, TGI, SGLang, anything built on huggingface_hub) load them offline with HF_HUB_CACHE
// pointing at the cache and HF_HUB_OFFLINE=1. It runs in the model cache's download Job, the only holder of the
// Hub token. Standard library only.
//
// # Where each fact comes from
//
// The HTTP API and the cache layout are those of the huggingface_hub Python library, version 1.29.0.dev0,
// commit ee0a4510f4bc15e26cb722be2efc2bdb01383ca0 (github.com/huggingface/huggingface_hub, 2026-08-20), files
// under src/huggingface_hub/:
//
//   - constants.py: ENDPOINT = $HF_ENDPOINT or "https://huggingface.co", trailing '/' stripped;
//     DEFAULT_REVISION "main"; the headers X-Repo-Commit, X-Linked-Etag, X-Linked-Size; REPO_ID_SEPARATOR "--";
//     MAX_HTTP_DOWNLOAD_SIZE (50 GB: larger files need Xet, see below).
//   - hf_api.py model_info: GET {endpoint}/api/models/{repo}/revision/{quote(revision, safe="")}; ModelInfo
//     reads "id", "sha", "private", "gated", "disabled".
//   - hf_api.py list_repo_tree: GET {endpoint}/api/models/{repo}/tree/{revision}, params recursive and expand;
//     each entry has "type" ("file" or "directory"), "path", "size", "oid" (git blob id), for LFS files
//     "lfs": {"oid" (sha256), "size", "pointerSize"}, and "xetHash" (RepoFile, RepoFolder, BlobLfsInfo).
//   - utils/_pagination.py paginate: pages follow the Link header's rel="next" URL, which carries the query.
//   - _snapshot_download.py: a 40-hex revision is not resolved (repo_info is skipped); the listing is taken at
//     the resolved commit; files are fetched at the commit; refs/<revision> is written with the commit when the
//     revision is not the commit itself.
//   - file_download.py hf_hub_url: {endpoint}/{repo}/resolve/{quote(revision, safe="")}/{quote(path)}.
//   - file_download.py get_hf_file_metadata: HEAD with Accept-Encoding: identity; commit = X-Repo-Commit;
//     etag = _normalize_etag(X-Linked-Etag or ETag); size = X-Linked-Size or, when not a redirect,
//     Content-Length; location = the Location header (the CDN) or the request URL.
//   - utils/_http.py _httpx_follow_relative_redirects_with_backoff: HEAD follows relative redirects (a renamed
//     repo) and not absolute ones (the CDN).
//   - file_download.py _get_metadata_or_catch_error: X-Repo-Commit, the etag and the size must all be present
//     ("Distant resource does not seem to be on huggingface.co ..."); the Authorization header is dropped when
//     the download URL's host differs from the endpoint's (a CDN URL is signed).
//   - file_download.py _normalize_etag: etag.lstrip("W/").strip('"').
//   - file_download.py hf_hub_download docstring and tests/test_file_download.py (file_etag = blob_id,
//     lfs_etag = lfs.sha256; TestNormalizeEtag): blobs are named by the git blob id for files in git and by the
//     sha256 for LFS files, which is what the resolve endpoint's (X-Linked-)ETag says; _xet_file_metadata_from_
//     tree_cache: "ETag/size come from the LFS metadata for LFS-tracked files".
//   - file_download.py _hf_hub_download_to_cache_dir, repo_folder_name, _get_pointer_path, _create_symlink,
//     _cache_commit_hash_for_specific_revision: <cache>/models--{org}--{name}/blobs/<etag>,
//     snapshots/<commit>/<path> as a symlink whose target is os.path.relpath(blob, dirname(pointer)) — so
//     ../../blobs/<etag>, one more ../ per directory in path — and refs/<revision> holding the commit, no newline,
//     written through a temporary file and a rename; a file whose pointer exists is not fetched again; a blob
//     that exists is only linked.
//   - file_download.py http_get: Range: bytes=<resume>- for a partial file; a 200 answer to a Range request means
//     the server ignored it, and the file is truncated and restarted from 0; a transfer cut by a network error
//     is resumed up to 5 times, the count reset whenever data arrives; the final size must equal the expected one.
//     (This version writes a process-unique temporary file and does not resume across runs; this package keeps
//     the long-standing <blob>.incomplete name so a restarted Job resumes, since one Job owns the cache.)
//   - _local_folder.py _validate_relative_filename: no ".." segment, no absolute path; _create_cachedir_tag and
//     CACHEDIR_TAG_CONTENT for <cache>/CACHEDIR.TAG.
//   - utils/_paths.py filter_repo_objects: allow/ignore patterns are fnmatchcase globs where '*' crosses '/', a
//     pattern ending in '/' gets '*', backslashes are separators.
//   - utils/_validators.py REPO_ID_REGEX and validate_repo_id: "name" or "namespace/name", [\w.-], at most 96,
//     no "--" or "..", not ending in ".git".
//   - utils/_http.py hf_raise_for_status: X-Error-Code RevisionNotFound, EntryNotFound, GatedRepo, RepoNotFound;
//     X-Error-Message "Access to this resource is disabled."; a 401 on a repo URL is RepoNotFound ("401 is
//     misleading as it is returned for private and gated repos if user is not authenticated, missing repos")
//     unless X-Error-Message is "Invalid credentials in Authorization header"; 403 means the token lacks
//     permission; errors.py GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError,
//     RemoteEntryNotFoundError, DisabledRepoError.
//   - utils/_http.py _http_backoff_base: retries on 408, 429, 500, 502, 503, 504 and network errors, at most 5,
//     waiting 1s doubling to 8s, or for a 429 the Retry-After seconds (_parse_retry_after) or the RateLimit
//     header's t= when r=0 (parse_ratelimit_headers).
//   - utils/_headers.py build_hf_headers: "authorization: Bearer <token>" and a user-agent.
//
// Beyond huggingface_hub: every file is hashed while written (LFS: sha256 against lfs.oid; files in git: the git
// blob sha1, sha1("blob <size>\x00" + content), against oid) rather than checked for size only; Retry-After as
// an HTTP date is honoured; a Retry-After longer than Client.MaxRetryAfter is returned at once as RateLimited;
// a stalled transfer is cut after Client.StallTimeout and resumed; refs/<revision> is written last, so its
// presence means the selected files are all in the snapshot.
//
// Xet: the Hub now stores many large files on Xet. The tree lists them with an "lfs" entry and an "xetHash",
// and /resolve still redirects a plain HTTP client to a CDN URL, which is what this package uses (huggingface_hub
// falls back to it when hf_xet is not installed). huggingface_hub refuses plain HTTP for files over 50 GB.
package hub
