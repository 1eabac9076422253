package simcluster

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// fakeSources are listers over fixed objects.
func fakeSources(objs ...any) volumeSources {
	secrets := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	configMaps := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	claims := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	volumes := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	for _, o := range objs {
		switch o.(type) {
		case *corev1.Secret:
			_ = secrets.Add(o)
		case *corev1.ConfigMap:
			_ = configMaps.Add(o)
		case *corev1.PersistentVolumeClaim:
			_ = claims.Add(o)
		case *corev1.PersistentVolume:
			_ = volumes.Add(o)
		}
	}
	return volumeSources{secrets: corelisters.NewSecretLister(secrets), configMaps: corelisters.NewConfigMapLister(configMaps),
		claims: corelisters.NewPersistentVolumeClaimLister(claims), volumes: corelisters.NewPersistentVolumeLister(volumes)}
}

// TestPathMap: a path is rewritten when it is a mount path, lies under one, or is the value of --flag=; the longest
// mount path wins; nothing else changes.
func TestPathMap(t *testing.T) {
	m := newPathMap([]mountPoint{
		{ctr: "/cache", host: "/host/pv"},
		{ctr: "/cache/hub/", host: "/host/hub"}, // a mount inside a mount; a trailing slash
		{ctr: "/var/run/secrets/privatellm/hub", host: "/host/pods/ns_p/volumes/hub-token"},
	})
	for in, want := range map[string]string{
		"/cache":                              "/host/pv",
		"/cache/compile":                      "/host/pv/compile",
		"/cache/hub":                          "/host/hub",
		"/cache/hub/models--org--m/refs/main": "/host/hub/models--org--m/refs/main",
		"--cache-dir=/cache/hub":              "--cache-dir=/host/hub",
		"-writable-dir=/cache/compile":        "-writable-dir=/host/pv/compile",
		"--token-file=/var/run/secrets/privatellm/hub/token": "--token-file=/host/pods/ns_p/volumes/hub-token/token",
		"/cachex":                 "/cachex", // a prefix of the name is not a path under it
		"--cache-dir=/cachex/hub": "--cache-dir=/cachex/hub",
		"--repo=org/m":            "--repo=org/m",
		"cache/hub":               "cache/hub", // relative: the container's working directory, not a mount
		"x=/cache/hub":            "x=/cache/hub",
		"--progress-addr=:8081":   "--progress-addr=:8081",
	} {
		if got := m.mapArg(in); got != want {
			t.Errorf("mapArg(%q) = %q, want %q", in, got, want)
		}
	}
	env := m.literalEnv([]corev1.EnvVar{{Name: "HF_HUB_CACHE", Value: "/cache/hub"}, {Name: "HF_HUB_OFFLINE", Value: "1"},
		{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Key: "t"}}}})
	if want := []string{"HF_HUB_CACHE=/host/hub", "HF_HUB_OFFLINE=1"}; !slices.Equal(env, want) {
		t.Errorf("literalEnv = %q, want %q", env, want)
	}
}

