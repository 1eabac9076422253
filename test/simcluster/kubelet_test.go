package simcluster

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// TestContainerConfigError: the kubelet's messages for references that do not resolve, and none for those that do
// or are optional.
func TestContainerConfigError(t *testing.T) {
	secrets := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	configMaps := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	_ = secrets.Add(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "hf"}, Data: map[string][]byte{"token": []byte("x")}})
	_ = configMaps.Add(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cfg"}, Data: map[string]string{"a": "1"}})
	secretRef := func(name, key string, optional bool) corev1.EnvVar {
		return corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key, Optional: ptr.To(optional)}}}
	}
	configMapRef := func(name, key string) corev1.EnvVar {
		return corev1.EnvVar{Name: "Y", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}}}
	}
	for _, tc := range []struct {
		name string
		env  []corev1.EnvVar
		from []corev1.EnvFromSource
		want string
	}{
		{"all resolve", []corev1.EnvVar{{Name: "A", Value: "1"}, secretRef("hf", "token", false), configMapRef("cfg", "a")}, nil, ""},
		{"missing Secret", []corev1.EnvVar{secretRef("other", "token", false)}, nil, `secret "other" not found`},
		{"missing key", []corev1.EnvVar{secretRef("hf", "password", false)}, nil, "couldn't find key password in Secret ns/hf"},
		{"optional missing Secret", []corev1.EnvVar{secretRef("other", "token", true)}, nil, ""},
		{"missing ConfigMap key", []corev1.EnvVar{configMapRef("cfg", "b")}, nil, "couldn't find key b in ConfigMap ns/cfg"},
		{"envFrom a missing ConfigMap", nil, []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "none"}}}}, `configmap "none" not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "engine", Env: tc.env, EnvFrom: tc.from}}}}
			got, err := containerConfigError(pod, corelisters.NewSecretLister(secrets), corelisters.NewConfigMapLister(configMaps))
			if err != nil || got != tc.want {
				t.Errorf("containerConfigError = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
