// Package engine turns an LLMDeployment into what one inference engine needs to run it: command, args (exec form,
// never a shell), environment, port, probe paths and the names of the engine's metrics. One file per engine;
// every function here is pure.
package engine

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
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
)

// Metrics names the Prometheus series an engine exports for the signals the operator and autoscalers use.
// A signal can have several names when an engine renamed it; readers take the first one present.
type Metrics struct {
	// RequestsRunning is the number of requests being generated now.
	RequestsRunning []string
	// RequestsWaiting is the queue depth.
	RequestsWaiting []string
	// KVCacheUsage is the fraction of KV cache in use (0..1).
	KVCacheUsage []string
	// TimeToFirstToken is a histogram of seconds to the first token.
	TimeToFirstToken []string
	// RequestLatency is a histogram of end-to-end request seconds.
	RequestLatency []string
}

// Plan is what an engine needs from the pod to serve one replica.
type Plan struct {
	// Model is where the weights come from (parsed spec.model.uri); the renderer mounts a pvc:// claim.
	Model ModelSource
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
	// MetricsPort serves /metrics when the engine exports them on a port of their own (0: on Port).
	MetricsPort int32
	// HealthPath answers 200 once the model is loaded and while the engine is alive.
	HealthPath string
	// ReadinessPath answers 200 while the model is served.
	ReadinessPath string
	// ReadOnlyRootFilesystem says whether the engine runs with a read-only root filesystem.
	ReadOnlyRootFilesystem bool
	// DrainSeconds is how long the engine finishes in-flight requests after SIGTERM.
	DrainSeconds int64
	// Metrics are the engine's metric names.
	Metrics Metrics
}

// Defaults are the operator-level settings engines take: the pinned images.
type Defaults struct {
	// VLLMImage is the vLLM image used unless spec.engine.image overrides it.
	VLLMImage string
	// TGIImage is the TGI image used unless spec.engine.image overrides it.
	TGIImage string
}

// For returns the plan of the LLMDeployment's engine.
func For(llm *servingv1alpha1.LLMDeployment, d Defaults) (Plan, error) {
	src, err := ParseModelURI(llm.Spec.Model.URI)
	if err != nil {
		return Plan{}, err
	}
	switch e := llm.Spec.EffectiveEngine(); e {
	case servingv1alpha1.EngineVLLM:
		return VLLM(llm, src, imageOr(llm.Spec.Engine.Image, d.VLLMImage)), nil
	case servingv1alpha1.EngineTGI:
		if src.Scheme == SchemeS3 || src.Scheme == SchemeGCS {
			return Plan{}, fmt.Errorf("engine tgi cannot load %s:// models; use hf:// or pvc://", src.Scheme)
		}
		return TGI(llm, src, imageOr(llm.Spec.Engine.Image, d.TGIImage)), nil
	default:
		return Plan{}, fmt.Errorf("unknown engine %q: use vllm or tgi", e)
	}
}

func imageOr(override, pinned string) string {
	if override != "" {
		return override
	}
	return pinned
}

// commonEnv is the environment every engine gets: writable cache locations, no telemetry leaving the cluster,
// and the Hugging Face token read by the kubelet from the referenced Secret.
func commonEnv(llm *servingv1alpha1.LLMDeployment) []corev1.EnvVar {
	env := []corev1.EnvVar{
		{Name: "HOME", Value: HomeDir},
		{Name: "HF_HOME", Value: CacheDir + "/huggingface"},
		{Name: "XDG_CACHE_HOME", Value: CacheDir},
		{Name: "HF_HUB_DISABLE_TELEMETRY", Value: "1"},
		{Name: "DO_NOT_TRACK", Value: "1"},
	}
	if ref := llm.Spec.Model.TokenSecretRef; ref != nil {
		key := ref.Key
		if key == "" {
			key = "token"
		}
		env = append(env, corev1.EnvVar{Name: "HF_TOKEN", ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: ref.Name},
				Key:                  key,
			},
		}})
	}
	return env
}

// userEnv converts spec.engine.env, in the user's order, after the operator's own variables.
func userEnv(llm *servingv1alpha1.LLMDeployment) []corev1.EnvVar {
	out := make([]corev1.EnvVar, 0, len(llm.Spec.Engine.Env))
	for _, e := range llm.Spec.Engine.Env {
		out = append(out, corev1.EnvVar{Name: e.Name, Value: e.Value, ValueFrom: e.ValueFrom.DeepCopy()})
	}
	return out
}

func itoa[T ~int32 | ~int64 | int](v T) string { return strconv.FormatInt(int64(v), 10) }

// Supports says whether an engine can serve weights of quantization q (the keys of the engine's flag table).
func Supports(e servingv1alpha1.EngineName, q servingv1alpha1.Quantization) bool {
	switch e {
	case servingv1alpha1.EngineVLLM:
		_, ok := VLLMQuantizationFlag(q)
		return ok
	case servingv1alpha1.EngineTGI:
		_, ok := TGIQuantizeFlag(q)
		return ok
	}
	return false
}
