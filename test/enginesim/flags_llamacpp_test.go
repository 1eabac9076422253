package enginesim

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const llamacppProg = "llama-server"

// llamacppOperatorArgs are operator-style command lines: the one privatellm renders for an hf:// model
// (internal/engine/llamacpp.go Plan) and one for a model file on a volume.
var llamacppOperatorArgs = [][]string{
	{
		"-hf", "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF:Q4_K_M", "--host", "0.0.0.0", "--port", "8080",
		"--ctx-size", "8192", "--parallel", "4", "--alias", "llama-8b", "--metrics", "-ngl", "999",
	},
	{
		"-m", "/mnt/models/x.gguf", "--host", "0.0.0.0", "--port", "8080", "--alias", "x", "--metrics",
		"--threads", "8", "--api-key-file", "/etc/llama/api-keys", "--jinja",
	},
	{
		"--jinja", "--no-webui", "-fa", "on", "--cache-type-k", "q8_0", "--cache-type-v", "q8_0",
		"-hf", "org/model-GGUF:IQ4_XS", "--host", "0.0.0.0", "--port", "8080", "--alias", "m", "--metrics",
		"--ctx-size", "32768", "--n-gpu-layers", "999",
	},
}

func llamacppParse(t *testing.T, args ...string) CommandLine {
	t.Helper()
	cl, err := llamacppFlags.Parse(llamacppProg, args, 0)
	if err != nil {
		t.Fatalf("Parse(%q): %v", args, err)
	}
	return cl
}

func TestLlamaCppFlagsAcceptsOperatorCommandLine(t *testing.T) {
	for _, args := range llamacppOperatorArgs {
		cl := llamacppParse(t, args...)
		if len(cl.Positionals) != 0 {
			t.Errorf("Parse(%q): positionals %q", args, cl.Positionals)
		}
	}

	cl := llamacppParse(t, llamacppOperatorArgs[0]...)
	want := map[string]string{
		"--hf-repo":    "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF:Q4_K_M",
		"--host":       "0.0.0.0",
		"--port":       "8080",
		"--ctx-size":   "8192",
		"--parallel":   "4",
		"--alias":      "llama-8b",
		"--metrics":    "",
		"--gpu-layers": "999",
	}
	for name, w := range want {
		if got, ok := cl.Last(name); !ok || got != w {
			t.Errorf("%s = %q, %v; want %q", name, got, ok, w)
		}
	}
	if cl.Has("--cache-type-k") || cl.Has("--model") {
		t.Errorf("options not given are present: %v", cl.Values)
	}

	cl = llamacppParse(t, llamacppOperatorArgs[1]...)
	for name, w := range map[string]string{"--model": "/mnt/models/x.gguf", "--threads": "8", "--api-key-file": "/etc/llama/api-keys", "--jinja": ""} {
		if got, ok := cl.Last(name); !ok || got != w {
			t.Errorf("%s = %q, %v; want %q", name, got, ok, w)
		}
	}
}

