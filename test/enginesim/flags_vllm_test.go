package enginesim

import (
	"errors"
	"strings"
	"testing"
)

const vllmProg = "vllm serve"

const vllmModel = "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4"

// vllmOperatorArgs is the command line privatellm renders for vLLM, after "serve".
var vllmOperatorArgs = []string{
	vllmModel,
	"--gpu-memory-utilization=0.92",
	"--enable-prefix-caching",
	"--host=0.0.0.0",
	"--port=8000",
	"--served-model-name=llama-3.1-8b-instruct",
	"--tensor-parallel-size=1",
	"--max-model-len=8192",
	"--shutdown-timeout=60",
}

func vllmParse(t *testing.T, args ...string) CommandLine {
	t.Helper()
	cl, err := vllmFlags.Parse(vllmProg, args, 1)
	if err != nil {
		t.Fatalf("Parse(%q): %v", args, err)
	}
	return cl
}

func TestVLLMFlagsAcceptsOperatorCommandLine(t *testing.T) {
	extra := []string{
		"--quantization=fp8",
		"--dtype=bfloat16",
		"--pipeline-parallel-size=2",
		"--revision=main",
		"--load-format=runai_streamer",
		"--trust-remote-code",
		"--kv-cache-dtype=fp8",
	}
	args := append(append([]string{}, vllmOperatorArgs...), extra...)
	cl := vllmParse(t, args...)
	if len(cl.Positionals) != 1 || cl.Positionals[0] != vllmModel {
		t.Fatalf("Positionals = %q, want [%q]", cl.Positionals, vllmModel)
	}
	for _, a := range args[1:] {
		name, want, hasValue := strings.Cut(a, "=")
		got, ok := cl.Last(name)
		if !ok {
			t.Errorf("%s: not parsed", name)
			continue
		}
		if hasValue && got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestVLLMFlagsAcceptsVLLMSpellings(t *testing.T) {
	cases := []struct {
		args       []string
		name, want string
	}{
		{[]string{"m", "--max_model_len=8k"}, "--max-model-len", "8k"},                 // underscores, human-readable int
		{[]string{"m", "--max-model-len", "auto"}, "--max-model-len", "auto"},          // human_readable_int_or_auto
		{[]string{"m", "--gpu-memory-util", "0.5"}, "--gpu-memory-utilization", "0.5"}, // allow_abbrev
		{[]string{"m", "--no-enable-prefix-caching"}, "--enable-prefix-caching", "false"},
		{[]string{"m", "-tp", "4"}, "--tensor-parallel-size", "4"},
		{[]string{"m", "-pp=2"}, "--pipeline-parallel-size", "2"},
		{[]string{"m", "-q", "awq_marlin"}, "--quantization", "awq_marlin"},
		{[]string{"m", "--quantization", "not-a-method"}, "--quantization", "not-a-method"}, // no choices at parse time
		{[]string{"m", "--load-format", "anything"}, "--load-format", "anything"},
		{[]string{"m", "-O", "3"}, "--optimization-level", "3"},
		{[]string{"m", "--served-model-name", "a", "b"}, "--served-model-name", "b"},
		{[]string{"m", "--hf-token"}, "--hf-token", ""},
		{[]string{"m", "--collect-detailed-traces", "all"}, "--collect-detailed-traces", "all"},
		{[]string{"m", "--max-lora-rank", "08"}, "--max-lora-rank", "08"},
		{[]string{"m", "--moe-backend", "FLASHINFER-CUTLASS"}, "--moe-backend", "FLASHINFER-CUTLASS"},
		{[]string{"m", "--compilation-config", `{"mode": 3}`}, "--compilation-config", `{"mode": 3}`},
		{[]string{"m", "--kv-transfer-config", ""}, "--kv-transfer-config", ""},
		{[]string{"m", "--help=all"}, "--help", "all"},
		{[]string{"--port", "8000", "m"}, "--port", "8000"},
	}
	for _, c := range cases {
		cl := vllmParse(t, c.args...)
		got, ok := cl.Last(c.name)
		if !ok || got != c.want {
			t.Errorf("Parse(%q): %s = %q, %v; want %q", c.args, c.name, got, ok, c.want)
		}
	}
	for _, args := range [][]string{
		{},           // no model: vLLM serves its default
		{"m", "-O3"}, // -O<level> as one word
		{"m", "--grpc", "--headless", "-asc", "0"},
		{"m", "--enable-log-requests", "--no-enable-log-requests"},
	} {
		vllmParse(t, args...)
	}
}

func TestVLLMFlagsRefusesWhatVLLMRefuses(t *testing.T) {
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"m", "--bogus-flag"}, "unrecognized arguments: --bogus-flag"},
		{[]string{"m", "other"}, "unrecognized arguments: other"},
		{[]string{"m", "--dtype=bf16"}, "argument --dtype: invalid choice"},
		{[]string{"m", "--kv-cache-dtype", "int8"}, "argument --kv-cache-dtype: invalid choice"},
		{[]string{"m", "--collect-detailed-traces", "None"}, "invalid choice"},
		{[]string{"m", "--tensor-parallel-size=two"}, "invalid int value"},
		{[]string{"m", "--shutdown-timeout=1.5"}, "invalid int value"},
		{[]string{"m", "--gpu-memory-utilization", "high"}, "invalid float value"},
		{[]string{"m", "--override-generation-config", "notjson"}, "invalid loads value"},
		{[]string{"m", "--enable-prefix-caching=true"}, "ignored explicit argument"},
		{[]string{"m", "--enable"}, "ambiguous option: --enable could match"},
		{[]string{"m", "--port"}, "expected one argument"},
		{[]string{"m", "--api-key"}, "expected at least one argument"},
		{[]string{"m", "-tp2"}, "unrecognized arguments: -tp2"},
	}
	for _, c := range cases {
		_, err := vllmFlags.Parse(vllmProg, c.args, 1)
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("Parse(%q) = %v, want a usage error", c.args, err)
			continue
		}
		if ue.Code != 2 || !strings.Contains(ue.Message, c.msg) {
			t.Errorf("Parse(%q) = %d %q, want 2 and %q", c.args, ue.Code, ue.Message, c.msg)
		}
	}
}

