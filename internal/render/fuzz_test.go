package render_test

import (
	"strings"
	"testing"

	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/internal/render"
	"github.com/privatellm/privatellm/test/testutil"
)

// managedFlag says whether a token is a flag the engine plan itself sets.
func managedFlag(tok string) bool {
	for _, p := range []string{
		"--host=", "--port=", "--served-model-name=", "--tensor-parallel-size=", "--pipeline-parallel-size=", "--revision=",
		"--load-format=", "--quantization=", "--dtype=", "--max-model-len=", "--trust-remote-code", "--shutdown-timeout=",
		"--model-id=", "--hostname=", "--prometheus-port=", "--huggingface-hub-cache=", "--graceful-termination-timeout=",
		"--num-shard=", "--quantize=", "--max-total-tokens=", "--max-input-tokens=",
	} {
		if strings.HasPrefix(tok, p) {
			return true
		}
	}
	return false
}

// FuzzRender: whatever the spec, rendering never panics, and no user string reaches a flag position — every
// token starting with '-' is either a managed flag (values joined with '=') or the user's own extra arg, which
// the CRD's CEL rules check against the managed flags.
func FuzzRender(f *testing.F) {
	f.Add("hf://meta-llama/Llama-3.1-8B-Instruct", "main", "llama", "vllm", "awq", "--enable-prefix-caching", uint8(0), uint8(0))
	f.Add("hf://org/model", "--trust-remote-code", "-x", "tgi", "none", "", uint8(3), uint8(3))
	f.Add("pvc://models/llama/8b", "", "", "vllm", "fp8", "", uint8(7), uint8(3))
	f.Add("s3://bucket/path", "v1", "a b", "vllm", "bitsandbytes", "--max-num-seqs=8", uint8(1), uint8(1))
	f.Add("file:///etc/passwd", "", "", "vllm", "none", "", uint8(0), uint8(0))
	f.Add("hf://a/b; rm -rf /", "$(id)", "`id`", "tgi", "exl2", "-p 1", uint8(0), uint8(0))
	defaults := config.Default().EngineImages()
	f.Fuzz(func(t *testing.T, uri, revision, servedName, engineName, quant, extraArg string, gpus, tp uint8) {
		llm := testutil.FuzzSpec(uri, revision, servedName, engineName, quant, extraArg, gpus, tp)
		plan, err := engine.For(llm, defaults)
		if err != nil {
			return // refused before rendering: nothing reaches a pod
		}
		d := render.Deployment(llm, plan)
		_ = render.Service(llm, plan)
		c := d.Spec.Template.Spec.Containers[0]
		for i, tok := range c.Args {
			switch {
			case i == 1 && c.Command[0] == "vllm":
				// vllm serve <model>: the location comes from a parsed, validated URI.
				if strings.HasPrefix(tok, "-") || tok != plan.Model.Location() {
					t.Fatalf("model position holds %q", tok)
				}
			case strings.HasPrefix(tok, "-"):
				if !managedFlag(tok) && tok != extraArg {
					t.Fatalf("token %q in a flag position is neither managed nor the user's extra arg; args %q", tok, c.Args)
				}
			case tok != "serve" && tok != extraArg:
				t.Fatalf("bare token %q: a user value escaped its --flag=value token; args %q", tok, c.Args)
			}
		}
	})
}
