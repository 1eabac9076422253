package render_test

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/cache"
	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/internal/render"
)

const (
	cacheCommit = "0123456789abcdef0123456789abcdef01234567"
	loaderImg   = "ghcr.io/privatellm/privatellm:v0.9.0"
	tokenDir    = "/var/run/secrets/privatellm/hub"
)

// cacheClass parses a cache class the way the operator gets it (defaults filled by config.Parse).
func cacheClass(t *testing.T, class string) config.CacheClass {
	t.Helper()
	c, err := config.Parse([]byte("modelCache:\n  loaderImage: " + loaderImg + "\n  classes:\n    default: " + class + "\n"))
	if err != nil {
		t.Fatalf("class %s: %v", class, err)
	}
	cl, ok := c.ModelCache.Class("")
	if !ok {
		t.Fatal("no default class")
	}
	return cl
}

func modelCache(mut func(*servingv1alpha1.ModelCache)) *servingv1alpha1.ModelCache {
	mc := &servingv1alpha1.ModelCache{}
	mc.Namespace = "team-a"
	mc.Spec = servingv1alpha1.ModelCacheSpec{
		Source:    "hf://meta-llama/Llama-3.1-8B-Instruct",
		Revision:  "v1.0",
		ClassName: "default",
		Files: &servingv1alpha1.FileFilter{
			Include: []string{"*.json", "*.safetensors"},
			Exclude: []string{"original/*", "*.gguf"},
		},
	}
	if mut != nil {
		mut(mc)
	}
	mc.Name = cache.Name(mc.Spec)
	return mc
}

func withToken(key string) func(*servingv1alpha1.ModelCache) {
	return func(mc *servingv1alpha1.ModelCache) {
		mc.Spec.TokenSecretRef = &servingv1alpha1.SecretKeyRef{Name: "hf-token", Key: key}
	}
}

func loader(t *testing.T, j *batchv1.Job) corev1.Container {
	t.Helper()
	cs := j.Spec.Template.Spec.Containers
	if len(cs) != 1 || cs[0].Name != "loader" {
		t.Fatalf("containers %+v, want one named loader", cs)
	}
	return cs[0]
}

func volumeNamed(vols []corev1.Volume, name string) *corev1.Volume {
	for i := range vols {
		if vols[i].Name == name {
			return &vols[i]
		}
	}
	return nil
}

func mountAt(mounts []corev1.VolumeMount, path string) *corev1.VolumeMount {
	for i := range mounts {
		if mounts[i].MountPath == path {
			return &mounts[i]
		}
	}
	return nil
}

func envNamed(env []corev1.EnvVar, name string) *corev1.EnvVar {
	for i := range env {
		if env[i].Name == name {
			return &env[i]
		}
	}
	return nil
}

