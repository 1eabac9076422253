// Command loader is the model cache's download Job. It brings one model onto the cache volume, verified, and
// writes what it found (the commit, the files, the checkpoint's shape, or why it failed) as the pod's termination
// message for the operator. It has three sources, one per run:
//
//	loader --repo org/name [--revision main] --cache-dir /cache/hub [--include '*.safetensors' ...] [--exclude 'original/*']
//	       [--token-file /var/run/secrets/privatellm/hub/token] [--ca-bundle /etc/ssl/mirror-ca.pem]
//	loader --source s3://bucket/prefix --dest-dir /cache/s3/bucket/prefix [--s3-endpoint http://minio.minio:9000]
//	       [--s3-region us-east-1] [--s3-path-style] [--s3-access-key-file F --s3-secret-key-file F]
//	       [--include ... --exclude ...] [--ca-bundle F]
//	loader --verify-dir /mnt/model            (a pre-loaded pvc:// model: checked, never written)
//
// and, with any of them, [--writable-dir /cache/compile ...] [--progress-addr :8081] [--progress-interval 15s]
// [--termination-log /dev/termination-log].
//
// A Hugging Face repo goes into the Hugging Face cache layout under --cache-dir; the Hub is $HF_ENDPOINT (a mirror
// such as Artifactory or Nexus) or https://huggingface.co, and HTTPS_PROXY and NO_PROXY are honoured. An s3://
// folder (the prefix is a folder: s3://b/models/llama takes models/llama/…) goes under --dest-dir with a
// .privatellm-manifest.json written last; a second run over a complete folder downloads nothing; the report's
// commit is the objects' content id. Secrets — the Hub token, the S3 access and secret keys — are read from files
// (mounted from a Secret), never from the command line or the environment.
//
// --writable-dir folders are created (mode 02775, group-writable and setgid) before anything else, for the
// engines' compile caches on the same volume. Progress goes to stdout as one JSON line at most every
// --progress-interval, and, with --progress-addr, GET /progress answers the latest state as JSON
// (internal/loader.Progress) until the run ends.
//
// Exit status (the Job's podFailurePolicy acts on it):
//
//	0  the model is complete
//	1  it failed and a retry cannot help: gated or unauthorized, repo, revision, bucket or files not found, no
//	   matching files, disk full, model files missing, a bad answer (the report's reason says which)
//	2  a bad command line
//	3  it failed and a retry may help: rate limited past what the loader waits, server errors, unreachable, a
//	   transfer cut or corrupted, stopped by SIGTERM (the report's transient is true)
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/privatellm/privatellm/internal/hub"
	"github.com/privatellm/privatellm/internal/loader"
	"github.com/privatellm/privatellm/internal/s3"
)

type patterns []string

func (p *patterns) String() string     { return strings.Join(*p, ",") }
func (p *patterns) Set(v string) error { *p = append(*p, v); return nil }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	return runWith(args, stdout, stderr, nil)
}

// options are the parsed command line.
type options struct {
	repo, revision, cacheDir, tokenFile, caBundle             string
	source, destDir, endpoint, region, accessFile, secretFile string
	pathStyle                                                 bool
	bucket, prefix                                            string // split from --source
	verifyDir                                                 string
	include, exclude, writable                                patterns
	termLog, progressAddr                                     string
	interval                                                  time.Duration
}

// Flags each source may be given with, beside the common ones.
var (
	commonFlags = []string{"writable-dir", "progress-addr", "progress-interval", "termination-log"}
	modeFlags   = map[string][]string{
		"repo":       {"repo", "revision", "cache-dir", "token-file", "ca-bundle", "include", "exclude"},
		"source":     {"source", "dest-dir", "s3-endpoint", "s3-region", "s3-path-style", "s3-access-key-file", "s3-secret-key-file", "ca-bundle", "include", "exclude"},
		"verify-dir": {"verify-dir"},
	}
)

