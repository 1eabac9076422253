package hub

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCachePaths(t *testing.T) {
	c := Cache{Dir: "/cache"}
	for _, tc := range []struct{ got, want string }{
		{RepoFolderName("meta-llama/Llama-3.1-8B-Instruct"), "models--meta-llama--Llama-3.1-8B-Instruct"},
		{RepoFolderName("gpt2"), "models--gpt2"},
		{c.BlobPath("a/b", "e1"), "/cache/models--a--b/blobs/e1"},
		{c.SnapshotPath("a/b", "c0", "x/y.json"), "/cache/models--a--b/snapshots/c0/x/y.json"},
		{c.RefPath("a/b", "refs/pr/1"), "/cache/models--a--b/refs/refs/pr/1"},
	} {
		if tc.got != filepath.FromSlash(tc.want) {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
}

func TestNormalizeETag(t *testing.T) {
	// tests/test_file_download.py TestNormalizeEtag.
	for in, want := range map[string]string{
		`"a16a55fda99d2f2e7b69cce5cf93ff4ad3049930"`:   "a16a55fda99d2f2e7b69cce5cf93ff4ad3049930",
		`W/"a16a55fda99d2f2e7b69cce5cf93ff4ad3049930"`: "a16a55fda99d2f2e7b69cce5cf93ff4ad3049930",
	} {
		if got := normalizeETag(in); got != want {
			t.Errorf("normalizeETag(%s) = %s", in, got)
		}
	}
}

func TestRefAndLink(t *testing.T) {
	c := Cache{Dir: t.TempDir()}
	sha := "0e9e39f249a16976918f6564b8830bc894c89659"
	for _, rev := range []string{"main", "refs/pr/1"} {
		if err := c.writeRef("a/b", rev, sha); err != nil {
			t.Fatal(err)
		}
		if got, err := c.ReadRef("a/b", rev); err != nil || got != sha {
			t.Errorf("ReadRef(%s) = %q, %v", rev, got, err)
		}
	}
	if err := c.writeRef("a/b", sha, sha); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.RefPath("a/b", sha)); !os.IsNotExist(err) {
		t.Errorf("a ref was written for a commit sha")
	}

	blob := c.BlobPath("a/b", "e1")
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blob, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	pointer := c.SnapshotPath("a/b", sha, "d/e/f.bin")
	for range 2 { // the second call finds the link right and keeps it
		if err := link(pointer, blob); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := os.Readlink(pointer); got != filepath.FromSlash("../../../../blobs/e1") {
		t.Errorf("link -> %s", got)
	}
	if _, size, ok := linkedBlob(c.RepoDir("a/b"), pointer); !ok || size != 1 {
		t.Errorf("linkedBlob = %d, %v", size, ok)
	}
}
