// Package render builds the desired children of an LLMDeployment — a Deployment and a Service — from its spec and
// its engine's plan. Pure and deterministic: no client, no clock, maps and lists in a stable order.
package render

import (
	"fmt"
	"math"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/internal/gpu"
)

// Labels the operator puts on its children and pods.
const (
	// LabelLLMDeployment carries the owning LLMDeployment's name; the pod selector.
	LabelLLMDeployment = "serving.privatellm.dev/llmdeployment"
	// LabelManagedBy marks everything the operator manages; its pod cache is filtered on it.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of LabelManagedBy.
	ManagedByValue = "privatellm"
)

// ServicePort is the port of every model's Service, whatever the engine listens on.
const ServicePort = 8000

// Pod-level timing.
const (
	startupProbePeriodSeconds = 10
	preStopSleepSeconds       = 10
	// imagePullBudgetSeconds is added to the startup budget for the progress deadline: engine images are large.
	imagePullBudgetSeconds = 600
	engineUID              = 1000
)

// SelectorLabels select the pods of an LLMDeployment. They never change for the object's lifetime.
func SelectorLabels(llm *servingv1alpha1.LLMDeployment) map[string]string {
	return map[string]string{LabelLLMDeployment: llm.Name}
}

// Selector is SelectorLabels as a string, for status.selector (the /scale subresource).
func Selector(llm *servingv1alpha1.LLMDeployment) string {
	return labels.SelectorFromSet(SelectorLabels(llm)).String()
}

// Labels are the labels of the children and pods.
func Labels(llm *servingv1alpha1.LLMDeployment) map[string]string {
	l := SelectorLabels(llm)
	l["app.kubernetes.io/name"] = string(llm.Spec.EffectiveEngine())
	l["app.kubernetes.io/instance"] = llm.Name
	l["app.kubernetes.io/component"] = "model-server"
	l[LabelManagedBy] = ManagedByValue
	return l
}

// Endpoint is the in-cluster OpenAI-compatible base URL of the model.
func Endpoint(llm *servingv1alpha1.LLMDeployment) string {
	return fmt.Sprintf("http://%s.%s.svc:%d/v1", llm.Name, llm.Namespace, ServicePort)
}

// Service renders the ClusterIP Service in front of the model servers.
func Service(llm *servingv1alpha1.LLMDeployment, plan engine.Plan) *corev1.Service {
	ports := []corev1.ServicePort{{
		Name:       "http",
		Port:       ServicePort,
		TargetPort: intstr.FromString("http"),
		Protocol:   corev1.ProtocolTCP,
	}}
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: llm.Name, Namespace: llm.Namespace, Labels: Labels(llm)},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: SelectorLabels(llm),
			Ports:    ports,
		},
	}
}

// Deployment renders the Deployment of the model servers.
func Deployment(llm *servingv1alpha1.LLMDeployment, plan engine.Plan) *appsv1.Deployment {
	spec := &llm.Spec
	startup := spec.EffectiveStartupTimeout()

	podLabels := Labels(llm)
	for k, v := range spec.PodLabels {
		if _, managed := podLabels[k]; !managed {
			podLabels[k] = v
		}
	}

	template := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: podLabels, Annotations: copyMap(spec.PodAnnotations)},
		Spec:       podSpec(llm, plan),
	}
	return &appsv1.Deployment{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: llm.Name, Namespace: llm.Namespace, Labels: Labels(llm),
			Annotations: map[string]string{AnnotationTemplateHash: templateHash(&template)}},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(spec.EffectiveReplicas()),
			Selector: &metav1.LabelSelector{MatchLabels: SelectorLabels(llm)},
			// Replace in place until the reconciler decides otherwise for a rollout: it never needs spare GPUs.
			Strategy: Strategy(false),
			// Above the startup budget, so a slow but healthy model load is not called a failed rollout.
			ProgressDeadlineSeconds: ptr.To(int32(startup.Seconds()) + imagePullBudgetSeconds),
			RevisionHistoryLimit:    ptr.To(int32(3)),
			Template:                template,
		},
	}
}

func podSpec(llm *servingv1alpha1.LLMDeployment, plan engine.Plan) corev1.PodSpec {
	spec := &llm.Spec
	volumes, mounts := volumes(spec, plan)
	return corev1.PodSpec{
		Containers: []corev1.Container{{
			Name:            plan.ContainerName,
			Image:           plan.Image,
			ImagePullPolicy: corev1.PullIfNotPresent,
			Command:         plan.Command,
			Args:            plan.Args,
			Env:             plan.Env,
			Ports:           ports(plan),
			Resources:       resources(spec),
			VolumeMounts:    mounts,
			StartupProbe: &corev1.Probe{
				ProbeHandler:     httpGet(plan.StartupPath),
				PeriodSeconds:    startupProbePeriodSeconds,
				TimeoutSeconds:   5,
				FailureThreshold: int32(math.Ceil(spec.EffectiveStartupTimeout().Seconds() / startupProbePeriodSeconds)),
			},
			ReadinessProbe: &corev1.Probe{
				ProbeHandler: httpGet(plan.ReadinessPath), PeriodSeconds: 5, TimeoutSeconds: 5, FailureThreshold: 3,
			},
			LivenessProbe: &corev1.Probe{
				ProbeHandler: httpGet(plan.LivenessPath), PeriodSeconds: 10, TimeoutSeconds: 10, FailureThreshold: 6,
			},
			Lifecycle: &corev1.Lifecycle{
				// Let endpoints drop the pod before the engine stops taking requests.
				PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: preStopSleepSeconds}},
			},
			SecurityContext:          containerSecurity(plan),
			TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		}},
		Volumes:                       volumes,
		TerminationGracePeriodSeconds: ptr.To(preStopSleepSeconds + plan.DrainSeconds + 10),
		EnableServiceLinks:            ptr.To(false),
		AutomountServiceAccountToken:  ptr.To(false),
		SecurityContext:               podSecurity(plan),
		NodeSelector:                  copyMap(spec.NodeSelector),
		Affinity:                      gpu.Affinity(spec),
		Tolerations:                   gpu.Tolerations(spec),
		PriorityClassName:             spec.PriorityClassName,
	}
}

