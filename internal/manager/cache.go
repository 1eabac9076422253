// Package manager wires the operator's manager: which objects its caches hold and what of each object they keep.
package manager

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/render"
	"github.com/privatellm/privatellm/internal/webhook"
)

// CacheOptions restricts the operator's caches of Deployments, Services and Pods to the objects it manages, so
// memory grows with LLMDeployments, not with the cluster, and keeps of each cached object only what the operator
// reads (see the transforms below). managedFields are never kept. The manager must be built with these options.
//
// Objects read through the manager's client come from these caches: a field a transform drops reads as empty.
// Code that needs more of a Deployment or a Pod must add the field to its transform (and to the tests).
//
// With the gateway's Service configured (gw.Service), the EndpointSlices of that Service alone are cached: the
// autoscaler reads the gateway replicas' metrics from them.
func CacheOptions(gw config.GatewayConfig) cache.Options {
	managed := labels.SelectorFromSet(labels.Set{render.LabelManagedBy: render.ManagedByValue})
	opts := cache.Options{DefaultTransform: cache.TransformStripManagedFields(), ByObject: map[client.Object]cache.ByObject{
		&appsv1.Deployment{}: {Label: managed, Transform: DeploymentCacheTransform},
		&corev1.Service{}:    {Label: managed},
		// Rendered only with gateway.networkPolicy; watched then.
		&networkingv1.NetworkPolicy{}: {Label: managed},
		&corev1.Pod{}:                 {Label: managed, Transform: PodCacheTransform},
		// The model cache's download Jobs and volumes (with spec.modelCache).
		&batchv1.Job{}:                  {Label: managed},
		&corev1.PersistentVolumeClaim{}: {Label: managed},
		// The admission webhook reads Nodes' names, labels and allocatable GPUs only.
		&corev1.Node{}: {Transform: webhook.NodeCacheTransform},
	}}
	if ns, name, ok := gw.ServiceKey(); ok {
		opts.ByObject[&discoveryv1.EndpointSlice{}] = cache.ByObject{
			Label:      labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: name}),
			Namespaces: map[string]cache.Config{ns: {}},
		}
	}
	return opts
}

// cachedMeta is the metadata every transform keeps: identity, labels, owners and lifecycle, no annotations and
// no managedFields.
func cachedMeta(m *metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion, Generation: m.Generation,
		CreationTimestamp: m.CreationTimestamp, DeletionTimestamp: m.DeletionTimestamp, Labels: m.Labels,
		OwnerReferences: m.OwnerReferences,
	}
}

// DeploymentCacheTransform keeps of a Deployment what the reconciler reads: its generation (the applier's skip
// key), replicas, strategy, progress deadline and selector, the rollout annotations (render.AnnotationTemplateHash,
// render.AnnotationRollout), and its status. The pod template, most of a Deployment's size, is the operator's own
// rendering and is never read back.
func DeploymentCacheTransform(obj any) (any, error) {
	d, ok := obj.(*appsv1.Deployment)
	if !ok {
		return obj, nil
	}
	m := cachedMeta(&d.ObjectMeta)
	for _, k := range []string{render.AnnotationTemplateHash, render.AnnotationRollout} {
		if v, ok := d.Annotations[k]; ok {
			if m.Annotations == nil {
				m.Annotations = map[string]string{}
			}
			m.Annotations[k] = v
		}
	}
	return &appsv1.Deployment{
		TypeMeta:   d.TypeMeta,
		ObjectMeta: m,
		Spec: appsv1.DeploymentSpec{
			Replicas: d.Spec.Replicas, Selector: d.Spec.Selector, Strategy: d.Spec.Strategy,
			ProgressDeadlineSeconds: d.Spec.ProgressDeadlineSeconds,
		},
		Status: d.Status,
	}, nil
}

// PodCacheTransform keeps of a Pod what status, autoscaling and usage read: per container its name, image, ports
// (the metrics URL) and resources (the GPUs it holds), the node, and the whole status (phase, conditions, IPs,
// container states). Arguments, environment, probes, volumes and placement are dropped.
func PodCacheTransform(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	containers := make([]corev1.Container, len(p.Spec.Containers))
	for i, c := range p.Spec.Containers {
		containers[i] = corev1.Container{Name: c.Name, Image: c.Image, Ports: c.Ports, Resources: c.Resources}
	}
	return &corev1.Pod{
		TypeMeta:   p.TypeMeta,
		ObjectMeta: cachedMeta(&p.ObjectMeta),
		Spec:       corev1.PodSpec{NodeName: p.Spec.NodeName, Containers: containers},
		Status:     p.Status,
	}, nil
}
