package loader

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/privatellm/privatellm/test/hubsim"
)

// writeTree writes files (path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// treeState is every path under dir with its mode, size and modification time: what a read-only check must
// leave as it found.
func treeState(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		lines = append(lines, fmt.Sprintf("%s %v %d %d", p, fi.Mode(), fi.Size(), fi.ModTime().UnixNano()))
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestVerifyDirReportsAPreloadedModel: a folder with config.json and safetensors shards (one reached through a
// link, as in a Hugging Face snapshot) is reported like a download, and left untouched.
func TestVerifyDirReportsAPreloadedModel(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "snapshots", "abc")
	files := map[string][]byte{
		"config.json":                      hubsim.ModelConfig(hubsim.Config{Layers: 24, HiddenSize: 2048, Heads: 16, KVHeads: 4}),
		"model-00001-of-00002.safetensors": make([]byte, 3000), "tokenizer.json": []byte("{}"),
		".cache/huggingface/download/x.lock": nil,
	}
	writeTree(t, dir, files)
	writeTree(t, root, map[string][]byte{"blobs/b2": make([]byte, 2000)})
	if err := os.Symlink("../../blobs/b2", filepath.Join(dir, "model-00002-of-00002.safetensors")); err != nil {
		t.Fatal(err)
	}
	before := treeState(t, root)
	r := VerifyDir(dir)
	if r.Reason != "" || r.Files != 4 || r.Bytes != int64(len(files["config.json"]))+3000+2+2000 || r.Repo != dir {
		t.Fatalf("report %+v", r)
	}
	if c := r.Checkpoint; c == nil || c.Layers != 24 || c.KVHeads != 4 || c.Format != "safetensors" || c.WeightBytes != 5000 {
		t.Errorf("checkpoint %+v", r.Checkpoint)
	}
	if after := treeState(t, root); after != before {
		t.Errorf("the folder changed:\nbefore %s\nafter  %s", before, after)
	}
	if r.ExitCode() != ExitComplete {
		t.Errorf("exit %d", r.ExitCode())
	}
}

// TestVerifyDirAcceptsGGUF: a single .gguf file, or a folder with one and no config.json, is a model.
func TestVerifyDirAcceptsGGUF(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string][]byte{"llama-Q4_K_M.gguf": make([]byte, 4096)})
	for _, p := range []string{filepath.Join(dir, "llama-Q4_K_M.gguf"), dir} {
		r := VerifyDir(p)
		if r.Reason != "" || r.Files != 1 || r.Bytes != 4096 || r.Checkpoint == nil || r.Checkpoint.Format != "gguf" {
			t.Errorf("%s: %+v", p, r)
		}
	}
}

// TestVerifyDirSaysWhatIsMissing: no config.json, no weights, a link to nothing, a Hugging Face cache root, a
// path that is not there, a file that is not GGUF: ModelFilesMissing, not transient, with what to do.
func TestVerifyDirSaysWhatIsMissing(t *testing.T) {
	root := t.TempDir()
	cases := []struct {
		name  string
		files map[string][]byte
		link  string
		path  string
		says  string
	}{
		{name: "no config.json", files: map[string][]byte{"model.safetensors": make([]byte, 10)}, says: "no config.json"},
		{name: "no weights", files: map[string][]byte{"config.json": []byte("{}"), "training_args.bin": {1}}, says: "holds no weights"},
		{name: "a dangling link", files: map[string][]byte{"config.json": []byte("{}")}, link: "model.safetensors", says: "links to nothing"},
		{name: "a cache root", files: map[string][]byte{"snapshots/abc/config.json": []byte("{}"), "refs/main": []byte("abc")},
			path: "", says: "snapshots/<commit>"},
		{name: "an absent path", path: "absent", says: "cannot be read"},
		{name: "a file that is not gguf", files: map[string][]byte{"weights.txt": {1}}, path: "weights.txt", says: "not a .gguf file"},
	}
	for i, tc := range cases {
		dir := filepath.Join(root, fmt.Sprint(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		writeTree(t, dir, tc.files)
		if tc.link != "" {
			if err := os.Symlink("../blobs/none", filepath.Join(dir, tc.link)); err != nil {
				t.Fatal(err)
			}
		}
		r := VerifyDir(filepath.Join(dir, tc.path))
		if r.Reason != ReasonModelFilesMissing || r.Transient || r.ExitCode() != ExitFailed || !strings.Contains(r.Message, tc.says) {
			t.Errorf("%s: %+v, want ModelFilesMissing saying %q", tc.name, r, tc.says)
		}
	}
}
