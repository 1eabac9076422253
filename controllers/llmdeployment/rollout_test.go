package llmdeployment

import (
	"context"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/render"
	"github.com/privatellm/privatellm/test/testutil"
)

func TestChooseRollout(t *testing.T) {
	cases := []struct {
		name     string
		need     int64
		rooms    []nodeRoom
		replicas int32
		surge    bool
		noteHas  string
	}{
		{"a node has a replica's GPUs free", 2, []nodeRoom{{free: 1, reclaimable: 2}, {free: 2}}, 1, true, "surge: a new replica starts on free NVIDIA-L4 GPUs"},
		{"full, but an old replica frees enough", 2, []nodeRoom{{free: 0}, {free: 1, reclaimable: 1}}, 3, false, "no free NVIDIA-L4 for a surge replica; replacing in place"},
		{"in place takes a one-replica model offline", 1, []nodeRoom{{free: 0, reclaimable: 1}}, 1, false, "offline until the new replica has loaded"},
		{"the new spec needs more than a replacement frees", 4, []nodeRoom{{free: 1, reclaimable: 2}}, 1, true, "no NVIDIA-L4 node has 4 free GPUs"},
		{"no candidate node", 1, nil, 1, true, "the previous spec keeps serving"},
		{"free GPUs elsewhere do not add up", 2, []nodeRoom{{free: 1}, {free: 1}}, 1, true, "no NVIDIA-L4 node has 2 free GPUs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := chooseRollout(tc.need, tc.rooms, "NVIDIA-L4", tc.replicas)
			if got.surge != tc.surge || !strings.Contains(got.note, tc.noteHas) {
				t.Errorf("chooseRollout = %+v, want surge %v and a note with %q", got, tc.surge, tc.noteHas)
			}
			if !tc.surge || strings.Contains(tc.noteHas, "surge:") {
				return
			}
			// Blocked keeps the old replicas: it must use the surge strategy, never stop one.
			if s := render.Strategy(got.surge); s.RollingUpdate.MaxUnavailable.IntValue() != 0 {
				t.Errorf("a blocked rollout may stop an old replica: %+v", s.RollingUpdate)
			}
		})
	}
}

// rolloutProduct is a GPU product only this test's node offers.
const rolloutProduct = "NVIDIA-RTX-6000-Ada-Test"

// gpuNode creates a node of rolloutProduct with gpus allocatable GPUs.
func gpuNode(t *testing.T, name string, gpus int64) {
	t.Helper()
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			"nvidia.com/gpu.product": rolloutProduct, "nvidia.com/gpu.memory": "49140",
		}},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
			"nvidia.com/gpu": *resource.NewQuantity(gpus, resource.DecimalSI), "cpu": resource.MustParse("32"),
		}},
	}
	if err := k8sClient.Create(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := k8sClient.Delete(context.Background(), n); err != nil && !apierrors.IsNotFound(err) {
			t.Error(err)
		}
	})
}

// boundPod plays the scheduler and the kubelet: a running pod on node asking for gpus GPUs, of the LLMDeployment
// owner when owner is set.
func boundPod(t *testing.T, ns, name, owner, node string, gpus int64) *corev1.Pod {
	t.Helper()
	q := *resource.NewQuantity(gpus, resource.DecimalSI)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{}},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "vllm", Image: "vllm/vllm-openai:v0.18.0",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{"nvidia.com/gpu": q}, Limits: corev1.ResourceList{"nvidia.com/gpu": q}}}}},
	}
	if owner != "" {
		pod.Labels[render.LabelLLMDeployment], pod.Labels[render.LabelManagedBy] = owner, render.ManagedByValue
	}
	if err := k8sClient.Create(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning}
	if err := k8sClient.Status().Update(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	return pod
}

// waitForStrategy waits until the Deployment's strategy surges (or not) and its rollout note contains noteHas.
func waitForStrategy(t *testing.T, ns, name string, generation int64, surge bool, noteHas string) {
	t.Helper()
	waitForLLM(t, ns, name, func(l *v1.LLMDeployment) error {
		if l.Status.ObservedGeneration != generation {
			return fmt.Errorf("observed generation %d, want %d", l.Status.ObservedGeneration, generation)
		}
		d := &appsv1.Deployment{}
		if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
			return err
		}
		if got := render.Surges(d.Spec.Strategy); got != surge {
			return fmt.Errorf("surge %v, want %v (%+v)", got, surge, d.Spec.Strategy.RollingUpdate)
		}
		if note := d.Annotations[render.AnnotationRollout]; !strings.Contains(note, noteHas) {
			return fmt.Errorf("rollout note %q lacks %q", note, noteHas)
		}
		return nil
	})
}

// TestRolloutStrategyFollowsFreeGPUs changes the spec of a running model three times on one 2-GPU node, and checks
// the operator's choice each time: a surge while a GPU is free; in place once another pod holds it; blocked (old
// replica kept) when the new spec needs more GPUs than a replacement frees. Then, with the rollout stuck on an
// unschedulable replica and the other pod gone, it goes on in place.
func TestRolloutStrategyFollowsFreeGPUs(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	node := "rollout-" + ns
	gpuNode(t, node, 2)
	llm := sampleLLM(ns, "roll")
	llm.Spec.Model.URI = "hf://meta-llama/Llama-3.1-8B-Instruct"
	llm.Spec.GPU = v1.GPUSpec{Count: ptr.To(int32(1)), Products: []string{rolloutProduct}}
	llm.Spec.TensorParallelSize = nil
	if err := k8sClient.Create(ctx, llm); err != nil {
		t.Fatal(err)
	}
	waitForLLM(t, ns, "roll", readyIs(metav1.ConditionFalse, v1.ReasonProgressing))
	setDeploymentStatus(t, ns, "roll", 1, 1, 1)
	boundPod(t, ns, "roll-old", "roll", node, 1)

	change := func(mut func(*v1.LLMDeployment)) {
		t.Helper()
		l := get(t, &v1.LLMDeployment{}, ns, "roll")
		patch := client.MergeFrom(l.DeepCopy())
		mut(l)
		if err := k8sClient.Patch(ctx, l, patch); err != nil {
			t.Fatal(err)
		}
	}

	// One GPU of two is free: surge.
	change(func(l *v1.LLMDeployment) { l.Spec.MaxModelLen = ptr.To(int32(8192)) })
	waitForStrategy(t, ns, "roll", 2, true, "surge: a new replica starts on free "+rolloutProduct+" GPUs")
	setDeploymentStatus(t, ns, "roll", 1, 1, 1)
	// Rolled out: the note goes, the strategy stays.
	testutil.Eventually(t, waitFor, func() error {
		d := get(t, &appsv1.Deployment{}, ns, "roll")
		if note, ok := d.Annotations[render.AnnotationRollout]; ok || !render.Surges(d.Spec.Strategy) {
			return fmt.Errorf("after the rollout: note %q (want none), surge %v (want kept)", note, render.Surges(d.Spec.Strategy))
		}
		return nil
	})

	// Another team's pod takes the free GPU: in place, and the object says the model goes offline meanwhile.
	boundPod(t, ns, "other-team", "", node, 1)
	change(func(l *v1.LLMDeployment) { l.Spec.MaxModelLen = ptr.To(int32(4096)) })
	waitForStrategy(t, ns, "roll", 3, false, "no free "+rolloutProduct+" for a surge replica; replacing in place (the model is offline")
	setDeploymentStatus(t, ns, "roll", 1, 0, 1)
	waitForLLM(t, ns, "roll", func(l *v1.LLMDeployment) error {
		r := readyCondition(l)
		if r == nil || !strings.Contains(r.Message, "replacing in place") {
			return fmt.Errorf("the Ready message must say how the rollout goes: %+v", r)
		}
		return nil
	})
	setDeploymentStatus(t, ns, "roll", 1, 1, 1)

	// Two GPUs per replica: the old replica's one plus none free is not enough, so nothing old is stopped.
	change(func(l *v1.LLMDeployment) { l.Spec.GPU.Count = ptr.To(int32(2)) })
	waitForStrategy(t, ns, "roll", 4, true, "no "+rolloutProduct+" node has 2 free GPUs for a new replica")

	// The Deployment controller surges a replica the scheduler cannot place: RolloutBlocked, the old one serving.
	setDeploymentStatus(t, ns, "roll", 2, 1, 1)
	createPod(t, ns, "roll", "roll-new", corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
		Message: "0/1 nodes are available: 1 Insufficient nvidia.com/gpu.", LastTransitionTime: metav1.Now(),
	}}})
	waitForLLM(t, ns, "roll", func(l *v1.LLMDeployment) error {
		r := readyCondition(l)
		if r == nil || r.Reason != v1.ReasonRolloutBlocked || !strings.Contains(r.Message, "1 ready replicas of the previous spec keep serving") {
			return fmt.Errorf("want RolloutBlocked with the serving replica counted, got %+v", r)
		}
		return nil
	})

	// The other team's pod ends: in place now frees enough, and the stuck rollout goes on that way.
	if err := k8sClient.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "other-team"}}, client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	touchPod(t, ns, "roll-new")
	waitForStrategy(t, ns, "roll", 4, false, "replacing in place")
}

// touchPod changes a pod's labels, so the operator's pod watch fires (as a scheduler retry would).
func touchPod(t *testing.T, ns, name string) {
	t.Helper()
	p := get(t, &corev1.Pod{}, ns, name)
	patch := client.MergeFrom(p.DeepCopy())
	p.Labels["touched"] = metav1.Now().Format("150405.000")
	if err := k8sClient.Patch(context.Background(), p, patch); err != nil {
		t.Fatal(err)
	}
}

func readyCondition(l *v1.LLMDeployment) *metav1.Condition {
	for i := range l.Status.Conditions {
		if l.Status.Conditions[i].Type == v1.ConditionReady {
			return &l.Status.Conditions[i]
		}
	}
	return nil
}
