package llmdeployment

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/cache"
	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/internal/gpu"
	"github.com/privatellm/privatellm/internal/render"
)

// observed is what a reconcile pass saw of an LLMDeployment's children. Status is a pure function of it.
type observed struct {
	// Workload is the view of the child that runs the pods; nil when it does not exist (yet).
	Workload *workload
	// Pods are the LLMDeployment's pods that are not being deleted.
	Pods []corev1.Pod
	// Now is the time of the pass, for the stall grace period.
	Now time.Time
	// StallGrace is how long a pod may stay unschedulable or miss its Secret before the object is Stalled.
	StallGrace time.Duration
}

// assessment is the verdict on an LLMDeployment's health that the conditions are written from.
type assessment struct {
	// Ready is True when every desired replica serves the current spec.
	Ready bool
	// Stalled is True when progress needs someone to act.
	Stalled bool
	// Reason is the CamelCase reason of the Ready condition (and of Reconciling or Stalled).
	Reason string
	// Message says what is happening and, when stalled, what to do. No pod names or timestamps.
	Message string
	// RecheckAfter asks for another look when a grace period runs out (0: none needed).
	RecheckAfter time.Duration
}

// assess turns the observation into a verdict. Pod-level problems come first because they say why the
// Deployment is not progressing; the Deployment's own counters decide readiness.
func assess(llm *servingv1alpha1.LLMDeployment, obs observed) assessment {
	w := obs.Workload
	desired := llm.Spec.EffectiveReplicas()
	if w == nil {
		return assessment{Reason: servingv1alpha1.ReasonProgressing, Message: "creating the Deployment"}
	}
	if !w.Current {
		return assessment{Reason: servingv1alpha1.ReasonProgressing, Message: "waiting for the Deployment controller to observe the new spec"}
	}
	if a, found := assessPods(llm, obs); found {
		return a
	}
	if a, found := assessCreateRefusal(w, obs); found {
		return a
	}
	if w.DeadlineExceeded {
		return assessment{Stalled: true, Reason: servingv1alpha1.ReasonProgressDeadlineExceeded, Message: fmt.Sprintf(
			"the rollout made no progress within its deadline (%ds: startupTimeout plus image pull budget); check the pods' events and logs, or raise spec.startupTimeout for large models",
			w.DeadlineSeconds)}
	}
	if w.Updated == desired && w.Ready == desired && w.Replicas == desired && w.Available == desired {
		if desired == 0 {
			if as := llm.Spec.Autoscaling; as != nil && as.MinReplicas != nil && *as.MinReplicas == 0 {
				return assessment{Ready: true, Reason: servingv1alpha1.ReasonScaledToZero, Message: fmt.Sprintf(
					"scaled to zero while idle: a request for model %s through the gateway wakes it (it waits there until a replica has loaded the model)",
					llm.ServedModelName())}
			}
			return assessment{Ready: true, Reason: servingv1alpha1.ReasonScaledToZero, Message: "scaled to zero replicas; the endpoint has no backend"}
		}
		return assessment{Ready: true, Reason: servingv1alpha1.ReasonAvailable, Message: fmt.Sprintf(
			"%d of %d replicas serve model %s", w.Ready, desired, llm.ServedModelName())}
	}
	note := ""
	if w.RolloutNote != "" {
		note = "; " + w.RolloutNote
	}
	loading := 0
	for i := range obs.Pods {
		if obs.Pods[i].Status.Phase == corev1.PodRunning && !podReady(&obs.Pods[i]) {
			loading++
		}
	}
	if loading > 0 {
		return assessment{Reason: servingv1alpha1.ReasonModelLoading, Message: fmt.Sprintf(
			"%d of %d replicas are downloading and loading the model (budget %s); %d ready%s",
			loading, desired, llm.Spec.EffectiveStartupTimeout(), w.Ready, note)}
	}
	return assessment{Reason: servingv1alpha1.ReasonProgressing, Message: fmt.Sprintf(
		"rolling out: %d of %d replicas updated, %d ready%s", w.Updated, desired, w.Ready, note)}
}