func TestVLLMFlagsTableShape(t *testing.T) {
	if vllmFlags.Syntax != Argparse || !vllmFlags.AllowAbbrev || !vllmFlags.UnderscoreAsDash {
		t.Fatalf("syntax %v, abbrev %v, underscore %v", vllmFlags.Syntax, vllmFlags.AllowAbbrev, vllmFlags.UnderscoreAsDash)
	}
	if len(vllmFlags.Flags) < 220 {
		t.Errorf("%d flags; vLLM v0.18.0's serve parser has 227 options", len(vllmFlags.Flags))
	}
	seen := map[string]bool{}
	for _, f := range vllmFlags.Flags {
		spellings := append([]string{}, f.Names...)
		if f.Negation != "" {
			spellings = append(spellings, f.Negation)
			if f.Negation != "--no-"+strings.TrimPrefix(f.Name(), "--") || f.Arity != NoValue {
				t.Errorf("%s: negation %q, arity %v", f.Name(), f.Negation, f.Arity)
			}
		}
		for _, s := range spellings {
			if seen[s] {
				t.Errorf("%s spelled twice", s)
			}
			seen[s] = true
		}
		if !strings.HasPrefix(f.Name(), "--") && !strings.HasPrefix(f.Name(), "-O") {
			t.Errorf("%s: canonical spelling is not long", f.Name())
		}
		if len(f.Choices) > 0 && f.Type != String {
			t.Errorf("%s: choices on a %v", f.Name(), f.Type)
		}
	}
	for _, s := range []string{"--headless", "--api-server-count", "-asc", "--config", "--grpc", "--shutdown-timeout",
		"--model", "--trust-remote-code", "--allowed-local-media-path", "-tp", "-pp", "-q", "-O", "-cc", "-ac", "-dp", "-ep"} {
		if !seen[s] {
			t.Errorf("%s missing", s)
		}
	}
}
