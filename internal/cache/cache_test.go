package cache_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/cache"
	"github.com/privatellm/privatellm/internal/checkpoint"
	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/engine"
)

const modelURI = "hf://meta-llama/Llama-3.1-8B-Instruct"

// modelCache parses an operator config with a modelCache section, so the classes carry the defaults Parse fills
// (size 100Gi and so on), as the operator's do.
func modelCache(t *testing.T, enabledByDefault bool, extra string) *config.ModelCacheConfig {
	t.Helper()
	raw := "modelCache:\n" +
		"  enabledByDefault: " + map[bool]string{true: "true", false: "false"}[enabledByDefault] + "\n" +
		"  loaderImage: ghcr.io/privatellm/privatellm:v0.9.0\n" +
		extra +
		"  classes:\n" +
		"    default: {}\n" +
		"    big: {size: 500Gi}\n"
	c, err := config.Parse([]byte(raw))
	if err != nil {
		t.Fatalf("config.Parse:\n%s\n%v", raw, err)
	}
	return c.ModelCache
}

func llm(mut func(*v1.LLMDeployment)) *v1.LLMDeployment {
	l := &v1.LLMDeployment{}
	l.Name, l.Namespace = "chat", "team-a"
	l.Spec.Model.URI = modelURI
	l.Spec.Model.TokenSecretRef = &v1.SecretKeyRef{Name: "hf-token", Key: "token"}
	if mut != nil {
		mut(l)
	}
	return l
}

func withCache(opts v1.ModelCacheOptions) func(*v1.LLMDeployment) {
	return func(l *v1.LLMDeployment) { l.Spec.Model.Cache = opts.DeepCopy() }
}

func TestWantNone(t *testing.T) {
	for name, tc := range map[string]struct {
		llm              *v1.LLMDeployment
		noConfig         bool
		enabledByDefault bool
	}{
		"no modelCache config":             {llm: llm(nil), noConfig: true},
		"no modelCache config, cache {}":   {llm: llm(withCache(v1.ModelCacheOptions{})), noConfig: true},
		"explicitly off, no config":        {llm: llm(withCache(v1.ModelCacheOptions{Enabled: ptr.To(false)})), noConfig: true},
		"not enabled by default, unset":    {llm: llm(nil)},
		"not by default, only a className": {llm: llm(withCache(v1.ModelCacheOptions{ClassName: "big"}))},
		"by default, explicitly off":       {llm: llm(withCache(v1.ModelCacheOptions{Enabled: ptr.To(false)})), enabledByDefault: true},
		"by default, off, unknown class":   {llm: llm(withCache(v1.ModelCacheOptions{Enabled: ptr.To(false), ClassName: "nope"})), enabledByDefault: true},
		"by default, a pvc:// model":       {llm: llm(func(l *v1.LLMDeployment) { l.Spec.Model.URI = "pvc://weights/llama" }), enabledByDefault: true},
		"by default, an s3:// model":       {llm: llm(func(l *v1.LLMDeployment) { l.Spec.Model.URI = "s3://bucket/llama/8b" }), enabledByDefault: true},
		"by default, pvc://, a className": {llm: llm(func(l *v1.LLMDeployment) {
			l.Spec.Model.URI = "pvc://w"
			l.Spec.Model.Cache = &v1.ModelCacheOptions{ClassName: "big"}
		}), enabledByDefault: true},
		"by default, llama.cpp, off as well": {llm: llm(func(l *v1.LLMDeployment) {
			llamacpp(l)
			l.Spec.Model.Cache = &v1.ModelCacheOptions{Enabled: ptr.To(false)}
		}), enabledByDefault: true},
	} {
		t.Run(name, func(t *testing.T) {
			var cfg *config.ModelCacheConfig
			if !tc.noConfig {
				cfg = modelCache(t, tc.enabledByDefault, "")
			}
			got, err := cache.Want(tc.llm, cfg)
			if err != nil || got != nil {
				t.Errorf("Want = %+v, %v; want nil, nil (the engine downloads the model itself)", got, err)
			}
		})
	}
}

