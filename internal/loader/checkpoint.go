package loader

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/privatellm/privatellm/internal/checkpoint"
)

// inspect reads the checkpoint's facts from the folder's config.json and its file list into the report, the
// same way for every source (the Hub's snapshot, an S3 folder, a pre-loaded volume). A folder without a
// config.json (GGUF) still gets the weights' format and size; a config.json that cannot be parsed is noted in the
// message and leaves the checkpoint out, since the download itself is good and the engine will judge the config.
func inspect(r Report, dir string, files []checkpoint.File) Report {
	r.ModelFile = ggufFile(files)
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	switch {
	case errors.Is(err, os.ErrNotExist):
		facts := checkpoint.WithFiles(checkpoint.Facts{}, files)
		r.Checkpoint = &facts
	case err != nil:
		return failed(r, fmt.Errorf("reading the checkpoint's config.json: %w", err))
	default:
		facts, err := checkpoint.FromConfig(raw)
		if err != nil {
			r.Message = "the checkpoint's config.json could not be read: " + err.Error()
			break
		}
		facts = checkpoint.WithFiles(facts, files)
		r.Checkpoint = &facts
	}
	return r
}

// ggufFile is the GGUF file llama.cpp loads of a file list: the first in path order, which for a split model is
// its first part (llama.cpp finds the others next to it); "" without one.
func ggufFile(files []checkpoint.File) string {
	var ggufs []string
	for _, f := range files {
		if strings.HasSuffix(strings.ToLower(f.Path), ".gguf") {
			ggufs = append(ggufs, f.Path)
		}
	}
	slices.Sort(ggufs)
	if len(ggufs) == 0 {
		return ""
	}
	return ggufs[0]
}
