package hub

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privatellm/privatellm/test/hubsim"
)

// The tests run against the Hub simulator of the test rig (test/hubsim), which answers like huggingface.co and
// its CDN; see its package doc for where each behaviour comes from.

const (
	goodToken  = "hf_good"
	otherToken = "hf_other" // valid, but not granted the private or gated repos
)

// newHub starts a simulated Hub that knows both tokens and reports, as test errors, a request without a
// privatellm User-Agent and a tree listing without recursive=true.
func newHub(t *testing.T, opts ...hubsim.Option) *hubsim.Hub {
	t.Helper()
	return hubsim.NewTest(t, append([]hubsim.Option{
		hubsim.Tokens(goodToken, otherToken),
		hubsim.RequireUserAgent("privatellm"),
		hubsim.Check(func(r *http.Request) string {
			if strings.Contains(r.URL.Path, "/tree/") && r.URL.Query().Get("recursive") != "true" {
				return "tree listing without recursive=true: " + r.URL.String()
			}
			return ""
		}),
	}, opts...)...)
}

// client returns a Client for the simulated Hub with the given token, no real sleeping, and the sleeps recorded.
func client(h *hubsim.Hub, token string) (*Client, *[]time.Duration) {
	var mu sync.Mutex
	slept := &[]time.Duration{}
	c := NewClient(h.URL(), token, h.HTTPClient())
	c.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		*slept = append(*slept, d)
		return ctx.Err()
	}
	return c, slept
}

// testSHA is the commit of testRepo.
const testSHA = "0e9e39f249a16976918f6564b8830bc894c89659"

// testRepo is a small model repo: config and tokenizer files in git, weights in LFS (one nested two levels), the
// original/ consolidated weights a filter skips, a README; main and v1.0 point at testSHA, goodToken may read it
// when it is made private or gated.
func testRepo() (hubsim.RepoOptions, string) {
	weights := make([]byte, 300_000)
	for i := range weights {
		weights[i] = byte(i*7 + i/251)
	}
	nested := make([]byte, 70_001)
	for i := range nested {
		nested[i] = byte(i * 13)
	}
	return hubsim.RepoOptions{
		Files: []hubsim.File{
			hubsim.Text(".gitattributes", "*.safetensors filter=lfs diff=lfs merge=lfs -text\n"),
			hubsim.Text("README.md", "# test model\n"),
			hubsim.Text("config.json", `{"architectures":["LlamaForCausalLM"],"num_hidden_layers":2}`),
			hubsim.Text("tokenizer.json", `{"version":"1.0","model":{"type":"BPE"}}`),
			hubsim.LFSFile("model.safetensors", weights),
			hubsim.LFSFile("extra/deep/adapter.safetensors", nested),
			hubsim.LFSFile("original/consolidated.00.pth", []byte("pickled weights we skip")),
		},
		Commit: testSHA,
		Refs:   map[string]string{"v1.0": testSHA},
		Tokens: []string{goodToken},
	}, testSHA
}

// fileIn returns the file at path among a repo's files.
func fileIn(opts hubsim.RepoOptions, path string) hubsim.File {
	for _, f := range opts.Files {
		if f.Path == path {
			return f
		}
	}
	panic("no file " + path)
}
