package simcluster

import (
	"fmt"
	"os"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Well-known names on fake nodes.
const (
	// KwokNodeAnnotation marks a node kwok manages (value "fake").
	KwokNodeAnnotation = "kwok.x-k8s.io/node"
	// GPUResource is the extended resource NVIDIA's device plugin advertises.
	GPUResource corev1.ResourceName = "nvidia.com/gpu"
	// GPU Feature Discovery labels.
	LabelGPUProduct = "nvidia.com/gpu.product"
	LabelGPUMemory  = "nvidia.com/gpu.memory" // MiB per GPU, as a decimal string
	LabelGPUCount   = "nvidia.com/gpu.count"
	LabelGPUPresent = "nvidia.com/gpu.present"
)

// Inventory is the document of a node inventory file such as hack/simcluster/nodes.yaml.
type Inventory struct {
	// Nodes are the node pools.
	Nodes []NodePool `json:"nodes"`
}

// NodePool describes Count identical fake nodes named <Name>-0 … <Name>-<Count-1>.
type NodePool struct {
	// Name prefixes the node names.
	Name string `json:"name"`
	// Count is the number of nodes (default 1).
	Count int `json:"count,omitempty"`
	// GPU, when set, makes the nodes GPU nodes: GPU Feature Discovery labels, the taint
	// <resource>=present:NoSchedule and <resource>: <count> in capacity and allocatable.
	GPU *GPU `json:"gpu,omitempty"`
	// CPU, Memory and EphemeralStorage are each node's capacity (defaults 64, 512Gi, 1Ti).
	CPU              string `json:"cpu,omitempty"`
	Memory           string `json:"memory,omitempty"`
	EphemeralStorage string `json:"ephemeralStorage,omitempty"`
	// Pods is the pod capacity (default 110).
	Pods int `json:"pods,omitempty"`
	// Labels and Taints are added to the generated ones.
	Labels map[string]string `json:"labels,omitempty"`
	Taints []corev1.Taint    `json:"taints,omitempty"`
}

// GPU describes the GPUs of each node in a pool.
type GPU struct {
	// Product is the nvidia.com/gpu.product label, e.g. NVIDIA-H100-80GB-HBM3.
	Product string `json:"product"`
	// Count is the number of GPUs per node.
	Count int `json:"count"`
	// MemoryMiB is the memory of one GPU in MiB (the nvidia.com/gpu.memory label).
	MemoryMiB int `json:"memoryMiB"`
	// ResourceName is the extended resource (default nvidia.com/gpu); the labels stay NVIDIA's.
	ResourceName string `json:"resourceName,omitempty"`
}

// DefaultNodes returns the default inventory, the same as hack/simcluster/nodes.yaml: 2 nodes with
// 8 × H100 80GB, 2 with 4 × A100 40GB, 4 with 1 × L4 and one CPU-only node.
func DefaultNodes() []NodePool {
	return []NodePool{
		{Name: "h100", Count: 2, CPU: "192", Memory: "2Ti",
			GPU: &GPU{Product: "NVIDIA-H100-80GB-HBM3", Count: 8, MemoryMiB: 81559}},
		{Name: "a100", Count: 2, CPU: "96", Memory: "1Ti",
			GPU: &GPU{Product: "NVIDIA-A100-SXM4-40GB", Count: 4, MemoryMiB: 40960}},
		{Name: "l4", Count: 4, CPU: "48", Memory: "192Gi",
			GPU: &GPU{Product: "NVIDIA-L4", Count: 1, MemoryMiB: 23034}},
		{Name: "cpu", Count: 1, CPU: "32", Memory: "128Gi"},
	}
}

// LoadNodes reads a node inventory file.
func LoadNodes(path string) ([]NodePool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read node inventory: %w", err)
	}
	var inv Inventory
	if err := yaml.UnmarshalStrict(data, &inv); err != nil {
		return nil, fmt.Errorf("parse node inventory %s: %w", path, err)
	}
	if len(inv.Nodes) == 0 {
		return nil, fmt.Errorf("node inventory %s lists no nodes", path)
	}
	for _, p := range inv.Nodes {
		if _, err := p.Build(); err != nil {
			return nil, fmt.Errorf("node inventory %s: %w", path, err)
		}
	}
	return inv.Nodes, nil
}

// Build returns the Node objects of the pool.
func (p NodePool) Build() ([]*corev1.Node, error) {
	if p.Name == "" {
		return nil, fmt.Errorf("node pool without a name")
	}
	count := p.Count
	if count == 0 {
		count = 1
	}
	if count < 0 {
		return nil, fmt.Errorf("node pool %s: negative count %d", p.Name, p.Count)
	}
	capacity := corev1.ResourceList{}
	for name, q := range map[corev1.ResourceName]string{
		corev1.ResourceCPU:              or(p.CPU, "64"),
		corev1.ResourceMemory:           or(p.Memory, "512Gi"),
		corev1.ResourceEphemeralStorage: or(p.EphemeralStorage, "1Ti"),
		corev1.ResourcePods:             strconv.Itoa(or(p.Pods, 110)),
	} {
		qty, err := resource.ParseQuantity(q)
		if err != nil {
			return nil, fmt.Errorf("node pool %s: %s %q: %w", p.Name, name, q, err)
		}
		capacity[name] = qty
	}
	labels := map[string]string{"type": "kwok", corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64"}
	var taints []corev1.Taint
	if g := p.GPU; g != nil {
		if g.Product == "" || g.Count <= 0 || g.MemoryMiB <= 0 {
			return nil, fmt.Errorf("node pool %s: gpu needs product, count > 0 and memoryMiB > 0", p.Name)
		}
		res := corev1.ResourceName(or(g.ResourceName, string(GPUResource)))
		capacity[res] = *resource.NewQuantity(int64(g.Count), resource.DecimalSI)
		labels[LabelGPUProduct] = g.Product
		labels[LabelGPUMemory] = strconv.Itoa(g.MemoryMiB)
		labels[LabelGPUCount] = strconv.Itoa(g.Count)
		labels[LabelGPUPresent] = "true"
		taints = append(taints, corev1.Taint{Key: string(res), Value: "present", Effect: corev1.TaintEffectNoSchedule})
	}
	for k, v := range p.Labels {
		labels[k] = v
	}
	taints = append(taints, p.Taints...)

	nodes := make([]*corev1.Node, 0, count)
	for i := range count {
		name := fmt.Sprintf("%s-%d", p.Name, i)
		nodeLabels := make(map[string]string, len(labels)+1)
		for k, v := range labels {
			nodeLabels[k] = v
		}
		nodeLabels[corev1.LabelHostname] = name
		nodes = append(nodes, &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Labels:      nodeLabels,
				Annotations: map[string]string{KwokNodeAnnotation: "fake"},
			},
			Spec: corev1.NodeSpec{Taints: append([]corev1.Taint(nil), taints...)},
			Status: corev1.NodeStatus{
				Capacity:    capacity.DeepCopy(),
				Allocatable: capacity.DeepCopy(),
			},
		})
	}
	return nodes, nil
}

// or returns v, or def when v is the zero value.
func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