// assessPods looks for pods that cannot progress on their own, worst first.
func assessPods(llm *servingv1alpha1.LLMDeployment, obs observed) (assessment, bool) {
	pods := append([]corev1.Pod(nil), obs.Pods...)
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	desired := llm.Spec.EffectiveReplicas()

	var crash, pull, secret, unschedulable []*corev1.Pod
	for i := range pods {
		p := &pods[i]
		if w := waitingReason(p); w != "" {
			switch w {
			case "CrashLoopBackOff":
				crash = append(crash, p)
			case "ImagePullBackOff", "InvalidImageName":
				pull = append(pull, p)
			case "CreateContainerConfigError":
				if msg := waitingMessage(p); strings.Contains(msg, "secret") || strings.Contains(msg, "Secret") {
					secret = append(secret, p)
				}
			}
		}
		if c := podCondition(p, corev1.PodScheduled); c != nil && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			unschedulable = append(unschedulable, p)
		}
	}

	switch {
	case len(crash) > 0:
		return assessment{Stalled: true, Reason: servingv1alpha1.ReasonCrashLoopBackOff, Message: fmt.Sprintf(
			"%d of %d replicas are crash-looping%s; see kubectl logs -l %s --previous",
			len(crash), desired, lastExit(crash[0]), render.Selector(llm))}, true
	case len(pull) > 0:
		return assessment{Stalled: true, Reason: servingv1alpha1.ReasonImagePullBackOff, Message: fmt.Sprintf(
			"cannot pull image %s for %d of %d replicas: check spec.engine.image, registry access and imagePullSecrets",
			containerImage(pull[0]), len(pull), desired)}, true
	case len(secret) > 0:
		msg := "the Secret referenced by spec.model.tokenSecretRef is missing: " + waitingMessage(secret[0])
		if ref := llm.Spec.Model.TokenSecretRef; ref != nil {
			msg = fmt.Sprintf("Secret %s with key %s (spec.model.tokenSecretRef) is missing in namespace %s: create it; the pods start once it exists",
				ref.Name, keyOr(ref.Key), llm.Namespace)
		}
		return withGrace(assessment{Reason: servingv1alpha1.ReasonSecretNotFound, Message: msg}, earliestCreation(secret), obs), true
	case len(unschedulable) > 0:
		first := podCondition(unschedulable[0], corev1.PodScheduled)
		since := first.LastTransitionTime.Time
		for _, p := range unschedulable[1:] {
			if t := podCondition(p, corev1.PodScheduled).LastTransitionTime.Time; t.Before(since) {
				since = t
			}
		}
		cause := unschedulableCause(llm, first.Message)
		if w := obs.Workload; w != nil && w.Surge && w.rollingOut() && w.Ready > 0 {
			// A surge rollout whose new replica finds no room: the previous revision keeps serving.
			return withGrace(assessment{Reason: servingv1alpha1.ReasonRolloutBlocked, Message: fmt.Sprintf(
				"the rollout is blocked: %d new replicas cannot be scheduled: %s; %d ready replicas of the previous spec keep serving",
				len(unschedulable), cause, w.Ready)}, since, obs), true
		}
		return withGrace(assessment{Reason: servingv1alpha1.ReasonUnschedulable, Message: fmt.Sprintf(
			"%d of %d replicas cannot be scheduled: %s", len(unschedulable), desired, cause)}, since, obs), true
	}
	return assessment{}, false
}

