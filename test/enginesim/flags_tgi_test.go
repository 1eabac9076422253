package enginesim

import (
	"errors"
	"strings"
	"testing"
)

const tgiProg = "text-generation-launcher"

// tgiOperatorArgs is the command line privatellm renders for TGI (internal/engine/tgi.go Plan).
var tgiOperatorArgs = []string{
	"--model-id=mistralai/Mistral-7B-Instruct-v0.3",
	"--hostname=0.0.0.0",
	"--port=8080",
	"--prometheus-port=9000",
	"--huggingface-hub-cache=/var/cache/privatellm/huggingface/hub",
	"--graceful-termination-timeout=60",
	"--dtype=bfloat16",
	"--max-total-tokens=8192",
	"--max-input-tokens=8191",
}

func TestTGIFlagsAcceptsOperatorCommandLine(t *testing.T) {
	cases := [][]string{
		tgiOperatorArgs,
		append(append([]string{}, tgiOperatorArgs...), "--num-shard=2", "--revision=main", "--trust-remote-code"),
		{"--model-id=org/awq-model", "--quantize=fp8", "--num-shard=2", "--revision=main", "--trust-remote-code"},
	}
	for _, args := range cases {
		cl, err := tgiFlags.Parse(tgiProg, args, 0)
		if err != nil {
			t.Fatalf("Parse(%q): %v", args, err)
		}
		for _, a := range args {
			name, want, _ := strings.Cut(a, "=")
			got, ok := cl.Last(name)
			if !ok || got != want {
				t.Errorf("Parse(%q): %s = %q, %v; want %q", args, name, got, ok, want)
			}
		}
	}
}

func TestTGIFlagsAcceptsClapSpellings(t *testing.T) {
	cases := []struct {
		args       []string
		name, want string
	}{
		{[]string{"--port", "8080"}, "--port", "8080"},
		{[]string{"-p", "8080"}, "--port", "8080"},
		{[]string{"-p8080"}, "--port", "8080"},
		{[]string{"-p=8080"}, "--port", "8080"},
		{[]string{"-g", "30"}, "--graceful-termination-timeout", "30"},
		{[]string{"--sharded=false"}, "--sharded", "false"},
		{[]string{"--quantize", "bitsandbytes-nf4"}, "--quantize", "bitsandbytes-nf4"},
		{[]string{"--kv-cache-dtype=fp8_e4m3fn"}, "--kv-cache-dtype", "fp8_e4m3fn"},
		{[]string{"--usage-stats=no-stack"}, "--usage-stats", "no-stack"},
		{[]string{"--rope-scaling=dynamic", "--rope-factor=2.0"}, "--rope-scaling", "dynamic"},
		{[]string{"--cuda-graphs=1,2,4,8"}, "--cuda-graphs", "1,2,4,8"},
		{[]string{"--cuda-memory-fraction", "0.9"}, "--cuda-memory-fraction", "0.9"},
		{[]string{"--lora-adapters=org/a,org/b@main"}, "--lora-adapters", "org/a,org/b@main"},
		{[]string{"-e"}, "--env", ""},
	}
	for _, c := range cases {
		cl, err := tgiFlags.Parse(tgiProg, c.args, 0)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.args, err)
			continue
		}
		if got, ok := cl.Last(c.name); !ok || got != c.want {
			t.Errorf("Parse(%q): %s = %q, %v; want %q", c.args, c.name, got, ok, c.want)
		}
	}
}

