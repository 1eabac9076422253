package render

import (
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/cache"
	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/engine"
)

// The model cache's volume (docs/model-cache.md): the Hugging Face cache and the engines' compile caches.
const (
	CacheHubDir     = "hub"
	CacheCompileDir = "compile"
	// loaderMount is where the download Job mounts the volume, loaderTokenDir the token's Secret.
	loaderMount    = "/cache"
	loaderTokenDir = "/var/run/secrets/privatellm/hub"
	loaderCADir    = "/etc/privatellm/ca"
	loaderS3Dir    = "/var/run/secrets/privatellm/s3"
	// loaderModelMount is where a pvc:// model's claim is mounted to be checked, read-only.
	loaderModelMount = "/mnt/model"
	// LoaderProgressPort serves the loader's GET /progress.
	LoaderProgressPort = 8081
	// LoaderExitPermanent and LoaderExitUsage fail the Job at once; other failures are retried.
	LoaderExitPermanent = 1
	LoaderExitUsage     = 2
)

// loaderPlan is the loader's security: the restricted profile, a read-only root, the engines' uid (and fsGroup),
// so the files it writes are the engines' to read and compile/ theirs to write.
var loaderPlan = engine.Plan{ReadOnlyRootFilesystem: true}

// CacheLabels are the labels of a ModelCache's claim, Job and pods.
func CacheLabels(mc *servingv1alpha1.ModelCache) map[string]string {
	return map[string]string{
		cache.LabelModelCache:         mc.Name,
		"app.kubernetes.io/name":      "privatellm-loader",
		"app.kubernetes.io/instance":  mc.Name,
		"app.kubernetes.io/component": "model-loader",
		LabelManagedBy:                ManagedByValue,
	}
}

// CacheJobName is the download Job's name.
func CacheJobName(mc *servingv1alpha1.ModelCache) string { return mc.Name + "-download" }

// CacheClaim renders the ModelCache's volume claim.
func CacheClaim(mc *servingv1alpha1.ModelCache, class config.CacheClass) *corev1.PersistentVolumeClaim {
	size := class.Size.DeepCopy()
	if mc.Spec.Size != nil && mc.Spec.Size.Cmp(size) > 0 {
		size = mc.Spec.Size.DeepCopy()
	}
	return &corev1.PersistentVolumeClaim{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: metav1.ObjectMeta{Name: mc.Name, Namespace: mc.Namespace, Labels: CacheLabels(mc)},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      append([]corev1.PersistentVolumeAccessMode{}, class.AccessModes...),
			StorageClassName: class.StorageClassName,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
		},
	}
}

// loaderSource is what the loader is told to fetch, with the claim it works on and where that is mounted: a Hub
// repo into the cache's hub/, an s3:// folder into its s3/<bucket>/<folder>, or a pvc:// model checked where it is
// on the user's claim, read-only.
func loaderSource(mc *servingv1alpha1.ModelCache, class config.CacheClass) ([]string, string, corev1.VolumeMount) {
	progress := "--progress-addr=:" + strconv.Itoa(LoaderProgressPort)
	writable := "--writable-dir=" + loaderMount + "/" + CacheCompileDir
	mount := corev1.VolumeMount{Name: "cache", MountPath: loaderMount}
	var args []string
	switch {
	case cache.IsPVC(mc.Spec):
		claim, path := cache.PVC(mc.Spec)
		dir := strings.TrimSuffix(loaderModelMount+"/"+path, "/")
		return []string{"--verify-dir=" + dir, progress}, claim,
			corev1.VolumeMount{Name: "cache", MountPath: loaderModelMount, ReadOnly: true}
	case cache.IsS3(mc.Spec):
		s3 := class.S3
		args = []string{"--source=" + mc.Spec.Source, "--dest-dir=" + loaderMount + "/" + cache.Path(mc.Spec),
			"--s3-endpoint=" + s3.Endpoint, "--s3-region=" + s3.Region}
		if s3.PathStyle {
			args = append(args, "--s3-path-style")
		}
	default:
		args = []string{"--repo=" + cache.Repo(mc.Spec), "--revision=" + mc.Spec.Revision, "--cache-dir=" + loaderMount + "/" + CacheHubDir}
	}
	args = append(args, writable, progress)
	if f := mc.Spec.Files; f != nil {
		for _, p := range f.Include {
			args = append(args, "--include="+p)
		}
		for _, p := range f.Exclude {
			args = append(args, "--exclude="+p)
		}
	}
	return args, mc.Name, mount
}

