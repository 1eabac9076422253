package loader

import (
	"context"
	"time"

	"github.com/privatellm/privatellm/internal/checkpoint"
	"github.com/privatellm/privatellm/internal/hub"
	"github.com/privatellm/privatellm/internal/s3"
)

// S3Options say which s3:// folder to download where.
type S3Options struct {
	// Bucket and Prefix name the folder s3://<bucket>/<prefix>; Filter selects by path below the prefix.
	Bucket, Prefix string
	Filter         hub.Filter
	// Dir is where the files go, e.g. /cache/s3/<bucket>/<prefix>.
	Dir string
	// Client talks to the S3 server.
	Client *s3.Client
	// Progress, when set, is called as bytes arrive (the caller throttles); Commit carries the content id.
	Progress func(hub.Progress)
}

// RunS3 downloads an s3:// folder and inspects it; it always returns a report, with Reason set when it failed.
// The report's Commit is the content id of the selected objects (s3.ContentID: the sha256 of their sorted
// paths, ETags and sizes), which changes whenever one of them does.
func RunS3(ctx context.Context, o S3Options) Report {
	start := time.Now()
	r := Report{Repo: "s3://" + o.Bucket + "/" + s3.FolderPrefix(o.Prefix)}
	res, err := o.Client.Download(ctx, s3.DownloadRequest{
		Bucket: o.Bucket, Prefix: o.Prefix, Dir: o.Dir, Filter: o.Filter, Progress: o.Progress,
	})
	r.Seconds = time.Since(start).Seconds()
	if err != nil {
		return failed(r, err)
	}
	r.Commit, r.Files, r.Downloaded = res.ContentID, len(res.Files), res.BytesDownloaded
	files := make([]checkpoint.File, 0, len(res.Files))
	for _, f := range res.Files {
		r.Bytes += f.Size
		files = append(files, checkpoint.File{Path: f.Path, Size: f.Size})
	}
	return inspect(r, res.Dir, files)
}
