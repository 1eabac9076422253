package engine

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

var (
	specPath   = field.NewPath("spec")
	enginePath = specPath.Child("engine")
)

// Validate checks a spec against its engine's facts: the same rules the CRD holds as generated CEL (Rules), for
// objects built in Go, older schemas and messages in status. It does not repeat the engine-independent schema.
func Validate(spec *v1.LLMDeploymentSpec) field.ErrorList {
	name := spec.EffectiveEngine()
	if _, ok := registry[name]; !ok {
		return field.ErrorList{field.NotSupported(enginePath.Child("name"), name, Names())}
	}
	f := FactsOf(name)
	var errs field.ErrorList
	q := spec.EffectiveQuantization()
	entry, known := f.QuantizationOf(q)
	if !known {
		errs = append(errs, field.Invalid(specPath.Child("quantization"), q, quantizationMessage(f, q)))
	}
	if d := spec.EffectiveDtype(); !slices.Contains(f.Dtypes, d) {
		errs = append(errs, field.Invalid(specPath.Child("dtype"), d, dtypeMessage(f, d)))
	} else if d != v1.DtypeAuto && q != v1.QuantizationNone && !f.DtypeWithQuantization {
		errs = append(errs, field.Invalid(specPath.Child("dtype"), d, dtypeWithQuantizationMessage(f)))
	}
	if scheme, _, _ := strings.Cut(spec.Model.URI, "://"); !slices.Contains(f.Schemes, Scheme(scheme)) {
		errs = append(errs, field.Invalid(specPath.Child("model", "uri"), spec.Model.URI, schemeMessage(f)))
	} else if f.ModelFileSuffix != "" && Scheme(scheme) == SchemePVC && !strings.HasSuffix(spec.Model.URI, f.ModelFileSuffix) {
		errs = append(errs, field.Invalid(specPath.Child("model", "uri"), spec.Model.URI, fileSuffixMessage(f)))
	}
	if spec.Model.Revision != "" && !f.Revisions {
		errs = append(errs, field.Invalid(specPath.Child("model", "revision"), spec.Model.Revision, revisionMessage(f)))
	}
	if tp := spec.TensorParallelSize; tp != nil {
		switch f.Parallelism {
		case TensorOnly:
			if *tp != spec.GPUCount() {
				errs = append(errs, field.Invalid(specPath.Child("tensorParallelSize"), *tp, tensorOnlyMessage(f)))
			}
		case LayerSplit:
			errs = append(errs, field.Invalid(specPath.Child("tensorParallelSize"), *tp, layerSplitMessage(f)))
		}
	}
	if known && entry.MaxGPUs > 0 && spec.GPUCount() > entry.MaxGPUs {
		errs = append(errs, field.Invalid(specPath.Child("gpu", "count"), spec.GPUCount(), maxGPUsMessage(f, entry)))
	}
	if spec.OnCPU() && !f.ServesOnCPU() {
		errs = append(errs, field.Invalid(specPath.Child("gpu", "count"), 0, cpuMessage()))
	}
	if qz := spec.Model.Quantized; qz != nil && *qz && q == v1.QuantizationNone {
		errs = append(errs, field.Invalid(specPath.Child("model", "quantized"), true,
			"model.quantized: true says the checkpoint is quantized: set spec.quantization to its method (e.g. awq, fp8)"))
	}
	if qz := spec.Model.Quantized; qz != nil && known && q != v1.QuantizationNone {
		if *qz && !entry.FromCheckpoint {
			errs = append(errs, field.Invalid(specPath.Child("model", "quantized"), true, quantizedTrueMessage(f)))
		}
		if !*qz && entry.OnLoadFlag == "" {
			errs = append(errs, field.Invalid(specPath.Child("model", "quantized"), false, quantizedFalseMessage(f)))
		}
	}
	if as := spec.Autoscaling; as != nil && as.Metric == v1.MetricKVCacheUtilization && len(f.Metrics.KVCacheUsage) == 0 {
		errs = append(errs, field.Invalid(specPath.Child("autoscaling", "metric"), as.Metric, kvMetricMessage()))
	}
	for i, a := range spec.Engine.Args {
		if flag, managed := f.managesArg(a); managed {
			errs = append(errs, field.Invalid(enginePath.Child("args").Index(i), a,
				fmt.Sprintf("%s is managed by the operator for %s: %s", flag, name, argsMessage(f))))
		}
	}
	refused := f.RefusedEnv()
	for i, e := range spec.Engine.Env {
		if slices.Contains(refused, e.Name) {
			errs = append(errs, field.Invalid(enginePath.Child("env").Index(i).Child("name"), e.Name, envMessage(f)))
		}
	}
	return errs
}

