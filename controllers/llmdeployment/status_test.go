package llmdeployment

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/render"
)

// Table tests of the pure status functions; the envtest tests check the same through the API server.

var now = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func deploy(gen, observedGen int64, replicas, ready, updated int32, conds ...appsv1.DeploymentCondition) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	d.Generation = gen
	d.Spec.ProgressDeadlineSeconds = ptr.To(int32(2400))
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: observedGen, Replicas: replicas, ReadyReplicas: ready,
		UpdatedReplicas: updated, AvailableReplicas: ready, Conditions: conds}
	return d
}

// rollingOut sets the strategy and rollout note the operator records on a Deployment for a rollout.
func rollingOut(d *appsv1.Deployment, surge bool, note string) *appsv1.Deployment {
	d.Spec.Strategy = render.Strategy(surge)
	d.Annotations = map[string]string{render.AnnotationRollout: note}
	return d
}

// replicaFailure is the condition the Deployment controller sets when its ReplicaSet cannot create pods.
func replicaFailure(msg string, since time.Time) appsv1.DeploymentCondition {
	return appsv1.DeploymentCondition{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate",
		Message: msg, LastTransitionTime: metav1.NewTime(since)}
}

func pod(name string, mut func(*corev1.Pod)) corev1.Pod {
	p := corev1.Pod{}
	p.Name = name
	p.Spec.Containers = []corev1.Container{{Name: "vllm", Image: "vllm/vllm-openai:v0.18.0"}}
	mut(&p)
	return p
}

func unschedulablePod(name, msg string, since time.Time) corev1.Pod {
	return pod(name, func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodPending
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
			Reason: corev1.PodReasonUnschedulable, Message: msg, LastTransitionTime: metav1.NewTime(since)}}
	})
}

func waitingPod(name, reason, msg string) corev1.Pod {
	return pod(name, func(p *corev1.Pod) {
		p.CreationTimestamp = metav1.NewTime(now.Add(-time.Hour))
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "vllm", State: corev1.ContainerState{
			Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}}
	})
}

func TestAssess(t *testing.T) {
	grace := 2 * time.Minute
	base := func(replicas int32) *v1.LLMDeployment {
		l := sampleLLM("ns", "m")
		l.Spec.Replicas = ptr.To(replicas)
		return l
	}
	cases := []struct {
		name         string
		llm          *v1.LLMDeployment
		d            *appsv1.Deployment
		obs          observed
		ready        bool
		stalled      bool
		reason       string
		msgHas       string
		recheckAfter time.Duration
	}{
		{name: "no deployment yet", llm: base(1), obs: observed{}, reason: v1.ReasonProgressing},
		{name: "deployment controller behind", llm: base(1), d: deploy(2, 1, 1, 1, 1), obs: observed{}, reason: v1.ReasonProgressing},
		{name: "all ready", llm: base(2), d: deploy(1, 1, 2, 2, 2), obs: observed{}, ready: true, reason: v1.ReasonAvailable, msgHas: "2 of 2 replicas"},
		{name: "old replica still around", llm: base(2), d: deploy(1, 1, 3, 2, 2), obs: observed{}, reason: v1.ReasonProgressing},
		{name: "scaled to zero", llm: base(0), d: deploy(1, 1, 0, 0, 0), obs: observed{}, ready: true, reason: v1.ReasonScaledToZero},
		{name: "scaled to zero by the autoscaler", llm: func() *v1.LLMDeployment {
			l := base(0)
			l.Spec.Autoscaling = &v1.AutoscalingSpec{MinReplicas: ptr.To(int32(0)), MaxReplicas: 2, Target: 4}
			return l
		}(), d: deploy(1, 1, 0, 0, 0), obs: observed{}, ready: true, reason: v1.ReasonScaledToZero, msgHas: "through the gateway wakes it"},
		{name: "loading", llm: base(2), d: deploy(1, 1, 2, 1, 2), obs: observed{Pods: []corev1.Pod{
			pod("a", func(p *corev1.Pod) { p.Status.Phase = corev1.PodRunning }),
		}}, reason: v1.ReasonModelLoading, msgHas: "1 of 2 replicas are downloading and loading"},
		{name: "crash loop wins over loading", llm: base(2), d: deploy(1, 1, 2, 0, 2), obs: observed{Pods: []corev1.Pod{
			pod("a", func(p *corev1.Pod) { p.Status.Phase = corev1.PodRunning }),
			waitingPod("b", "CrashLoopBackOff", "back-off"),
		}}, stalled: true, reason: v1.ReasonCrashLoopBackOff, msgHas: "1 of 2 replicas are crash-looping"},
		{name: "image pull", llm: base(1), d: deploy(1, 1, 1, 0, 1), obs: observed{Pods: []corev1.Pod{waitingPod("a", "ImagePullBackOff", "")}},
			stalled: true, reason: v1.ReasonImagePullBackOff, msgHas: "cannot pull image vllm/vllm-openai:v0.18.0"},
		{name: "first pull error is transient", llm: base(1), d: deploy(1, 1, 1, 0, 1), obs: observed{Pods: []corev1.Pod{waitingPod("a", "ErrImagePull", "")}},
			reason: v1.ReasonProgressing},
		{name: "missing secret after grace", llm: base(1), d: deploy(1, 1, 1, 0, 1), obs: observed{Now: now, StallGrace: grace,
			Pods: []corev1.Pod{waitingPod("a", "CreateContainerConfigError", `secret "hf-token" not found`)}},
			stalled: true, reason: v1.ReasonSecretNotFound, msgHas: "Secret hf-token with key token"},
		{name: "unschedulable within grace", llm: base(1), d: deploy(1, 1, 1, 0, 1), obs: observed{Now: now, StallGrace: grace,
			Pods: []corev1.Pod{unschedulablePod("a", "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.", now.Add(-30*time.Second))}},
			reason: v1.ReasonUnschedulable, msgHas: "too few free GPUs", recheckAfter: 90 * time.Second},
		{name: "unschedulable after grace, product missing", llm: base(3), d: deploy(1, 1, 3, 2, 3), obs: observed{Now: now, StallGrace: grace,
			Pods: []corev1.Pod{unschedulablePod("a", "0/8 nodes are available: 8 node(s) didn't match Pod's node affinity/selector.", now.Add(-5*time.Minute))}},
			stalled: true, reason: v1.ReasonUnschedulable, msgHas: "1 of 3 replicas cannot be scheduled: needs 4 × NVIDIA-H100-80GB-HBM3 per replica; no node offers that product"},
		{name: "quota exceeded within grace", llm: base(2), d: deploy(1, 1, 1, 1, 1, replicaFailure(
			`pods "m-5d9c7b-" is forbidden: exceeded quota: gpus, requested: requests.nvidia.com/gpu=4, used: requests.nvidia.com/gpu=4, limited: requests.nvidia.com/gpu=8`,
			now.Add(-time.Minute))), obs: observed{Now: now, StallGrace: grace},
			reason: v1.ReasonQuotaExceeded, msgHas: "a ResourceQuota of the namespace refuses the pods: exceeded quota: gpus", recheckAfter: time.Minute},
		{name: "quota exceeded after grace", llm: base(2), d: deploy(1, 1, 1, 1, 1, replicaFailure(
			`pods "m-5d9c7b-" is forbidden: exceeded quota: gpus, requested: requests.nvidia.com/gpu=4`, now.Add(-time.Hour))), obs: observed{Now: now, StallGrace: grace},
			stalled: true, reason: v1.ReasonQuotaExceeded, msgHas: "raise the quota, lower spec.replicas or spec.gpu.count"},
		{name: "missing PriorityClass", llm: base(1), d: deploy(1, 1, 0, 0, 0, replicaFailure(
			`pods "m-5d9c7b-" is forbidden: no PriorityClass with name gpu-high was found`, now)), obs: observed{},
			stalled: true, reason: v1.ReasonPriorityClassNotFound, msgHas: "no PriorityClass with name gpu-high was found; create the PriorityClass"},
		{name: "Pod Security", llm: base(1), d: deploy(1, 1, 0, 0, 0, replicaFailure(
			`pods "m-5d9c7b-x" is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot != true`, now)), obs: observed{},
			stalled: true, reason: v1.ReasonPodSecurityRejected, msgHas: `violates PodSecurity "restricted:latest"`},
		{name: "other refusal", llm: base(1), d: deploy(1, 1, 0, 0, 0, replicaFailure(
			`pods "m-5d9c7b-" is forbidden: maximum memory usage per Container is 8Gi, but limit is 256Gi`, now)), obs: observed{},
			stalled: true, reason: v1.ReasonFailedCreate, msgHas: "maximum memory usage per Container is 8Gi"},
		{name: "surge rollout whose new replica finds no GPU", llm: base(1), d: rollingOut(deploy(2, 2, 2, 1, 1), true, "no NVIDIA-H100-80GB-HBM3 node has 4 free GPUs"), obs: observed{Now: now, StallGrace: grace,
			Pods: []corev1.Pod{unschedulablePod("new", "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.", now.Add(-time.Minute))}},
			reason: v1.ReasonRolloutBlocked, msgHas: "1 ready replicas of the previous spec keep serving", recheckAfter: time.Minute},
		{name: "blocked rollout after grace", llm: base(1), d: rollingOut(deploy(2, 2, 2, 1, 1), true, ""), obs: observed{Now: now, StallGrace: grace,
			Pods: []corev1.Pod{unschedulablePod("new", "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.", now.Add(-3*time.Minute))}},
			stalled: true, reason: v1.ReasonRolloutBlocked, msgHas: "the rollout is blocked"},
		{name: "in-place rollout says so", llm: base(1), d: rollingOut(deploy(2, 2, 1, 0, 1), false, "no free NVIDIA-H100-80GB-HBM3 for a surge replica; replacing in place"),
			reason: v1.ReasonProgressing, msgHas: "0 ready; no free NVIDIA-H100-80GB-HBM3 for a surge replica; replacing in place"},
		{name: "in place with nothing serving is plain Unschedulable", llm: base(1), d: rollingOut(deploy(2, 2, 1, 0, 1), false, "replacing in place"), obs: observed{Now: now, StallGrace: grace,
			Pods: []corev1.Pod{unschedulablePod("new", "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.", now.Add(-time.Minute))}},
			reason: v1.ReasonUnschedulable, msgHas: "1 of 1 replicas cannot be scheduled", recheckAfter: time.Minute},
		{name: "progress deadline", llm: base(1), d: deploy(1, 1, 1, 0, 1, appsv1.DeploymentCondition{
			Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded"}), obs: observed{},
			stalled: true, reason: v1.ReasonProgressDeadlineExceeded, msgHas: "raise spec.startupTimeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obs := tc.obs
			obs.Workload = deploymentWorkload(tc.d)
			a := assess(tc.llm, obs)
			if a.Ready != tc.ready || a.Stalled != tc.stalled || a.Reason != tc.reason {
				t.Fatalf("assess = ready %v stalled %v reason %s (%q); want %v %v %s", a.Ready, a.Stalled, a.Reason, a.Message, tc.ready, tc.stalled, tc.reason)
			}
			if !strings.Contains(a.Message, tc.msgHas) {
				t.Errorf("message %q lacks %q", a.Message, tc.msgHas)
			}
			if a.RecheckAfter != tc.recheckAfter {
				t.Errorf("recheck after %s, want %s", a.RecheckAfter, tc.recheckAfter)
			}
			if strings.Contains(a.Message, "pod") && strings.Contains(a.Message, "-a ") || strings.Contains(a.Message, "m-5d9c7b") {
				t.Errorf("message %q must not name pods", a.Message)
			}
			// The operator assesses objects from its caches, after their transforms: same verdict.
			if cached := assess(tc.llm, throughCache(t, tc.d, tc.obs)); cached != a {
				t.Errorf("assess on cached objects = %+v, on full objects %+v", cached, a)
			}
		})
	}
}

func TestSetConditions(t *testing.T) {
	l := sampleLLM("ns", "m")
	l.Generation = 4
	setConditions(l, assessment{Reason: v1.ReasonModelLoading, Message: "loading"})
	if !meta.IsStatusConditionTrue(l.Status.Conditions, v1.ConditionReconciling) || meta.FindStatusCondition(l.Status.Conditions, v1.ConditionStalled) != nil {
		t.Fatalf("in progress: %+v", l.Status.Conditions)
	}
	readySince := meta.FindStatusCondition(l.Status.Conditions, v1.ConditionReady).LastTransitionTime

	setConditions(l, assessment{Reason: v1.ReasonCrashLoopBackOff, Message: "crash", Stalled: true})
	if !meta.IsStatusConditionTrue(l.Status.Conditions, v1.ConditionStalled) || meta.FindStatusCondition(l.Status.Conditions, v1.ConditionReconciling) != nil {
		t.Fatalf("stalled: %+v", l.Status.Conditions)
	}
	if got := meta.FindStatusCondition(l.Status.Conditions, v1.ConditionReady).LastTransitionTime; !got.Equal(&readySince) {
		t.Error("Ready stayed False: its LastTransitionTime must not move")
	}

	setConditions(l, assessment{Ready: true, Reason: v1.ReasonAvailable, Message: "ok"})
	if len(l.Status.Conditions) != 1 || !meta.IsStatusConditionTrue(l.Status.Conditions, v1.ConditionReady) {
		t.Fatalf("ready: %+v", l.Status.Conditions)
	}
	for _, c := range l.Status.Conditions {
		if c.ObservedGeneration != 4 || c.Reason == "" {
			t.Errorf("condition %+v needs observedGeneration 4 and a reason", c)
		}
	}
}

func TestSetFitStatus(t *testing.T) {
	cases := []struct {
		name   string
		mut    func(*v1.LLMDeployment)
		status metav1.ConditionStatus
		reason string
		perGPU string
	}{
		{"70B fp8 on 4 × H100 fits", func(*v1.LLMDeployment) {}, metav1.ConditionTrue, v1.ReasonFits, "19.2Gi"},
		{"70B bf16 on one L4 does not", func(l *v1.LLMDeployment) {
			l.Spec.Quantization, l.Spec.GPU.Count, l.Spec.TensorParallelSize, l.Spec.GPU.Products = v1.QuantizationNone, ptr.To(int32(1)), nil, []string{"NVIDIA-L4"}
		}, metav1.ConditionFalse, v1.ReasonDoesNotFit, "138.0Gi"},
		{"unknown GPU", func(l *v1.LLMDeployment) { l.Spec.GPU.Products = nil }, metav1.ConditionUnknown, v1.ReasonGPUMemoryUnknown, "19.2Gi"},
		{"unknown model", func(l *v1.LLMDeployment) { l.Spec.Model.URI = "hf://acme/house-model" }, metav1.ConditionUnknown, v1.ReasonModelUnknown, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := sampleLLM("ns", "m")
			tc.mut(l)
			setFitStatus(l, nil)
			c := meta.FindStatusCondition(l.Status.Conditions, v1.ConditionModelFits)
			if c == nil || c.Status != tc.status || c.Reason != tc.reason {
				t.Fatalf("ModelFits = %+v, want %s/%s", c, tc.status, tc.reason)
			}
			got := ""
			if l.Status.Fit != nil {
				got = l.Status.Fit.PerGPU
			}
			if got != tc.perGPU {
				t.Errorf("per GPU %q, want %q (%s)", got, tc.perGPU, c.Message)
			}
		})
	}
}
