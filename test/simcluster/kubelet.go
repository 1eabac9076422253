package simcluster

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// What the kubelet checks before it starts a pod's containers, played by the pod agent: the Secrets and ConfigMaps
// the containers' environment names must exist, with the keys it names. A real kubelet keeps such a pod Pending
// with its containers waiting in CreateContainerConfigError and retries until they appear; kwok alone would run
// the pod as if they existed.
const (
	// AnnotationContainerConfig is set to "ok" by the pod agent once a pod's environment resolves: the running
	// stages wait for it on clusters with the pod agent.
	AnnotationContainerConfig = "sim.privatellm.dev/container-config"
	// AnnotationContainerConfigError carries the kubelet's message while it does not resolve.
	AnnotationContainerConfigError = "sim.privatellm.dev/container-config-error"
)

// containerConfigError is the kubelet's message for the first reference of a pod's containers that does not
// resolve, or "" when all do. Optional references never fail.
func containerConfigError(pod *corev1.Pod, secrets corelisters.SecretLister, configMaps corelisters.ConfigMapLister) (string, error) {
	ns := pod.Namespace
	secretKey := func(name, key string, optional *bool) (string, error) {
		if optional != nil && *optional {
			return "", nil
		}
		s, err := secrets.Secrets(ns).Get(name)
		switch {
		case apierrors.IsNotFound(err):
			return fmt.Sprintf("secret %q not found", name), nil
		case err != nil:
			return "", err
		}
		if _, ok := s.Data[key]; key != "" && !ok {
			if _, ok := s.StringData[key]; !ok {
				return fmt.Sprintf("couldn't find key %s in Secret %s/%s", key, ns, name), nil
			}
		}
		return "", nil
	}
	configMapKey := func(name, key string, optional *bool) (string, error) {
		if optional != nil && *optional {
			return "", nil
		}
		c, err := configMaps.ConfigMaps(ns).Get(name)
		switch {
		case apierrors.IsNotFound(err):
			return fmt.Sprintf("configmap %q not found", name), nil
		case err != nil:
			return "", err
		}
		if _, ok := c.Data[key]; key != "" && !ok {
			if _, ok := c.BinaryData[key]; !ok {
				return fmt.Sprintf("couldn't find key %s in ConfigMap %s/%s", key, ns, name), nil
			}
		}
		return "", nil
	}
	containers := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
	for _, ctr := range containers {
		for _, from := range ctr.EnvFrom {
			var msg string
			var err error
			switch {
			case from.SecretRef != nil:
				msg, err = secretKey(from.SecretRef.Name, "", from.SecretRef.Optional)
			case from.ConfigMapRef != nil:
				msg, err = configMapKey(from.ConfigMapRef.Name, "", from.ConfigMapRef.Optional)
			}
			if msg != "" || err != nil {
				return msg, err
			}
		}
		for _, e := range ctr.Env {
			if e.ValueFrom == nil {
				continue
			}
			var msg string
			var err error
			switch ref := e.ValueFrom; {
			case ref.SecretKeyRef != nil:
				msg, err = secretKey(ref.SecretKeyRef.Name, ref.SecretKeyRef.Key, ref.SecretKeyRef.Optional)
			case ref.ConfigMapKeyRef != nil:
				msg, err = configMapKey(ref.ConfigMapKeyRef.Name, ref.ConfigMapKeyRef.Key, ref.ConfigMapKeyRef.Optional)
			}
			if msg != "" || err != nil {
				return msg, err
			}
		}
	}
	return "", nil
}
