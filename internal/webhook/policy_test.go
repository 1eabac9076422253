package webhook

import (
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/config"
)

func TestPolicyErrors(t *testing.T) {
	def := config.AdmissionPolicy{}
	withArgs := func(engine v1.EngineName, args ...string) *v1.LLMDeployment {
		return llm(llama8q, func(s *v1.LLMDeploymentSpec) { s.Engine.Name, s.Engine.Args = engine, args })
	}
	cases := []struct {
		name   string
		obj    *v1.LLMDeployment
		policy config.AdmissionPolicy
		want   string // "" for admitted
	}{
		{"an ordinary flag", withArgs("vllm", "--enable-prefix-caching"), def, ""},
		{"vLLM local media", withArgs("vllm", "--allowed-local-media-path=/data"), def, "--allowed-local-media-path widens"},
		{"with underscores", withArgs("vllm", "--allowed_local_media_path=/data"), def, "--allowed-local-media-path widens"},
		{"an abbreviation argparse expands", withArgs("sglang", "--enable-custom-logit"), def, "--enable-custom-logit-processor"},
		{"a prefix too short to count", withArgs("vllm", "--too"), def, ""},
		{"llama.cpp does not abbreviate", withArgs("llamacpp", "--slot-save"), def, ""},
		{"llama.cpp files served", withArgs("llamacpp", "--path", "/"), def, "--path widens what llama.cpp may read"},
		{"the policy replaces the defaults", withArgs("vllm", "--allowed-local-media-path=/data"), config.AdmissionPolicy{RefusedArgs: []string{"--enforce-eager"}}, ""},
		{"the policy's own list", withArgs("tgi", "--enforce-eager"), config.AdmissionPolicy{RefusedArgs: []string{"--enforce-eager"}}, "--enforce-eager widens"},
		{"a loader variable", llm(llama8q, func(s *v1.LLMDeploymentSpec) { s.Engine.Env = []v1.EnvVar{{Name: "PYTHONPATH", Value: "/x"}} }), def, "PYTHONPATH changes what code"},
		{"an engine's plugin variable", llm(llama8q, func(s *v1.LLMDeploymentSpec) {
			s.Engine.Name, s.Engine.Env = "sglang", []v1.EnvVar{{Name: "SGLANG_EXTERNAL_MODEL_PACKAGE", Value: "evil"}}
		}), def, "SGLANG_EXTERNAL_MODEL_PACKAGE"},
		{"no variable refused", llm(llama8q, func(s *v1.LLMDeploymentSpec) { s.Engine.Env = []v1.EnvVar{{Name: "PYTHONPATH", Value: "/x"}} }),
			config.AdmissionPolicy{RefusedEnv: []string{}}, ""},
		{"a system PriorityClass", llm(llama8q, func(s *v1.LLMDeploymentSpec) { s.PriorityClassName = "system-cluster-critical" }), def, "system PriorityClasses"},
		{"a tenant PriorityClass", llm(llama8q, func(s *v1.LLMDeploymentSpec) { s.PriorityClassName = "gpu-batch" }), def, ""},
		{"only the allowed ones", llm(llama8q, func(s *v1.LLMDeploymentSpec) { s.PriorityClassName = "gpu-batch" }),
			config.AdmissionPolicy{AllowedPriorityClasses: []string{"gpu-serving"}}, "use one of gpu-serving"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := PolicyErrors(nil, tc.obj, tc.policy)
			switch {
			case tc.want == "" && len(errs) > 0:
				t.Errorf("refused: %v", errs)
			case tc.want != "" && (len(errs) == 0 || !strings.Contains(errs.ToAggregate().Error(), tc.want)):
				t.Errorf("errors %v, want one containing %q", errs, tc.want)
			}
		})
	}
}

// Tightening the policy never blocks an edit that leaves the refused fields as they are.
func TestPolicyOnUpdate(t *testing.T) {
	old := llm(llama8q, func(s *v1.LLMDeploymentSpec) { s.Engine.Args = []string{"--allowed-local-media-path=/data"} })
	scaled := old.DeepCopy()
	scaled.Spec.Replicas = new(int32)
	warnings, errs := PolicyErrors(old, scaled, config.AdmissionPolicy{})
	if len(errs) != 0 || len(warnings) != 1 || !strings.Contains(warnings[0], "the unchanged spec breaks the operator's admission policy") {
		t.Errorf("unchanged refused field: warnings %q, errors %v", warnings, errs)
	}
	changed := old.DeepCopy()
	changed.Spec.Engine.Args = append(changed.Spec.Engine.Args, "--enforce-eager")
	if _, errs := PolicyErrors(old, changed, config.AdmissionPolicy{}); len(errs) != 1 {
		t.Errorf("a changed args list must be checked again: %v", errs)
	}
}

func TestScaleFromZeroErrors(t *testing.T) {
	atZero := llm(llama8q, func(s *v1.LLMDeploymentSpec) {
		s.Replicas = nil
		s.Autoscaling = &v1.AutoscalingSpec{MinReplicas: ptr.To(int32(0)), MaxReplicas: 2, Target: 4}
	})
	if errs := ScaleFromZeroErrors(nil, atZero, false); len(errs) != 1 || !strings.Contains(errs[0].Error(), "no gateway configured") {
		t.Errorf("minReplicas 0 without a gateway: %v", errs)
	}
	if errs := ScaleFromZeroErrors(nil, atZero, true); len(errs) != 0 {
		t.Errorf("minReplicas 0 with a gateway: %v", errs)
	}
	if errs := ScaleFromZeroErrors(atZero, atZero, false); len(errs) != 0 {
		t.Errorf("an object that already scales from zero must stay updatable: %v", errs)
	}
	if errs := ScaleFromZeroErrors(nil, llm(llama8q), false); len(errs) != 0 {
		t.Errorf("no autoscaling: %v", errs)
	}
}