// assessCreateRefusal reports pods that cannot even be created: the API server refused the ReplicaSet's pod (a
// ResourceQuota, a missing PriorityClass, Pod Security, a LimitRange, a missing ServiceAccount, a webhook), which
// the Deployment reports as ReplicaFailure with the refusal. A full quota may be freed by others, so it waits for
// the grace period; the rest need someone to act.
func assessCreateRefusal(w *workload, obs observed) (assessment, bool) {
	if w.CreateRefusal == "" {
		return assessment{}, false
	}
	refusal := truncate(refusalText(w.CreateRefusal), 400)
	switch {
	case strings.Contains(refusal, "exceeded quota"):
		return withGrace(assessment{Reason: servingv1alpha1.ReasonQuotaExceeded, Message: "a ResourceQuota of the namespace refuses the pods: " +
			refusal + "; raise the quota, lower spec.replicas or spec.gpu.count, or free quota in the namespace"}, w.RefusedSince, obs), true
	case strings.Contains(refusal, "no PriorityClass with name"):
		return assessment{Stalled: true, Reason: servingv1alpha1.ReasonPriorityClassNotFound, Message: "the pods cannot be created: " +
			refusal + "; create the PriorityClass or change spec.priorityClassName"}, true
	case strings.Contains(refusal, "violates PodSecurity"):
		return assessment{Stalled: true, Reason: servingv1alpha1.ReasonPodSecurityRejected, Message: "the namespace's Pod Security level refuses the pods: " +
			refusal + "; run the model in a namespace whose pod-security.kubernetes.io/enforce level allows it (docs/engines.md says what each engine needs)"}, true
	default:
		return assessment{Stalled: true, Reason: servingv1alpha1.ReasonFailedCreate, Message: "the pods cannot be created: " +
			refusal + "; check the namespace's LimitRanges, ServiceAccounts and admission policies"}, true
	}
}

// refusalText is the API server's reason for refusing a pod, without the generated pod name it starts with
// (`pods "llama-5d9c7-" is forbidden: `): names change with every rollout and do not belong in a condition.
func refusalText(msg string) string {
	if _, rest, ok := strings.Cut(msg, " is forbidden: "); ok && strings.HasPrefix(msg, "pods ") {
		return rest
	}
	return msg
}

// withGrace reports a problem that the cluster may still fix (an autoscaler adding GPU nodes, a GitOps sync
// creating a Secret) as in progress until the grace period has passed, then as Stalled.
func withGrace(a assessment, since time.Time, obs observed) assessment {
	if waited := obs.Now.Sub(since); waited < obs.StallGrace {
		a.RecheckAfter = obs.StallGrace - waited
		return a
	}
	a.Stalled = true
	return a
}

// unschedulableCause turns the scheduler's message into what the user needs to know.
func unschedulableCause(llm *servingv1alpha1.LLMDeployment, schedMsg string) string {
	spec := &llm.Spec
	want := fmt.Sprintf("needs %d × %s per replica", spec.GPUCount(), productText(spec))
	gpuRes := string(spec.EffectiveGPUResourceName())
	switch {
	case strings.Contains(schedMsg, "Insufficient "+gpuRes) && !strings.Contains(schedMsg, "node affinity/selector"):
		return want + "; the nodes that offer it have too few free GPUs (add GPU nodes, lower replicas, or free GPUs)"
	case strings.Contains(schedMsg, "Insufficient "+gpuRes):
		return want + "; no node both offers it and has the GPUs free (check gpu.products, gpu.minMemory and nodeSelector, or add GPU nodes)"
	case strings.Contains(schedMsg, "node affinity/selector"):
		return want + "; no node offers that product" + memText(spec) + " (check gpu.products, gpu.minMemory and nodeSelector against the nodes' " + gpu.LabelsFor(spec.EffectiveGPUResourceName()).Product + " labels)"
	case schedMsg == "":
		return want
	default:
		return want + "; scheduler: " + truncate(schedMsg, 300)
	}
}

func productText(spec *servingv1alpha1.LLMDeploymentSpec) string {
	res := string(spec.EffectiveGPUResourceName())
	if len(spec.GPU.Products) == 0 {
		return res
	}
	return strings.Join(spec.GPU.Products, " or ")
}

func memText(spec *servingv1alpha1.LLMDeploymentSpec) string {
	if spec.GPU.MinMemory == nil {
		return ""
	}
	return " with at least " + spec.GPU.MinMemory.String() + " per GPU"
}

