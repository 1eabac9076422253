package render_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/internal/render"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from the renderer's output")

const samplesDir = "../../config/samples"

func loadSample(t *testing.T, path string) *servingv1alpha1.LLMDeployment {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	llm := &servingv1alpha1.LLMDeployment{}
	if err := yaml.UnmarshalStrict(raw, llm); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	llm.Namespace = "team-a"
	return llm
}

// TestGoldenSamples renders every sample in config/samples and compares the Deployment and Service with
// testdata/<sample>.golden.yaml. Run `make update-golden` after an intended change and review the diff.
func TestGoldenSamples(t *testing.T) {
	samples, err := filepath.Glob(filepath.Join(samplesDir, "serving_*.yaml"))
	if err != nil || len(samples) < 3 {
		t.Fatalf("expected at least 3 samples in %s, got %d (%v)", samplesDir, len(samples), err)
	}
	for _, path := range samples {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			llm := loadSample(t, path)
			plan, err := engine.For(llm, config.Default().EngineImages())
			if err != nil {
				t.Fatal(err)
			}
			deploy := render.Deployment(llm, plan)
			var got bytes.Buffer
			for _, obj := range []any{deploy, render.Service(llm, plan)} {
				b, err := yaml.Marshal(obj)
				if err != nil {
					t.Fatal(err)
				}
				got.WriteString("---\n")
				got.Write(b)
			}
			golden := filepath.Join("testdata", name+".golden.yaml")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run `make update-golden` to create it)", err)
			}
			if !bytes.Equal(want, got.Bytes()) {
				t.Errorf("rendered %s differs from %s; run `make update-golden` and review the diff.\n--- got:\n%s", name, golden, got.String())
			}
		})
	}
}

// TestRenderIsDeterministic renders the same object many times: maps must not leak their random order.
func TestRenderIsDeterministic(t *testing.T) {
	llm := loadSample(t, filepath.Join(samplesDir, "serving_v1alpha1_llmdeployment_vllm_awq_l4.yaml"))
	llm.Spec.PodLabels = map[string]string{"a": "1", "b": "2", "c": "3", "d": "4"}
	llm.Spec.NodeSelector = map[string]string{"zone": "x", "pool": "gpu", "tier": "prod"}
	plan, err := engine.For(llm, config.Default().EngineImages())
	if err != nil {
		t.Fatal(err)
	}
	first := render.Deployment(llm, plan)
	want, _ := yaml.Marshal(first)
	for i := 0; i < 50; i++ {
		d := render.Deployment(llm, plan)
		got, _ := yaml.Marshal(d)
		if !bytes.Equal(want, got) {
			t.Fatalf("render %d differs from the first", i)
		}
	}
}