func TestCacheJob(t *testing.T) {
	mc := modelCache(nil)
	j := render.CacheJob(mc, cacheClass(t, "{}"), loaderImg)
	if j.Name != mc.Name+"-download" || j.Name != render.CacheJobName(mc) || j.Namespace != "team-a" {
		t.Errorf("Job %s/%s, want team-a/%s-download", j.Namespace, j.Name, mc.Name)
	}
	if j.Kind != "Job" || j.APIVersion != "batch/v1" {
		t.Errorf("TypeMeta %+v", j.TypeMeta)
	}
	pod := j.Spec.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %s, want Never (a podFailurePolicy needs it)", pod.RestartPolicy)
	}
	if j.Spec.BackoffLimit == nil || *j.Spec.BackoffLimit != 4 {
		t.Errorf("backoffLimit %v, want the class's 4", j.Spec.BackoffLimit)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken || pod.EnableServiceLinks == nil || *pod.EnableServiceLinks {
		t.Error("the loader needs neither the service account token nor service links")
	}

	c := loader(t, j)
	if c.Image != loaderImg || !reflect.DeepEqual(c.Command, []string{"/loader"}) {
		t.Errorf("image %s command %v", c.Image, c.Command)
	}
	want := []string{
		"--repo=meta-llama/Llama-3.1-8B-Instruct", "--revision=v1.0", "--cache-dir=/cache/hub",
		"--writable-dir=/cache/compile", "--progress-addr=:8081",
		"--include=*.json", "--include=*.safetensors", "--exclude=original/*", "--exclude=*.gguf",
	}
	if !reflect.DeepEqual(c.Args, want) {
		t.Errorf("args\n got %q\nwant %q", c.Args, want)
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 8081 || c.Ports[0].Name != "progress" {
		t.Errorf("ports %+v, want progress 8081 (GET /progress)", c.Ports)
	}
	claim := volumeNamed(pod.Volumes, "cache")
	if claim == nil || claim.PersistentVolumeClaim == nil || claim.PersistentVolumeClaim.ClaimName != mc.Name || claim.PersistentVolumeClaim.ReadOnly {
		t.Errorf("cache volume %+v, want the claim %s, writable", claim, mc.Name)
	}
	if m := mountAt(c.VolumeMounts, "/cache"); m == nil || m.Name != "cache" || m.ReadOnly || m.SubPath != "" {
		t.Errorf("mount at /cache %+v, want the whole claim, writable", m)
	}
	if c.TerminationMessagePolicy != corev1.TerminationMessageReadFile || c.TerminationMessagePath != corev1.TerminationMessagePathDefault {
		t.Errorf("termination message %s %s, want File at the default path (the report)", c.TerminationMessagePolicy, c.TerminationMessagePath)
	}
	r := c.Resources
	if r.Requests.Cpu().Cmp(resource.MustParse("100m")) != 0 || r.Limits.Memory().Cmp(resource.MustParse("1Gi")) != 0 {
		t.Errorf("resources %+v, want the class's defaults", r)
	}

	// The restricted profile, with a read-only root.
	sc := c.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.SeccompProfile == nil ||
		sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault || (sc.Privileged != nil && *sc.Privileged) ||
		sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Errorf("container security context is not restricted: %+v", sc)
	}
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil ||
		psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault || psc.FSGroup == nil {
		t.Errorf("pod security context %+v, want non-root, RuntimeDefault and an fsGroup (the engines read the files)", psc)
	}
	if m := mountAt(c.VolumeMounts, "/tmp"); m == nil {
		t.Error("a read-only root needs a writable /tmp")
	}

	// Labels: the simulated cluster and the operator's pod cache find the loader's pods by them.
	for _, labels := range []map[string]string{j.Labels, j.Spec.Template.Labels} {
		for k, v := range map[string]string{
			"serving.privatellm.dev/modelcache": mc.Name, "app.kubernetes.io/managed-by": "privatellm",
			"app.kubernetes.io/component": "model-loader",
		} {
			if labels[k] != v {
				t.Errorf("label %s = %q, want %q (labels %v)", k, labels[k], v, labels)
			}
		}
	}
	if !reflect.DeepEqual(render.CacheLabels(mc), j.Spec.Template.Labels) {
		t.Errorf("pod labels %v, want CacheLabels %v", j.Spec.Template.Labels, render.CacheLabels(mc))
	}
}

func TestCacheJobFailurePolicy(t *testing.T) {
	j := render.CacheJob(modelCache(nil), cacheClass(t, "{backoffLimit: 1}"), loaderImg)
	if *j.Spec.BackoffLimit != 1 {
		t.Errorf("backoffLimit %d, want the class's 1", *j.Spec.BackoffLimit)
	}
	p := j.Spec.PodFailurePolicy
	if p == nil || len(p.Rules) != 2 {
		t.Fatalf("podFailurePolicy %+v, want two rules", p)
	}
	fail := p.Rules[0]
	if fail.Action != batchv1.PodFailurePolicyActionFailJob || fail.OnExitCodes == nil || fail.OnExitCodes.ContainerName == nil ||
		*fail.OnExitCodes.ContainerName != "loader" || fail.OnExitCodes.Operator != batchv1.PodFailurePolicyOnExitCodesOpIn ||
		!reflect.DeepEqual(fail.OnExitCodes.Values, []int32{1, 2}) {
		t.Errorf("rule 0 %+v, want FailJob on the loader's exit codes 1 and 2 (a retry cannot help)", fail)
	}
	ignore := p.Rules[1]
	if ignore.Action != batchv1.PodFailurePolicyActionIgnore || len(ignore.OnPodConditions) != 1 ||
		ignore.OnPodConditions[0].Type != corev1.DisruptionTarget || ignore.OnPodConditions[0].Status != corev1.ConditionTrue {
		t.Errorf("rule 1 %+v, want Ignore on DisruptionTarget (evictions are not the download's fault)", ignore)
	}
	if render.LoaderExitPermanent != 1 || render.LoaderExitUsage != 2 || render.LoaderProgressPort != 8081 {
		t.Error("the loader's documented exit codes and port changed")
	}
}