func TestTGIFlagsRefuses(t *testing.T) {
	cases := []struct {
		args []string
		msg  string
	}{
		// Another engine's flags and spellings clap does not know (no abbreviations, no underscores).
		{[]string{"--max-model-len=8192"}, "unexpected argument '--max-model-len=8192' found"},
		{[]string{"--max_total_tokens=8192"}, "unexpected argument"},
		{[]string{"--model=org/m"}, "unexpected argument"},
		{[]string{"--tensor-parallel-size=2"}, "unexpected argument"},
		// ValueEnum possible values.
		{[]string{"--dtype=auto"}, "invalid value 'auto' for '--dtype <DTYPE>'\n  [possible values: float16, bfloat16]"},
		{[]string{"--dtype=float32"}, "possible values"},
		{[]string{"--quantize=awq-marlin"}, "possible values: awq, compressed-tensors, eetq, exl2, gptq, marlin, bitsandbytes, bitsandbytes-nf4, bitsandbytes-fp4, fp8"},
		{[]string{"--quantize=bitsandbytes_nf4"}, "possible values"},
		{[]string{"--kv-cache-dtype=fp8"}, "possible values: fp8_e4m3fn, fp8_e5m2"},
		{[]string{"--usage-stats=false"}, "possible values: on, off, no-stack"},
		{[]string{"--sharded=yes"}, "possible values: true, false"},
		// Integer and float fields.
		{[]string{"--max-total-tokens=8k"}, "invalid value '8k' for '--max-total-tokens <MAX_TOTAL_TOKENS>'"},
		{[]string{"--port=http"}, "invalid value"},
		{[]string{"--cuda-memory-fraction=most"}, "invalid value"},
		// Switches take no value.
		{[]string{"--trust-remote-code=true"}, "unexpected value 'true' for '--trust-remote-code' found"},
		// ArgAction::Set and SetTrue refuse a second occurrence, whatever the spelling.
		{[]string{"--port=8080", "--port", "8081"}, "the argument '--port <PORT>' cannot be used multiple times"},
		{[]string{"-p", "8080", "--port=8080"}, "cannot be used multiple times"},
		{[]string{"--trust-remote-code", "--trust-remote-code"}, "the argument '--trust-remote-code' cannot be used multiple times"},
		{[]string{"--graceful-termination-timeout=60", "-g", "30"}, "cannot be used multiple times"},
		// A value is required, and there is no positional argument.
		{[]string{"--model-id"}, "a value is required for '--model-id <MODEL_ID>' but none was supplied"},
		{[]string{"--model-id", "--port=8080"}, "a value is required"},
		{[]string{"mistralai/Mistral-7B-Instruct-v0.3"}, "unexpected argument 'mistralai/Mistral-7B-Instruct-v0.3' found"},
	}
	for _, c := range cases {
		_, err := tgiFlags.Parse(tgiProg, c.args, 0)
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("Parse(%q) = %v; want a usage error", c.args, err)
			continue
		}
		if ue.Code != 2 {
			t.Errorf("Parse(%q): exit %d; want 2 (clap)", c.args, ue.Code)
		}
		if !strings.Contains(ue.Message, c.msg) {
			t.Errorf("Parse(%q): %q; want it to contain %q", c.args, ue.Message, c.msg)
		}
	}
}

// TestTGIFlagsTable checks the table against the clap derive rules it was read with: 54 fields of struct Args plus
// --help and --version, unique spellings, and `env` named after the field.
func TestTGIFlagsTable(t *testing.T) {
	if tgiFlags.Syntax != Clap || tgiFlags.AllowAbbrev || tgiFlags.UnderscoreAsDash {
		t.Errorf("syntax %v, abbrev %v, underscores %v; want clap without either", tgiFlags.Syntax, tgiFlags.AllowAbbrev, tgiFlags.UnderscoreAsDash)
	}
	if got, want := len(tgiFlags.Flags), 54+2; got != want {
		t.Errorf("%d flags; want %d", got, want)
	}
	seen := map[string]bool{}
	noEnv := map[string]bool{"--env": true, "--help": true, "--version": true}
	for _, f := range tgiFlags.Flags {
		for i, n := range f.Names {
			if seen[n] {
				t.Errorf("%s: spelling %s listed twice", f.Name(), n)
			}
			seen[n] = true
			long := strings.HasPrefix(n, "--")
			if (i == 0) != long || (!long && len(n) != 2) {
				t.Errorf("%s: spelling %s: want the long name first, then one-letter shorts", f.Name(), n)
			}
		}
		if f.Negation != "" {
			t.Errorf("%s: clap derive has no negations here", f.Name())
		}
		want := strings.ToUpper(strings.ReplaceAll(strings.TrimPrefix(f.Name(), "--"), "-", "_"))
		if noEnv[f.Name()] {
			want = ""
		}
		if f.Env != want {
			t.Errorf("%s: env %q; want %q", f.Name(), f.Env, want)
		}
		if f.Arity != NoValue && f.Arity != OneValue {
			t.Errorf("%s: arity %v; clap options here take no value or one per occurrence", f.Name(), f.Arity)
		}
	}
}