func TestLlamaCppFlagsAcceptsLlamaSpellings(t *testing.T) {
	cases := []struct {
		args       []string
		name, want string
	}{
		// "--" arguments have '_' read as '-' (common_params_parse_ex); single-dash ones do not need it.
		{[]string{"--ctx_size", "4096"}, "--ctx-size", "4096"},
		{[]string{"--n_gpu_layers", "all"}, "--gpu-layers", "all"},
		{[]string{"--no_mmap"}, "--mmap", "false"},
		// std::stoi reads the numeric prefix: the real server takes this as 8.
		{[]string{"-c", "8k"}, "--ctx-size", "8k"},
		{[]string{"--temp", "0.7"}, "--temp", "0.7"},
		{[]string{"-ngl", "auto"}, "--gpu-layers", "auto"},
		// Values are taken whatever they start with.
		{[]string{"--seed", "-1"}, "--seed", "-1"},
		{[]string{"--alias", "-x"}, "--alias", "-x"},
		{[]string{"--parallel", "-1"}, "--parallel", "-1"},
		{[]string{"--numa", ""}, "--numa", ""},
		// handler_bool options: the args_neg spellings set false.
		{[]string{"--no-mmap"}, "--mmap", "false"},
		{[]string{"--no-webui"}, "--webui", "false"},
		{[]string{"-kvu"}, "--kv-unified", ""},
		{[]string{"--no-kv-unified"}, "--kv-unified", "false"},
		{[]string{"-nkvo"}, "-nkvo", ""},
		{[]string{"--no-mmproj"}, "--no-mmproj", ""},
		{[]string{"--no-mmproj-auto"}, "--mmproj-auto", "false"},
		// --no-host is an option of its own, not a negation.
		{[]string{"--no-host"}, "--no-host", ""},
		{[]string{"-fa", "auto"}, "--flash-attn", "auto"},
		{[]string{"--flash-attn", "enabled"}, "--flash-attn", "enabled"},
		{[]string{"-ctk", "q8_0"}, "--cache-type-k", "q8_0"},
		{[]string{"-sm", "row"}, "--split-mode", "row"},
		{[]string{"--reasoning-format", "deepseek"}, "--reasoning-format", "deepseek"},
		{[]string{"-rea", "off"}, "--reasoning", "off"},
		{[]string{"--spec-type", "ngram-mod"}, "--spec-type", "ngram-mod"},
		{[]string{"-hfr", "org/repo"}, "--hf-repo", "org/repo"},
		{[]string{"-hff", "model-Q8_0.gguf"}, "--hf-file", "model-Q8_0.gguf"},
		{[]string{"-hft", "hf_xxx"}, "--hf-token", "hf_xxx"},
		{[]string{"--chat-template-kwargs", `{"enable_thinking":false}`}, "--chat-template-kwargs", `{"enable_thinking":false}`},
		{[]string{"--embeddings"}, "--embedding", ""},
		{[]string{"-h"}, "--help", ""},
		{[]string{"--spec-replace", "a", "b"}, "--spec-replace", "b"},
		{[]string{"--control-vector-layer-range", "1", "8"}, "--control-vector-layer-range", "8"},
	}
	for _, c := range cases {
		cl, err := llamacppFlags.Parse(llamacppProg, c.args, 0)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.args, err)
			continue
		}
		if got, ok := cl.Last(c.name); !ok || got != c.want {
			t.Errorf("Parse(%q): %s = %q, %v; want %q", c.args, c.name, got, ok, c.want)
		}
	}

	cl := llamacppParse(t, "--spec-replace", "<|im_start|>", "<s>", "--port", "8080")
	if got := cl.Values["--spec-replace"]; len(got) != 1 || !slices.Equal(got[0], []string{"<|im_start|>", "<s>"}) {
		t.Errorf("--spec-replace values = %q; want one pair", got)
	}
}

func TestLlamaCppFlagsRefuses(t *testing.T) {
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"--foo"}, "error: invalid argument: --foo"},
		// No "--x=v" form: the argument is looked up whole.
		{[]string{"--port=8080"}, "error: invalid argument: --port=8080"},
		{[]string{"-c=4096"}, "error: invalid argument: -c=4096"},
		// No positionals: the model is -m or -hf.
		{[]string{"/mnt/models/x.gguf"}, "error: invalid argument: /mnt/models/x.gguf"},
		{[]string{"--port", "8080", "extra"}, "error: invalid argument: extra"},
		// Options of other llama.cpp tools.
		{[]string{"--prompt", "hi"}, "error: invalid argument: --prompt"},
		{[]string{"-p", "hi"}, "error: invalid argument: -p"},
		{[]string{"-f", "prompt.txt"}, "error: invalid argument: -f"},
		{[]string{"-i"}, "error: invalid argument: -i"},
		{[]string{"--image", "x.png"}, "error: invalid argument: --image"},
		{[]string{"--verbose-prompt"}, "error: invalid argument: --verbose-prompt"},
		{[]string{"-cnv"}, "error: invalid argument: -cnv"},
		{[]string{"--hellaswag"}, "error: invalid argument: --hellaswag"},
		// Single-dash spellings are not underscore-rewritten, and no abbreviations.
		{[]string{"-no_kvu"}, "error: invalid argument: -no_kvu"},
		{[]string{"--ctx", "4096"}, "error: invalid argument: --ctx"},
		// A missing value.
		{[]string{"--port"}, "expected value for argument"},
		{[]string{"--host", "0.0.0.0", "-hf"}, "expected value for argument"},
		{[]string{"--spec-replace", "a"}, "expected value for argument"},
		// Fixed lists.
		{[]string{"--cache-type-k", "q3_k"}, `while handling argument "--cache-type-k"`},
		{[]string{"-ctv", "Q8_0"}, `while handling argument "-ctv"`},
		{[]string{"-fa", "yes"}, `while handling argument "-fa"`},
		{[]string{"--split-mode", "col"}, `while handling argument "--split-mode"`},
		{[]string{"--pooling", "max"}, `while handling argument "--pooling"`},
		{[]string{"--reasoning-format", "qwen"}, `while handling argument "--reasoning-format"`},
		{[]string{"--fit", "auto"}, `while handling argument "--fit"`},
	}
	for _, c := range cases {
		_, err := llamacppFlags.Parse(llamacppProg, c.args, 0)
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("Parse(%q) = %v; want a UsageError", c.args, err)
			continue
		}
		if ue.Code != 1 {
			t.Errorf("Parse(%q): exit code %d; want 1", c.args, ue.Code)
		}
		if !strings.HasPrefix(ue.Message, "error: ") || !strings.Contains(ue.Message, c.msg) {
			t.Errorf("Parse(%q): %q; want %q", c.args, ue.Message, c.msg)
		}
	}
}