func TestCacheJobToken(t *testing.T) {
	for name, tc := range map[string]struct {
		mut func(*servingv1alpha1.ModelCache)
		key string // the Secret's key mounted; "" for no token
	}{
		"no token":             {},
		"a token":              {mut: withToken("hf"), key: "hf"},
		"a token, default key": {mut: withToken(""), key: "token"},
	} {
		t.Run(name, func(t *testing.T) {
			mc := modelCache(tc.mut)
			j := render.CacheJob(mc, cacheClass(t, "{}"), loaderImg)
			pod := j.Spec.Template.Spec
			c := loader(t, j)
			var secrets []corev1.Volume
			for _, v := range pod.Volumes {
				if v.Secret != nil {
					secrets = append(secrets, v)
				}
			}
			mount := mountAt(c.VolumeMounts, tokenDir)
			tokenArgs := flagValuesOf(c.Args, "--token-file")
			if tc.key == "" {
				if len(secrets) != 0 || mount != nil || tokenArgs != nil {
					t.Errorf("without a token: secret volumes %+v, mount %+v, --token-file %v; want none", secrets, mount, tokenArgs)
				}
			} else {
				if len(secrets) != 1 {
					t.Fatalf("secret volumes %+v, want the token's", secrets)
				}
				s := secrets[0].Secret
				if s.SecretName != "hf-token" || !reflect.DeepEqual(s.Items, []corev1.KeyToPath{{Key: tc.key, Path: "token"}}) ||
					s.DefaultMode == nil || *s.DefaultMode != 0o400 {
					t.Errorf("secret volume %+v, want hf-token's key %s as token, mode 0400", s, tc.key)
				}
				if mount == nil || mount.Name != secrets[0].Name || !mount.ReadOnly {
					t.Errorf("token mount %+v, want the Secret read-only at %s", mount, tokenDir)
				}
				if !reflect.DeepEqual(tokenArgs, []string{tokenDir + "/token"}) {
					t.Errorf("--token-file %v, want %s/token", tokenArgs, tokenDir)
				}
			}
			// The token is a file only this pod mounts: never in the environment, where it would show in the pod.
			if len(c.EnvFrom) != 0 {
				t.Errorf("envFrom %+v", c.EnvFrom)
			}
			for _, e := range c.Env {
				if e.ValueFrom != nil || strings.Contains(e.Name, "TOKEN") {
					t.Errorf("env %s: the token must not be in the environment (%+v)", e.Name, e)
				}
			}
		})
	}
}

func flagValuesOf(args []string, flag string) []string {
	var out []string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			out = append(out, v)
		}
	}
	return out
}

