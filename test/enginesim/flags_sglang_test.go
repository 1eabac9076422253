package enginesim

import (
	"errors"
	"strings"
	"testing"
)

const sglangProg = "launch_server.py"

// sglangOperatorArgs is the command line privatellm renders for SGLang, after "python3 -m sglang.launch_server".
var sglangOperatorArgs = []string{
	"--model-path=Qwen/Qwen2.5-7B-Instruct-AWQ",
	"--host=0.0.0.0",
	"--port=30000",
	"--served-model-name=qwen",
	"--tp-size=1",
	"--context-length=8192",
	"--enable-metrics",
}

func sglangParse(t *testing.T, args ...string) CommandLine {
	t.Helper()
	cl, err := sglangFlags.Parse(sglangProg, args, 0)
	if err != nil {
		t.Fatalf("Parse(%q): %v", args, err)
	}
	return cl
}

func sglangRefuse(t *testing.T, wantMsg string, args ...string) {
	t.Helper()
	_, err := sglangFlags.Parse(sglangProg, args, 0)
	var ue *UsageError
	if !errors.As(err, &ue) {
		t.Fatalf("Parse(%q) = %v, want a usage error", args, err)
	}
	if ue.Code != 2 {
		t.Errorf("Parse(%q): exit %d, want 2 (argparse)", args, ue.Code)
	}
	if !strings.Contains(ue.Message, wantMsg) {
		t.Errorf("Parse(%q): message %q does not contain %q", args, ue.Message, wantMsg)
	}
}

