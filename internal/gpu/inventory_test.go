package gpu_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/gpu"
)

func gpuNode(name, product, memoryMiB string, gpus int64, labels map[string]string) corev1.Node {
	n := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		"nvidia.com/gpu.product": product, "nvidia.com/gpu.memory": memoryMiB}}}
	for k, v := range labels {
		n.Labels[k] = v
	}
	n.Status.Allocatable = corev1.ResourceList{"nvidia.com/gpu": *resource.NewQuantity(gpus, resource.DecimalSI)}
	return n
}

func TestInventoryFor(t *testing.T) {
	nodes := []corev1.Node{
		gpuNode("l4-b", "NVIDIA-L4", "23034", 1, map[string]string{"zone": "a"}),
		gpuNode("l4-a", "NVIDIA-L4", "23034", 4, map[string]string{"zone": "b"}),
		gpuNode("h100", "NVIDIA-H100-80GB-HBM3", "81559", 8, nil),
		{ObjectMeta: metav1.ObjectMeta{Name: "cpu"}},
	}
	spec := &v1.LLMDeploymentSpec{GPU: v1.GPUSpec{Count: ptr.To(int32(1)), Products: []string{"NVIDIA-L4"}}}
	inv := gpu.InventoryFor(spec, nodes)
	if !inv.AnyGPU || len(inv.Matching) != 2 || inv.Matching[0].Name != "l4-a" || inv.Matching[1].Name != "l4-b" {
		t.Fatalf("inventory %+v: want the two L4 nodes, by name", inv)
	}
	if most, product := inv.MaxGPUs(); most != 4 || product != "NVIDIA-L4" {
		t.Errorf("MaxGPUs = %d %s", most, product)
	}
	if mib, source := inv.GPUMemory(spec); mib != 23034 || source != "smallest matching NVIDIA-L4 node" {
		t.Errorf("GPUMemory = %d %q", mib, source)
	}
	spec.NodeSelector = map[string]string{"zone": "a"}
	if inv := gpu.InventoryFor(spec, nodes); len(inv.Matching) != 1 || inv.Matching[0].Name != "l4-b" {
		t.Errorf("nodeSelector: %+v", inv)
	}
	spec.NodeSelector, spec.GPU.Products, spec.GPU.MinMemory = nil, nil, ptr.To(resource.MustParse("40Gi"))
	if inv := gpu.InventoryFor(spec, nodes); len(inv.Matching) != 1 || inv.Matching[0].Name != "h100" {
		t.Errorf("minMemory: %+v", inv)
	}
	if inv := gpu.InventoryFor(spec, nodes[3:]); inv.AnyGPU || len(inv.Matching) != 0 {
		t.Errorf("a CPU-only cluster: %+v", inv)
	}
	spec.GPU.Products = []string{"NVIDIA-B200"}
	if mib, source := gpu.InventoryFor(spec, nodes).GPUMemory(spec); mib != 40960 || source != "spec.gpu.minMemory, as no matching node is known" {
		t.Errorf("GPUMemory without a matching node = %d %q", mib, source)
	}
}
