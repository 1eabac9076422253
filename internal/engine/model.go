package engine

import (
	"fmt"
	"regexp"
	"strings"
)

// Scheme is where a model's weights come from.
type Scheme string

// The model URI schemes.
const (
	SchemeHF  Scheme = "hf"
	SchemeS3  Scheme = "s3"
	SchemeGCS Scheme = "gs"
	SchemePVC Scheme = "pvc"
)

// ModelSource is a parsed spec.model.uri.
type ModelSource struct {
	// Scheme of the URI.
	Scheme Scheme
	// Repo is the Hugging Face repository (hf).
	Repo string
	// Claim is the PersistentVolumeClaim (pvc).
	Claim string
	// Path inside the claim (pvc), or the bucket and path (s3, gs).
	Path string
}

// The same shapes the CRD's CEL rules accept; kept here so that the engine never builds args from a string the
// API server did not validate, even for objects built in Go.
var (
	hfRepoRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$`)
	bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,62}(/[A-Za-z0-9_][A-Za-z0-9._=+-]*)*/?$`)
	pvcRE    = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(/[A-Za-z0-9_][A-Za-z0-9._-]*)*/?$`)
)

// ParseModelURI parses hf://org/name, s3://bucket/path, gs://bucket/path and pvc://claim/path.
func ParseModelURI(uri string) (ModelSource, error) {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return ModelSource{}, fmt.Errorf("model.uri %q has no scheme: use hf://, s3://, gs:// or pvc://", uri)
	}
	switch Scheme(scheme) {
	case SchemeHF:
		if !hfRepoRE.MatchString(rest) {
			return ModelSource{}, fmt.Errorf("model.uri: %q is not a Hugging Face repository (hf://<org>/<name>)", rest)
		}
		return ModelSource{Scheme: SchemeHF, Repo: rest}, nil
	case SchemeS3, SchemeGCS:
		if !bucketRE.MatchString(rest) {
			return ModelSource{}, fmt.Errorf("model.uri: %q is not <bucket>/<path>", rest)
		}
		return ModelSource{Scheme: Scheme(scheme), Path: strings.TrimSuffix(rest, "/")}, nil
	case SchemePVC:
		if !pvcRE.MatchString(rest) {
			return ModelSource{}, fmt.Errorf("model.uri: %q is not <claim>/<path>", rest)
		}
		claim, path, _ := strings.Cut(strings.TrimSuffix(rest, "/"), "/")
		return ModelSource{Scheme: SchemePVC, Claim: claim, Path: path}, nil
	default:
		return ModelSource{}, fmt.Errorf("model.uri scheme %q is not supported: use hf://, s3://, gs:// or pvc://", scheme)
	}
}

// Location is what the engine is given as the model: a repository id, a URL or a local path.
func (m ModelSource) Location() string {
	switch m.Scheme {
	case SchemeHF:
		return m.Repo
	case SchemePVC:
		if m.Path == "" {
			return ModelMountDir
		}
		return ModelMountDir + "/" + m.Path
	default:
		return string(m.Scheme) + "://" + m.Path
	}
}
