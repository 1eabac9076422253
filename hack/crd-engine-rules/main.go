// Command crd-engine-rules writes the engine registry's rules into the LLMDeployment CRD after controller-gen has
// generated it (make manifests runs it): the enum of spec.engine.name and spec.quantization, and the CEL rules
// that tie each engine to the other fields (internal/engine.Rules). The Go markers hold only engine-independent
// rules, so that an engine is added in its own file and the CRD follows.
//
//	go run ./hack/crd-engine-rules config/crd/bases/serving.privatellm.dev_llmdeployments.yaml
//
// Running it twice leaves the file as it is.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"sigs.k8s.io/yaml"

	"github.com/privatellm/privatellm/internal/engine"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: crd-engine-rules <CRD file>")
		os.Exit(2)
	}
	if err := rewrite(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "crd-engine-rules:", err)
		os.Exit(1)
	}
}

func rewrite(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var crd map[string]any
	if err := yaml.Unmarshal(raw, &crd); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	versions, _ := dig(crd, "spec", "versions").([]any)
	if len(versions) == 0 {
		return fmt.Errorf("%s: no spec.versions", path)
	}
	rules := engine.Rules()
	for _, v := range versions {
		spec, ok := dig(v, "schema", "openAPIV3Schema", "properties", "spec").(map[string]any)
		if !ok {
			return fmt.Errorf("%s: no spec schema", path)
		}
		eng, ok := dig(spec, "properties", "engine").(map[string]any)
		if !ok {
			return fmt.Errorf("%s: no spec.engine schema", path)
		}
		name, ok := dig(eng, "properties", "name").(map[string]any)
		if !ok {
			return fmt.Errorf("%s: no spec.engine.name schema", path)
		}
		quant, ok := dig(spec, "properties", "quantization").(map[string]any)
		if !ok {
			return fmt.Errorf("%s: no spec.quantization schema", path)
		}
		name["enum"] = toAny(rules.Engines)
		quant["enum"] = toAny(rules.Quantizations)
		addRules(spec, rules.Spec)
		addRules(eng, rules.Engine)
	}
	out, err := yaml.Marshal(crd)
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte("---\n"), out...), 0o644)
}

// addRules appends the rules to a schema's x-kubernetes-validations, skipping those already there.
func addRules(schema map[string]any, rules []engine.Rule) {
	list, _ := schema["x-kubernetes-validations"].([]any)
	have := map[string]bool{}
	for _, r := range list {
		if m, ok := r.(map[string]any); ok {
			have[fmt.Sprint(m["rule"])] = true
		}
	}
	for _, r := range rules {
		if have[r.Rule] {
			continue
		}
		m := map[string]any{"rule": r.Rule}
		if r.MessageExpression != "" {
			m["messageExpression"] = r.MessageExpression
		} else {
			m["message"] = r.Message
		}
		if r.FieldPath != "" {
			m["fieldPath"] = r.FieldPath
		}
		list = append(list, m)
	}
	schema["x-kubernetes-validations"] = list
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func toAny(items []string) []any {
	b, _ := json.Marshal(items)
	var out []any
	_ = json.Unmarshal(b, &out)
	return out
}
