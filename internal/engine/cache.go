package engine

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// Where the model cache's volume is mounted in an engine container (docs/model-cache.md): its hub/ folder, the
// Hugging Face cache, read-only, and its compile/ folder read-write for the engines' compile caches.
const (
	ModelCacheDir   = "/mnt/model-cache"
	CompileCacheDir = "/mnt/compile-cache"
)

// CachedModel is a model that a Ready ModelCache holds: the engine loads that commit offline from the mounted
// cache, with no token.
type CachedModel struct {
	// Commit is the snapshot the loader verified.
	Commit string
	// Claim is the cache's PersistentVolumeClaim, which the renderer mounts.
	Claim string
	// Path is the model's folder on the claim: "hub" (the Hugging Face cache, mounted at ModelCacheDir) or
	// s3/<bucket>/<folder> (its s3/ folder is mounted at ModelCacheDir, and the engine loads the model's folder).
	Path string
	// File is the GGUF file of the snapshot an engine that loads one file is given (Facts.CacheGGUF).
	File string
}

// SnapshotFile is where a file of an hf:// repository's cached snapshot is in the engine container.
func (c *CachedModel) SnapshotFile(repo string) string {
	return ModelCacheDir + "/models--" + strings.ReplaceAll(repo, "/", "--") + "/snapshots/" + c.Commit + "/" + c.File
}

// SubPath is the claim's folder mounted read-only at ModelCacheDir.
func (c *CachedModel) SubPath() string {
	if c.Path == "" || c.Path == "hub" {
		return "hub"
	}
	return "s3"
}

// LocalDir is the folder the engine loads for a cached s3:// model, "" for a Hugging Face repo (loaded by id,
// offline, from the cache).
func (c *CachedModel) LocalDir() string {
	if c == nil || c.SubPath() != "s3" {
		return ""
	}
	return ModelCacheDir + "/" + strings.TrimPrefix(c.Path, "s3/")
}

// location is what the engine is given as the model: the cached folder of an s3:// model, else the source's.
func (in Input) location() string {
	if d := in.Cache.LocalDir(); d != "" {
		return d
	}
	return in.Model.Location()
}

// FileFilter is the files an engine needs of a Hugging Face repository: globs with huggingface_hub's
// allow_patterns/ignore_patterns semantics (internal/hub.Filter).
type FileFilter struct {
	Include, Exclude []string
}

// safetensorsFiles is what the transformers-based engines (vLLM, TGI, SGLang) load: config, tokenizer and
// safetensors or PyTorch weights at the repository's root level. Left out: the original/ consolidated weights that
// Meta's repositories add (the same weights again, for their own code), Mistral's consolidated.safetensors (only
// read with --load-format mistral), GGUF, ONNX, OpenVINO, Core ML, TensorFlow, Flax and Rust weights.
var safetensorsFiles = FileFilter{Exclude: []string{
	"original/*", "consolidated*.safetensors", "*.gguf", "*.onnx", "*.onnx_data", "onnx/*", "openvino/*",
	"coreml/*", "*.mlmodel", "*.h5", "*.msgpack", "*.ot", "*.pth", "*.tflite",
}}

// UsesCache says whether the engine can load from the model cache.
func (f Facts) UsesCache() bool { return f.CacheFiles != nil || f.CacheGGUF }

// CacheFilter is the files of an hf:// repository a ModelCache downloads for the spec's engine: its CacheFiles,
// or, for an engine that loads one GGUF file, the GGUF files of spec.quantization's type (matched without regard
// to case, as llama.cpp's -hf matches them). ok is false when the engine cannot load from the cache.
func CacheFilter(spec *v1.LLMDeploymentSpec) (FileFilter, bool) {
	f := FactsOf(spec.EffectiveEngine())
	switch {
	case f.CacheFiles != nil:
		return FileFilter{Include: slices.Clone(f.CacheFiles.Include), Exclude: slices.Clone(f.CacheFiles.Exclude)}, true
	case f.CacheGGUF:
		return FileFilter{Include: []string{"*" + anyCase(string(spec.EffectiveQuantization())) + "*.gguf"}}, true
	}
	return FileFilter{}, false
}

// anyCase is a glob that matches s in any case: "Q4_K_M" → "[Qq]4_[Kk]_[Mm]".
func anyCase(s string) string {
	var b strings.Builder
	for _, r := range s {
		lo, up := strings.ToLower(string(r)), strings.ToUpper(string(r))
		if lo == up {
			b.WriteRune(r)
			continue
		}
		b.WriteString("[" + up + lo + "]")
	}
	return b.String()
}

// revision is the revision the engine loads: the cache's commit, else spec.model.revision.
func (in Input) revision() string {
	if in.Cache != nil {
		return in.Cache.Commit
	}
	return in.LLM.Spec.Model.Revision
}

// withCache points the Hugging Face libraries at the mounted cache and takes them offline: the engine neither
// downloads nor needs the token, which only the download Job mounts.
func withCache(in Input, e []corev1.EnvVar) []corev1.EnvVar {
	if in.Cache == nil {
		return e
	}
	e = slices.DeleteFunc(e, func(v corev1.EnvVar) bool { return v.Name == "HF_TOKEN" })
	return append(e,
		env("HF_HUB_CACHE", ModelCacheDir),
		// TGI's launcher reads the older name (--huggingface-hub-cache); huggingface_hub reads both.
		env("HUGGINGFACE_HUB_CACHE", ModelCacheDir),
		env("HF_HUB_OFFLINE", "1"),
	)
}

// compileCache is where an engine keeps what it compiles for the model: on the cache volume, keyed by the
// engine's release, when the model is cached (so the second start skips compiling); else under fallback.
func compileCache(in Input, f Facts, fallback string) string {
	if in.Cache == nil {
		return fallback
	}
	return CompileCacheDir + "/" + string(f.Name) + "-" + f.Version
}