func TestCacheJobSource(t *testing.T) {
	for name, tc := range map[string]struct {
		class          string
		endpoint       string
		proxy, noProxy string // "" for unset
		caName, caKey  string // "" for none
	}{
		"the Hub": {class: "{}", endpoint: "https://huggingface.co"},
		"a mirror, a trailing slash": {
			class: "{hubEndpoint: \"https://artifactory.corp/api/huggingface/hf/\"}", endpoint: "https://artifactory.corp/api/huggingface/hf",
		},
		"a proxy": {
			class:    "{httpsProxy: \"http://proxy.corp:3128\", noProxy: \".svc,10.0.0.0/8\"}",
			endpoint: "https://huggingface.co", proxy: "http://proxy.corp:3128", noProxy: ".svc,10.0.0.0/8",
		},
		"only a proxy": {class: "{httpsProxy: \"http://proxy.corp:3128\"}", endpoint: "https://huggingface.co", proxy: "http://proxy.corp:3128"},
		"a CA bundle": {
			class: "{caBundleConfigMap: {name: corp-ca, key: ca.crt}}", endpoint: "https://huggingface.co", caName: "corp-ca", caKey: "ca.crt",
		},
	} {
		t.Run(name, func(t *testing.T) {
			j := render.CacheJob(modelCache(nil), cacheClass(t, tc.class), loaderImg)
			c, pod := loader(t, j), j.Spec.Template.Spec
			if e := envNamed(c.Env, "HF_ENDPOINT"); e == nil || e.Value != tc.endpoint {
				t.Errorf("HF_ENDPOINT %+v, want %s", e, tc.endpoint)
			}
			for k, want := range map[string]string{"HTTPS_PROXY": tc.proxy, "NO_PROXY": tc.noProxy} {
				e := envNamed(c.Env, k)
				switch {
				case want == "" && e != nil:
					t.Errorf("%s = %q, want it unset", k, e.Value)
				case want != "" && (e == nil || e.Value != want):
					t.Errorf("%s %+v, want %q", k, e, want)
				}
			}
			var cms []corev1.Volume
			for _, v := range pod.Volumes {
				if v.ConfigMap != nil {
					cms = append(cms, v)
				}
			}
			ca := flagValuesOf(c.Args, "--ca-bundle")
			if tc.caName == "" {
				if len(cms) != 0 || ca != nil {
					t.Errorf("no CA bundle, yet ConfigMap volumes %+v and --ca-bundle %v", cms, ca)
				}
				return
			}
			if len(cms) != 1 || cms[0].ConfigMap.Name != tc.caName || len(cms[0].ConfigMap.Items) != 1 || cms[0].ConfigMap.Items[0].Key != tc.caKey {
				t.Fatalf("ConfigMap volumes %+v, want %s's key %s", cms, tc.caName, tc.caKey)
			}
			if len(ca) != 1 {
				t.Fatalf("--ca-bundle %v, want one", ca)
			}
			var m *corev1.VolumeMount
			for i := range c.VolumeMounts {
				if c.VolumeMounts[i].Name == cms[0].Name {
					m = &c.VolumeMounts[i]
				}
			}
			if m == nil || !m.ReadOnly || m.MountPath+"/"+cms[0].ConfigMap.Items[0].Path != ca[0] {
				t.Errorf("CA mount %+v and --ca-bundle=%s do not meet", m, ca[0])
			}
		})
	}
}

func TestCacheJobFilter(t *testing.T) {
	for name, tc := range map[string]struct {
		files              *servingv1alpha1.FileFilter
		includes, excludes []string
	}{
		"no filter":    {},
		"empty filter": {files: &servingv1alpha1.FileFilter{}},
		"excludes only": {files: &servingv1alpha1.FileFilter{Exclude: []string{"original/*", "*.gguf", "*.onnx"}},
			excludes: []string{"original/*", "*.gguf", "*.onnx"}},
		"includes only": {files: &servingv1alpha1.FileFilter{Include: []string{"*.safetensors"}}, includes: []string{"*.safetensors"}},
	} {
		t.Run(name, func(t *testing.T) {
			mc := modelCache(func(mc *servingv1alpha1.ModelCache) { mc.Spec.Files = tc.files })
			c := loader(t, render.CacheJob(mc, cacheClass(t, "{}"), loaderImg))
			if got := flagValuesOf(c.Args, "--include"); !reflect.DeepEqual(got, tc.includes) {
				t.Errorf("--include %q, want %q", got, tc.includes)
			}
			if got := flagValuesOf(c.Args, "--exclude"); !reflect.DeepEqual(got, tc.excludes) {
				t.Errorf("--exclude %q, want %q", got, tc.excludes)
			}
		})
	}
}