// containerSecurity is the restricted Pod Security profile: non-root, no privilege escalation, every capability
// dropped, the runtime's seccomp profile. An image that cannot run as another user (Plan.RunAsRoot) keeps all of
// it but the user: root without capabilities, which Pod Security "baseline" admits and "restricted" does not.
func containerSecurity(plan engine.Plan) *corev1.SecurityContext {
	sc := &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		ReadOnlyRootFilesystem:   ptr.To(plan.ReadOnlyRootFilesystem),
		RunAsNonRoot:             ptr.To(true),
		RunAsUser:                ptr.To(int64(engineUID)),
		RunAsGroup:               ptr.To(int64(engineUID)),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	if plan.RunAsRoot {
		sc.RunAsNonRoot, sc.RunAsUser, sc.RunAsGroup = ptr.To(false), ptr.To(int64(0)), ptr.To(int64(0))
	}
	return sc
}

func podSecurity(plan engine.Plan) *corev1.PodSecurityContext {
	if plan.RunAsRoot {
		return &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
	}
	return &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr.To(true),
		FSGroup:        ptr.To(int64(engineUID)),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

func ports(plan engine.Plan) []corev1.ContainerPort {
	return []corev1.ContainerPort{{Name: "http", ContainerPort: plan.Port, Protocol: corev1.ProtocolTCP}}
}

func httpGet(path string) corev1.ProbeHandler {
	return corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("http")}}
}

// resources are the user's CPU and memory plus gpu.count GPUs as both request and limit (none on CPU).
func resources(spec *servingv1alpha1.LLMDeploymentSpec) corev1.ResourceRequirements {
	r := *spec.Resources.DeepCopy()
	if spec.OnCPU() {
		return r
	}
	gpus := *resource.NewQuantity(int64(spec.GPUCount()), resource.DecimalSI)
	name := corev1.ResourceName(spec.EffectiveGPUResourceName())
	if r.Limits == nil {
		r.Limits = corev1.ResourceList{}
	}
	r.Limits[name] = gpus
	if r.Requests == nil {
		r.Requests = corev1.ResourceList{}
	}
	r.Requests[name] = gpus
	return r
}

// volumes are the writable emptyDirs the engine needs under a read-only root, /dev/shm in memory, and the model's
// claim (read-only) for pvc:// models, and the model cache's volume for cached models.
func volumes(spec *servingv1alpha1.LLMDeploymentSpec, plan engine.Plan) ([]corev1.Volume, []corev1.VolumeMount) {
	src := plan.Model
	emptyDir := func(name string) corev1.Volume {
		return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
	}
	shm := corev1.Volume{Name: "shm", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
		Medium: corev1.StorageMediumMemory,
	}}}
	if spec.ShmSize != nil {
		shm.EmptyDir.SizeLimit = ptr.To(spec.ShmSize.DeepCopy())
	}
	vols := []corev1.Volume{emptyDir("cache"), emptyDir("home"), emptyDir("tmp"), shm}
	mounts := []corev1.VolumeMount{
		{Name: "cache", MountPath: engine.CacheDir},
		{Name: "home", MountPath: engine.HomeDir},
		{Name: "tmp", MountPath: engine.TmpDir},
		{Name: "shm", MountPath: engine.ShmDir},
	}
	if c := plan.Cache; c != nil {
		// The Hugging Face cache read-only: the engine loads what the loader verified and can change none of it.
		// Its compile cache read-write, on the same volume, so a second start skips compiling.
		vols = append(vols, corev1.Volume{Name: "model-cache", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c.Claim},
		}})
		mounts = append(mounts,
			corev1.VolumeMount{Name: "model-cache", MountPath: engine.ModelCacheDir, SubPath: c.SubPath(), ReadOnly: true},
			corev1.VolumeMount{Name: "model-cache", MountPath: engine.CompileCacheDir, SubPath: CacheCompileDir},
		)
	}
	if src.Scheme == engine.SchemePVC {
		vols = append(vols, corev1.Volume{Name: "model", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: src.Claim, ReadOnly: true},
		}})
		mounts = append(mounts, corev1.VolumeMount{Name: "model", MountPath: engine.ModelMountDir, ReadOnly: true})
	}
	return vols, mounts
}

func copyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