// TestContainerMounts: the folder behind each kind of volume — a claim's volume (with a subPath), a Secret's
// items written with their mode, a ConfigMap, an emptyDir — for the loader's pod as the operator renders it, and
// for an engine pod mounting the cache's hub/ read-only.
func TestContainerMounts(t *testing.T) {
	clusterDir := t.TempDir()
	pvDir := filepath.Join(clusterDir, "volumes", "pvc-1")
	claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cache"},
		Spec: corev1.PersistentVolumeClaimSpec{VolumeName: "pvc-1"}}
	pending := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "pending"}}
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pvc-1"}, Spec: corev1.PersistentVolumeSpec{
		PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: pvDir}}}}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "hf"},
		Data: map[string][]byte{"token": []byte("hf_secret"), "other": []byte("x")}}
	ca := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ca"}, Data: map[string]string{"bundle": "PEM"}}
	src := fakeSources(claim, pending, pv, secret, ca)

	loader := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cache-download-x"},
		Spec: corev1.PodSpec{
			Volumes: []corev1.Volume{
				{Name: "cache", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "cache"}}},
				{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "hub-token", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "hf",
					Items: []corev1.KeyToPath{{Key: "token", Path: "token"}}, DefaultMode: ptr.To(int32(0o400))}}},
				{Name: "ca-bundle", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: "ca"}, DefaultMode: ptr.To(int32(0o644))}}},
				{Name: "kube-api-access", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}},
			},
			Containers: []corev1.Container{{Name: "loader", VolumeMounts: []corev1.VolumeMount{
				{Name: "cache", MountPath: "/cache"},
				{Name: "tmp", MountPath: "/tmp"},
				{Name: "hub-token", MountPath: "/var/run/secrets/privatellm/hub", ReadOnly: true},
				{Name: "ca-bundle", MountPath: "/etc/privatellm/ca", ReadOnly: true},
				{Name: "kube-api-access", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"},
			}}},
		},
	}
	m, fills, err := src.containerMounts(clusterDir, loader, &loader.Spec.Containers[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fills {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	own := filepath.Join(clusterDir, "pods", "ns_cache-download-x", "volumes")
	for in, want := range map[string]string{
		"--cache-dir=/cache/hub":                              "--cache-dir=" + pvDir + "/hub",
		"--token-file=/var/run/secrets/privatellm/hub/token":  "--token-file=" + own + "/hub-token/token",
		"--ca-bundle=/etc/privatellm/ca/bundle":               "--ca-bundle=" + own + "/ca-bundle/bundle",
		"/tmp/x":                                              own + "/tmp/x",
		"/var/run/secrets/kubernetes.io/serviceaccount/token": "/var/run/secrets/kubernetes.io/serviceaccount/token",
	} {
		if got := m.mapArg(in); got != want {
			t.Errorf("mapArg(%q) = %q, want %q", in, got, want)
		}
	}
	checkFile := func(p, content string, mode os.FileMode) {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := os.ReadFile(p)
		if string(raw) != content || fi.Mode().Perm() != mode {
			t.Errorf("%s: %q mode %v, want %q mode %v", p, raw, fi.Mode().Perm(), content, mode)
		}
	}
	checkFile(filepath.Join(own, "hub-token", "token"), "hf_secret", 0o400)
	if _, err := os.Stat(filepath.Join(own, "hub-token", "other")); !os.IsNotExist(err) {
		t.Errorf("a key not in items was written: %v", err)
	}
	checkFile(filepath.Join(own, "ca-bundle", "bundle"), "PEM", 0o644)
	if fi, err := os.Stat(filepath.Join(own, "tmp")); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o777 {
		t.Errorf("emptyDir tmp: %v %v", fi, err)
	}

	engine := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "engine"},
		Spec: corev1.PodSpec{
			Volumes: []corev1.Volume{{Name: "model-cache", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "cache", ReadOnly: true}}}},
			Containers: []corev1.Container{{Name: "vllm",
				Env: []corev1.EnvVar{{Name: "ENGINE", Value: "compile"}},
				VolumeMounts: []corev1.VolumeMount{
					{Name: "model-cache", MountPath: "/mnt/model-cache", SubPath: "hub", ReadOnly: true},
					{Name: "model-cache", MountPath: "/mnt/compile-cache", SubPathExpr: "$(ENGINE)"},
				}}},
		},
	}
	m, fills, err = src.containerMounts(clusterDir, engine, &engine.Spec.Containers[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fills {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := m.literalEnv([]corev1.EnvVar{{Name: "HF_HUB_CACHE", Value: "/mnt/model-cache"}}), "HF_HUB_CACHE="+pvDir+"/hub"; got[0] != want {
		t.Errorf("HF_HUB_CACHE = %q, want %q", got[0], want)
	}
	if got, want := m.mapArg("/mnt/compile-cache/vllm"), pvDir+"/compile/vllm"; got != want {
		t.Errorf("subPathExpr: %q, want %q", got, want)
	}
	for _, sub := range []string{"hub", "compile"} {
		if fi, err := os.Stat(filepath.Join(pvDir, sub)); err != nil || !fi.IsDir() {
			t.Errorf("subPath %s not created: %v", sub, err)
		}
	}

	waiting := engine.DeepCopy()
	waiting.Spec.Volumes[0].PersistentVolumeClaim.ClaimName = "pending"
	if _, _, err := src.containerMounts(clusterDir, waiting, &waiting.Spec.Containers[0]); err == nil {
		t.Error("a claim that is not bound yet: no error")
	}
	escape := engine.DeepCopy()
	escape.Spec.Containers[0].VolumeMounts[0].SubPath = "../../etc"
	if _, _, err := src.containerMounts(clusterDir, escape, &escape.Spec.Containers[0]); err == nil {
		t.Error("a subPath out of the volume: no error")
	}
}

// TestVolumeMountError: the kubelet's FailedMount messages for Secret and ConfigMap volumes that cannot be mounted,
// none for those that can or are optional.
func TestVolumeMountError(t *testing.T) {
	src := fakeSources(
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "hf"}, Data: map[string][]byte{"token": []byte("x")}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ca"}, Data: map[string]string{"pem": "x"}},
	)
	secretVol := func(name, key string, optional bool) corev1.Volume {
		return corev1.Volume{Name: "hub-token", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: name, Items: []corev1.KeyToPath{{Key: key, Path: "token"}}, Optional: ptr.To(optional)}}}
	}
	cmVol := func(name, key string) corev1.Volume {
		return corev1.Volume{Name: "ca", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}, Items: []corev1.KeyToPath{{Key: key, Path: "ca.pem"}}}}}
	}
	for _, tc := range []struct {
		name string
		vol  corev1.Volume
		want string
	}{
		{"mounts", secretVol("hf", "token", false), ""},
		{"missing Secret", secretVol("gone", "token", false), `MountVolume.SetUp failed for volume "hub-token" : secret "gone" not found`},
		{"missing key", secretVol("hf", "password", false), `MountVolume.SetUp failed for volume "hub-token" : references non-existent secret key: password`},
		{"optional missing Secret", secretVol("gone", "token", true), ""},
		{"ConfigMap mounts", cmVol("ca", "pem"), ""},
		{"missing ConfigMap", cmVol("none", "pem"), `MountVolume.SetUp failed for volume "ca" : configmap "none" not found`},
		{"missing ConfigMap key", cmVol("ca", "crt"), `MountVolume.SetUp failed for volume "ca" : configmap references non-existent config key: crt`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"},
				Spec: corev1.PodSpec{Volumes: []corev1.Volume{tc.vol}, Containers: []corev1.Container{{Name: "loader"}}}}
			got, err := volumeMountError(pod, src.secrets, src.configMaps)
			if err != nil || got != tc.want {
				t.Errorf("volumeMountError = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestBindProgress: the loader's progress endpoint on every address of the pod is bound to the pod's IP, in
// either of Go's flag spellings; an address naming a host is kept.
func TestBindProgress(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"--repo=a", "--progress-addr=:8081"}, []string{"--repo=a", "--progress-addr=127.3.0.5:8081"}},
		{[]string{"-progress-addr", "0.0.0.0:9000"}, []string{"-progress-addr", "127.3.0.5:9000"}},
		{[]string{"--progress-addr=localhost:8081"}, []string{"--progress-addr=localhost:8081"}},
		{[]string{"--repo=a"}, []string{"--repo=a"}},
	} {
		if got := bindProgress(tc.in, "127.3.0.5"); !slices.Equal(got, tc.want) {
			t.Errorf("bindProgress(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
