package engine_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/engine"
)

const commit = "0123456789abcdef0123456789abcdef01234567"

var cached = &engine.CachedModel{Commit: commit, Claim: "c"}

// cacheEngines are the engines that load from the model cache.
var cacheEngines = []v1.EngineName{"vllm", "tgi", "sglang", "llamacpp"}

func TestUsesCache(t *testing.T) {
	for _, name := range engine.Names() {
		f := engine.FactsOf(name)
		if want := slices.Contains(cacheEngines, name); f.UsesCache() != want {
			t.Errorf("%s: UsesCache = %v, want %v", name, f.UsesCache(), want)
		}
		if !f.UsesCache() || f.CacheGGUF {
			continue
		}
		// The transformers engines load the root's safetensors: Meta's original/ copy and GGUF files are not theirs.
		for _, glob := range []string{"original/*", "*.gguf"} {
			if !slices.Contains(f.CacheFiles.Exclude, glob) {
				t.Errorf("%s: CacheFiles.Exclude %v does not leave out %s", name, f.CacheFiles.Exclude, glob)
			}
		}
	}
}

// envOf is a plan's environment by name: values, or "secret:<name>/<key>" for a Secret's key.
func envOf(t *testing.T, e []corev1.EnvVar) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, v := range e {
		if _, dup := out[v.Name]; dup {
			t.Errorf("env %s is set twice (server-side apply refuses it)", v.Name)
		}
		switch {
		case v.ValueFrom != nil && v.ValueFrom.SecretKeyRef != nil:
			out[v.Name] = "secret:" + v.ValueFrom.SecretKeyRef.Name + "/" + v.ValueFrom.SecretKeyRef.Key
		case v.ValueFrom != nil:
			out[v.Name] = "valueFrom"
		default:
			out[v.Name] = v.Value
		}
	}
	return out
}

func flagValues(args []string, flag string) []string {
	var out []string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			out = append(out, v)
		}
	}
	return out
}

func TestCachedPlan(t *testing.T) {
	for _, name := range cacheEngines {
		if engine.FactsOf(name).CacheGGUF {
			continue // TestCachedGGUF
		}
		for _, revision := range []string{"", "v1.0"} {
			t.Run(string(name)+"/revision="+revision, func(t *testing.T) {
				l := llm(on(name, func(l *v1.LLMDeployment) {
					l.Spec.Model.Revision = revision
					l.Spec.Model.TokenSecretRef = &v1.SecretKeyRef{Name: "hf-token", Key: "token"}
				}))
				plan, err := engine.ForCached(l, images, cached)
				if err != nil {
					t.Fatal(err)
				}
				if plan.Cache == nil || *plan.Cache != *cached {
					t.Errorf("plan.Cache = %+v, want %+v (the renderer mounts its claim)", plan.Cache, cached)
				}
				if got := flagValues(plan.Args, "--revision"); !reflect.DeepEqual(got, []string{commit}) {
					t.Errorf("--revision %v, want exactly the cache's commit %s: args %q", got, commit, plan.Args)
				}
				if got := flagValues(plan.Args, "--tokenizer-revision"); name == "vllm" && !reflect.DeepEqual(got, []string{commit}) {
					t.Errorf("vLLM --tokenizer-revision %v, want the cache's commit: args %q", got, plan.Args)
				}
				env := envOf(t, plan.Env)
				for k, v := range map[string]string{
					"HF_HUB_CACHE": engine.ModelCacheDir, "HUGGINGFACE_HUB_CACHE": engine.ModelCacheDir, "HF_HUB_OFFLINE": "1",
				} {
					if env[k] != v {
						t.Errorf("env %s = %q, want %q", k, env[k], v)
					}
				}
				if engine.ModelCacheDir != "/mnt/model-cache" || engine.CompileCacheDir != "/mnt/compile-cache" {
					t.Errorf("mount paths %s %s, want the documented /mnt/model-cache and /mnt/compile-cache", engine.ModelCacheDir, engine.CompileCacheDir)
				}
				for _, k := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
					if v, ok := env[k]; ok {
						t.Errorf("a cached engine gets no token, but %s = %q", k, v)
					}
				}
				for k, v := range env {
					if strings.HasPrefix(v, "secret:") {
						t.Errorf("a cached engine reads no Secret, but %s = %s", k, v)
					}
				}
				if name == "vllm" {
					want := engine.CompileCacheDir + "/vllm-" + engine.FactsOf("vllm").Version
					if env["VLLM_CACHE_ROOT"] != want || want != "/mnt/compile-cache/vllm-v0.18.0" {
						t.Errorf("VLLM_CACHE_ROOT = %q, want %q", env["VLLM_CACHE_ROOT"], want)
					}
				}
				// Still the repository id: offline, the Hugging Face libraries find its snapshot in HF_HUB_CACHE.
				if !slices.ContainsFunc(plan.Args, func(a string) bool { return strings.HasSuffix(a, "org/model") }) {
					t.Errorf("args %q do not name the repository org/model", plan.Args)
				}
			})
		}
	}
}