func TestSGLangFlagsAcceptsOperatorCommandLine(t *testing.T) {
	extra := []string{
		"--quantization=fp8",
		"--dtype=bfloat16",
		"--revision=main",
		"--trust-remote-code",
		"--pp-size=2",
	}
	args := append(append([]string{}, sglangOperatorArgs...), extra...)
	cl := sglangParse(t, args...)
	if len(cl.Positionals) != 0 {
		t.Fatalf("Positionals = %q, want none", cl.Positionals)
	}
	canonical := map[string]string{
		"--tp-size": "--tensor-parallel-size",
		"--pp-size": "--pipeline-parallel-size",
	}
	for _, a := range args {
		name, want, hasValue := strings.Cut(a, "=")
		if c, ok := canonical[name]; ok {
			name = c
		}
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

func TestSGLangFlagsAcceptsSGLangSpellings(t *testing.T) {
	cases := []struct {
		args       []string
		name, want string
	}{
		{[]string{"--model", "m"}, "--model-path", "m"},                                // alias
		{[]string{"--tensor-parallel-size", "2"}, "--tensor-parallel-size", "2"},       // canonical
		{[]string{"--tp", "2"}, "--tensor-parallel-size", "2"},                         // allow_abbrev: unique prefix of --tp-size
		{[]string{"--dp", "2"}, "--data-parallel-size", "2"},                           // allow_abbrev: unique prefix of --dp-size
		{[]string{"--ep", "4"}, "--expert-parallel-size", "4"},                         // exact alias wins over prefixes
		{[]string{"--mem-fraction", "0.8"}, "--mem-fraction-static", "0.8"},            // allow_abbrev
		{[]string{"--chunked-prefill-size", "-1"}, "--chunked-prefill-size", "-1"},     // negative number is a value
		{[]string{"--nccl-init-addr", "h:5000"}, "--dist-init-addr", "h:5000"},         // backward-compatible alias
		{[]string{"--hybrid-kvcache-ratio"}, "--hybrid-kvcache-ratio", ""},             // nargs='?'
		{[]string{"--reasoning-parser", "anything"}, "--reasoning-parser", "anything"}, // choices from another module: unchecked
		{[]string{"--cuda-graph-bs", "1", "2", "4"}, "--cuda-graph-bs", "4"},           // nargs='+'
		{[]string{"--lora-paths"}, "--lora-paths", ""},                                 // nargs='*'
		{[]string{"--log-requests-level", "3"}, "--log-requests-level", "3"},
		{[]string{"--prefill-round-robin-balance"}, "--prefill-round-robin-balance", ""}, // DeprecatedAction: warns only
		{[]string{"--mm-process-config", `{"image": {}}`}, "--mm-process-config", `{"image": {}}`},
	}
	for _, c := range cases {
		args := append([]string{"--model-path", "m"}, c.args...)
		cl := sglangParse(t, args...)
		got, ok := cl.Last(c.name)
		if !ok || got != c.want {
			t.Errorf("Parse(%q): %s = %q (given %v), want %q", args, c.name, got, ok, c.want)
		}
	}
}

func TestSGLangFlagsRefusesWhatSGLangRefuses(t *testing.T) {
	cases := []struct {
		msg  string
		args []string
	}{
		{"unrecognized arguments: --no-such-flag", []string{"--no-such-flag"}},
		{"unrecognized arguments: Qwen/Qwen2.5-7B-Instruct", []string{"Qwen/Qwen2.5-7B-Instruct"}}, // no positional
		{"unrecognized arguments: --max-model-len=8192", []string{"--max-model-len=8192"}},         // a vLLM flag
		{"unrecognized arguments: --enable-session-cache", []string{"--enable-session-cache"}},     // only in PR #14994
		{"invalid choice: \"fp9\"", []string{"--quantization=fp9"}},
		{"invalid choice: \"int8\"", []string{"--dtype", "int8"}},
		{"invalid choice: \"fp8\"", []string{"--kv-cache-dtype=fp8"}}, // SGLang spells fp8_e4m3 / fp8_e5m2
		{"invalid choice: \"tensorizer\"", []string{"--load-format", "tensorizer"}},
		{"invalid choice: \"vllm\"", []string{"--attention-backend", "vllm"}},
		{"invalid int value: \"abc\"", []string{"--port", "abc"}},
		{"invalid int value: \"8k\"", []string{"--context-length=8k"}}, // plain int(), no human-readable ints
		{"invalid float value: \"lots\"", []string{"--mem-fraction-static", "lots"}},
		{"invalid loads value", []string{"--preferred-sampling-params", "{bad"}},
		{"expected one argument", []string{"--served-model-name"}},
		{"ignored explicit argument", []string{"--trust-remote-code=true"}},
		{"ambiguous option: --enable-m could match", []string{"--enable-m"}},
	}
	for _, c := range cases {
		sglangRefuse(t, c.msg, append([]string{"--model-path", "m"}, c.args...)...)
	}
}

func TestSGLangFlagsTable(t *testing.T) {
	if sglangFlags.Syntax != Argparse || !sglangFlags.AllowAbbrev || sglangFlags.UnderscoreAsDash {
		t.Fatalf("syntax: %v abbrev %v underscore %v, want argparse with allow_abbrev and no underscore rewriting",
			sglangFlags.Syntax, sglangFlags.AllowAbbrev, sglangFlags.UnderscoreAsDash)
	}
	if !strings.Contains(sglangFlags.Source, "974ccf95f1e9cd1450617c7d32d56c4c96f77e00") {
		t.Errorf("Source %q does not name the commit read", sglangFlags.Source)
	}
	seen := map[string]bool{}
	for _, f := range sglangFlags.Flags {
		for _, n := range f.Names {
			if !strings.HasPrefix(n, "-") {
				t.Errorf("%q: not an option", n)
			}
			if seen[n] {
				t.Errorf("%q: listed twice", n)
			}
			seen[n] = true
		}
		if f.Negation != "" {
			t.Errorf("%s: SGLang v0.5.6 has no BooleanOptionalAction", f.Name())
		}
		if f.Env != "" {
			t.Errorf("%s: argparse options read no environment variable", f.Name())
		}
		if f.Arity == NoValue && (f.Type != String || f.Choices != nil) {
			t.Errorf("%s: a switch with a value type", f.Name())
		}
	}
	if n := len(sglangFlags.Flags); n < 300 {
		t.Errorf("%d options, want every option of add_cli_args (over 300)", n)
	}
}