func TestLlamaCppFlagsTable(t *testing.T) {
	tab := llamacppFlags
	if tab.Syntax != LlamaCpp || !tab.UnderscoreAsDash || tab.AllowAbbrev {
		t.Errorf("Syntax %v, UnderscoreAsDash %v, AllowAbbrev %v; want LlamaCpp, true, false", tab.Syntax, tab.UnderscoreAsDash, tab.AllowAbbrev)
	}
	if tab.Engine != "llamacpp" || tab.Version != "b8914" || !strings.Contains(tab.Source, "8bc492ebb407dfc8a61b8d92eced1b094ac1c823") {
		t.Errorf("Engine %q, Version %q, Source %q", tab.Engine, tab.Version, tab.Source)
	}
	// 215 options kept for LLAMA_EXAMPLE_SERVER plus 6 second negative spellings.
	if len(tab.Flags) != 221 {
		t.Errorf("%d flags; want 221", len(tab.Flags))
	}
	seen := map[string]bool{}
	for _, f := range tab.Flags {
		spellings := append([]string{}, f.Names...)
		if f.Negation != "" {
			spellings = append(spellings, f.Negation)
			if !strings.HasPrefix(f.Negation, "--no-") || f.Arity != NoValue {
				t.Errorf("%s: negation %q, arity %v", f.Name(), f.Negation, f.Arity)
			}
		}
		for _, s := range spellings {
			if seen[s] {
				t.Errorf("%s spelled twice", s)
			}
			seen[s] = true
			if !strings.HasPrefix(s, "-") {
				t.Errorf("%s is not an option spelling", s)
			}
			if strings.HasPrefix(s, "--") && strings.Contains(s, "_") {
				t.Errorf("%s cannot be reached: '_' is read as '-'", s)
			}
		}
		if len(f.Names) > 1 && !strings.HasPrefix(f.Name(), "--") {
			t.Errorf("%v: the canonical spelling is not the long one", f.Names)
		}
		if f.Arity != NoValue && f.Arity != OneValue && f.Arity != TwoValues {
			t.Errorf("%s: arity %v is not a llama.cpp arity", f.Name(), f.Arity)
		}
		if f.Arity != OneValue && (f.Type != String || f.Choices != nil) {
			t.Errorf("%s: type %v, choices %q without exactly one value", f.Name(), f.Type, f.Choices)
		}
		if f.Env != "" && !strings.HasPrefix(f.Env, "LLAMA_") && f.Env != "HF_TOKEN" {
			t.Errorf("%s: env %q", f.Name(), f.Env)
		}
	}
	// The options privatellm manages (internal/engine/llamacpp.go ManagedFlags) and the ones operators pass.
	for _, s := range []string{"-m", "--model", "-hf", "-hfr", "--hf-repo", "-hff", "--hf-file", "--host", "--port",
		"-c", "--ctx-size", "-a", "--alias", "--metrics", "-ngl", "--gpu-layers", "--n-gpu-layers", "-t", "--threads",
		"-np", "--parallel", "--api-key", "--api-key-file", "--jinja", "--no-jinja", "--no-webui", "--no-mmap", "-kvu",
		"--kv-unified", "--no-kv-unified", "-hft", "--hf-token", "--offline", "--mmproj", "--no-mmproj"} {
		if !seen[s] {
			t.Errorf("%s missing", s)
		}
	}
	for _, s := range []string{"--prompt", "-p", "--file", "-f", "--interactive", "--image", "--color", "--verbose-prompt", "--chunks", "--output"} {
		if seen[s] {
			t.Errorf("%s is not a llama-server option at b8914", s)
		}
	}
}