func TestDeploymentPlacementAndSafety(t *testing.T) {
	llm := loadSample(t, filepath.Join(samplesDir, "serving_v1alpha1_llmdeployment_vllm_fp8_h100.yaml"))
	// A user affinity term is ANDed with the GPU requirements, not ORed.
	llm.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
			{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}}},
			{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"b"}}}},
		}},
	}}
	llm.Spec.PodLabels = map[string]string{"team": "a"}
	plan, err := engine.For(llm, config.Default().EngineImages())
	if err != nil {
		t.Fatal(err)
	}
	d := render.Deployment(llm, plan)
	pod := d.Spec.Template.Spec
	terms := pod.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 2 {
		t.Fatalf("want the user's 2 terms, got %d", len(terms))
	}
	for i, term := range terms {
		if len(term.MatchExpressions) != 2 || term.MatchExpressions[0].Key != "nvidia.com/gpu.product" || term.MatchExpressions[1].Key != "zone" {
			t.Errorf("term %d: want the product requirement ANDed with the user's, got %+v", i, term.MatchExpressions)
		}
	}
	if llm.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Key != "zone" {
		t.Error("rendering modified the spec's affinity")
	}
	c := pod.Containers[0]
	if got := c.Resources.Limits["nvidia.com/gpu"]; got.Value() != 4 {
		t.Errorf("GPU limit = %s, want 4", got.String())
	}
	if got := c.StartupProbe.FailureThreshold * c.StartupProbe.PeriodSeconds; got != 3600 {
		t.Errorf("startup probe budget = %ds, want 3600 (startupTimeout 1h)", got)
	}
	if got := *d.Spec.ProgressDeadlineSeconds; got <= 3600 {
		t.Errorf("progress deadline %ds must exceed the startup budget", got)
	}
	if pod.EnableServiceLinks == nil || *pod.EnableServiceLinks || pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("service links and the service account token must be off")
	}
	sc := c.SecurityContext
	if !*sc.RunAsNonRoot || *sc.AllowPrivilegeEscalation || sc.Capabilities.Drop[0] != "ALL" || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("container security context is not restricted: %+v", sc)
	}
	if len(pod.Tolerations) == 0 || pod.Tolerations[0].Key != "nvidia.com/gpu" {
		t.Errorf("missing the GPU taint toleration: %+v", pod.Tolerations)
	}
	if d.Spec.Template.Labels["team"] != "a" || d.Spec.Template.Labels[render.LabelLLMDeployment] != llm.Name {
		t.Errorf("pod labels: %v", d.Spec.Template.Labels)
	}
	var shm *corev1.Volume
	for i := range pod.Volumes {
		if pod.Volumes[i].Name == "shm" {
			shm = &pod.Volumes[i]
		}
	}
	if shm == nil || shm.EmptyDir.Medium != corev1.StorageMediumMemory || shm.EmptyDir.SizeLimit.String() != "16Gi" {
		t.Errorf("/dev/shm must be a 16Gi memory emptyDir, got %+v", shm)
	}
	var token *corev1.EnvVar
	for i := range c.Env {
		if c.Env[i].Name == "HF_TOKEN" {
			token = &c.Env[i]
		}
	}
	if token == nil || token.Value != "" || token.ValueFrom.SecretKeyRef.Name != "hf-token" || token.ValueFrom.SecretKeyRef.Key != "token" {
		t.Errorf("HF_TOKEN must come from secretKeyRef hf-token/token, got %+v", token)
	}
}

