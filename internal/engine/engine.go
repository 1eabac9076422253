// Package engine is the registry of inference engines: what each one is (its Facts: image, accepted quantizations,
// dtypes and model sources, parallelism, CPU serving, metric names, the flags and variables it manages) and how it
// runs one LLMDeployment (its Plan: command, exec-form args, environment, ports, probes, security). One file per
// engine registers itself; everything else — rendering, the CRD's engine rules, admission, the autoscaler, the
// operator configuration, docs/engines.md and the engine simulator — reads the registry. Every function is pure.
package engine

import (
	"fmt"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// Paths inside the engine container. The root filesystem may be read-only; these are writable emptyDirs or mounts.
const (
	// CacheDir holds the Hugging Face cache (downloaded weights) and the engines' compile caches.
	CacheDir = "/var/cache/privatellm"
	// HomeDir is the engine's HOME (vLLM writes ~/.cache/vllm and ~/.config/vllm).
	HomeDir = "/home/engine"
	// TmpDir is a writable /tmp.
	TmpDir = "/tmp"
	// ShmDir is the shared memory tensor parallel workers use.
	ShmDir = "/dev/shm"
	// ModelMountDir is where a pvc:// model's claim is mounted, read-only.
	ModelMountDir = "/mnt/models"
	// HFHome is HF_HOME; the hub cache is HFHome + "/hub".
	HFHome = CacheDir + "/huggingface"
)

// Engine is one inference server.
type Engine interface {
	// Facts are what the operator knows of the engine without a spec.
	Facts() Facts
	// Plan is how the engine serves one replica of a spec that Validate accepted.
	Plan(in Input) Plan
}

// Input is what a plan is made from.
type Input struct {
	// LLM is the LLMDeployment.
	LLM *v1.LLMDeployment
	// Model is its parsed spec.model.uri.
	Model ModelSource
	// Image is the image to run: spec.engine.image, else the operator's pinned one.
	Image string
	// Quantization is how the engine is told the quantization (Resolve).
	Quantization Resolution
	// Cache is the ModelCache's snapshot when the model is cached; nil when the engine downloads it itself.
	Cache *CachedModel
}

// Facts describe an engine.
type Facts struct {
	// Name is spec.engine.name.
	Name v1.EngineName
	// StreamUsageByDefault says the engine sends a stream's usage chunk when a request has stream_options without
	// include_usage (its include_usage defaults to true): the gateway, which forces include_usage to meter streams,
	// then leaves that chunk to the client, who would have got it anyway.
	StreamUsageByDefault bool
	// Title is the engine's name in prose, e.g. "vLLM".
	Title string
	// Version is the release the facts and the pinned image are from.
	Version string
	// Image is the default image, pinned by tag; the operator configuration may override it.
	Image string
	// CPUImage is the default image for gpu.count 0; "" when the engine does not serve on CPU.
	CPUImage string
	// Schemes are the model URI schemes the engine loads.
	Schemes []Scheme
	// ModelFileSuffix, when set, is the suffix a pvc:// path must have (the engine loads one file, e.g. ".gguf").
	ModelFileSuffix string
	// Revisions says whether the engine loads a revision (branch, tag or commit) of an hf:// model.
	Revisions bool
	// CacheFiles are the files of an hf:// repository the engine loads, which a ModelCache downloads; nil when the
	// engine cannot load from the model cache.
	CacheFiles *FileFilter
	// CacheGGUF says the engine loads one GGUF file of an hf:// repository: a ModelCache downloads the files of
	// spec.quantization's type only, and the engine is given the file (CachedModel.File).
	CacheGGUF bool
	// Quantizations are the spec.quantization values the engine accepts, "none" first.
	Quantizations []Quantization
	// QuantizationOption is the option that takes their OnLoadFlag values, e.g. "--quantization" ("" for none).
	QuantizationOption string
	// Dtypes are the spec.dtype values the engine accepts; auto first.
	Dtypes []v1.Dtype
	// DtypeWithQuantization says whether a dtype other than auto may be given together with a quantization.
	DtypeWithQuantization bool
	// Parallelism is how the engine splits a model over a replica's GPUs.
	Parallelism Parallelism
	// ManagedFlags are the options the plan sets (every spelling): engine.args may not set them.
	ManagedFlags []string
	// ManagedEnv are the variables the plan sets besides CommonEnvNames: engine.env may not set them.
	ManagedEnv []string
	// ForbiddenEnv are variables engine.env may not set at all, with the reason.
	ForbiddenEnv map[string]string
	// WideningFlags are flags that widen what the engine may read, load or execute (local files for requests,
	// plugins and code by path or module name, option files that bypass admission, servers it calls): the
	// admission webhook refuses them in engine.args unless the operator configuration's policy says otherwise.
	WideningFlags []string
	// WideningEnv are the engine's variables of that kind (see WideningFlags).
	WideningEnv []string
	// Abbreviates says the engine's parser accepts a unique prefix of a long option for it (argparse), so a
	// refused flag is refused in every abbreviation too.
	Abbreviates bool
	// Metrics are the engine's metric names.
	Metrics Metrics
	// Source says where the facts were read (engine source files and release).
	Source string
}

// Quantization is one spec.quantization value an engine accepts.
type Quantization struct {
	// Name is the spec.quantization value.
	Name v1.Quantization
	// FromCheckpoint says the engine reads the method from a quantized checkpoint, without a flag.
	FromCheckpoint bool
	// OnLoadFlag is the engine's flag value that quantizes an unquantized checkpoint as it loads; "" when the
	// method exists only as a quantized checkpoint.
	OnLoadFlag string
	// BitsPerWeight sizes the weights for the fit estimate (scales and zero points included).
	BitsPerWeight float64
	// MaxGPUs, when set, is the most GPUs per replica the engine can split this method over.
	MaxGPUs int32
}

// Parallelism is how an engine splits a model over a replica's GPUs.
type Parallelism string

// The ways engines split a model.
const (
	// TensorAndPipeline: tensorParallelSize divides gpu.count; the remaining factor becomes pipeline stages.
	TensorAndPipeline Parallelism = "tensor and pipeline"
	// TensorOnly: tensorParallelSize, when set, equals gpu.count.
	TensorOnly Parallelism = "tensor only"
	// LayerSplit: the engine splits layers over the GPUs itself; tensorParallelSize is not accepted.
	LayerSplit Parallelism = "layers split over the GPUs"
)

// Metrics names the Prometheus series an engine exports for the signals the operator reads. A signal can have
// several names when an engine renamed it; readers take the first one present.
type Metrics struct {
	// RequestsRunning is the number of requests being generated now (gauge).
	RequestsRunning []string
	// RequestsWaiting is the queue depth (gauge).
	RequestsWaiting []string
	// KVCacheUsage is the fraction of KV cache in use, 0..1 (gauge); nil when the engine exports none.
	KVCacheUsage []string
	// PromptTokens and GenerationTokens count tokens in and out (counters, as exposed, with _total).
	PromptTokens, GenerationTokens []string
	// TimeToFirstToken and RequestLatency are histograms of seconds (their base names).
	TimeToFirstToken, RequestLatency []string
	// CreatedOnFirstUse are gauges the engine creates only with its first request: absent from an otherwise
	// valid page, they read as 0.
	CreatedOnFirstUse []string
}

// Plan is what an engine needs from the pod to serve one replica.
type Plan struct {
	// Model is where the weights come from (parsed spec.model.uri); the renderer mounts a pvc:// claim.
	Model ModelSource
	// Cache is the ModelCache the weights are loaded from, offline; nil when the engine downloads them.
	Cache *CachedModel
	// ContainerName names the engine container.
	ContainerName string
	// Image is the engine image.
	Image string
	// Command and Args are the process, in exec form.
	Command []string
	Args    []string
	// Env are the engine's environment variables, the user's included, in a stable order.
	Env []corev1.EnvVar
	// Port serves the OpenAI-compatible API, /health and /metrics.
	Port int32
	// StartupPath answers 200 once the model is loaded (the startup probe).
	StartupPath string
	// LivenessPath answers 200 while the engine is alive; it must stay cheap under load.
	LivenessPath string
	// ReadinessPath answers 200 while the model is served.
	ReadinessPath string
	// ReadOnlyRootFilesystem says whether the engine runs with a read-only root filesystem.
	ReadOnlyRootFilesystem bool
	// RunAsRoot says the image cannot run as another user (every capability is still dropped).
	RunAsRoot bool
	// DrainSeconds is how long the engine finishes in-flight requests after SIGTERM.
	DrainSeconds int64
}

var registry = map[v1.EngineName]Engine{}

// register adds an engine; each engine's file calls it from init.
func register(e Engine) {
	name := e.Facts().Name
	if _, dup := registry[name]; dup {
		panic("engine " + string(name) + " registered twice")
	}
	registry[name] = e
}

// Lookup returns the engine of a name.
func Lookup(name v1.EngineName) (Engine, bool) {
	e, ok := registry[name]
	return e, ok
}

// Names are the registered engines, the default first, then by name.
func Names() []v1.EngineName {
	names := make([]v1.EngineName, 0, len(registry))
	for n := range registry {
		if n != v1.DefaultEngine {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return append([]v1.EngineName{v1.DefaultEngine}, names...)
}

// All are the registered engines' facts, in the order of Names.
func All() []Facts {
	var out []Facts
	for _, n := range Names() {
		out = append(out, registry[n].Facts())
	}
	return out
}

// FactsOf returns an engine's facts; the zero Facts for an unknown name.
func FactsOf(name v1.EngineName) Facts {
	if e, ok := registry[name]; ok {
		return e.Facts()
	}
	return Facts{}
}

// Images are the pinned images per engine: Image, and CPUImage for gpu.count 0.
type Images map[v1.EngineName]Image

// Image is an engine's pinned images.
type Image struct {
	// GPU is the image for GPU replicas.
	GPU string
	// CPU is the image for gpu.count 0 ("" when the engine does not serve on CPU).
	CPU string
}

// DefaultImages are the images the engines' facts pin.
func DefaultImages() Images {
	out := Images{}
	for _, f := range All() {
		out[f.Name] = Image{GPU: f.Image, CPU: f.CPUImage}
	}
	return out
}

// For returns the plan of the LLMDeployment's engine, or the error that says what in the spec the engine
// refuses (the CRD refuses the same at admission; this guards objects built in Go and older schemas).
func For(llm *v1.LLMDeployment, images Images) (Plan, error) {
	return ForCached(llm, images, nil)
}

// ForCached is For with the model loaded offline from a ModelCache's snapshot (nil: downloaded by the engine).
func ForCached(llm *v1.LLMDeployment, images Images, cache *CachedModel) (Plan, error) {
	name := llm.Spec.EffectiveEngine()
	e, ok := registry[name]
	if !ok {
		return Plan{}, fmt.Errorf("unknown engine %q: use one of %s", name, joinNames(Names()))
	}
	if errs := Validate(&llm.Spec); len(errs) > 0 {
		return Plan{}, errs.ToAggregate()
	}
	src, err := ParseModelURI(llm.Spec.Model.URI)
	if err != nil {
		return Plan{}, err
	}
	img := images[name].GPU
	if llm.Spec.OnCPU() {
		img = images[name].CPU
	}
	if llm.Spec.Engine.Image != "" {
		img = llm.Spec.Engine.Image
	}
	if img == "" {
		img = e.Facts().Image
		if llm.Spec.OnCPU() {
			img = e.Facts().CPUImage
		}
	}
	if cache != nil && (src.Scheme != SchemeHF && src.Scheme != SchemeS3 || !e.Facts().UsesCache()) {
		return Plan{}, fmt.Errorf("%s does not load %s from the model cache: set spec.model.cache.enabled: false", e.Facts().Title, llm.Spec.Model.URI)
	}
	return e.Plan(Input{LLM: llm, Model: src, Image: img, Quantization: Resolve(&llm.Spec), Cache: cache}), nil
}

// QuantizationOf returns an engine's entry for a spec.quantization value.
func (f Facts) QuantizationOf(q v1.Quantization) (Quantization, bool) {
	for _, e := range f.Quantizations {
		if e.Name == q {
			return e, true
		}
	}
	return Quantization{}, false
}

// Supports says whether an engine accepts a spec.quantization value.
func Supports(e v1.EngineName, q v1.Quantization) bool {
	_, ok := FactsOf(e).QuantizationOf(q)
	return ok
}

// ServesOnCPU says whether the engine can run with gpu.count 0.
func (f Facts) ServesOnCPU() bool { return f.CPUImage != "" }

func itoa[T ~int32 | ~int64 | int](v T) string { return strconv.FormatInt(int64(v), 10) }

func env(name, value string) corev1.EnvVar { return corev1.EnvVar{Name: name, Value: value} }

func joinNames[T ~string](items []T) string {
	s := make([]string, len(items))
	for i, it := range items {
		s[i] = string(it)
	}
	return joinOr(s)
}

// joinOr joins items as "a, b, c or d".
func joinOr(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	out := ""
	for i, it := range items[:len(items)-1] {
		if i > 0 {
			out += ", "
		}
		out += it
	}
	return out + " or " + items[len(items)-1]
}
