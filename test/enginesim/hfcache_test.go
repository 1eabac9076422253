package enginesim_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/privatellm/privatellm/test/enginesim"
)

const (
	cachedCommit = "0123456789abcdef0123456789abcdef01234567"
	otherCommit  = "fedcba9876543210fedcba9876543210fedcba98"
)

// hfCache writes a Hugging Face cache with one repo: refs/<ref> → commit, snapshots/<commit>/ with files (path →
// content), laid out as internal/hub writes it (the ref without a newline).
func hfCache(t *testing.T, root, repo string, refs map[string]string, commit string, files map[string]string) string {
	t.Helper()
	repoDir := filepath.Join(root, "models--"+strings.ReplaceAll(repo, "/", "--"))
	for ref, sha := range refs {
		p := filepath.Join(repoDir, "refs", filepath.FromSlash(ref))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(sha), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	snap := filepath.Join(repoDir, "snapshots", commit)
	if err := os.MkdirAll(snap, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(snap, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return snap
}

const (
	plainConfig = `{"architectures": ["LlamaForCausalLM"], "model_type": "llama"}`
	awqConfig   = `{"architectures": ["LlamaForCausalLM"], "quantization_config": {"quant_method": "AWQ", "bits": 4}}`
)

// TestOfflineFromCache: with HF_HUB_OFFLINE the engines find the model in the Hugging Face cache the operator mounts
// (HF_HUB_CACHE; TGI: HUGGINGFACE_HUB_CACHE), resolving the revision as huggingface_hub does, and refuse at start,
// with their stack's message and exit 1, what is not there; the snapshot's config.json, not the model's name,
// decides the quantization checks. Without HF_HUB_OFFLINE no cache is needed.
func TestOfflineFromCache(t *testing.T) {
	cache := t.TempDir()
	snap := hfCache(t, cache, "org/llama", map[string]string{"main": cachedCommit, "v1": otherCommit}, cachedCommit,
		map[string]string{"config.json": plainConfig, "model.safetensors": "weights"})
	hfCache(t, cache, "org/llama", nil, otherCommit, map[string]string{"model.safetensors": "weights"}) // no config.json
	hfCache(t, cache, "org/quantized", map[string]string{"main": cachedCommit}, cachedCommit,
		map[string]string{"config.json": awqConfig, "model.safetensors": "weights"})
	hfCache(t, cache, "org/Named-AWQ", map[string]string{"main": cachedCommit}, cachedCommit,
		map[string]string{"config.json": plainConfig, "model.safetensors": "weights"})
	hfCache(t, cache, "org/newline", map[string]string{"main": cachedCommit + "\n"}, cachedCommit,
		map[string]string{"config.json": plainConfig})
	hfCache(t, cache, "org/tiny-gguf", map[string]string{"main": cachedCommit}, cachedCommit,
		map[string]string{"tiny-Q4_K_M.gguf": "gguf", "mmproj-tiny-Q8_0.gguf": "gguf"})
	hfCache(t, cache, "org/split-gguf", map[string]string{"main": cachedCommit}, cachedCommit,
		map[string]string{"Q8_0/big-Q8_0-00002-of-00002.gguf": "gguf"})

	offline := []string{"HF_HUB_OFFLINE=1", "HF_HUB_CACHE=" + cache}
	vllm := func(args ...string) []string {
		return append([]string{"--", "vllm", "serve"}, args...)
	}
	sglang := func(args ...string) []string {
		return append([]string{"--", "python3", "-m", "sglang.launch_server"}, args...)
	}
	tgi := func(args ...string) []string {
		return append([]string{"--uid=0", "--", "text-generation-launcher"}, args...)
	}
	llama := func(args ...string) []string { return append([]string{"--", "llama-server"}, args...) }
	with := func(env []string, more ...string) []string { return append(append([]string{}, env...), more...) }

	starts := []struct {
		name string
		args []string
		env  []string
	}{
		{"vLLM: the main ref", vllm("org/llama"), offline},
		{"vLLM: a branch's ref", vllm("org/llama", "--revision=main"), offline},
		{"vLLM: a commit names its snapshot", vllm("org/llama", "--revision", cachedCommit), offline},
		{"vLLM: the snapshot folder as the model", vllm(snap), offline},
		{"vLLM: --quantization that config.json names, whatever the model's name says",
			vllm("org/quantized", "--quantization=awq"), offline},
		{"vLLM: HF_HUB_OFFLINE=on", vllm("org/llama"), []string{"HF_HUB_OFFLINE=on", "HF_HUB_CACHE=" + cache}},
		{"vLLM: HF_HUB_OFFLINE=True", vllm("org/llama"), []string{"HF_HUB_OFFLINE=True", "HF_HUB_CACHE=" + cache}},
		{"vLLM: the cache under HUGGINGFACE_HUB_CACHE", vllm("org/llama"), []string{"HF_HUB_OFFLINE=1", "HUGGINGFACE_HUB_CACHE=" + cache}},
		{"vLLM: online needs no cache", vllm("org/elsewhere"), nil},
		{"vLLM: HF_HUB_OFFLINE=0 is online", vllm("org/elsewhere"), []string{"HF_HUB_OFFLINE=0"}},
		{"vLLM: HF_HUB_OFFLINE=0 wins over TRANSFORMERS_OFFLINE", vllm("org/elsewhere"), []string{"HF_HUB_OFFLINE=0", "TRANSFORMERS_OFFLINE=1"}},
		{"SGLang: from the cache", sglang("--model-path=org/llama", "--revision="+cachedCommit), offline},
		{"TGI: HUGGINGFACE_HUB_CACHE", tgi("--model-id=org/llama"), []string{"HF_HUB_OFFLINE=1", "HUGGINGFACE_HUB_CACHE=" + cache}},
		{"TGI: --huggingface-hub-cache", tgi("--model-id=org/llama", "--huggingface-hub-cache="+cache), []string{"HF_HUB_OFFLINE=1"}},
		{"TGI: reads no HF_HUB_OFFLINE=on", tgi("--model-id=org/elsewhere"), []string{"HF_HUB_OFFLINE=on"}},
		{"llama.cpp: the tag's file", llama("-hf", "org/tiny-gguf:Q4_K_M"), offline},
		{"llama.cpp: no tag takes Q4_K_M", llama("-hf", "org/tiny-gguf", "--offline"), []string{"HF_HUB_CACHE=" + cache}},
		{"llama.cpp: LLAMA_OFFLINE and LLAMA_CACHE", llama("-hf", "org/tiny-gguf"), []string{"LLAMA_OFFLINE=1", "LLAMA_CACHE=" + cache}},
	}
	for _, tc := range starts {
		t.Run("starts/"+tc.name, func(t *testing.T) {
			if _, err := enginesim.ParseArgs(tc.args, io.Discard, with(tc.env)); err != nil {
				t.Fatalf("ParseArgs(%q) with %q: %v", tc.args, tc.env, err)
			}
		})
	}

	refused := []struct {
		name string
		args []string
		env  []string
		want []string
	}{
		{"vLLM: a repo not in the cache", vllm("org/elsewhere"), offline,
			[]string{"LocalEntryNotFoundError: Cannot find an appropriate cached snapshot folder for the specified revision",
				"ValueError: Invalid repository ID or local directory specified: 'org/elsewhere'."}},
		{"vLLM: a branch the cache has no ref for", vllm("org/llama", "--revision=dev"), offline, []string{"Invalid repository ID"}},
		{"vLLM: a commit the cache has no snapshot of", vllm("org/llama", "--revision=1111111111111111111111111111111111111111"), offline,
			[]string{"Invalid repository ID"}},
		{"vLLM: a snapshot without config.json", vllm("org/llama", "--revision=v1"), offline, []string{"ensure the presence of a 'config.json'"}},
		{"vLLM: a ref ending in a newline names no snapshot", vllm("org/newline"), offline, []string{"Invalid repository ID"}},
		{"vLLM: TRANSFORMERS_OFFLINE alone", vllm("org/elsewhere"), []string{"TRANSFORMERS_OFFLINE=yes", "HF_HUB_CACHE=" + cache},
			[]string{"Invalid repository ID"}},
		{"vLLM: the default cache under HF_HOME", vllm("org/llama"), []string{"HF_HUB_OFFLINE=1", "HF_HOME=" + cache},
			[]string{"Invalid repository ID"}},
		{"vLLM: --quantization other than config.json's", vllm("org/quantized", "--quantization=gptq"), offline,
			[]string{"model config (awq) does not match", "(gptq)"}},
		{"vLLM: a name that says AWQ, a config.json that does not", vllm("org/Named-AWQ", "--quantization=awq"), offline,
			[]string{"Cannot find the config file for awq"}},
		{"SGLang: a repo not in the cache", sglang("--model-path=org/elsewhere"), offline,
			[]string{"LocalEntryNotFoundError: Cannot find an appropriate cached snapshot folder", "'local_files_only=False'"}},
		{"TGI: reads HUGGINGFACE_HUB_CACHE, not HF_HUB_CACHE", tgi("--model-id=org/llama"), offline,
			[]string{"No .safetensors weights found for model org/llama and revision None.", "Error: DownloadError"}},
		{"TGI: a revision not in the cache", tgi("--model-id=org/llama", "--revision=dev"), []string{"HF_HUB_OFFLINE=true", "HUGGINGFACE_HUB_CACHE=" + cache},
			[]string{"and revision dev.", "Error: DownloadError"}},
		{"llama.cpp: a tag not in the cache", llama("-hf", "org/tiny-gguf:Q8_0"), offline,
			[]string{"no GGUF files found in repository org/tiny-gguf"}},
		{"llama.cpp: a repo not in the cache", llama("-hf", "org/elsewhere-GGUF:Q4_K_M"), offline, []string{"no GGUF file found"}},
		{"llama.cpp: only a later part of a split model", llama("-hf", "org/split-gguf:Q8_0"), offline, []string{"no GGUF file found"}},
	}
	for _, tc := range refused {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			_, err := enginesim.ParseArgs(tc.args, io.Discard, with(tc.env))
			var u *enginesim.UsageError
			if !errors.As(err, &u) || u.Code != 1 {
				t.Fatalf("ParseArgs(%q) with %q = %v; want the engine's refusal with exit 1", tc.args, tc.env, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(u.Message, w) {
					t.Errorf("message %q lacks %q", u.Message, w)
				}
			}
		})
	}
}

// TestCheckFiles: with --check-files (as the simulated cluster runs it, the pod's mounts mapped to folders here),
// a local model the engine would open must be there: vLLM's folder, llama.cpp's -m file. Without it, only the
// command line is checked.
func TestCheckFiles(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "llama")
	if err := os.MkdirAll(model, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(model, "config.json"), []byte(`{"architectures":["LlamaForCausalLM"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	gguf := filepath.Join(dir, "m.Q4_K_M.gguf")
	if err := os.WriteFile(gguf, []byte("GGUF"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		engine  []string
		check   bool
		refused string
	}{
		{"vllm folder there", []string{"vllm", "serve", model}, true, ""},
		{"vllm folder missing", []string{"vllm", "serve", filepath.Join(dir, "nope")}, true, "Invalid repository ID or local directory"},
		{"vllm folder missing, unchecked", []string{"vllm", "serve", filepath.Join(dir, "nope")}, false, ""},
		{"llama.cpp file there", []string{"/app/llama-server", "-m", gguf}, true, ""},
		{"llama.cpp file missing", []string{"/app/llama-server", "-m", filepath.Join(dir, "x.gguf")}, true, "failed to open GGUF file"},
		{"llama.cpp file missing, unchecked", []string{"/app/llama-server", "-m", filepath.Join(dir, "x.gguf")}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{}
			if tc.check {
				args = append(args, "--check-files")
			}
			_, err := enginesim.ParseArgs(append(append(args, "--"), tc.engine...), io.Discard, []string{})
			switch {
			case tc.refused == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)):
				t.Errorf("err %v, want a refusal with %q", err, tc.refused)
			}
		})
	}
}
