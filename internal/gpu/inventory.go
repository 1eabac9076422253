package gpu

import (
	"fmt"
	"slices"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// The cluster's GPU inventory, as admission (and placement decisions) see it: the GPU nodes, their products,
// memory and allocatable GPUs, and which of them a spec's pods could be scheduled on. Pure: the caller lists the
// Nodes.

// Node is what placement needs to know of one GPU node.
type Node struct {
	// Name of the node.
	Name string
	// Product is the vendor's product label, e.g. NVIDIA-L4.
	Product string
	// MemoryMiB is the memory of one GPU from the vendor's memory label; 0 when unknown.
	MemoryMiB int64
	// GPUs is the allocatable GPU resource.
	GPUs int64
}

// Inventory is the part of the cluster a spec could run on.
type Inventory struct {
	// AnyGPU is true when some node offers the spec's GPU resource at all.
	AnyGPU bool
	// Matching are the GPU nodes whose labels meet the spec's products, minMemory and nodeSelector, by name.
	Matching []Node
}

// InventoryFor sorts the nodes into what the spec's pods could be scheduled on, judged by the same labels the
// rendered node affinity requires (products, minMemory) and by spec.nodeSelector. Affinity terms of the spec are
// not evaluated.
func InventoryFor(spec *servingv1alpha1.LLMDeploymentSpec, nodes []corev1.Node) Inventory {
	res := corev1.ResourceName(spec.EffectiveGPUResourceName())
	keys := LabelsFor(spec.EffectiveGPUResourceName())
	var minMiB int64
	if spec.GPU.MinMemory != nil && keys.Memory != "" {
		minMiB = MiB(spec.GPU.MinMemory.Value())
	}
	selector := labels.SelectorFromSet(spec.NodeSelector)
	var inv Inventory
	for i := range nodes {
		n := &nodes[i]
		product := n.Labels[keys.Product]
		q, hasGPUs := n.Status.Allocatable[res]
		if product == "" && (!hasGPUs || q.IsZero()) {
			continue
		}
		inv.AnyGPU = true
		node := Node{Name: n.Name, Product: product, GPUs: q.Value()}
		if keys.Memory != "" {
			if m, err := strconv.ParseInt(n.Labels[keys.Memory], 10, 64); err == nil && m > 0 {
				node.MemoryMiB = m
			}
		}
		if len(spec.GPU.Products) > 0 && !slices.Contains(spec.GPU.Products, product) {
			continue
		}
		if minMiB > 0 && node.MemoryMiB < minMiB {
			continue
		}
		if !selector.Matches(labels.Set(n.Labels)) {
			continue
		}
		inv.Matching = append(inv.Matching, node)
	}
	sort.Slice(inv.Matching, func(i, j int) bool { return inv.Matching[i].Name < inv.Matching[j].Name })
	return inv
}

// GPUMemory is the memory per GPU to check the fit against: the smallest matching node's, else spec.gpu.minMemory,
// else 0 (unknown). source says where it came from, for messages.
func (inv Inventory) GPUMemory(spec *servingv1alpha1.LLMDeploymentSpec) (mib int64, source string) {
	for _, n := range inv.Matching {
		if n.MemoryMiB > 0 && (mib == 0 || n.MemoryMiB < mib) {
			mib, source = n.MemoryMiB, "smallest matching node"
			if n.Product != "" {
				source = fmt.Sprintf("smallest matching %s node", n.Product)
			}
		}
	}
	if mib == 0 && spec.GPU.MinMemory != nil && spec.GPU.MinMemory.Sign() > 0 {
		mib, source = MiB(spec.GPU.MinMemory.Value()), "spec.gpu.minMemory, as no matching node is known"
	}
	return mib, source
}

// MaxGPUs is the largest allocatable GPU count among the matching nodes, and the product of that node.
func (inv Inventory) MaxGPUs() (int64, string) {
	var most int64 = -1
	var product string
	for _, n := range inv.Matching {
		if n.GPUs > most {
			most, product = n.GPUs, n.Product
		}
	}
	return most, product
}
