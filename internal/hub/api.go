package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// ModelInfo is the part of GET /api/models/{repo}/revision/{revision} this package uses (hf_api.py model_info,
// ModelInfo.__init__).
type ModelInfo struct {
	// ID is the repo id, "org/name".
	ID string `json:"id"`
	// SHA is the commit the revision points at.
	SHA string `json:"sha"`
	// Private is true for a private repo.
	Private bool `json:"private"`
	// Gated is "" for an open repo, else the Hub's gating mode ("auto" or "manual").
	Gated Gated `json:"gated"`
	// Disabled is true when the Hub has disabled the repo.
	Disabled bool `json:"disabled"`
}

// Gated is the Hub's "gated" field, which is false or a string ("auto", "manual").
type Gated string

// UnmarshalJSON accepts false, true or a string.
func (g *Gated) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case string:
		*g = Gated(v)
	case bool:
		*g = ""
		if v {
			*g = "true"
		}
	default:
		*g = ""
	}
	return nil
}

// File is one file of a repo at a commit, from GET /api/models/{repo}/tree/{revision}?recursive=true
// (hf_api.py RepoFile: "path", "size", "oid", "lfs": {"oid", "size", "pointerSize"}, "xetHash").
type File struct {
	// Path is relative to the repo root, '/'-separated.
	Path string
	// Size is the file's size in bytes (for an LFS file, the real content's size).
	Size int64
	// BlobID is the git blob id (sha1) of the file as committed; for an LFS file, of its pointer.
	BlobID string
	// LFS is set for a file stored with Git LFS (or Xet, which the tree lists as LFS too).
	LFS *LFSInfo
	// XetHash is set for a file stored on Xet; plain HTTP downloads still work for it.
	XetHash string
}

// LFSInfo is the LFS part of a File.
type LFSInfo struct {
	// SHA256 is the hex sha256 of the content.
	SHA256 string
	// Size is the content's size in bytes.
	Size int64
	// PointerSize is the size of the LFS pointer file in git.
	PointerSize int64
}

// ETag is the name the Hub gives the file's blob, and the file's name under blobs/ in the cache: the LFS sha256
// for an LFS file, the git blob id otherwise (file_download.py hf_hub_download docstring "identified by their
// git-sha or sha256"; tests/test_file_download.py sets file_etag = blob_id and lfs_etag = lfs.sha256;
// _xet_file_metadata_from_tree_cache "ETag/size come from the LFS metadata for LFS-tracked files").
func (f File) ETag() string {
	if f.LFS != nil {
		return f.LFS.SHA256
	}
	return f.BlobID
}

// ContentSize is the number of bytes a download of the file yields.
func (f File) ContentSize() int64 {
	if f.LFS != nil && f.LFS.Size > 0 {
		return f.LFS.Size
	}
	return f.Size
}

// treeEntry is one element of the tree listing's JSON array.
type treeEntry struct {
	Type string `json:"type"` // "file" or "directory"
	OID  string `json:"oid"`
	Size int64  `json:"size"`
	Path string `json:"path"`
	LFS  *struct {
		OID         string `json:"oid"`
		Size        int64  `json:"size"`
		PointerSize int64  `json:"pointerSize"`
	} `json:"lfs"`
	XetHash string `json:"xetHash"`
}

var (
	// repoIDRE is utils/_validators.py REPO_ID_REGEX: an optional namespace and a name of [\w.-], at most 96.
	repoIDRE = regexp.MustCompile(`^(?:[A-Za-z0-9_](?:[\w.-]*[A-Za-z0-9_])?/)?[A-Za-z0-9_](?:[\w.-]{0,94}[A-Za-z0-9_])?$`)
	// commitRE is file_download.py REGEX_COMMIT_HASH.
	commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

// IsCommitSHA reports whether revision is a full commit sha, which needs no resolving.
func IsCommitSHA(revision string) bool { return commitRE.MatchString(revision) }

// ValidateRepoID checks a model repo id as huggingface_hub's validate_repo_id does ("name" or "org/name",
// [A-Za-z0-9_.-], at most 96 characters per part, no "--" or "..", not ending in ".git").
func ValidateRepoID(repo string) error {
	if !repoIDRE.MatchString(repo) || strings.Contains(repo, "--") || strings.Contains(repo, "..") ||
		strings.HasSuffix(repo, ".git") {
		return &Error{Reason: ReasonInvalidArgument, Repo: repo,
			Detail: fmt.Sprintf("invalid repo id %q: use \"org/name\" with letters, digits, '-', '_' or '.'", repo)}
	}
	return nil
}

// validateRevision refuses revisions that cannot be a file name under refs/ (empty, absolute, "..", NUL).
func validateRevision(repo, revision string) error {
	if revision == "" || strings.HasPrefix(revision, "/") || strings.ContainsAny(revision, "\\\x00") ||
		hasDotSegment(revision) {
		return &Error{Reason: ReasonInvalidArgument, Repo: repo, Revision: revision,
			Detail: fmt.Sprintf("invalid revision %q: use a branch, tag or commit sha", revision)}
	}
	return nil
}

// hasDotSegment reports whether a '/'-separated path has an empty, "." or ".." segment.
func hasDotSegment(p string) bool {
	for _, s := range strings.Split(p, "/") {
		if s == "" || s == "." || s == ".." {
			return true
		}
	}
	return false
}

// ValidatePath checks that a repo file path stays inside the snapshot directory once joined to it: relative,
// '/'-separated, no empty, "." or ".." segment, no backslash or NUL (file_download.py
// _validate_relative_filename, _get_pointer_path).
func ValidatePath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00") || hasDotSegment(p) {
		return fmt.Errorf("unsafe file path %q", p)
	}
	return nil
}