// parse reads the command line; an error is a usage error (exit 2), already explained on stderr.
func parse(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("loader", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.StringVar(&o.repo, "repo", "", "the Hugging Face repo, org/name")
	fs.StringVar(&o.revision, "revision", hub.DefaultRevision, "branch, tag or commit")
	fs.StringVar(&o.cacheDir, "cache-dir", "", "the Hugging Face cache to write (the engines' HF_HUB_CACHE)")
	fs.StringVar(&o.tokenFile, "token-file", "", "file holding the Hub token (a mounted Secret); empty: anonymous")
	fs.StringVar(&o.caBundle, "ca-bundle", "", "PEM file of extra CAs for the Hub, its mirror or the S3 server")
	fs.StringVar(&o.source, "source", "", "an s3://bucket/prefix folder to download instead of a Hub repo")
	fs.StringVar(&o.destDir, "dest-dir", "", "where an s3:// folder goes, e.g. /cache/s3/<bucket>/<prefix>")
	fs.StringVar(&o.endpoint, "s3-endpoint", "", "the S3 server's URL, e.g. http://minio.minio:9000 (default: AWS for the region)")
	fs.StringVar(&o.region, "s3-region", s3.DefaultRegion, "the S3 signing region")
	fs.BoolVar(&o.pathStyle, "s3-path-style", false, "address objects as <endpoint>/<bucket>/<key> (MinIO) instead of <bucket>.<host>/<key>")
	fs.StringVar(&o.accessFile, "s3-access-key-file", "", "file holding the S3 access key id (a mounted Secret); with neither key file: anonymous")
	fs.StringVar(&o.secretFile, "s3-secret-key-file", "", "file holding the S3 secret access key (a mounted Secret)")
	fs.StringVar(&o.verifyDir, "verify-dir", "", "check a pre-loaded model folder (or .gguf file) instead of downloading")
	fs.StringVar(&o.termLog, "termination-log", "/dev/termination-log", "where the report goes (the pod's terminationMessagePath)")
	fs.StringVar(&o.progressAddr, "progress-addr", "", "serve GET /progress on this address, e.g. :8081 (empty: off)")
	fs.DurationVar(&o.interval, "progress-interval", 15*time.Second, "the most often progress is printed")
	fs.Var(&o.include, "include", "glob of the files to download (repeatable; default: all)")
	fs.Var(&o.exclude, "exclude", "glob of the files to leave out (repeatable)")
	fs.Var(&o.writable, "writable-dir", "folder to create group-writable (02775) before the download (repeatable)")
	err := fs.Parse(args)
	if err != nil {
		return nil, err
	}
	usage := func(format string, a ...any) (*options, error) {
		err := fmt.Errorf(format, a...)
		fmt.Fprintln(stderr, "loader:", err)
		return nil, err
	}
	if fs.NArg() > 0 {
		return usage("unexpected arguments %q", fs.Args())
	}
	var modes []string
	for _, m := range []struct{ name, value string }{{"repo", o.repo}, {"source", o.source}, {"verify-dir", o.verifyDir}} {
		if m.value != "" {
			modes = append(modes, m.name)
		}
	}
	if len(modes) != 1 {
		return usage("give one of --repo, --source and --verify-dir")
	}
	allowed := map[string]bool{}
	for _, f := range append(append([]string(nil), commonFlags...), modeFlags[modes[0]]...) {
		allowed[f] = true
	}
	var stray []string
	fs.Visit(func(f *flag.Flag) {
		if !allowed[f.Name] {
			stray = append(stray, "--"+f.Name)
		}
	})
	if len(stray) > 0 {
		return usage("%s cannot be used with --%s", strings.Join(stray, ", "), modes[0])
	}
	switch modes[0] {
	case "repo":
		if o.cacheDir == "" {
			return usage("--repo needs --cache-dir")
		}
	case "source":
		if o.bucket, o.prefix, err = parseS3Source(o.source); err != nil {
			return usage("%v", err)
		}
		if o.destDir == "" {
			return usage("--source needs --dest-dir")
		}
		if (o.accessFile == "") != (o.secretFile == "") {
			return usage("give both --s3-access-key-file and --s3-secret-key-file, or neither for anonymous access")
		}
	}
	return o, nil
}

// parseS3Source splits s3://bucket/prefix.
func parseS3Source(src string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(src, "s3://")
	if !ok {
		return "", "", fmt.Errorf("--source %q: only s3://bucket/prefix is downloaded; for a pre-loaded volume use --verify-dir", src)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if err := s3.ValidateBucket(bucket); err != nil {
		return "", "", fmt.Errorf("--source %q: %w", src, err)
	}
	return bucket, prefix, nil
}

// runWith is run with a hook that learns the progress server's address (tests bind to port 0).
func runWith(args []string, stdout, stderr io.Writer, onListen func(net.Addr)) int {
	o, err := parse(args, stderr)
	if err != nil {
		return loader.ExitUsage
	}
	repo, revision := o.repo, o.revision
	switch {
	case o.source != "":
		repo, revision = "s3://"+o.bucket+"/"+s3.FolderPrefix(o.prefix), ""
	case o.verifyDir != "":
		repo, revision = o.verifyDir, ""
	}
	tracker := loader.NewTracker(repo, revision)
	if o.progressAddr != "" {
		srv, err := serveProgress(o.progressAddr, tracker, onListen)
		if err != nil {
			fmt.Fprintf(stderr, "loader: --progress-addr %s: %v\n", o.progressAddr, err)
			return loader.ExitUsage
		}
		defer srv.stop()
	}
	fail := func(reason, msg string) int {
		r := loader.Report{Repo: repo, Revision: revision, Reason: reason, Message: msg}
		tracker.Finish(r)
		return finish(r, o.termLog, stdout, stderr)
	}
	if err := loader.MakeWritableDirs(o.writable); err != nil {
		return fail(loader.ReasonDownloadFailed, err.Error())
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	p := &progress{out: stdout, every: o.interval}
	onProgress := func(s hub.Progress) {
		p.report(s)
		tracker.Update(s)
	}
	var r loader.Report
	switch {
	case o.verifyDir != "":
		r = loader.VerifyDir(o.verifyDir)
	case o.source != "":
		c, reason, msg := s3Client(o)
		if c == nil {
			return fail(reason, msg)
		}
		r = loader.RunS3(ctx, loader.S3Options{Bucket: o.bucket, Prefix: o.prefix, Dir: o.destDir,
			Filter: hub.Filter{Include: o.include, Exclude: o.exclude}, Client: c, Progress: onProgress})
	default:
		c, reason, msg := hubClient(o)
		if c == nil {
			return fail(reason, msg)
		}
		r = loader.Run(ctx, loader.Options{Repo: o.repo, Revision: o.revision, CacheDir: o.cacheDir,
			Filter: hub.Filter{Include: o.include, Exclude: o.exclude}, Client: c, Progress: onProgress})
	}
	p.flush()
	tracker.Finish(r)
	return finish(r, o.termLog, stdout, stderr)
}

// hubClient builds the Hub client, or says why it cannot.
func hubClient(o *options) (c *hub.Client, reason, msg string) {
	token := ""
	if o.tokenFile != "" {
		raw, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return nil, string(hub.ReasonUnauthorized), fmt.Sprintf("the token file %s cannot be read: %v; check the Secret "+
				"named in spec.model.tokenSecretRef", o.tokenFile, err)
		}
		token = strings.TrimSpace(string(raw))
	}
	hc, err := hub.NewHTTPClient(o.caBundle)
	if err != nil {
		return nil, loader.ReasonDownloadFailed, err.Error()
	}
	return hub.NewClient(hub.EndpointFromEnv(), token, hc), "", ""
}

// s3Client builds the S3 client from the flags and the key files, or says why it cannot.
func s3Client(o *options) (c *s3.Client, reason, msg string) {
	c = &s3.Client{Endpoint: o.endpoint, Region: o.region, PathStyle: o.pathStyle}
	if o.accessFile != "" {
		var keys [2]string
		for i, f := range []string{o.accessFile, o.secretFile} {
			raw, err := os.ReadFile(f)
			if err == nil && strings.TrimSpace(string(raw)) == "" {
				err = fmt.Errorf("it is empty")
			}
			if err != nil {
				return nil, string(hub.ReasonUnauthorized), fmt.Sprintf("the S3 key file %s cannot be read: %v; check the "+
					"Secret that holds the S3 credentials", f, err)
			}
			keys[i] = strings.TrimSpace(string(raw))
		}
		c.Credentials = &s3.Credentials{AccessKey: keys[0], SecretKey: keys[1]}
	}
	hc, err := hub.NewHTTPClient(o.caBundle)
	if err != nil {
		return nil, loader.ReasonDownloadFailed, err.Error()
	}
	c.HTTPClient = hc
	return c, "", ""
}

// finish writes the report (the termination message, and the last stdout line) and returns the exit status.
func finish(r loader.Report, termLog string, stdout, stderr io.Writer) int {
	msg := r.Encode()
	fmt.Fprintf(stdout, "%s\n", msg)
	if termLog != "" {
		if err := os.WriteFile(termLog, msg, 0o644); err != nil {
			fmt.Fprintf(stderr, "loader: writing the report to %s: %v\n", termLog, err)
		}
	}
	return r.ExitCode()
}