// setConditions writes the kstatus conditions from an assessment. meta.SetStatusCondition moves
// LastTransitionTime only when a condition's status flips.
func setConditions(llm *servingv1alpha1.LLMDeployment, a assessment) {
	gen := llm.Generation
	ready := metav1.Condition{Type: servingv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: a.Reason, Message: a.Message, ObservedGeneration: gen}
	if a.Ready {
		ready.Status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&llm.Status.Conditions, ready)
	switch {
	case a.Ready:
		meta.RemoveStatusCondition(&llm.Status.Conditions, servingv1alpha1.ConditionReconciling)
		meta.RemoveStatusCondition(&llm.Status.Conditions, servingv1alpha1.ConditionStalled)
	case a.Stalled:
		meta.RemoveStatusCondition(&llm.Status.Conditions, servingv1alpha1.ConditionReconciling)
		meta.SetStatusCondition(&llm.Status.Conditions, metav1.Condition{Type: servingv1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: a.Reason, Message: a.Message, ObservedGeneration: gen})
	default:
		meta.RemoveStatusCondition(&llm.Status.Conditions, servingv1alpha1.ConditionStalled)
		meta.SetStatusCondition(&llm.Status.Conditions, metav1.Condition{Type: servingv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: a.Reason, Message: a.Message, ObservedGeneration: gen})
	}
}

// setReplicaStatus copies the replica counters the /scale subresource and kubectl show.
func setReplicaStatus(llm *servingv1alpha1.LLMDeployment, w *workload) {
	llm.Status.Selector = render.Selector(llm)
	llm.Status.Endpoint = render.Endpoint(llm)
	if w == nil {
		llm.Status.Replicas, llm.Status.ReadyReplicas, llm.Status.UpdatedReplicas = 0, 0, 0
		return
	}
	llm.Status.Replicas, llm.Status.ReadyReplicas, llm.Status.UpdatedReplicas = w.Replicas, w.Ready, w.Updated
}

func waitingReason(p *corev1.Pod) string {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Waiting != nil {
			return cs.State.Waiting.Reason
		}
	}
	return ""
}

func waitingMessage(p *corev1.Pod) string {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Waiting != nil {
			return cs.State.Waiting.Message
		}
	}
	return ""
}

// lastExit describes a container's last exit: reason, code and the last line of its termination message (the
// engine's own error, which the kubelet takes from the log tail with FallbackToLogsOnError).
func lastExit(p *corev1.Pod) string {
	for _, cs := range p.Status.ContainerStatuses {
		if t := cs.LastTerminationState.Terminated; t != nil {
			out := fmt.Sprintf(" (last exit code %d", t.ExitCode)
			if t.Reason != "" && t.Reason != "Error" {
				out = fmt.Sprintf(" (last exit: %s, code %d", t.Reason, t.ExitCode)
			}
			if line := lastLine(t.Message); line != "" {
				out += ": " + truncate(line, 240)
			}
			return out + ")"
		}
	}
	return ""
}

