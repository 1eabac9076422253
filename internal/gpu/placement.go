// Package gpu places model servers on GPU nodes: the resource to request, the node labels to match (GPU Feature
// Discovery for NVIDIA, the AMD node labeller for AMD), the taint to tolerate. Pure functions.
package gpu

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// NodeLabels are the node label keys that describe a vendor's GPUs.
type NodeLabels struct {
	// Product names the GPU model, e.g. NVIDIA-H100-80GB-HBM3.
	Product string
	// Memory is the memory of one GPU in MiB ("" when the vendor's labeller has no numeric label).
	Memory string
	// Count is the number of GPUs of the node.
	Count string
}

// LabelsFor returns the node label keys for a GPU resource name.
func LabelsFor(resource servingv1alpha1.GPUResourceName) NodeLabels {
	switch resource {
	case servingv1alpha1.GPUResourceAMD:
		return NodeLabels{Product: "amd.com/gpu.product-name", Count: "amd.com/gpu.count"}
	default:
		return NodeLabels{Product: "nvidia.com/gpu.product", Memory: "nvidia.com/gpu.memory", Count: "nvidia.com/gpu.count"}
	}
}

// MiB is the number of whole MiB in q, rounded up.
func MiB(q int64) int64 { return (q + (1<<20 - 1)) >> 20 }

// NodeRequirements are the node selector requirements a replica's node must meet: one of the products, and at
// least minMemory per GPU (none on CPU).
func NodeRequirements(spec *servingv1alpha1.LLMDeploymentSpec) []corev1.NodeSelectorRequirement {
	if spec.OnCPU() {
		return nil
	}
	labels := LabelsFor(spec.EffectiveGPUResourceName())
	var reqs []corev1.NodeSelectorRequirement
	if len(spec.GPU.Products) > 0 {
		reqs = append(reqs, corev1.NodeSelectorRequirement{
			Key:      labels.Product,
			Operator: corev1.NodeSelectorOpIn,
			Values:   append([]string(nil), spec.GPU.Products...),
		})
	}
	if spec.GPU.MinMemory != nil && labels.Memory != "" {
		// Gt is strict: a node with exactly minMemory qualifies.
		reqs = append(reqs, corev1.NodeSelectorRequirement{
			Key:      labels.Memory,
			Operator: corev1.NodeSelectorOpGt,
			Values:   []string{strconv.FormatInt(MiB(spec.GPU.MinMemory.Value())-1, 10)},
		})
	}
	return reqs
}

// Affinity merges the GPU requirements into the user's affinity. Node selector terms are ORed by Kubernetes, so
// the requirements are added to every term the user gave (or form the only term).
func Affinity(spec *servingv1alpha1.LLMDeploymentSpec) *corev1.Affinity {
	reqs := NodeRequirements(spec)
	aff := spec.Affinity.DeepCopy()
	if len(reqs) == 0 {
		return aff
	}
	if aff == nil {
		aff = &corev1.Affinity{}
	}
	if aff.NodeAffinity == nil {
		aff.NodeAffinity = &corev1.NodeAffinity{}
	}
	na := aff.NodeAffinity
	if na.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		na.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{}
	}
	terms := na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) == 0 {
		terms = []corev1.NodeSelectorTerm{{}}
	}
	for i := range terms {
		terms[i].MatchExpressions = append(append([]corev1.NodeSelectorRequirement(nil), reqs...), terms[i].MatchExpressions...)
	}
	na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms = terms
	return aff
}

// Tolerations are the toleration of the GPU taint (key = the resource name, as the NVIDIA and AMD operators
// taint GPU nodes) followed by the user's. A CPU model server tolerates no GPU taint: it stays off GPU nodes.
func Tolerations(spec *servingv1alpha1.LLMDeploymentSpec) []corev1.Toleration {
	var out []corev1.Toleration
	if !spec.OnCPU() {
		out = append(out, corev1.Toleration{
			Key:      string(spec.EffectiveGPUResourceName()),
			Operator: corev1.TolerationOpExists,
			Effect:   corev1.TaintEffectNoSchedule,
		})
	}
	for _, t := range spec.Tolerations {
		out = append(out, *t.DeepCopy())
	}
	return out
}
