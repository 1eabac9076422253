package gpu

import (
	"slices"

	corev1 "k8s.io/api/core/v1"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// productMemoryMiB is the memory of well-known GPU products as GPU Feature Discovery labels them
// (nvidia.com/gpu.product → nvidia.com/gpu.memory).
var productMemoryMiB = map[string]int64{
	"NVIDIA-L4":               23034,
	"NVIDIA-A10G":             23028,
	"NVIDIA-L40S":             46068,
	"NVIDIA-A100-SXM4-40GB":   40960,
	"NVIDIA-A100-PCIE-40GB":   40960,
	"NVIDIA-A100-SXM4-80GB":   81920,
	"NVIDIA-A100-80GB-PCIe":   81920,
	"NVIDIA-H100-80GB-HBM3":   81559,
	"NVIDIA-H100-PCIe":        81559,
	"NVIDIA-H100-NVL":         95830,
	"NVIDIA-H200":             143771,
	"NVIDIA-B200":             183359,
	"Tesla-T4":                15360,
	"Tesla-V100-SXM2-16GB":    16384,
	"NVIDIA-GeForce-RTX-4090": 24564,
}

// Products are the GPU products whose memory the estimator knows, sorted.
func Products() []string {
	out := make([]string, 0, len(productMemoryMiB))
	for p := range productMemoryMiB {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// ProductMemoryMiB is the memory of one GPU of a product; false when the estimator does not know the product.
func ProductMemoryMiB(product string) (int64, bool) {
	m, ok := productMemoryMiB[product]
	return m, ok
}

// DeclaredMemoryMiB is the per-GPU memory a spec can count on without looking at the cluster: the smallest
// memory among its products when all are known, else gpu.minMemory, else 0 (unknown). On CPU it is the
// container's memory: resources.limits.memory, else resources.requests.memory.
func DeclaredMemoryMiB(spec *servingv1alpha1.LLMDeploymentSpec) int64 {
	if spec.OnCPU() {
		for _, list := range []corev1.ResourceList{spec.Resources.Limits, spec.Resources.Requests} {
			if q, ok := list[corev1.ResourceMemory]; ok {
				return MiB(q.Value())
			}
		}
		return 0
	}
	var smallest int64
	for _, p := range spec.GPU.Products {
		m, ok := productMemoryMiB[p]
		if !ok {
			smallest = 0
			break
		}
		if smallest == 0 || m < smallest {
			smallest = m
		}
	}
	if smallest > 0 {
		return smallest
	}
	if spec.GPU.MinMemory != nil {
		return MiB(spec.GPU.MinMemory.Value())
	}
	return 0
}