// ModelInfo fetches GET {endpoint}/api/models/{repo}/revision/{revision} (hf_api.py model_info; the revision is
// escaped whole, '/' included, as quote(revision, safe="")).
func (c *Client) ModelInfo(ctx context.Context, repo, revision string) (*ModelInfo, error) {
	if revision == "" {
		revision = DefaultRevision
	}
	if err := ValidateRepoID(repo); err != nil {
		return nil, err
	}
	if err := validateRevision(repo, revision); err != nil {
		return nil, err
	}
	u := c.endpoint() + "/api/models/" + repo + "/revision/" + url.PathEscape(revision)
	var info ModelInfo
	if _, err := c.getJSON(ctx, u, what{repo: repo, revision: revision}, &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// ResolveRevision returns the commit sha a branch, tag or commit names. A full sha is returned as is, without a
// request (_snapshot_download.py skips repo_info for a commit hash).
func (c *Client) ResolveRevision(ctx context.Context, repo, revision string) (string, error) {
	if revision == "" {
		revision = DefaultRevision
	}
	if IsCommitSHA(revision) {
		return revision, ValidateRepoID(repo)
	}
	info, err := c.ModelInfo(ctx, repo, revision)
	if err != nil {
		return "", err
	}
	if !IsCommitSHA(info.SHA) {
		return "", &Error{Reason: ReasonBadResponse, Repo: repo, Revision: revision,
			Detail: fmt.Sprintf("the model info of %s at %q has no commit sha: check HF_ENDPOINT", repo, revision)}
	}
	return info.SHA, nil
}

// maxPages bounds the tree listing's pagination.
const maxPages = 10000

// ListFiles lists every file of the repo at revision, recursively, sorted by path: GET
// {endpoint}/api/models/{repo}/tree/{revision}?recursive=true&expand=false, following the Link header's
// rel="next" URL page after page (hf_api.py list_repo_tree; utils/_pagination.py paginate). Directories are left
// out. Pass a commit sha so every page lists the same commit.
func (c *Client) ListFiles(ctx context.Context, repo, revision string) ([]File, error) {
	if revision == "" {
		revision = DefaultRevision
	}
	if err := ValidateRepoID(repo); err != nil {
		return nil, err
	}
	if err := validateRevision(repo, revision); err != nil {
		return nil, err
	}
	w := what{repo: repo, revision: revision}
	next := c.endpoint() + "/api/models/" + repo + "/tree/" + url.PathEscape(revision) + "?recursive=true&expand=false"
	seen := map[string]bool{}
	var files []File
	for page := 0; next != ""; page++ {
		if page >= maxPages || seen[next] {
			return nil, &Error{Reason: ReasonBadResponse, Repo: repo, Revision: revision,
				Detail: fmt.Sprintf("the file listing of %s does not end: check HF_ENDPOINT", repo)}
		}
		seen[next] = true
		var entries []treeEntry
		resp, err := c.getJSON(ctx, next, w, &entries)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.Type != "file" {
				continue
			}
			f := File{Path: e.Path, Size: e.Size, BlobID: e.OID, XetHash: e.XetHash}
			if e.LFS != nil {
				f.LFS = &LFSInfo{SHA256: e.LFS.OID, Size: e.LFS.Size, PointerSize: e.LFS.PointerSize}
			}
			files = append(files, f)
		}
		next, err = nextPage(resp)
		if err != nil {
			return nil, &Error{Reason: ReasonBadResponse, Repo: repo, Revision: revision, Err: err,
				Detail: fmt.Sprintf("the file listing of %s has a bad Link header: check HF_ENDPOINT", repo)}
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// getJSON GETs u (following redirects, such as a renamed repo's) and decodes a 200 answer into v. It returns the
// response, whose body is closed, for its headers.
func (c *Client) getJSON(ctx context.Context, u string, w what, v any) (*http.Response, error) {
	resp, err := c.send(ctx, c.httpClient(), func() (*http.Request, error) {
		req, err := c.newRequest(ctx, http.MethodGet, u)
		if err == nil {
			req.Header.Set("Accept", "application/json")
		}
		return req, err
	}, w)
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return nil, c.errorFromResponse(resp, w.repo, w.revision, w.path)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(v); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &Error{Reason: ReasonBadResponse, Repo: w.repo, Revision: w.revision, Err: err,
			Detail: fmt.Sprintf("the Hub's answer for %s is not the expected JSON (%v): check HF_ENDPOINT", w.repo, err)}
	}
	return resp, nil
}

// nextPage returns the absolute URL of the Link header's rel="next" target, "" when there is none
// (utils/_pagination.py _get_next_page, the GitHub-style Link header).
func nextPage(resp *http.Response) (string, error) {
	for _, h := range resp.Header.Values("Link") {
		for _, link := range splitLinks(h) {
			target, params, ok := strings.Cut(link, ";")
			target = strings.TrimSpace(target)
			if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			if !hasRelNext(params) {
				continue
			}
			ref, err := url.Parse(target[1 : len(target)-1])
			if err != nil {
				return "", err
			}
			return resp.Request.URL.ResolveReference(ref).String(), nil
		}
	}
	return "", nil
}

// splitLinks splits a Link header value on the commas between links (not those inside <...>).
func splitLinks(h string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range h {
		switch r {
		case '<':
			depth++
		case '>':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, h[start:i])
				start = i + 1
			}
		}
	}
	return append(out, h[start:])
}

// hasRelNext reports whether link parameters include rel="next" (rel may list several space-separated types).
func hasRelNext(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
			continue
		}
		for _, t := range strings.Fields(strings.Trim(strings.TrimSpace(v), `"`)) {
			if strings.EqualFold(t, "next") {
				return true
			}
		}
	}
	return false
}