func TestCacheClaim(t *testing.T) {
	for name, tc := range map[string]struct {
		class       string
		size        string // spec.size, "" for none
		want        string
		modes       []corev1.PersistentVolumeAccessMode
		storageName string // "" for the cluster's default
	}{
		"the class's size": {class: "{}", want: "100Gi", modes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}},
		"a bigger spec":    {class: "{}", size: "300Gi", want: "300Gi", modes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}},
		"a smaller spec":   {class: "{}", size: "10Gi", want: "100Gi", modes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}},
		"node-local": {
			class: "{storageClassName: local-nvme, accessModes: [ReadWriteOnce], size: 1Ti}", size: "500Gi", want: "1Ti",
			modes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, storageName: "local-nvme",
		},
	} {
		t.Run(name, func(t *testing.T) {
			mc := modelCache(func(mc *servingv1alpha1.ModelCache) {
				if tc.size != "" {
					mc.Spec.Size = ptr.To(resource.MustParse(tc.size))
				}
			})
			class := cacheClass(t, tc.class)
			pvc := render.CacheClaim(mc, class)
			if pvc.Name != mc.Name || pvc.Namespace != mc.Namespace || pvc.Kind != "PersistentVolumeClaim" {
				t.Errorf("claim %s %s/%s, want PersistentVolumeClaim %s/%s", pvc.Kind, pvc.Namespace, pvc.Name, mc.Namespace, mc.Name)
			}
			if !reflect.DeepEqual(pvc.Spec.AccessModes, tc.modes) {
				t.Errorf("accessModes %v, want %v", pvc.Spec.AccessModes, tc.modes)
			}
			switch got := pvc.Spec.StorageClassName; {
			case tc.storageName == "" && got != nil:
				t.Errorf("storageClassName %q, want unset", *got)
			case tc.storageName != "" && (got == nil || *got != tc.storageName):
				t.Errorf("storageClassName %v, want %s", got, tc.storageName)
			}
			got := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
			if got.Cmp(resource.MustParse(tc.want)) != 0 {
				t.Errorf("size %s, want %s", got.String(), tc.want)
			}
			if pvc.Labels["serving.privatellm.dev/modelcache"] != mc.Name || pvc.Labels["app.kubernetes.io/managed-by"] != "privatellm" {
				t.Errorf("labels %v", pvc.Labels)
			}
			// The claim is its own: editing it leaves the class alone.
			pvc.Spec.AccessModes[0] = "changed"
			if class.AccessModes[0] == "changed" {
				t.Error("the claim's access modes are the class's slice")
			}
		})
	}
}