// managesArg says whether an engine.args entry sets a managed flag, as "--flag", "--flag=value", or with
// underscores for dashes.
func (f Facts) managesArg(a string) (string, bool) {
	name, _, _ := strings.Cut(a, "=")
	if strings.HasPrefix(name, "--") {
		name = "--" + strings.ReplaceAll(name[2:], "_", "-")
	}
	if slices.Contains(f.ManagedFlags, name) {
		return name, true
	}
	return "", false
}

// RefusedEnv are the variables engine.env may not set with this engine, sorted.
func (f Facts) RefusedEnv() []string {
	out := append(append([]string{}, CommonEnvNames...), f.ManagedEnv...)
	for n := range f.ForbiddenEnv {
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func quantizationNames(f Facts, keep func(Quantization) bool) []string {
	var out []string
	for _, q := range f.Quantizations {
		if keep(q) {
			out = append(out, string(q.Name))
		}
	}
	return out
}

func all(Quantization) bool { return true }

// The messages are shared by Validate and the generated CEL rules, so that both say the same.

func quantizationMessage(f Facts, q v1.Quantization) string {
	return fmt.Sprintf("quantization %s is not available with engine %s: use one of %s (docs/engines.md)",
		q, f.Name, strings.Join(quantizationNames(f, all), ", "))
}

func dtypeMessage(f Facts, d v1.Dtype) string {
	return fmt.Sprintf("dtype %s is not available with engine %s: use %s", d, f.Name, joinNames(f.Dtypes))
}

func dtypeWithQuantizationMessage(f Facts) string {
	return fmt.Sprintf("%s does not accept a dtype together with a quantization: set dtype to auto or quantization to none", f.Name)
}

func schemeMessage(f Facts) string {
	s := make([]string, len(f.Schemes))
	for i, sc := range f.Schemes {
		s[i] = string(sc) + "://"
	}
	return fmt.Sprintf("engine %s loads models from %s only", f.Name, joinOr(s))
}

func fileSuffixMessage(f Facts) string {
	return fmt.Sprintf("engine %s loads one %s file: a pvc:// URI must name it (pvc://<claim>/<path>/<file>%s)",
		f.Name, f.ModelFileSuffix, f.ModelFileSuffix)
}

func revisionMessage(f Facts) string {
	return fmt.Sprintf("engine %s loads the default branch of a repository only: leave model.revision out", f.Name)
}

func tensorOnlyMessage(f Facts) string {
	return fmt.Sprintf("%s shards the model over every GPU of a replica: set tensorParallelSize equal to gpu.count, or leave it out", f.Name)
}

func layerSplitMessage(f Facts) string {
	return fmt.Sprintf("%s splits the model's layers over a replica's GPUs itself: leave tensorParallelSize out", f.Name)
}

func maxGPUsMessage(f Facts, q Quantization) string {
	return fmt.Sprintf("%s with engine %s runs on at most %d GPU(s) per replica: lower gpu.count", q.Name, f.Name, q.MaxGPUs)
}

func cpuMessage() string {
	var cpu []string
	for _, f := range All() {
		if f.ServesOnCPU() {
			cpu = append(cpu, string(f.Name))
		}
	}
	return fmt.Sprintf("gpu.count 0 serves the model on CPU, which only engine %s can: set gpu.count to 1 or more, or choose that engine", joinOr(cpu))
}

func quantizedTrueMessage(f Facts) string {
	return fmt.Sprintf("with engine %s, model.quantized: true needs a method read from the checkpoint (%s): the others are applied on load",
		f.Name, strings.Join(quantizationNames(f, func(q Quantization) bool { return q.FromCheckpoint }), ", "))
}

func quantizedFalseMessage(f Facts) string {
	return fmt.Sprintf("with engine %s, only %s can quantize an unquantized checkpoint on load: the others need a quantized checkpoint (model.quantized: true, or leave it out)",
		f.Name, strings.Join(quantizationNames(f, func(q Quantization) bool { return q.OnLoadFlag != "" }), ", "))
}

func kvMetricMessage() string {
	var kv []string
	for _, f := range All() {
		if len(f.Metrics.KVCacheUsage) > 0 {
			kv = append(kv, string(f.Name))
		}
	}
	return fmt.Sprintf("autoscaling on KVCacheUtilization needs an engine that exports KV-cache use (%s): use QueueDepth or InFlightRequests", joinOr(kv))
}

func argsMessage(f Facts) string {
	return fmt.Sprintf("engine.args may not set a flag the operator manages for %s (%s): use the matching spec field",
		f.Name, strings.Join(f.ManagedFlags, ", "))
}

func envMessage(f Facts) string {
	return fmt.Sprintf("engine.env may not set %s with engine %s: the operator manages them (the token comes from model.tokenSecretRef) or they are refused for safety",
		joinOr(f.RefusedEnv()), f.Name)
}