func TestUncachedPlanIsUnchanged(t *testing.T) {
	for _, name := range engine.Names() {
		t.Run(string(name), func(t *testing.T) {
			l := llm(on(name, func(l *v1.LLMDeployment) {
				if engine.FactsOf(name).Revisions {
					l.Spec.Model.Revision = "v1.0"
				}
				l.Spec.Model.TokenSecretRef = &v1.SecretKeyRef{Name: "hf-token", Key: "hf"}
			}))
			plan, err := engine.ForCached(l, images, nil)
			if err != nil {
				t.Fatal(err)
			}
			viaFor, err := engine.For(l, images)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(plan, viaFor) {
				t.Errorf("ForCached(nil) and For differ:\n%+v\n%+v", plan, viaFor)
			}
			if plan.Cache != nil {
				t.Errorf("plan.Cache = %+v, want nil", plan.Cache)
			}
			env := envOf(t, plan.Env)
			if env["HF_TOKEN"] != "secret:hf-token/hf" {
				t.Errorf("HF_TOKEN = %q, want the Secret's key hf-token/hf", env["HF_TOKEN"])
			}
			for _, k := range []string{"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HUB_OFFLINE"} {
				if v, ok := env[k]; ok {
					t.Errorf("an uncached engine downloads: %s = %q must not be set", k, v)
				}
			}
			if engine.FactsOf(name).Revisions {
				if got := flagValues(plan.Args, "--revision"); !reflect.DeepEqual(got, []string{"v1.0"}) {
					t.Errorf("--revision %v, want spec.model.revision v1.0", got)
				}
			}
			if got := flagValues(plan.Args, "--tokenizer-revision"); got != nil {
				t.Errorf("--tokenizer-revision %v without a cache", got)
			}
			if name == "vllm" && env["VLLM_CACHE_ROOT"] != engine.CacheDir+"/vllm" {
				t.Errorf("VLLM_CACHE_ROOT = %q, want %q", env["VLLM_CACHE_ROOT"], engine.CacheDir+"/vllm")
			}
			for k, v := range env {
				if strings.HasPrefix(v, engine.CompileCacheDir) || strings.HasPrefix(v, engine.ModelCacheDir) {
					t.Errorf("an uncached plan points %s at the cache volume: %s", k, v)
				}
			}
		})
	}
	// No revision in the spec and no cache: no --revision at all (the engines' default branch).
	for _, name := range cacheEngines {
		plan, err := engine.For(llm(on(name, nil)), images)
		if err != nil {
			t.Fatal(err)
		}
		if got := flagValues(plan.Args, "--revision"); got != nil {
			t.Errorf("%s: --revision %v without a revision or a cache", name, got)
		}
	}
}

func TestForCachedRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		mut  func(*v1.LLMDeployment)
		want string
	}{
		"vllm, a pvc://": {func(l *v1.LLMDeployment) { l.Spec.Model.URI = "pvc://weights/llama" }, "pvc://weights/llama"},
		"tgi, a pvc://":  {on("tgi", func(l *v1.LLMDeployment) { l.Spec.Model.URI = "pvc://weights" }), "pvc://weights"},
		"vllm, a gs://":  {func(l *v1.LLMDeployment) { l.Spec.Model.URI = "gs://bucket/llama" }, "gs://bucket/llama"},
	} {
		t.Run(name, func(t *testing.T) {
			l := llm(tc.mut)
			if _, err := engine.For(l, images); err != nil {
				t.Fatalf("the spec is valid without a cache, but For: %v", err)
			}
			plan, err := engine.ForCached(l, images, cached)
			if err == nil {
				t.Fatalf("ForCached = %+v, want an error", plan)
			}
			for _, w := range []string{tc.want, "spec.model.cache.enabled: false"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// The invariants of engine_test.go hold for cached plans too: every flag rendered is one engine.args may not set
// (else it is a duplicate, or a silent override), every variable one engine.env may not set.
func TestCachedPlansRenderOnlyManagedFlagsAndEnv(t *testing.T) {
	for _, name := range cacheEngines {
		f := engine.FactsOf(name)
		refused := f.RefusedEnv()
		seen := map[string]bool{} // each finding once per engine
		for _, l := range specs(name) {
			plan, err := engine.ForCached(l, images, cached)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			for _, a := range plan.Args {
				flag, _, _ := strings.Cut(a, "=")
				if !strings.HasPrefix(flag, "-") || flag == "-m" && name == "sglang" || flag == "--trust-remote-code" {
					continue
				}
				if !slices.Contains(f.ManagedFlags, flag) && !seen[flag] {
					seen[flag] = true
					// BUG (internal/engine/vllm.go, ManagedFlags): vLLM renders --tokenizer-revision with a cache, but
					// engine.args may still set it.
					t.Errorf("BUG: %s renders %s with a cache, which is not in its ManagedFlags", name, flag)
				}
			}
			for _, e := range plan.Env {
				if !slices.Contains(refused, e.Name) && !seen[e.Name] {
					seen[e.Name] = true
					t.Errorf("%s sets %s with a cache, which engine.env may set too", name, e.Name)
				}
			}
		}
	}
}

// A user cannot take a cached engine back online or point it elsewhere through engine.env.
func TestCacheEnvIsRefusedInEngineEnv(t *testing.T) {
	for _, name := range cacheEngines {
		for _, v := range []string{"HF_HUB_OFFLINE", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"} {
			l := llm(on(name, func(l *v1.LLMDeployment) { l.Spec.Engine.Env = []v1.EnvVar{{Name: v, Value: "0"}} }))
			if errs := engine.Validate(&l.Spec); len(errs) == 0 {
				t.Errorf("%s: engine.env may set %s", name, v)
			}
		}
	}
}

// TestCachedS3Folder: a cached s3:// model is loaded from its folder on the cache's volume, without the
// streamer's load format and without a revision.
func TestCachedS3Folder(t *testing.T) {
	l := llm(func(l *v1.LLMDeployment) { l.Spec.Model.URI = "s3://models/llama/8b" })
	plan, err := engine.ForCached(l, images, &engine.CachedModel{Commit: "c0ffee", Claim: "c", Path: "s3/models/llama/8b"})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Args[1] != "/mnt/model-cache/models/llama/8b" {
		t.Errorf("model argument %q, want the cached folder", plan.Args[1])
	}
	for _, a := range plan.Args {
		if strings.HasPrefix(a, "--load-format") || strings.HasPrefix(a, "--revision") || strings.HasPrefix(a, "--tokenizer-revision") {
			t.Errorf("a cached s3:// folder gets %s", a)
		}
	}
	if got := plan.Cache.SubPath(); got != "s3" {
		t.Errorf("mounted sub path %q, want s3", got)
	}
}

// TestCachedGGUF: llama.cpp is given the cached snapshot's GGUF file by path, and the cache downloads only the
// files of spec.quantization's type.
func TestCachedGGUF(t *testing.T) {
	l := llm(on("llamacpp", func(l *v1.LLMDeployment) { l.Spec.Quantization = "Q4_K_M" }))
	plan, err := engine.ForCached(l, images, &engine.CachedModel{Commit: commit, Claim: "c", File: "sub/model.Q4_K_M-00001-of-00002.gguf"})
	if err != nil {
		t.Fatal(err)
	}
	want := "/mnt/model-cache/models--org--model/snapshots/" + commit + "/sub/model.Q4_K_M-00001-of-00002.gguf"
	if i := slices.Index(plan.Args, "-m"); i < 0 || plan.Args[i+1] != want || slices.Contains(plan.Args, "-hf") {
		t.Errorf("args %v, want -m %s and no -hf", plan.Args, want)
	}
	if env := envOf(t, plan.Env); env["HF_HUB_OFFLINE"] != "1" || env["HF_TOKEN"] != "" {
		t.Errorf("env %v, want offline without a token", env)
	}
	f, ok := engine.CacheFilter(&l.Spec)
	if !ok || !slices.Equal(f.Include, []string{"*[Qq]4_[Kk]_[Mm]*.gguf"}) || len(f.Exclude) != 0 {
		t.Errorf("CacheFilter = %+v, %v", f, ok)
	}
}
