package llmdeployment

import (
	"encoding/json"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/privatellm/privatellm/internal/apply"
	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/internal/enginemetrics"
	"github.com/privatellm/privatellm/internal/gpu"
	"github.com/privatellm/privatellm/internal/manager"
	"github.com/privatellm/privatellm/internal/render"
)

// throughCache is the observation the operator makes from its caches: d and the pods after the cache transforms.
func throughCache(t *testing.T, d *appsv1.Deployment, obs observed) observed {
	t.Helper()
	out := obs
	out.Workload = nil
	if d != nil {
		cached, err := manager.DeploymentCacheTransform(d.DeepCopy())
		if err != nil {
			t.Fatal(err)
		}
		out.Workload = deploymentWorkload(cached.(*appsv1.Deployment))
	}
	out.Pods = nil
	for i := range obs.Pods {
		p, err := manager.PodCacheTransform(obs.Pods[i].DeepCopy())
		if err != nil {
			t.Fatal(err)
		}
		out.Pods = append(out.Pods, *p.(*corev1.Pod))
	}
	return out
}

// renderedPair is the Deployment the operator renders for the sample, as the API server would hold it, and one of
// its pods, Running on a node.
func renderedPair(t *testing.T) (*appsv1.Deployment, *corev1.Pod) {
	t.Helper()
	llm := sampleLLM("ns", "m")
	llm.Spec.PodAnnotations = map[string]string{"team": "search"}
	plan, err := engine.For(llm, config.Default().EngineImages())
	if err != nil {
		t.Fatal(err)
	}
	d := render.Deployment(llm, plan)
	d.UID, d.ResourceVersion, d.Generation = types.UID("d-uid"), "42", 3
	d.Annotations[render.AnnotationRollout] = "replacing in place"
	d.Annotations["deployment.kubernetes.io/revision"] = "3"
	d.OwnerReferences = []metav1.OwnerReference{{APIVersion: "serving.privatellm.dev/v1alpha1", Kind: "LLMDeployment", Name: "m", UID: "l-uid"}}
	d.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: apply.FieldManager, Operation: metav1.ManagedFieldsOperationApply}}
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 1, ReadyReplicas: 1, UpdatedReplicas: 1}

	p := &corev1.Pod{ObjectMeta: d.Spec.Template.ObjectMeta, Spec: d.Spec.Template.Spec}
	p.Name, p.Namespace, p.UID, p.ResourceVersion = "m-abc", "ns", types.UID("p-uid"), "7"
	p.Spec.NodeName = "gpu-1"
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.5", ContainerStatuses: []corev1.ContainerStatus{{
		Name: p.Spec.Containers[0].Name, Ready: true, RestartCount: 2,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
	}}}
	return d, p
}

func jsonSize(t *testing.T, v any) int {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

func TestDeploymentCacheTransform(t *testing.T) {
	full, _ := renderedPair(t)
	out, err := manager.DeploymentCacheTransform(full.DeepCopy())
	if err != nil {
		t.Fatal(err)
	}
	d := out.(*appsv1.Deployment)
	if d.Name != full.Name || d.Namespace != full.Namespace || d.UID != full.UID || d.ResourceVersion != full.ResourceVersion ||
		d.Generation != full.Generation || len(d.OwnerReferences) != 1 || d.Labels[render.LabelLLMDeployment] != "m" {
		t.Errorf("metadata not kept: %+v", d.ObjectMeta)
	}
	if *d.Spec.Replicas != *full.Spec.Replicas || *d.Spec.ProgressDeadlineSeconds != *full.Spec.ProgressDeadlineSeconds || !equality.Semantic.DeepEqual(d.Status, full.Status) {
		t.Errorf("replicas, progress deadline or status not kept: %+v %+v", d.Spec, d.Status)
	}
	if !equality.Semantic.DeepEqual(d.Spec.Strategy, full.Spec.Strategy) || d.Annotations[render.AnnotationTemplateHash] != full.Annotations[render.AnnotationTemplateHash] ||
		d.Annotations[render.AnnotationRollout] != "replacing in place" {
		t.Errorf("strategy or rollout annotations not kept: %+v %v", d.Spec.Strategy, d.Annotations)
	}
	if _, ok := d.Annotations["deployment.kubernetes.io/revision"]; ok {
		t.Errorf("other annotations kept: %v", d.Annotations)
	}
	if len(d.Spec.Template.Spec.Containers) != 0 || d.ManagedFields != nil {
		t.Errorf("pod template or managedFields kept")
	}
	if before, after := jsonSize(t, full), jsonSize(t, d); after*3 > before {
		t.Errorf("cached Deployment is %d bytes of JSON, the full one %d: expected under a third", after, before)
	}
	if other, _ := manager.DeploymentCacheTransform("not a deployment"); other != "not a deployment" {
		t.Errorf("other objects must pass unchanged")
	}
}

func TestPodCacheTransform(t *testing.T) {
	_, full := renderedPair(t)
	out, err := manager.PodCacheTransform(full.DeepCopy())
	if err != nil {
		t.Fatal(err)
	}
	p := out.(*corev1.Pod)
	if p.Name != full.Name || p.UID != full.UID || p.Labels[render.LabelLLMDeployment] != "m" || p.Spec.NodeName != "gpu-1" {
		t.Errorf("metadata or node not kept: %+v", p.ObjectMeta)
	}
	if p.Annotations != nil {
		t.Errorf("annotations kept: %v", p.Annotations)
	}
	if got, want := enginemetrics.URL(p), enginemetrics.URL(full); got != want || want == "http://10.0.0.5:0/metrics" {
		t.Errorf("metrics URL from the cached pod %q, from the full pod %q", got, want)
	}
	if got, want := containerImage(p), containerImage(full); got != want || want == "" {
		t.Errorf("image from the cached pod %q, from the full pod %q", got, want)
	}
	if got, want := gpu.PodGPUs(p, "nvidia.com/gpu"), gpu.PodGPUs(full, "nvidia.com/gpu"); got != want || want == 0 {
		t.Errorf("GPUs of the cached pod %d, of the full pod %d (usage counts them)", got, want)
	}
	c := p.Spec.Containers[0]
	if len(c.Args) != 0 || len(c.Env) != 0 || c.StartupProbe != nil || len(p.Spec.Volumes) != 0 || p.Spec.Affinity != nil {
		t.Errorf("arguments, environment, probes, volumes or affinity kept")
	}
	if p.Status.ContainerStatuses[0].RestartCount != 2 || p.Status.PodIP != "10.0.0.5" || p.Status.Phase != corev1.PodRunning {
		t.Errorf("status not kept: %+v", p.Status)
	}
	if before, after := jsonSize(t, full), jsonSize(t, p); after*2 > before {
		t.Errorf("cached pod is %d bytes of JSON, the full one %d: expected under a half", after, before)
	}
}
