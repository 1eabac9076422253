package llmdeployment

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/internal/render"
	"github.com/privatellm/privatellm/test/testutil"
)

// TestFuzzCorpusAgainstAPIServer replays the committed corpus of FuzzRender (internal/render) through the real
// API server: every spec the CRD's validation accepts must render a Deployment and a Service that the API server
// accepts too (server-side dry run).
func TestFuzzCorpusAgainstAPIServer(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "internal", "render", "testdata", "fuzz", "FuzzRender", "*"))
	if err != nil || len(files) < 20 {
		t.Fatalf("want the committed fuzz corpus (at least 20 inputs), got %d (%v)", len(files), err)
	}
	ns := newNamespace(t)
	accepted := 0
	for i, f := range files {
		in, err := readCorpusFile(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		llm := testutil.FuzzSpec(in.s[0], in.s[1], in.s[2], in.s[3], in.s[4], in.s[5], in.b[0], in.b[1])
		llm.Namespace, llm.Name = ns, fmt.Sprintf("fuzz-%d", i)
		if err := k8sClient.Create(context.Background(), llm, client.DryRunAll); err != nil {
			continue // refused at admission: nothing to render
		}
		accepted++
		plan, err := engine.For(llm, testConfig.EngineImages())
		if err != nil {
			t.Errorf("%s: accepted by the API server but refused by the engine: %v", filepath.Base(f), err)
			continue
		}
		for _, obj := range []client.Object{render.Deployment(llm, plan), render.Service(llm, plan)} {
			if err := k8sClient.Create(context.Background(), obj, client.DryRunAll); err != nil {
				t.Errorf("%s: the rendered %T was refused: %v", filepath.Base(f), obj, err)
			}
		}
	}
	t.Logf("%d corpus inputs, %d accepted by the CRD's validation and rendered into valid children", len(files), accepted)
	if accepted == 0 {
		t.Error("no corpus input was a valid LLMDeployment: the corpus tests nothing")
	}
}

type corpusInput struct {
	s []string
	b []uint8
}

// readCorpusFile parses Go's fuzz corpus format: a header line, then one typed literal per line.
func readCorpusFile(path string) (corpusInput, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return corpusInput{}, err
	}
	var in corpusInput
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	for _, line := range lines[1:] {
		switch {
		case strings.HasPrefix(line, "string(") && strings.HasSuffix(line, ")"):
			v, err := strconv.Unquote(line[len("string(") : len(line)-1])
			if err != nil {
				return in, fmt.Errorf("%q: %w", line, err)
			}
			in.s = append(in.s, v)
		case strings.HasPrefix(line, "byte(") && strings.HasSuffix(line, ")"):
			lit := line[len("byte(") : len(line)-1]
			r, _, _, err := strconv.UnquoteChar(strings.Trim(lit, "'"), '\'')
			if err != nil {
				return in, fmt.Errorf("%q: %w", line, err)
			}
			in.b = append(in.b, uint8(r))
		default:
			return in, fmt.Errorf("unexpected corpus line %q", line)
		}
	}
	if len(in.s) != 6 || len(in.b) != 2 {
		return in, fmt.Errorf("want 6 strings and 2 bytes, got %d and %d", len(in.s), len(in.b))
	}
	return in, nil
}