func TestPVCModelIsMountedReadOnly(t *testing.T) {
	llm := loadSample(t, filepath.Join(samplesDir, "serving_v1alpha1_llmdeployment_tgi_a100.yaml"))
	llm.Spec.Model.URI = "pvc://models/mistral-7b"
	plan, err := engine.For(llm, config.Default().EngineImages())
	if err != nil {
		t.Fatal(err)
	}
	d := render.Deployment(llm, plan)
	var found bool
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			found = v.PersistentVolumeClaim.ClaimName == "models" && v.PersistentVolumeClaim.ReadOnly
		}
	}
	if !found {
		t.Error("the claim must be mounted read-only")
	}
	if !contains(plan.Args, "--model-id=/mnt/models/mistral-7b") {
		t.Errorf("args %v must load the model from the mount", plan.Args)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestEveryEngineHasAGoldenSample: each registered engine is rendered from a sample in config/samples and compared
// with its golden file, so adding an engine brings its sample and its reviewed manifest.
func TestEveryEngineHasAGoldenSample(t *testing.T) {
	samples, err := filepath.Glob(filepath.Join(samplesDir, "serving_*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[servingv1alpha1.EngineName]bool{}
	for _, path := range samples {
		llm := loadSample(t, path)
		golden := filepath.Join("testdata", strings.TrimSuffix(filepath.Base(path), ".yaml")+".golden.yaml")
		if _, err := os.Stat(golden); err == nil {
			have[llm.Spec.EffectiveEngine()] = true
		}
	}
	for _, name := range engine.Names() {
		if !have[name] {
			t.Errorf("engine %s has no sample with a golden file in config/samples", name)
		}
	}
}

// TGI 3.3.x cannot load its Python as another uid (upstream #3082): it runs as root, still with every capability
// dropped, no privilege escalation and the runtime's seccomp profile; every other engine runs restricted.
func TestSecurityContextPerEngine(t *testing.T) {
	for _, sample := range []string{"tgi_a100", "vllm_awq_l4", "sglang_awq_h100", "llamacpp_q4_cpu"} {
		llm := loadSample(t, filepath.Join(samplesDir, "serving_v1alpha1_llmdeployment_"+sample+".yaml"))
		plan, err := engine.For(llm, config.Default().EngineImages())
		if err != nil {
			t.Fatal(err)
		}
		pod := render.Deployment(llm, plan).Spec.Template.Spec
		sc := pod.Containers[0].SecurityContext
		if *sc.AllowPrivilegeEscalation || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" ||
			sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault || pod.SecurityContext.SeccompProfile == nil {
			t.Errorf("%s: not hardened: %+v", sample, sc)
		}
		root := llm.Spec.EffectiveEngine() == "tgi"
		if root && (*sc.RunAsUser != 0 || *sc.RunAsNonRoot || pod.SecurityContext.RunAsNonRoot != nil) {
			t.Errorf("%s: TGI must run as root (its image allows nothing else): %+v %+v", sample, sc, pod.SecurityContext)
		}
		if !root && (*sc.RunAsUser == 0 || !*sc.RunAsNonRoot || !*pod.SecurityContext.RunAsNonRoot) {
			t.Errorf("%s: must run as non-root: %+v %+v", sample, sc, pod.SecurityContext)
		}
	}
}

// A CPU model server (gpu.count 0) requests no GPU, tolerates no GPU taint and has no GPU node affinity.
func TestCPUServing(t *testing.T) {
	llm := loadSample(t, filepath.Join(samplesDir, "serving_v1alpha1_llmdeployment_llamacpp_q4_cpu.yaml"))
	plan, err := engine.For(llm, config.Default().EngineImages())
	if err != nil {
		t.Fatal(err)
	}
	pod := render.Deployment(llm, plan).Spec.Template.Spec
	res := pod.Containers[0].Resources
	for _, list := range []corev1.ResourceList{res.Requests, res.Limits} {
		if _, ok := list["nvidia.com/gpu"]; ok {
			t.Errorf("a CPU server requests GPUs: %v", list)
		}
	}
	if res.Requests.Cpu().String() != "8" || res.Limits.Memory().String() != "12Gi" {
		t.Errorf("resources %+v", res)
	}
	if len(pod.Tolerations) != 0 || pod.Affinity != nil {
		t.Errorf("a CPU server must stay off GPU nodes: tolerations %v, affinity %v", pod.Tolerations, pod.Affinity)
	}
	if pod.Containers[0].Image != engine.FactsOf("llamacpp").CPUImage {
		t.Errorf("image %s, want the CPU image", pod.Containers[0].Image)
	}
}

// TestTemplateHashMarksRollouts: the Deployment's template hash changes with what the pods run, not with the
// replica count, so the reconciler tells a rollout from a scale.
func TestTemplateHashMarksRollouts(t *testing.T) {
	llm := loadSample(t, filepath.Join(samplesDir, "serving_v1alpha1_llmdeployment_vllm_awq_l4.yaml"))
	hash := func(l *servingv1alpha1.LLMDeployment) string {
		plan, err := engine.For(l, config.Default().EngineImages())
		if err != nil {
			t.Fatal(err)
		}
		h := render.Deployment(l, plan).Annotations[render.AnnotationTemplateHash]
		if len(h) != 16 {
			t.Fatalf("template hash %q", h)
		}
		return h
	}
	base := hash(llm)
	scaled := llm.DeepCopy()
	scaled.Spec.Replicas = ptr.To(int32(5))
	if hash(scaled) != base {
		t.Error("a replica change must not look like a rollout")
	}
	changed := llm.DeepCopy()
	changed.Spec.MaxModelLen = ptr.To(int32(2048))
	if hash(changed) == base {
		t.Error("a change of the engine's arguments must change the template hash")
	}
}

func TestStrategy(t *testing.T) {
	surge, inPlace := render.Strategy(true), render.Strategy(false)
	if !render.Surges(surge) || render.Surges(inPlace) {
		t.Errorf("Surges(Strategy(true)) = %v, Surges(Strategy(false)) = %v", render.Surges(surge), render.Surges(inPlace))
	}
	if surge.RollingUpdate.MaxUnavailable.IntValue() != 0 || inPlace.RollingUpdate.MaxSurge.IntValue() != 0 || inPlace.RollingUpdate.MaxUnavailable.IntValue() != 1 {
		t.Errorf("surge %+v, in place %+v", surge.RollingUpdate, inPlace.RollingUpdate)
	}
	// The Deployment controller's defaults (25%/25%) surge and stop at once: not what the operator renders.
	if render.Surges(appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType}) {
		t.Error("a strategy without rollingUpdate must not count as a surge")
	}
}
