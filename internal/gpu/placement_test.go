package gpu_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/gpu"
)

func TestNodeRequirements(t *testing.T) {
	spec := &v1.LLMDeploymentSpec{GPU: v1.GPUSpec{Products: []string{"NVIDIA-L4"}, MinMemory: ptr.To(resource.MustParse("24Gi"))}}
	reqs := gpu.NodeRequirements(spec)
	if len(reqs) != 2 {
		t.Fatalf("got %+v", reqs)
	}
	if reqs[0].Key != "nvidia.com/gpu.product" || reqs[0].Operator != corev1.NodeSelectorOpIn || reqs[0].Values[0] != "NVIDIA-L4" {
		t.Errorf("product requirement %+v", reqs[0])
	}
	// 24Gi = 24576 MiB; Gt is strict, so the value is one less: a 24576 MiB GPU qualifies.
	if reqs[1].Key != "nvidia.com/gpu.memory" || reqs[1].Operator != corev1.NodeSelectorOpGt || reqs[1].Values[0] != "24575" {
		t.Errorf("memory requirement %+v", reqs[1])
	}
	if got := gpu.NodeRequirements(&v1.LLMDeploymentSpec{}); len(got) != 0 {
		t.Errorf("no products and no memory: no requirements, got %+v", got)
	}
	amd := &v1.LLMDeploymentSpec{GPU: v1.GPUSpec{ResourceName: v1.GPUResourceAMD, Products: []string{"MI300X"}, MinMemory: ptr.To(resource.MustParse("1Gi"))}}
	if r := gpu.NodeRequirements(amd); len(r) != 1 || r[0].Key != "amd.com/gpu.product-name" {
		t.Errorf("AMD has a product label and no numeric memory label: %+v", r)
	}
}

func TestTolerations(t *testing.T) {
	spec := &v1.LLMDeploymentSpec{Tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "llm"}}}
	tol := gpu.Tolerations(spec)
	if len(tol) != 2 || tol[0].Key != "nvidia.com/gpu" || tol[0].Operator != corev1.TolerationOpExists || tol[1].Key != "dedicated" {
		t.Errorf("got %+v", tol)
	}
}

func TestMiB(t *testing.T) {
	for q, want := range map[string]int64{"1Mi": 1, "1Gi": 1024, "80Gi": 81920, "1G": 954, "1": 1} {
		qty := resource.MustParse(q)
		if got := gpu.MiB(qty.Value()); got != want {
			t.Errorf("MiB(%s) = %d, want %d", q, got, want)
		}
	}
}

func TestDeclaredMemoryMiB(t *testing.T) {
	for name, tc := range map[string]struct {
		spec v1.LLMDeploymentSpec
		want int64
	}{
		"known product":            {v1.LLMDeploymentSpec{GPU: v1.GPUSpec{Products: []string{"NVIDIA-L4"}}}, 23034},
		"smallest of two":          {v1.LLMDeploymentSpec{GPU: v1.GPUSpec{Products: []string{"NVIDIA-H100-80GB-HBM3", "NVIDIA-A100-SXM4-40GB"}}}, 40960},
		"unknown product, minimum": {v1.LLMDeploymentSpec{GPU: v1.GPUSpec{Products: []string{"ACME-X1"}, MinMemory: ptr.To(resource.MustParse("48Gi"))}}, 49152},
		"nothing declared":         {v1.LLMDeploymentSpec{}, 0},
	} {
		if got := gpu.DeclaredMemoryMiB(&tc.spec); got != tc.want {
			t.Errorf("%s: %d MiB, want %d", name, got, tc.want)
		}
	}
}