// CacheJob renders the download Job: one pod running the loader, the only holder of the Hub token, writing the
// verified Hugging Face cache to the claim. Its exit status says whether a retry can help (podFailurePolicy).
func CacheJob(mc *servingv1alpha1.ModelCache, class config.CacheClass, image string) *batchv1.Job {
	args, claim, mount := loaderSource(mc, class)
	vols := []corev1.Volume{
		{Name: "cache", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{
			ClaimName: claim, ReadOnly: mount.ReadOnly}}},
		{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	mounts := []corev1.VolumeMount{mount, {Name: "tmp", MountPath: "/tmp"}}
	if ref := mc.Spec.TokenSecretRef; ref != nil {
		key := ref.Key
		if key == "" {
			key = "token"
		}
		vols = append(vols, corev1.Volume{Name: "hub-token", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: ref.Name, Items: []corev1.KeyToPath{{Key: key, Path: "token"}}, DefaultMode: ptr.To(int32(0o400)),
		}}})
		mounts = append(mounts, corev1.VolumeMount{Name: "hub-token", MountPath: loaderTokenDir, ReadOnly: true})
		args = append(args, "--token-file="+loaderTokenDir+"/token")
	}
	if s3 := class.S3; s3 != nil && s3.CredentialsSecret != "" && cache.IsS3(mc.Spec) {
		vols = append(vols, corev1.Volume{Name: "s3-credentials", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: s3.CredentialsSecret, DefaultMode: ptr.To(int32(0o400)), Items: []corev1.KeyToPath{
				{Key: config.S3AccessKeyIDKey, Path: "access-key-id"}, {Key: config.S3SecretAccessKeyKey, Path: "secret-access-key"}},
		}}})
		mounts = append(mounts, corev1.VolumeMount{Name: "s3-credentials", MountPath: loaderS3Dir, ReadOnly: true})
		args = append(args, "--s3-access-key-file="+loaderS3Dir+"/access-key-id", "--s3-secret-key-file="+loaderS3Dir+"/secret-access-key")
	}
	if b := class.CABundleConfigMap; b != nil {
		vols = append(vols, corev1.Volume{Name: "ca-bundle", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: b.Name}, Items: []corev1.KeyToPath{{Key: b.Key, Path: "ca.pem"}},
		}}})
		mounts = append(mounts, corev1.VolumeMount{Name: "ca-bundle", MountPath: loaderCADir, ReadOnly: true})
		args = append(args, "--ca-bundle="+loaderCADir+"/ca.pem")
	}
	env := []corev1.EnvVar{{Name: "HF_ENDPOINT", Value: strings.TrimSuffix(class.HubEndpoint, "/")}, {Name: "HF_HUB_DISABLE_TELEMETRY", Value: "1"}}
	if cache.IsS3(mc.Spec) || cache.IsPVC(mc.Spec) {
		env = env[1:] // no Hub
	}
	if class.HTTPSProxy != "" {
		env = append(env, corev1.EnvVar{Name: "HTTPS_PROXY", Value: class.HTTPSProxy})
	}
	if class.NoProxy != "" {
		env = append(env, corev1.EnvVar{Name: "NO_PROXY", Value: class.NoProxy})
	}
	labels := CacheLabels(mc)
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: CacheJobName(mc), Namespace: mc.Namespace, Labels: labels},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To(*class.BackoffLimit),
			// The loader's own exit status says a retry cannot help (gated, not found, disk full, bad bytes):
			// fail at once instead of downloading again. Disruptions (eviction, preemption) do not count.
			PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
				{Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
					ContainerName: ptr.To("loader"), Operator: batchv1.PodFailurePolicyOnExitCodesOpIn,
					Values: []int32{LoaderExitPermanent, LoaderExitUsage}}},
				{Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{
					{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}},
			}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers: []corev1.Container{{
						Name:            "loader",
						Image:           image,
						ImagePullPolicy: corev1.PullIfNotPresent,
						Command:         []string{"/loader"},
						Args:            args,
						Env:             env,
						Ports:           []corev1.ContainerPort{{Name: "progress", ContainerPort: LoaderProgressPort, Protocol: corev1.ProtocolTCP}},
						Resources:       *class.Resources.DeepCopy(),
						VolumeMounts:    mounts,
						SecurityContext: containerSecurity(loaderPlan),
						// The report: JSON of at most 4 KiB (internal/loader).
						TerminationMessagePath:   corev1.TerminationMessagePathDefault,
						TerminationMessagePolicy: corev1.TerminationMessageReadFile,
					}},
					Volumes:                      vols,
					EnableServiceLinks:           ptr.To(false),
					AutomountServiceAccountToken: ptr.To(false),
					SecurityContext:              podSecurity(loaderPlan),
					NodeSelector:                 copyMap(class.NodeSelector),
					Tolerations:                  append([]corev1.Toleration(nil), class.Tolerations...),
				},
			},
		},
	}
}
