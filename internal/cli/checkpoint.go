package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/privatellm/privatellm/internal/checkpoint"
	"github.com/privatellm/privatellm/internal/gpu"
)

// CheckpointArchitecture reads a checkpoint on disk — a directory with config.json and the weights, such as a
// Hugging Face cache snapshot or a copy on a volume — so that fit can size a model the catalogue does not know,
// from the same numbers the operator's loader reports. name labels the model in the report.
func CheckpointArchitecture(dir, name string) (gpu.Architecture, checkpoint.Facts, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return gpu.Architecture{}, checkpoint.Facts{}, fmt.Errorf("the checkpoint needs a config.json: %w", err)
	}
	facts, err := checkpoint.FromConfig(raw)
	if err != nil {
		return gpu.Architecture{}, checkpoint.Facts{}, err
	}
	var files []checkpoint.File
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" || d.Name() == ".cache" {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := os.Stat(p) // follows the snapshot's links to the blobs
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files = append(files, checkpoint.File{Path: filepath.ToSlash(rel), Size: info.Size()})
		return nil
	})
	if err != nil {
		return gpu.Architecture{}, checkpoint.Facts{}, fmt.Errorf("listing the checkpoint: %w", err)
	}
	facts = checkpoint.WithFiles(facts, files)
	arch, ok := facts.FitArchitecture(name)
	if !ok {
		return gpu.Architecture{}, facts, fmt.Errorf("the checkpoint in %s does not say enough to size it (layers %d, KV heads %d, head size %d, weights %d bytes of %s)",
			dir, facts.Layers, facts.KVHeads, facts.HeadDim, facts.WeightBytes, orUnknown(facts.TorchDtype))
	}
	return arch, facts, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown dtype"
	}
	return s
}
