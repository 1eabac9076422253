package webhook

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation/field"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/engine"
)

var (
	argsPath          = specPath.Child("engine", "args")
	envPath           = specPath.Child("engine", "env")
	priorityClassPath = specPath.Child("priorityClassName")
)

// PolicyErrors checks an LLMDeployment against the operator's admission policy: flags in engine.args and
// variables in engine.env that widen what the engine may read, load or execute, and PriorityClasses tenants may
// not use. On update (oldObj not nil) a field the policy refuses but that did not change is reported as a
// warning only, so that tightening the policy never blocks a label edit or a scale of an existing object.
func PolicyErrors(oldObj, newObj *v1.LLMDeployment, p config.AdmissionPolicy) ([]string, field.ErrorList) {
	var errs field.ErrorList
	spec := &newObj.Spec
	name := spec.EffectiveEngine()
	f := engine.FactsOf(name)
	refusedArgs := p.RefusedArgsFor(name)
	for i, a := range spec.Engine.Args {
		if flag, ok := refusedArg(a, refusedArgs, f.Abbreviates); ok {
			errs = append(errs, field.Forbidden(argsPath.Index(i), fmt.Sprintf(
				"%s widens what %s may read, load or execute, and the operator's admission policy refuses it (admission.refusedArgs of the operator configuration)", flag, f.Title)))
		}
	}
	refusedEnv := p.RefusedEnvFor(name)
	for i, e := range spec.Engine.Env {
		if slices.Contains(refusedEnv, e.Name) {
			errs = append(errs, field.Forbidden(envPath.Index(i).Child("name"), fmt.Sprintf(
				"%s changes what code the engine loads, and the operator's admission policy refuses it (admission.refusedEnv of the operator configuration)", e.Name)))
		}
	}
	if pc := spec.PriorityClassName; !p.AllowsPriorityClass(pc) {
		msg := fmt.Sprintf("PriorityClass %s is not allowed for LLMDeployments by the operator's admission policy: system PriorityClasses let a model preempt other tenants' pods; use one of the PriorityClasses your platform team allows", pc)
		if p.AllowedPriorityClasses != nil {
			msg = fmt.Sprintf("PriorityClass %s is not allowed for LLMDeployments by the operator's admission policy: use one of %s", pc, strings.Join(p.AllowedPriorityClasses, ", "))
		}
		errs = append(errs, field.Forbidden(priorityClassPath, msg))
	}
	if oldObj == nil || len(errs) == 0 {
		return nil, errs
	}
	old := &oldObj.Spec
	if equality.Semantic.DeepEqual(old.Engine.Args, spec.Engine.Args) && equality.Semantic.DeepEqual(old.Engine.Env, spec.Engine.Env) &&
		old.PriorityClassName == spec.PriorityClassName {
		var warnings []string
		for _, e := range errs {
			warnings = append(warnings, "the unchanged spec breaks the operator's admission policy: "+e.Error())
		}
		return warnings, nil
	}
	return nil, errs
}

// refusedArg says whether an argument sets a refused flag: "--flag", "--flag=value", with '_' for '-', or (for
// parsers that expand abbreviations) a prefix of a refused long flag of at least four letters.
func refusedArg(a string, refused []string, abbreviates bool) (string, bool) {
	name, _, _ := strings.Cut(a, "=")
	if !strings.HasPrefix(name, "-") {
		return "", false
	}
	if strings.HasPrefix(name, "--") {
		name = "--" + strings.ReplaceAll(name[2:], "_", "-")
	}
	for _, r := range refused {
		if name == r {
			return r, true
		}
		if abbreviates && strings.HasPrefix(r, "--") && len(name) >= len("--")+4 && strings.HasPrefix(r, name) {
			return r, true
		}
	}
	return "", false
}