// lastLine is the last non-empty line of a message.
func lastLine(msg string) string {
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func containerImage(p *corev1.Pod) string {
	if len(p.Spec.Containers) > 0 {
		return p.Spec.Containers[0].Image
	}
	return ""
}

func podCondition(p *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func podReady(p *corev1.Pod) bool {
	c := podCondition(p, corev1.PodReady)
	return c != nil && c.Status == corev1.ConditionTrue
}

func earliestCreation(pods []*corev1.Pod) time.Time {
	t := pods[0].CreationTimestamp.Time
	for _, p := range pods[1:] {
		if p.CreationTimestamp.Time.Before(t) {
			t = p.CreationTimestamp.Time
		}
	}
	return t
}

func keyOr(k string) string {
	if k == "" {
		return "token"
	}
	return k
}

func ptrOr(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// setFitStatus writes the memory-fit estimate and the ModelFits condition. The estimate uses the declared GPUs'
// memory (known products or gpu.minMemory); the admission webhook checks against the cluster's nodes.
func setFitStatus(llm *servingv1alpha1.LLMDeployment, ck *servingv1alpha1.CheckpointStatus) {
	cond := metav1.Condition{Type: servingv1alpha1.ConditionModelFits, ObservedGeneration: llm.Generation}
	spec := &llm.Spec
	arch, known := gpu.Lookup(llm.Spec.Model.URI)
	if ck != nil {
		// The downloaded checkpoint's own shape, for any model: what the catalogue knows is a fallback.
		facts := cache.Facts(ck)
		name := ck.Architecture
		if name == "" {
			name = "the checkpoint"
		}
		if a, ok := facts.FitArchitecture(name + " (from its config.json)"); ok {
			arch, known = a, true
			if q := cache.SpecQuantization(facts); q != "" && spec.EffectiveQuantization() == servingv1alpha1.QuantizationNone && engine.Supports(spec.EffectiveEngine(), q) {
				spec = spec.DeepCopy()
				spec.Quantization = q
			}
		}
	}
	if !known {
		llm.Status.Fit = nil
		cond.Status, cond.Reason = metav1.ConditionUnknown, servingv1alpha1.ReasonModelUnknown
		cond.Message = "the model is not in the operator's catalogue of well-known families: its memory fit was not checked"
		meta.SetStatusCondition(&llm.Status.Conditions, cond)
		return
	}
	fit, err := gpu.Estimate(spec, arch, gpu.DeclaredMemoryMiB(spec))
	if err != nil {
		llm.Status.Fit = nil
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, servingv1alpha1.ReasonDoesNotFit, err.Error()
		meta.SetStatusCondition(&llm.Status.Conditions, cond)
		return
	}
	llm.Status.Fit = &servingv1alpha1.FitStatus{
		Model:         arch.Family,
		Weights:       gibText(fit.WeightsGiB),
		KVCache:       gibText(fit.KVCacheGiB),
		ContextTokens: fit.ContextTokens,
		PerGPU:        gibText(fit.PerGPUNeedGiB),
	}
	switch {
	case fit.PerGPUAvailableGiB == 0:
		cond.Status, cond.Reason = metav1.ConditionUnknown, servingv1alpha1.ReasonGPUMemoryUnknown
		cond.Message = fit.String() + "; set gpu.products to a known product or gpu.minMemory to check it"
	case fit.Fits:
		llm.Status.Fit.PerGPUUsable = gibText(fit.PerGPUAvailableGiB)
		cond.Status, cond.Reason, cond.Message = metav1.ConditionTrue, servingv1alpha1.ReasonFits, fit.String()
	default:
		llm.Status.Fit.PerGPUUsable = gibText(fit.PerGPUAvailableGiB)
		cond.Status, cond.Reason = metav1.ConditionFalse, servingv1alpha1.ReasonDoesNotFit
		cond.Message = fit.String() + "; use more GPUs, a quantization, or a shorter maxModelLen"
	}
	meta.SetStatusCondition(&llm.Status.Conditions, cond)
}

func gibText(v float64) string { return fmt.Sprintf("%.1fGi", v) }

// setQuantizationStatus writes the QuantizationResolved condition: whether the engine is told to quantize on load
// or reads the checkpoint's quantization, and Unknown when the operator had to assume it. spec is the one the plan was
// made from (spec.model.quantized following the downloaded checkpoint, when one is known).
func setQuantizationStatus(llm *servingv1alpha1.LLMDeployment, spec *servingv1alpha1.LLMDeploymentSpec, where string, ck *servingv1alpha1.CheckpointStatus) {
	said := ""
	if ck != nil {
		said = "the checkpoint " + where + " is not quantized: "
		if ck.QuantMethod != "" {
			said = fmt.Sprintf("the checkpoint %s is quantized with %s: ", where, ck.QuantMethod)
		}
	}
	r := engine.Resolve(spec)
	cond := metav1.Condition{Type: servingv1alpha1.ConditionQuantizationResolved, Status: metav1.ConditionTrue,
		Reason: r.Reason, Message: said + r.Message, ObservedGeneration: llm.Generation}
	if !r.Known {
		cond.Status = metav1.ConditionUnknown
	}
	meta.SetStatusCondition(&llm.Status.Conditions, cond)
}
