package hub

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkVerifiedWrite measures the write path of a download: read the body, write it to the partial file and
// hash it with sha256 as it goes (copyVerified), for a 64 MiB LFS file; "discard" leaves the disk out.
func BenchmarkVerifiedWrite(b *testing.B) {
	const size = 64 << 20
	data := make([]byte, size)
	_, _ = rand.Read(data)
	sum := sha256.Sum256(data)
	f := File{Path: "model.safetensors", Size: size, LFS: &LFSInfo{SHA256: hex.EncodeToString(sum[:]), Size: size}}

	run := func(b *testing.B, open func() io.WriteCloser) {
		b.SetBytes(size)
		for b.Loop() {
			w := open()
			v := newVerifier(f)
			n, err := copyVerified(w, v, bytes.NewReader(data), size, nil)
			if err != nil || n != size {
				b.Fatal(n, err)
			}
			if msg := v.check(); msg != "" {
				b.Fatal(msg)
			}
			_ = w.Close()
		}
	}
	b.Run("file", func(b *testing.B) {
		p := filepath.Join(b.TempDir(), "blob.incomplete")
		run(b, func() io.WriteCloser {
			fh, err := os.Create(p)
			if err != nil {
				b.Fatal(err)
			}
			return fh
		})
	})
	b.Run("discard", func(b *testing.B) {
		run(b, func() io.WriteCloser { return nopCloser{io.Discard} })
	})
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
