package gpu

import (
	corev1 "k8s.io/api/core/v1"
)

// Free GPUs, counted the way the scheduler counts them: a node's allocatable GPUs minus what the pods bound to it
// request. Pure: the caller lists each node's pods.

// PodGPUs is what a pod requests of resource res, as the scheduler sees it: the larger of its containers' sum and
// its largest init container (init containers run one at a time, before the others).
func PodGPUs(p *corev1.Pod, res corev1.ResourceName) int64 {
	var sum, initMax int64
	for _, c := range p.Spec.Containers {
		sum += request(c, res)
	}
	for _, c := range p.Spec.InitContainers {
		if v := request(c, res); v > initMax {
			initMax = v
		}
	}
	return max(sum, initMax)
}

// request is a container's request of res; an extended resource set only as a limit is requested at the limit.
func request(c corev1.Container, res corev1.ResourceName) int64 {
	if q, ok := c.Resources.Requests[res]; ok {
		return q.Value()
	}
	if q, ok := c.Resources.Limits[res]; ok {
		return q.Value()
	}
	return 0
}

// Holds says whether a pod still holds the resources it requested: it is not finished. A pod being deleted
// holds them until it is gone, as the scheduler counts it.
func Holds(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// FreeGPUs is how many GPUs of resource res node n has that none of pods (the pods bound to it) requests.
func FreeGPUs(n Node, pods []corev1.Pod, res corev1.ResourceName) int64 {
	free := n.GPUs
	for i := range pods {
		if pods[i].Spec.NodeName == n.Name && Holds(&pods[i]) {
			free -= PodGPUs(&pods[i], res)
		}
	}
	return max(free, 0)
}