// A cached plan's pods mount the claim's hub/ read-only where HF_HUB_CACHE points, and its compile/ read-write.
func TestDeploymentWithACachedPlan(t *testing.T) {
	for _, sample := range []string{"vllm_awq_l4", "vllm_fp8_h100", "tgi_a100", "sglang_awq_h100"} {
		t.Run(sample, func(t *testing.T) {
			llm := loadSample(t, filepath.Join(samplesDir, "serving_v1alpha1_llmdeployment_"+sample+".yaml"))
			plan, err := engine.ForCached(llm, engine.DefaultImages(), &engine.CachedModel{Commit: cacheCommit, Claim: "c"})
			if err != nil {
				t.Fatal(err)
			}
			pod := render.Deployment(llm, plan).Spec.Template.Spec
			v := volumeNamed(pod.Volumes, "model-cache")
			if v == nil || v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != "c" {
				t.Fatalf("model-cache volume %+v, want the claim c", v)
			}
			if v.PersistentVolumeClaim.ReadOnly {
				t.Error("the claim must not be read-only as a whole: compile/ is written")
			}
			c := pod.Containers[0]
			hub, compile := mountAt(c.VolumeMounts, "/mnt/model-cache"), mountAt(c.VolumeMounts, "/mnt/compile-cache")
			if hub == nil || hub.Name != "model-cache" || hub.SubPath != "hub" || !hub.ReadOnly {
				t.Errorf("/mnt/model-cache mount %+v, want model-cache's hub/ read-only", hub)
			}
			if compile == nil || compile.Name != "model-cache" || compile.SubPath != "compile" || compile.ReadOnly {
				t.Errorf("/mnt/compile-cache mount %+v, want model-cache's compile/ read-write", compile)
			}
			if e := envNamed(c.Env, "HF_HUB_CACHE"); e == nil || e.Value != hub.MountPath {
				t.Errorf("HF_HUB_CACHE %+v, want the hub mount %s", e, hub.MountPath)
			}
			if e := envNamed(c.Env, "HF_HUB_OFFLINE"); e == nil || e.Value != "1" {
				t.Errorf("HF_HUB_OFFLINE %+v, want 1", e)
			}
			if e := envNamed(c.Env, "HF_TOKEN"); e != nil {
				t.Errorf("a cached engine gets no token: %+v", e)
			}
			// Every path the engine is given on the volume lies under the mount that allows its use.
			for _, e := range c.Env {
				if strings.HasPrefix(e.Value, "/mnt/compile-cache/") && compile == nil {
					t.Errorf("%s=%s is not on a mount", e.Name, e.Value)
				}
			}
			if !slices.Contains(plan.Args, "--revision="+cacheCommit) {
				t.Errorf("args %q, want --revision=%s", plan.Args, cacheCommit)
			}
			names := map[string]bool{}
			for _, v := range pod.Volumes {
				if names[v.Name] {
					t.Errorf("volume %s twice", v.Name)
				}
				names[v.Name] = true
			}
			paths := map[string]bool{}
			for _, m := range c.VolumeMounts {
				if paths[m.MountPath] {
					t.Errorf("two mounts at %s", m.MountPath)
				}
				paths[m.MountPath] = true
			}
		})
	}
}

func TestDeploymentWithoutACacheHasNoCacheVolume(t *testing.T) {
	llm := loadSample(t, filepath.Join(samplesDir, "serving_v1alpha1_llmdeployment_vllm_awq_l4.yaml"))
	plan, err := engine.For(llm, engine.DefaultImages())
	if err != nil {
		t.Fatal(err)
	}
	pod := render.Deployment(llm, plan).Spec.Template.Spec
	if v := volumeNamed(pod.Volumes, "model-cache"); v != nil {
		t.Errorf("model-cache volume %+v without a cache", v)
	}
	for _, p := range []string{"/mnt/model-cache", "/mnt/compile-cache"} {
		if m := mountAt(pod.Containers[0].VolumeMounts, p); m != nil {
			t.Errorf("mount at %s without a cache: %+v", p, m)
		}
	}
}

// The template hash moves when the cache's commit does: a new snapshot is a rollout.
func TestCachedTemplateHash(t *testing.T) {
	llm := loadSample(t, filepath.Join(samplesDir, "serving_v1alpha1_llmdeployment_vllm_awq_l4.yaml"))
	hash := func(c *engine.CachedModel) string {
		plan, err := engine.ForCached(llm, engine.DefaultImages(), c)
		if err != nil {
			t.Fatal(err)
		}
		return render.Deployment(llm, plan).Annotations[render.AnnotationTemplateHash]
	}
	none, a := hash(nil), hash(&engine.CachedModel{Commit: cacheCommit, Claim: "c"})
	b := hash(&engine.CachedModel{Commit: strings.Repeat("f", 40), Claim: "c"})
	if none == a || a == b {
		t.Errorf("template hashes: no cache %s, commit a %s, commit b %s; want all different", none, a, b)
	}
}

