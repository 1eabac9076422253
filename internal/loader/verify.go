package loader

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/privatellm/privatellm/internal/checkpoint"
)

// VerifyDir checks a pre-loaded model (a pvc:// source) without writing anything: path is a folder that holds a
// config.json and weights (safetensors, PyTorch .bin, or a GGUF file, which needs no config.json), or a single
// .gguf file. Hidden files and folders (.git, .cache, the loader's own manifest) are not counted. It reports the
// files, their bytes and the checkpoint's facts as a download would, or ReasonModelFilesMissing with what to
// put where.
func VerifyDir(path string) Report {
	start := time.Now()
	r := verifyDir(path)
	r.Seconds = time.Since(start).Seconds()
	return r
}

func verifyDir(path string) Report {
	r := Report{Repo: path}
	fi, err := os.Stat(path)
	if err != nil {
		return missing(r, fmt.Sprintf("the pre-loaded model %s cannot be read (%v): check the claim and the path in the source", path, err))
	}
	if !fi.IsDir() {
		if !fi.Mode().IsRegular() || !strings.EqualFold(filepath.Ext(path), ".gguf") {
			return missing(r, fmt.Sprintf("the pre-loaded model %s is a file but not a .gguf file: point the source at the "+
				"model's folder (config.json and weights) or at one .gguf file", path))
		}
		facts := checkpoint.WithFiles(checkpoint.Facts{}, []checkpoint.File{{Path: filepath.Base(path), Size: fi.Size()}})
		r.Files, r.Bytes, r.Checkpoint = 1, fi.Size(), &facts
		return r
	}

	var files []checkpoint.File
	var dangling []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == path {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(path, p)
		rel = filepath.ToSlash(rel)
		st, err := os.Stat(p) // follows links: a Hugging Face snapshot is links into blobs/
		if err != nil {
			dangling = append(dangling, rel)
			return nil
		}
		if st.Mode().IsRegular() {
			files = append(files, checkpoint.File{Path: rel, Size: st.Size()})
		}
		return nil
	})
	if err != nil {
		return missing(r, fmt.Sprintf("the pre-loaded model %s cannot be read (%v): check the claim and the path in the source", path, err))
	}
	if len(dangling) > 0 {
		return missing(r, fmt.Sprintf("%d files of the pre-loaded model %s are links to nothing (%s): copy the files they "+
			"point to (for a Hugging Face cache, its blobs/) onto the volume", len(dangling), path, strings.Join(first(dangling, 3), ", ")))
	}
	hint := ""
	if st, err := os.Stat(filepath.Join(path, "snapshots")); err == nil && st.IsDir() {
		hint = "; it looks like a Hugging Face cache folder: point the source at its snapshots/<commit> folder"
	}
	format := checkpoint.WithFiles(checkpoint.Facts{}, files).Format
	hasConfig := false
	for _, f := range files {
		hasConfig = hasConfig || f.Path == "config.json"
	}
	switch {
	case format == "":
		return missing(r, fmt.Sprintf("the pre-loaded model %s holds no weights (*.safetensors, pytorch_model*.bin or a *.gguf "+
			"file) among its %d files: copy the model's weights into it%s", path, len(files), hint))
	case format != "gguf" && !hasConfig:
		return missing(r, fmt.Sprintf("the pre-loaded model %s has %s weights but no config.json at its top: copy the "+
			"model's config.json (and tokenizer files) next to the weights%s", path, format, hint))
	}
	r.Files = len(files)
	for _, f := range files {
		r.Bytes += f.Size
	}
	return inspect(r, path, files)
}

func missing(r Report, msg string) Report {
	r.Reason, r.Message = ReasonModelFilesMissing, msg
	return r
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }
