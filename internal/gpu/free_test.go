package gpu

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func gpuPod(node string, phase corev1.PodPhase, containers, initContainer int64) corev1.Pod {
	req := func(n int64) corev1.ResourceRequirements {
		q := *resource.NewQuantity(n, resource.DecimalSI)
		return corev1.ResourceRequirements{Requests: corev1.ResourceList{"nvidia.com/gpu": q}, Limits: corev1.ResourceList{"nvidia.com/gpu": q}}
	}
	p := corev1.Pod{Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Resources: req(containers)}}}}
	if initContainer > 0 {
		p.Spec.InitContainers = []corev1.Container{{Resources: req(initContainer)}}
	}
	p.Status.Phase = phase
	return p
}

func TestFreeGPUs(t *testing.T) {
	n := Node{Name: "a", GPUs: 8}
	limitOnly := corev1.Pod{Spec: corev1.PodSpec{NodeName: "a", Containers: []corev1.Container{{Resources: corev1.ResourceRequirements{
		Limits: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}}}}}}
	cases := []struct {
		name string
		pods []corev1.Pod
		want int64
	}{
		{"empty node", nil, 8},
		{"running and pending pods hold their GPUs", []corev1.Pod{gpuPod("a", corev1.PodRunning, 4, 0), gpuPod("a", corev1.PodPending, 2, 0)}, 2},
		{"finished pods hold nothing", []corev1.Pod{gpuPod("a", corev1.PodSucceeded, 4, 0), gpuPod("a", corev1.PodFailed, 4, 0)}, 8},
		{"pods of other nodes do not count", []corev1.Pod{gpuPod("b", corev1.PodRunning, 8, 0)}, 8},
		{"an init container larger than the containers counts", []corev1.Pod{gpuPod("a", corev1.PodRunning, 1, 3)}, 5},
		{"a limit alone is the request", []corev1.Pod{limitOnly}, 7},
		{"never below zero", []corev1.Pod{gpuPod("a", corev1.PodRunning, 9, 0)}, 0},
	}
	for _, tc := range cases {
		if got := FreeGPUs(n, tc.pods, "nvidia.com/gpu"); got != tc.want {
			t.Errorf("%s: FreeGPUs = %d, want %d", tc.name, got, tc.want)
		}
	}
}