// TestCacheJobS3: an s3:// source is downloaded into its folder of the volume from the class's endpoint, with
// the class's credentials mounted as files in the download pod only, and no Hub.
func TestCacheJobS3(t *testing.T) {
	class := cacheClass(t, "{s3: {endpoint: 'http://minio.minio.svc:9000', pathStyle: true, credentialsSecret: minio-keys}}")
	mc := modelCache(func(mc *servingv1alpha1.ModelCache) {
		mc.Spec.Source, mc.Spec.Revision, mc.Spec.Files = "s3://models/llama/8b", "", nil
	})
	ctr := loader(t, render.CacheJob(mc, class, loaderImg))
	want := []string{"--source=s3://models/llama/8b", "--dest-dir=/cache/s3/models/llama/8b",
		"--s3-endpoint=http://minio.minio.svc:9000", "--s3-region=us-east-1", "--s3-path-style",
		"--writable-dir=/cache/compile", "--progress-addr=:8081",
		"--s3-access-key-file=/var/run/secrets/privatellm/s3/access-key-id",
		"--s3-secret-key-file=/var/run/secrets/privatellm/s3/secret-access-key"}
	if !slices.Equal(ctr.Args, want) {
		t.Errorf("args\n%q\nwant\n%q", ctr.Args, want)
	}
	if envNamed(ctr.Env, "HF_ENDPOINT") != nil {
		t.Error("an s3:// download gets HF_ENDPOINT")
	}
	v := volumeNamed(render.CacheJob(mc, class, loaderImg).Spec.Template.Spec.Volumes, "s3-credentials")
	if v == nil || v.Secret == nil || v.Secret.SecretName != "minio-keys" || len(v.Secret.Items) != 2 ||
		v.Secret.Items[0].Key != "AWS_ACCESS_KEY_ID" || v.Secret.Items[1].Key != "AWS_SECRET_ACCESS_KEY" {
		t.Errorf("credentials volume %+v", v)
	}
	if m := mountAt(ctr.VolumeMounts, "/var/run/secrets/privatellm/s3"); m == nil || !m.ReadOnly {
		t.Errorf("credentials mount %+v, want read-only", m)
	}
}

// TestCacheJobPlacement: the class places the download pods (a node-local class must download on a GPU node).
func TestCacheJobPlacement(t *testing.T) {
	class := cacheClass(t, "{nodeSelector: {nvidia.com/gpu.product: NVIDIA-L4}, tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]}")
	spec := render.CacheJob(modelCache(nil), class, loaderImg).Spec.Template.Spec
	if spec.NodeSelector["nvidia.com/gpu.product"] != "NVIDIA-L4" || len(spec.Tolerations) != 1 || spec.Tolerations[0].Key != "nvidia.com/gpu" {
		t.Errorf("nodeSelector %v, tolerations %v", spec.NodeSelector, spec.Tolerations)
	}
	if spec := render.CacheJob(modelCache(nil), cacheClass(t, "{}"), loaderImg).Spec.Template.Spec; spec.NodeSelector != nil || spec.Tolerations != nil {
		t.Errorf("a class without placement places the pods: %v, %v", spec.NodeSelector, spec.Tolerations)
	}
}

// TestCacheJobPVC: a pvc:// model is checked on the user's claim, mounted read-only; no claim of the cache's own,
// nothing written, no Hub.
func TestCacheJobPVC(t *testing.T) {
	mc := modelCache(func(mc *servingv1alpha1.ModelCache) {
		mc.Spec.Source, mc.Spec.Revision, mc.Spec.Files = "pvc://weights/llama/8b", "", nil
	})
	job := render.CacheJob(mc, cacheClass(t, "{}"), loaderImg)
	ctr := loader(t, job)
	if want := []string{"--verify-dir=/mnt/model/llama/8b", "--progress-addr=:8081"}; !slices.Equal(ctr.Args, want) {
		t.Errorf("args %q, want %q", ctr.Args, want)
	}
	v := volumeNamed(job.Spec.Template.Spec.Volumes, "cache")
	if v == nil || v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != "weights" || !v.PersistentVolumeClaim.ReadOnly {
		t.Errorf("volume %+v, want the user's claim read-only", v)
	}
	if m := mountAt(ctr.VolumeMounts, "/mnt/model"); m == nil || !m.ReadOnly {
		t.Errorf("mount %+v, want read-only", m)
	}
	if envNamed(ctr.Env, "HF_ENDPOINT") != nil {
		t.Error("a pvc:// check gets HF_ENDPOINT")
	}
}
