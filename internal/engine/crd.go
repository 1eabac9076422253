package engine

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// Rule is one CEL validation rule of the CRD, generated from the registry (hack/crd-engine-rules writes them into
// the CRD after controller-gen). Each has the same message as Validate's error for the same mistake.
type Rule struct {
	// Rule is the CEL expression; self is the object the rule is attached to.
	Rule string
	// Message is shown when the rule fails (used when MessageExpression is empty).
	Message string
	// MessageExpression is a CEL expression of the message, for messages that name the offending value.
	MessageExpression string
	// FieldPath is the field the error is reported on, relative to self.
	FieldPath string
}

// CRDRules are the engine-dependent rules of the CRD.
type CRDRules struct {
	// Engines is the enum of spec.engine.name.
	Engines []string
	// Quantizations is the enum of spec.quantization: every engine's, in registry order.
	Quantizations []string
	// Spec are the rules on spec.
	Spec []Rule
	// Engine are the rules on spec.engine.
	Engine []Rule
}

// Rules generates the CRD's engine rules from the registry.
func Rules() CRDRules {
	var r CRDRules
	var cpu, kv []string
	for _, f := range All() {
		r.Engines = append(r.Engines, string(f.Name))
		for _, q := range f.Quantizations {
			if !slices.Contains(r.Quantizations, string(q.Name)) {
				r.Quantizations = append(r.Quantizations, string(q.Name))
			}
		}
		if f.ServesOnCPU() {
			cpu = append(cpu, string(f.Name))
		}
		if len(f.Metrics.KVCacheUsage) > 0 {
			kv = append(kv, string(f.Name))
		}
		r.Spec = append(r.Spec, specRules(f)...)
		r.Engine = append(r.Engine, engineRules(f)...)
	}
	r.Spec = append(r.Spec,
		Rule{Rule: fmt.Sprintf("self.gpu.count > 0 || self.engine.name in %s", celList(cpu)), Message: cpuMessage(), FieldPath: ".gpu.count"},
		Rule{Rule: fmt.Sprintf("!has(self.autoscaling) || self.autoscaling.metric != 'KVCacheUtilization' || self.engine.name in %s", celList(kv)),
			Message: kvMetricMessage(), FieldPath: ".autoscaling.metric"},
	)
	return r
}

