package engine

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// engineUser is USER for engines that run as the operator's uid: some engines look the user up and crash when
// the uid has no passwd entry and USER is unset (vLLM from v0.20, through torch's getpass.getuser()).
const engineUser = "engine"

// CommonEnvNames are the variables every plan sets or that would override the token; engine.env may not set them.
var CommonEnvNames = []string{
	"HOME", "USER", "HF_HOME", "XDG_CACHE_HOME", "HF_HUB_DISABLE_TELEMETRY", "DO_NOT_TRACK", "HF_TOKEN",
	"HUGGING_FACE_HUB_TOKEN", "PORT", "HOSTNAME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HUB_OFFLINE",
}

// WideningEnvNames are variables of every engine that change what code the engine process loads.
var WideningEnvNames = []string{"LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP",
	"PYTHONUSERBASE"}

// commonEnv is the environment every engine gets: a HOME and USER that exist, writable cache locations, no
// telemetry leaving the cluster, and the Hugging Face token read by the kubelet from the referenced Secret.
func commonEnv(llm *v1.LLMDeployment, root bool) []corev1.EnvVar {
	user := engineUser
	if root {
		user = "root"
	}
	out := []corev1.EnvVar{
		env("HOME", HomeDir),
		env("USER", user),
		env("HF_HOME", HFHome),
		env("XDG_CACHE_HOME", CacheDir),
		env("HF_HUB_DISABLE_TELEMETRY", "1"),
		env("DO_NOT_TRACK", "1"),
	}
	if ref := llm.Spec.Model.TokenSecretRef; ref != nil {
		key := ref.Key
		if key == "" {
			key = "token"
		}
		out = append(out, corev1.EnvVar{Name: "HF_TOKEN", ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: ref.Name},
				Key:                  key,
			},
		}})
	}
	return out
}

// userEnv converts spec.engine.env, in the user's order, after the operator's own variables.
func userEnv(llm *v1.LLMDeployment) []corev1.EnvVar {
	out := make([]corev1.EnvVar, 0, len(llm.Spec.Engine.Env))
	for _, e := range llm.Spec.Engine.Env {
		out = append(out, corev1.EnvVar{Name: e.Name, Value: e.Value, ValueFrom: e.ValueFrom.DeepCopy()})
	}
	return out
}

// Resolution is how an engine is told the quantization of the weights.
type Resolution struct {
	// Flag is the value of the engine's quantization flag; "" passes none (not quantized, or read from the
	// checkpoint).
	Flag string
	// Reason is the reason of the QuantizationResolved condition: FromCheckpoint, QuantizeOnLoad, NotQuantized
	// or CheckpointUnknown.
	Reason string
	// Known is false when the operator had to assume whether the checkpoint is quantized.
	Known bool
	// Message says what the engine is given and, when not Known, what to set.
	Message string
}

// Resolve decides whether the engine gets a quantization flag. A flag is passed only to quantize an unquantized
// checkpoint as it loads, never for a quantized one (vLLM and SGLang refuse a flag that differs from the
// checkpoint's quantization_config, e.g. fp8 against fbgemm_fp8). When spec.model.quantized is unset and the
// method can be either, the operator assumes on load and says so (Known false).
func Resolve(spec *v1.LLMDeploymentSpec) Resolution {
	f := FactsOf(spec.EffectiveEngine())
	q := spec.EffectiveQuantization()
	uri := spec.Model.URI
	if q == v1.QuantizationNone {
		r := Resolution{Reason: v1.ReasonNotQuantized, Known: true, Message: "the model is served as the checkpoint stores it"}
		if spec.Model.Quantized == nil && !f.DtypeWithQuantization && spec.EffectiveDtype() != v1.DtypeAuto {
			r.Known = false
			r.Reason = v1.ReasonCheckpointUnknown
			r.Message = fmt.Sprintf("%s refuses dtype %s if %s is a quantized checkpoint, which the operator cannot tell: "+
				"set spec.model.quantized: false to confirm it is not, or spec.dtype: auto", f.Title, spec.EffectiveDtype(), uri)
		}
		return r
	}
	entry, _ := f.QuantizationOf(q)
	onLoad := func(known bool) Resolution {
		r := Resolution{Flag: entry.OnLoadFlag, Reason: v1.ReasonQuantizeOnLoad, Known: known,
			Message: fmt.Sprintf("%s quantizes the checkpoint to %s as it loads it (%s=%s)", f.Title, q, f.QuantizationFlag(), entry.OnLoadFlag)}
		if !known {
			r.Reason = v1.ReasonCheckpointUnknown
			r.Message = fmt.Sprintf("spec.model.quantized is unset and %s may be a quantized checkpoint or quantized on load: "+
				"the operator assumed on load (%s=%s); if %s is already quantized, %s refuses to start: "+
				"set spec.model.quantized to true (a quantized checkpoint) or false (quantize on load)",
				q, f.QuantizationFlag(), entry.OnLoadFlag, uri, f.Title)
		}
		return r
	}
	fromCheckpoint := Resolution{Reason: v1.ReasonFromCheckpoint, Known: true,
		Message: fmt.Sprintf("%s reads the %s quantization from the checkpoint (no flag)", f.Title, q)}
	switch {
	case spec.Model.Quantized != nil && *spec.Model.Quantized:
		return fromCheckpoint
	case spec.Model.Quantized != nil:
		return onLoad(true)
	case entry.OnLoadFlag == "":
		return fromCheckpoint
	case !entry.FromCheckpoint:
		return onLoad(true)
	default:
		return onLoad(false)
	}
}

// QuantizationFlag is the engine's quantization option, for messages.
func (f Facts) QuantizationFlag() string {
	if f.QuantizationOption == "" {
		return "its quantization flag"
	}
	return f.QuantizationOption
}