func llamacpp(l *v1.LLMDeployment) {
	l.Spec.Engine.Name, l.Spec.Quantization = "llamacpp", "Q4_K_M"
	l.Spec.Model.URI = "hf://bartowski/Meta-Llama-3.1-8B-Instruct-GGUF"
}

func TestWantRefuses(t *testing.T) {
	on := ptr.To(true)
	for name, tc := range map[string]struct {
		llm      *v1.LLMDeployment
		noConfig bool
		want     []string // every one must be in the message
	}{
		"enabled without a modelCache config": {
			llm: llm(withCache(v1.ModelCacheOptions{Enabled: on})), noConfig: true,
			want: []string{"spec.model.cache.enabled", "no modelCache section", "leave spec.model.cache out"},
		},
		"enabled for an s3:// model, the class without s3": {
			llm: llm(func(l *v1.LLMDeployment) {
				l.Spec.Model.URI = "s3://bucket/llama"
				withCache(v1.ModelCacheOptions{Enabled: on})(l)
			}),
			want: []string{"no s3 endpoint", "s3://bucket/llama", "modelCache.classes.default.s3"},
		},
		"an unknown class": {
			llm:  llm(withCache(v1.ModelCacheOptions{Enabled: on, ClassName: "fast"})),
			want: []string{`"fast"`, "spec.model.cache.className", "big, default"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			var cfg *config.ModelCacheConfig
			if !tc.noConfig {
				cfg = modelCache(t, false, "")
			}
			got, err := cache.Want(tc.llm, cfg)
			if err == nil {
				t.Fatalf("Want = %+v, want an error", got)
			}
			if got != nil {
				t.Errorf("Want returned a cache with its error: %+v", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	// The cluster default does not turn an unknown class into an error-free default: the spec names it.
	if _, err := cache.Want(llm(withCache(v1.ModelCacheOptions{ClassName: "fast"})), modelCache(t, true, "")); err == nil ||
		!strings.Contains(err.Error(), `"fast"`) {
		t.Errorf("enabled by default with an unknown className: err = %v, want one naming the class", err)
	}
}

func TestWant(t *testing.T) {
	vllmFiles := engine.FactsOf("vllm").CacheFiles
	if vllmFiles == nil {
		t.Fatal("vLLM has no CacheFiles filter")
	}
	custom := &v1.FileFilter{Include: []string{"*.json", "*.safetensors", "tokenizer*"}, Exclude: []string{"original/*"}}
	for name, tc := range map[string]struct {
		llm              *v1.LLMDeployment
		enabledByDefault bool
		extra            string // more modelCache config

		revision string
		class    string
		files    *v1.FileFilter
		size     string // "" for none
	}{
		"enabled by default": {llm: llm(nil), enabledByDefault: true, revision: "main", class: "default"},
		"by default, cache {}": {
			llm: llm(withCache(v1.ModelCacheOptions{})), enabledByDefault: true, revision: "main", class: "default",
		},
		"explicitly on, not by default": {
			llm: llm(withCache(v1.ModelCacheOptions{Enabled: ptr.To(true)})), revision: "main", class: "default",
		},
		"the spec's revision": {
			llm: llm(func(l *v1.LLMDeployment) { l.Spec.Model.Revision = "v1.0" }), enabledByDefault: true,
			revision: "v1.0", class: "default",
		},
		"tgi and sglang load from the cache too": {
			llm: llm(func(l *v1.LLMDeployment) { l.Spec.Engine.Name = "tgi" }), enabledByDefault: true,
			revision: "main", class: "default",
		},
		"sglang": {
			llm: llm(func(l *v1.LLMDeployment) { l.Spec.Engine.Name = "sglang" }), enabledByDefault: true,
			revision: "main", class: "default",
		},
		"a named class": {
			llm: llm(withCache(v1.ModelCacheOptions{Enabled: ptr.To(true), ClassName: "big"})), revision: "main", class: "big",
		},
		"another default class": {
			llm: llm(nil), enabledByDefault: true, extra: "  defaultClass: big\n", revision: "main", class: "big",
		},
		"the spec's files override the engine's filter": {
			llm:      llm(withCache(v1.ModelCacheOptions{Enabled: ptr.To(true), Files: custom})),
			revision: "main", class: "default", files: custom,
		},
		"a size above the class's is kept": {
			llm:      llm(withCache(v1.ModelCacheOptions{Enabled: ptr.To(true), Size: ptr.To(resource.MustParse("200Gi"))})),
			revision: "main", class: "default", size: "200Gi",
		},
		"a size below the class's is dropped": {
			llm:      llm(withCache(v1.ModelCacheOptions{Enabled: ptr.To(true), Size: ptr.To(resource.MustParse("50Gi"))})),
			revision: "main", class: "default",
		},
		"the class's own size is dropped": {
			llm:      llm(withCache(v1.ModelCacheOptions{Enabled: ptr.To(true), Size: ptr.To(resource.MustParse("100Gi"))})),
			revision: "main", class: "default",
		},
		"a size below the named class's is dropped": {
			llm:      llm(withCache(v1.ModelCacheOptions{Enabled: ptr.To(true), ClassName: "big", Size: ptr.To(resource.MustParse("200Gi"))})),
			revision: "main", class: "big",
		},
		"no token": {
			llm: llm(func(l *v1.LLMDeployment) { l.Spec.Model.TokenSecretRef = nil }), enabledByDefault: true,
			revision: "main", class: "default",
		},
	} {
		t.Run(name, func(t *testing.T) {
			mc, err := cache.Want(tc.llm, modelCache(t, tc.enabledByDefault, tc.extra))
			if err != nil || mc == nil {
				t.Fatalf("Want = %v, %v; want a ModelCache", mc, err)
			}
			if mc.Kind != "ModelCache" || mc.APIVersion != v1.GroupVersion.String() {
				t.Errorf("TypeMeta %+v", mc.TypeMeta)
			}
			if mc.Namespace != tc.llm.Namespace {
				t.Errorf("namespace %q, want the LLMDeployment's %q", mc.Namespace, tc.llm.Namespace)
			}
			if mc.Name != cache.Name(mc.Spec) {
				t.Errorf("name %q, want Name(spec) %q", mc.Name, cache.Name(mc.Spec))
			}
			s := mc.Spec
			if s.Source != tc.llm.Spec.Model.URI || s.Revision != tc.revision || s.ClassName != tc.class {
				t.Errorf("source %q revision %q class %q; want %q %q %q", s.Source, s.Revision, s.ClassName, tc.llm.Spec.Model.URI, tc.revision, tc.class)
			}
			files := tc.files
			if files == nil {
				f := engine.FactsOf(tc.llm.Spec.EffectiveEngine()).CacheFiles
				files = &v1.FileFilter{Include: f.Include, Exclude: f.Exclude}
			}
			if s.Files == nil || !reflect.DeepEqual(s.Files.Include, files.Include) || !reflect.DeepEqual(s.Files.Exclude, files.Exclude) {
				t.Errorf("files %+v, want %+v", s.Files, files)
			}
			if tc.files != nil && s.Files == tc.files {
				t.Error("the spec's files are shared with the ModelCache, not copied")
			}
			switch {
			case tc.size == "" && s.Size != nil:
				t.Errorf("size %s, want none (the class's)", s.Size)
			case tc.size != "" && (s.Size == nil || s.Size.Cmp(resource.MustParse(tc.size)) != 0):
				t.Errorf("size %v, want %s", s.Size, tc.size)
			}
			ref := tc.llm.Spec.Model.TokenSecretRef
			if !reflect.DeepEqual(s.TokenSecretRef, ref) {
				t.Errorf("tokenSecretRef %+v, want %+v", s.TokenSecretRef, ref)
			}
			if ref != nil && s.TokenSecretRef == ref {
				t.Error("tokenSecretRef is shared with the LLMDeployment, not copied")
			}
		})
	}
}

// BUG (internal/cache/cache.go, Want: `Files: &v1.FileFilter{Include: f.CacheFiles.Include, ...}`): the ModelCache's
// filter shares its slices with the engine's package-level filter, so anything that writes into the ModelCache
// (a decode of the API server's answer into it after Create, as cachePhase does, or any edit) writes into the
// filter of every later LLMDeployment, from every reconcile goroutine. The filter must be copied.
func TestWantCopiesTheEngineFilter(t *testing.T) {
	before := *engine.FactsOf("vllm").CacheFiles
	before.Include, before.Exclude = append([]string(nil), before.Include...), append([]string(nil), before.Exclude...)
	mc, err := cache.Want(llm(nil), modelCache(t, true, ""))
	if err != nil || mc == nil || mc.Spec.Files == nil || len(mc.Spec.Files.Exclude) == 0 {
		t.Fatalf("Want = %+v, %v", mc, err)
	}
	mc.Spec.Files.Exclude[0] = "changed-by-the-caller"
	after := engine.FactsOf("vllm").CacheFiles
	defer copy(after.Exclude, before.Exclude) // undo, for the other tests
	if !reflect.DeepEqual(after.Exclude, before.Exclude) {
		t.Errorf("BUG: writing the ModelCache's files changed vLLM's CacheFiles: %v", after.Exclude)
	}
}

func TestNameIsShared(t *testing.T) {
	cfg := modelCache(t, true, "")
	a, errA := cache.Want(llm(nil), cfg)
	b, errB := cache.Want(llm(func(l *v1.LLMDeployment) {
		l.Name = "chat-canary"
		l.Spec.Replicas = ptr.To(int32(3))
		l.Spec.Model.TokenSecretRef = &v1.SecretKeyRef{Name: "other-token", Key: "token"}
	}), cfg)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if a.Name != b.Name || a.Namespace != b.Namespace {
		t.Errorf("two LLMDeployments of the same model in one namespace need %s/%s and %s/%s, want one cache", a.Namespace, a.Name, b.Namespace, b.Name)
	}
	// "main" is the default revision: the same files whether it is written or not.
	c, err := cache.Want(llm(func(l *v1.LLMDeployment) { l.Spec.Model.Revision = "main" }), cfg)
	if err != nil || c.Name != a.Name {
		t.Errorf("revision main: %v, %v; want the name of the default revision %s", c, err, a.Name)
	}
}

func TestName(t *testing.T) {
	long := strings.Repeat("a1B.c_d-", 12) // 96 characters, the longest name the CRD accepts
	if len(long) != 96 {
		t.Fatalf("len %d", len(long))
	}
	base := v1.ModelCacheSpec{Source: modelURI, Revision: "main", ClassName: "default",
		Files: &v1.FileFilter{Exclude: []string{"original/*", "*.gguf"}}}
	with := func(mut func(*v1.ModelCacheSpec)) v1.ModelCacheSpec {
		s := *base.DeepCopy()
		mut(&s)
		return s
	}
	specs := map[string]v1.ModelCacheSpec{
		"base":                  base,
		"96-character name":     with(func(s *v1.ModelCacheSpec) { s.Source = "hf://" + strings.Repeat("o", 96) + "/" + long }),
		"96 characters, no org": with(func(s *v1.ModelCacheSpec) { s.Source = "hf://" + long }),
		"dash at the cut": with(func(s *v1.ModelCacheSpec) {
			s.Source = "hf://org/" + strings.Repeat("x", 39) + "-" + strings.Repeat("y", 20)
		}),
		"punctuation only":    with(func(s *v1.ModelCacheSpec) { s.Source = "hf://org/._._" }),
		"leading punctuation": with(func(s *v1.ModelCacheSpec) { s.Source = "hf://org/_Model.V2_" }),
		"digits first":        with(func(s *v1.ModelCacheSpec) { s.Source = "hf://org/7B-Model" }),
		"no files":            with(func(s *v1.ModelCacheSpec) { s.Files = nil }),
	}
	for name, s := range specs {
		t.Run(name, func(t *testing.T) {
			n := cache.Name(s)
			if n != cache.Name(*s.DeepCopy()) {
				t.Errorf("Name is not deterministic: %q, %q", n, cache.Name(s))
			}
			if len(n) > 51 {
				t.Errorf("Name %q has %d characters, want at most 51 (so %q-download is a Job name)", n, len(n), n)
			}
			if errs := validation.IsDNS1123Label(n); len(errs) > 0 {
				t.Errorf("Name %q is not a DNS-1123 label: %v", n, errs)
			}
			if errs := validation.IsDNS1123Label(n + "-download"); len(errs) > 0 {
				t.Errorf("the Job name %q-download is not a DNS-1123 label: %v", n, errs)
			}
		})
	}
	if n := cache.Name(base); !strings.HasPrefix(n, "llama-3-1-8b-instruct-") {
		t.Errorf("Name(%s) = %q, want the model's name, readable, first", base.Source, n)
	}

	differ := map[string]v1.ModelCacheSpec{
		"revision":          with(func(s *v1.ModelCacheSpec) { s.Revision = "v2" }),
		"another org":       with(func(s *v1.ModelCacheSpec) { s.Source = "hf://someone-else/Llama-3.1-8B-Instruct" }),
		"class":             with(func(s *v1.ModelCacheSpec) { s.ClassName = "big" }),
		"no filter":         with(func(s *v1.ModelCacheSpec) { s.Files = nil }),
		"one exclude fewer": with(func(s *v1.ModelCacheSpec) { s.Files.Exclude = s.Files.Exclude[:1] }),
		"an include":        with(func(s *v1.ModelCacheSpec) { s.Files.Include = []string{"*.safetensors"} }),
		"exclude as include": with(func(s *v1.ModelCacheSpec) {
			s.Files = &v1.FileFilter{Include: []string{"original/*", "*.gguf"}}
		}),
		"split differently": with(func(s *v1.ModelCacheSpec) {
			s.Files = &v1.FileFilter{Include: []string{"original/*"}, Exclude: []string{"*.gguf"}}
		}),
	}
	seen := map[string]string{cache.Name(base): "base"}
	for what, s := range differ {
		n := cache.Name(s)
		if other, dup := seen[n]; dup {
			t.Errorf("%s and %s have the same name %q: they are different files", what, other, n)
		}
		seen[n] = what
	}
	same := map[string]v1.ModelCacheSpec{
		"a token":   with(func(s *v1.ModelCacheSpec) { s.TokenSecretRef = &v1.SecretKeyRef{Name: "hf"} }),
		"a size":    with(func(s *v1.ModelCacheSpec) { s.Size = ptr.To(resource.MustParse("1Ti")) }),
		"deep copy": *base.DeepCopy(),
	}
	for what, s := range same {
		if cache.Name(s) != cache.Name(base) {
			t.Errorf("%s changed the name: %q, want %q", what, cache.Name(s), cache.Name(base))
		}
	}
}

func TestRepo(t *testing.T) {
	for src, want := range map[string]string{"hf://meta-llama/Llama-3.1-8B": "meta-llama/Llama-3.1-8B", "hf://gpt2": "gpt2"} {
		if got := cache.Repo(v1.ModelCacheSpec{Source: src}); got != want {
			t.Errorf("Repo(%s) = %q, want %q", src, got, want)
		}
	}
}

func TestProgress(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for name, tc := range map[string]struct {
		filesDone, filesTotal                 int
		bytesDone, bytesTotal, bytesPerSecond int64
		percent                               int32
		eta                                   time.Duration // 0: none
	}{
		"started":                   {0, 7, 0, 16_000_000_000, 0, 0, 0},
		"42%":                       {3, 7, 4_200_000_000, 10_000_000_000, 100_000_000, 42, 58 * time.Second},
		"rounds the percent down":   {1, 2, 999, 1000, 1, 99, time.Second},
		"ETA to the nearest second": {0, 1, 0, 1_500, 1_000, 0, 2 * time.Second},
		"ETA in minutes":            {1, 4, 1_000_000_000, 10_000_000_000, 50_000_000, 10, 3 * time.Minute},
		"no speed, no ETA":          {3, 7, 4_200_000_000, 10_000_000_000, 0, 42, 0},
		"done":                      {7, 7, 10_000_000_000, 10_000_000_000, 100_000_000, 100, 0},
		"more than the total":       {7, 7, 12_000_000_000, 10_000_000_000, 100_000_000, 100, 0},
		"no total yet":              {0, 0, 0, 0, 100_000_000, 0, 0},
	} {
		t.Run(name, func(t *testing.T) {
			p := cache.Progress(tc.filesDone, tc.filesTotal, tc.bytesDone, tc.bytesTotal, tc.bytesPerSecond, now)
			if p.Percent != tc.percent {
				t.Errorf("percent %d, want %d", p.Percent, tc.percent)
			}
			switch {
			case tc.eta == 0 && p.ETA != nil:
				t.Errorf("ETA %s, want none", p.ETA.Duration)
			case tc.eta != 0 && (p.ETA == nil || p.ETA.Duration != tc.eta):
				t.Errorf("ETA %v, want %s", p.ETA, tc.eta)
			}
			if int(p.FilesDone) != tc.filesDone || int(p.FilesTotal) != tc.filesTotal || p.BytesDone != tc.bytesDone ||
				p.BytesTotal != tc.bytesTotal || p.BytesPerSecond != tc.bytesPerSecond || !p.UpdatedAt.Time.Equal(now) {
				t.Errorf("figures not carried over: %+v", p)
			}
		})
	}
}

func TestProgressMessage(t *testing.T) {
	const resolving = "resolving the revision and listing the files"
	if got := cache.ProgressMessage(nil); got != resolving {
		t.Errorf("ProgressMessage(nil) = %q", got)
	}
	if got := cache.ProgressMessage(&v1.DownloadProgress{FilesTotal: 3}); got != resolving {
		t.Errorf("ProgressMessage(no bytes yet) = %q", got)
	}
	now := time.Now()
	p := cache.Progress(3, 7, 6_762_000_000, 16_100_000_000, 110_000_000, now)
	if got, want := cache.ProgressMessage(&p), "42% of 16.1 GB, 3 of 7 files, 110.0 MB/s, 1m25s left"; got != want {
		t.Errorf("ProgressMessage = %q, want %q", got, want)
	}
	p = cache.Progress(3, 7, 6_762_000_000, 16_100_000_000, 0, now)
	if got, want := cache.ProgressMessage(&p), "42% of 16.1 GB, 3 of 7 files"; got != want {
		t.Errorf("ProgressMessage without speed = %q, want %q", got, want)
	}
}

func TestSizeText(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 999: "999 B", 1000: "1.0 kB", 1500: "1.5 kB", 110_000_000: "110.0 MB",
		16_100_000_000: "16.1 GB", 1_000_000_000_000: "1.0 TB", 2_500_000_000_000_000: "2.5 PB",
	} {
		if got := cache.SizeText(n); got != want {
			t.Errorf("SizeText(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestCheckpointStatusRoundTrip(t *testing.T) {
	if cache.CheckpointStatus(nil, 3, 100, "") != nil {
		t.Error("CheckpointStatus(nil) must be nil")
	}
	for name, f := range map[string]checkpoint.Facts{
		"quantized": {Architecture: "LlamaForCausalLM", Layers: 32, HiddenSize: 4096, AttentionHeads: 32, KVHeads: 8,
			HeadDim: 128, ContextLength: 131072, TorchDtype: "float16", Format: "safetensors", WeightBytes: 5_700_000_000,
			Parameters: 8_030_000_000, Quantization: &checkpoint.Quantization{Method: "awq", Bits: 4}},
		"not quantized": {Architecture: "Qwen2ForCausalLM", Layers: 28, HiddenSize: 3584, AttentionHeads: 28, KVHeads: 4,
			HeadDim: 128, ContextLength: 32768, TorchDtype: "bfloat16", Format: "safetensors", WeightBytes: 15_200_000_000,
			Parameters: 7_600_000_000},
	} {
		t.Run(name, func(t *testing.T) {
			// ModelType is left out: the status has no field for it.
			s := cache.CheckpointStatus(&f, 9, 16_000_000_000, "")
			if s.Files != 9 || s.Bytes != 16_000_000_000 {
				t.Errorf("files %d bytes %d, want 9 and 16000000000", s.Files, s.Bytes)
			}
			if q := f.Quantization; q != nil && (s.QuantMethod != q.Method || s.QuantBits != q.Bits) {
				t.Errorf("quantization %s/%d, want %+v", s.QuantMethod, s.QuantBits, q)
			}
			if f.Quantization == nil && (s.QuantMethod != "" || s.QuantBits != 0) {
				t.Errorf("an unquantized checkpoint has quantization %s/%d", s.QuantMethod, s.QuantBits)
			}
			if back := cache.Facts(s); !reflect.DeepEqual(back, f) {
				t.Errorf("round trip\n got %+v\nwant %+v", back, f)
			}
		})
	}
}

func TestSpecQuantization(t *testing.T) {
	for name, tc := range map[string]struct {
		q    *checkpoint.Quantization
		want v1.Quantization
	}{
		"none":                        {nil, ""},
		"awq":                         {&checkpoint.Quantization{Method: "awq", Bits: 4}, v1.QuantizationAWQ},
		"gptq":                        {&checkpoint.Quantization{Method: "gptq", Bits: 4}, v1.QuantizationGPTQ},
		"gptq 8-bit":                  {&checkpoint.Quantization{Method: "gptq", Bits: 8}, v1.QuantizationGPTQ},
		"fp8":                         {&checkpoint.Quantization{Method: "fp8", Bits: 8}, v1.QuantizationFP8},
		"fbgemm_fp8":                  {&checkpoint.Quantization{Method: "fbgemm_fp8", Bits: 8}, v1.QuantizationFP8},
		"compressed-tensors 8-bit":    {&checkpoint.Quantization{Method: "compressed-tensors", Bits: 8}, v1.QuantizationFP8},
		"compressed-tensors 4-bit":    {&checkpoint.Quantization{Method: "compressed-tensors", Bits: 4}, ""},
		"compressed-tensors, no bits": {&checkpoint.Quantization{Method: "compressed-tensors"}, ""},
		"bitsandbytes":                {&checkpoint.Quantization{Method: "bitsandbytes", Bits: 4}, ""},
		"an unknown method":           {&checkpoint.Quantization{Method: "hqq", Bits: 4}, ""},
	} {
		if got := cache.SpecQuantization(checkpoint.Facts{Quantization: tc.q}); got != tc.want {
			t.Errorf("%s: SpecQuantization = %q, want %q", name, got, tc.want)
		}
	}
}

// TestWantS3: an s3:// model of an engine that loads a folder gets a cache of its own folder, without a revision
// or a Hub token, from a class with an s3 endpoint; the default leaves it to the engine otherwise.
func TestWantS3(t *testing.T) {
	cfg := modelCache(t, true, "")
	cfg.Classes["minio"] = config.CacheClass{Size: cfg.Classes["default"].Size, S3: &config.S3Source{Endpoint: "http://minio:9000", Region: "us-east-1"}}
	l := llm(func(l *v1.LLMDeployment) {
		l.Spec.Model.URI = "s3://models/llama/8b/"
		l.Spec.Model.Cache = &v1.ModelCacheOptions{ClassName: "minio"}
	})
	mc, err := cache.Want(l, cfg)
	if err != nil || mc == nil {
		t.Fatalf("Want = %v, %v", mc, err)
	}
	if mc.Spec.Source != "s3://models/llama/8b/" || mc.Spec.Revision != "" || mc.Spec.TokenSecretRef != nil || mc.Spec.ClassName != "minio" {
		t.Errorf("spec %+v", mc.Spec)
	}
	if got := cache.Path(mc.Spec); got != "s3/models/llama/8b" {
		t.Errorf("Path = %q", got)
	}
	if !strings.HasPrefix(mc.Name, "8b-") {
		t.Errorf("name %q, want the folder's name first", mc.Name)
	}
	l.Spec.Model.Cache = nil // the default class has no s3 endpoint
	if mc, err := cache.Want(l, cfg); mc != nil || err != nil {
		t.Errorf("under the default, with a class without s3: Want = %v, %v; want nil, nil", mc, err)
	}
}

// TestWantGGUF: a llama.cpp model's cache holds the GGUF files of its quantization only, by default as when asked.
func TestWantGGUF(t *testing.T) {
	for name, l := range map[string]*v1.LLMDeployment{
		"by default": llm(llamacpp),
		"enabled":    llm(func(l *v1.LLMDeployment) { llamacpp(l); withCache(v1.ModelCacheOptions{Enabled: ptr.To(true)})(l) }),
	} {
		mc, err := cache.Want(l, modelCache(t, true, ""))
		if err != nil || mc == nil {
			t.Fatalf("%s: Want = %v, %v", name, mc, err)
		}
		if mc.Spec.Files == nil || !slices.Equal(mc.Spec.Files.Include, []string{"*[Qq]4_[Kk]_[Mm]*.gguf"}) {
			t.Errorf("%s: files %+v", name, mc.Spec.Files)
		}
	}
}

// TestWantPVC: a pvc:// model gets a ModelCache that checks it in place: no revision, token or filter.
func TestWantPVC(t *testing.T) {
	l := llm(func(l *v1.LLMDeployment) {
		l.Spec.Model.URI = "pvc://weights/llama/8b"
		withCache(v1.ModelCacheOptions{Enabled: ptr.To(true)})(l)
	})
	mc, err := cache.Want(l, modelCache(t, false, ""))
	if err != nil || mc == nil {
		t.Fatalf("Want = %v, %v", mc, err)
	}
	if mc.Spec.Revision != "" || mc.Spec.TokenSecretRef != nil || mc.Spec.Files != nil || !cache.IsPVC(mc.Spec) {
		t.Errorf("spec %+v", mc.Spec)
	}
	if claim, p := cache.PVC(mc.Spec); claim != "weights" || p != "llama/8b" || cache.Path(mc.Spec) != "llama/8b" {
		t.Errorf("PVC = %q, %q; Path %q", claim, p, cache.Path(mc.Spec))
	}
}

// TestWantPVCIgnoresFiles: a pvc:// model is checked whole: spec.model.cache.files does not reach its check (the
// loader's --verify-dir takes no filter).
func TestWantPVCIgnoresFiles(t *testing.T) {
	l := llm(func(l *v1.LLMDeployment) {
		l.Spec.Model.URI = "pvc://weights/llama"
		withCache(v1.ModelCacheOptions{Enabled: ptr.To(true), Files: &v1.FileFilter{Include: []string{"*.json"}}})(l)
	})
	mc, err := cache.Want(l, modelCache(t, false, ""))
	if err != nil || mc == nil || mc.Spec.Files != nil {
		t.Fatalf("Want = %+v, %v; want a pvc:// cache without files", mc, err)
	}
}
