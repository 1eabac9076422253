package simcluster

import (
	"fmt"
	"strings"

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
	// secretKeys and configMapKeys look an object up and say whether it holds a key ("" for any).
	secretKeys := func(name string) (func(string) bool, error) {
		s, err := secrets.Secrets(ns).Get(name)
		if err != nil {
			return nil, err
		}
		return func(k string) bool { _, a := s.Data[k]; _, b := s.StringData[k]; return k == "" || a || b }, nil
	}
	configMapKeys := func(name string) (func(string) bool, error) {
		c, err := configMaps.ConfigMaps(ns).Get(name)
		if err != nil {
			return nil, err
		}
		return func(k string) bool { _, a := c.Data[k]; _, b := c.BinaryData[k]; return k == "" || a || b }, nil
	}
	check := func(kind, name, key string, optional *bool, lookup func(string) (func(string) bool, error)) (string, error) {
		if optional != nil && *optional {
			return "", nil
		}
		has, err := lookup(name)
		switch {
		case apierrors.IsNotFound(err):
			return fmt.Sprintf("%s %q not found", strings.ToLower(kind), name), nil
		case err != nil:
			return "", err
		case !has(key):
			return fmt.Sprintf("couldn't find key %s in %s %s/%s", key, kind, ns, name), nil
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
				msg, err = check("Secret", from.SecretRef.Name, "", from.SecretRef.Optional, secretKeys)
			case from.ConfigMapRef != nil:
				msg, err = check("ConfigMap", from.ConfigMapRef.Name, "", from.ConfigMapRef.Optional, configMapKeys)
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
				msg, err = check("Secret", ref.SecretKeyRef.Name, ref.SecretKeyRef.Key, ref.SecretKeyRef.Optional, secretKeys)
			case ref.ConfigMapKeyRef != nil:
				msg, err = check("ConfigMap", ref.ConfigMapKeyRef.Name, ref.ConfigMapKeyRef.Key, ref.ConfigMapKeyRef.Optional, configMapKeys)
			}
			if msg != "" || err != nil {
				return msg, err
			}
		}
	}
	return "", nil
}