func specRules(f Facts) []Rule {
	is := fmt.Sprintf("self.engine.name != '%s' || ", f.Name)
	all := quantizationNames(f, all)
	rules := []Rule{{
		Rule:              is + "self.quantization in " + celList(all),
		MessageExpression: "'quantization ' + self.quantization + " + celQuote(fmt.Sprintf(" is not available with engine %s: use one of %s (docs/engines.md)", f.Name, strings.Join(all, ", "))),
		FieldPath:         ".quantization",
	}, {
		Rule:              is + "self.dtype in " + celList(names(f.Dtypes)),
		MessageExpression: "'dtype ' + self.dtype + " + celQuote(fmt.Sprintf(" is not available with engine %s: use %s", f.Name, joinNames(f.Dtypes))),
		FieldPath:         ".dtype",
	}}
	if !f.DtypeWithQuantization && len(f.Dtypes) > 1 {
		rules = append(rules, Rule{Rule: is + "self.quantization == 'none' || self.dtype == 'auto'",
			Message: dtypeWithQuantizationMessage(f), FieldPath: ".dtype"})
	}
	schemes := make([]string, len(f.Schemes))
	for i, s := range f.Schemes {
		schemes[i] = regexp.QuoteMeta(string(s))
	}
	rules = append(rules, Rule{Rule: fmt.Sprintf("%sself.model.uri.matches(%s)", is, celQuote("^("+strings.Join(schemes, "|")+")://")),
		Message: schemeMessage(f), FieldPath: ".model.uri"})
	if !f.Revisions {
		rules = append(rules, Rule{Rule: is + "!has(self.model.revision)", Message: revisionMessage(f), FieldPath: ".model.revision"})
	}
	if f.ModelFileSuffix != "" {
		rules = append(rules, Rule{Rule: fmt.Sprintf("%s!self.model.uri.startsWith('pvc://') || self.model.uri.endsWith(%s)", is, celQuote(f.ModelFileSuffix)),
			Message: fileSuffixMessage(f), FieldPath: ".model.uri"})
	}
	for _, q := range f.Quantizations {
		if q.MaxGPUs > 0 {
			rules = append(rules, Rule{Rule: fmt.Sprintf("%sself.quantization != %s || self.gpu.count <= %d", is, celQuote(string(q.Name)), q.MaxGPUs),
				Message: maxGPUsMessage(f, q), FieldPath: ".gpu.count"})
		}
	}
	switch f.Parallelism {
	case TensorOnly:
		rules = append(rules, Rule{Rule: is + "!has(self.tensorParallelSize) || self.tensorParallelSize == self.gpu.count",
			Message: tensorOnlyMessage(f), FieldPath: ".tensorParallelSize"})
	case LayerSplit:
		rules = append(rules, Rule{Rule: is + "!has(self.tensorParallelSize)", Message: layerSplitMessage(f), FieldPath: ".tensorParallelSize"})
	}
	if onLoadOnly := quantizationNames(f, func(q Quantization) bool { return !q.FromCheckpoint && q.Name != v1.QuantizationNone }); len(onLoadOnly) > 0 {
		rules = append(rules, Rule{
			Rule:    fmt.Sprintf("!has(self.model.quantized) || !self.model.quantized || self.engine.name != '%s' || !(self.quantization in %s)", f.Name, celList(onLoadOnly)),
			Message: quantizedTrueMessage(f), FieldPath: ".model.quantized"})
	}
	if checkpointOnly := quantizationNames(f, func(q Quantization) bool { return q.OnLoadFlag == "" && q.Name != v1.QuantizationNone }); len(checkpointOnly) > 0 {
		rules = append(rules, Rule{
			Rule:    fmt.Sprintf("!has(self.model.quantized) || self.model.quantized || self.engine.name != '%s' || !(self.quantization in %s)", f.Name, celList(checkpointOnly)),
			Message: quantizedFalseMessage(f), FieldPath: ".model.quantized"})
	}
	return rules
}

func engineRules(f Facts) []Rule {
	is := fmt.Sprintf("self.name != '%s' || ", f.Name)
	return []Rule{{
		Rule:      fmt.Sprintf("%s!has(self.args) || self.args.all(a, !a.matches(%s))", is, celQuote(managedFlagsPattern(f.ManagedFlags))),
		Message:   argsMessage(f),
		FieldPath: ".args",
	}, {
		Rule:      fmt.Sprintf("%s!has(self.env) || self.env.all(e, !(e.name in %s))", is, celList(f.RefusedEnv())),
		Message:   envMessage(f),
		FieldPath: ".env",
	}}
}

// managedFlagsPattern matches an argument that sets one of flags: "--flag", "--flag=value", with '_' for '-'
// in long names.
func managedFlagsPattern(flags []string) string {
	var alts []string
	for _, fl := range flags {
		if long, ok := strings.CutPrefix(fl, "--"); ok {
			parts := strings.Split(long, "-")
			for i := range parts {
				parts[i] = regexp.QuoteMeta(parts[i])
			}
			alts = append(alts, "--"+strings.Join(parts, "[-_]"))
		} else {
			alts = append(alts, regexp.QuoteMeta(fl))
		}
	}
	return "^(" + strings.Join(alts, "|") + ")(=.*)?$"
}

func names[T ~string](items []T) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = string(it)
	}
	return out
}

// celList is a CEL list literal of strings.
func celList(items []string) string {
	q := make([]string, len(items))
	for i, it := range items {
		q[i] = celQuote(it)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// celQuote is a CEL string literal.
func celQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
