package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// How a Deployment replaces its pods is decided per rollout by the reconciler (it depends on the free GPUs at that
// moment, see controllers/llmdeployment/rollout.go). Two annotations on the Deployment carry what the decision
// needs later: the hash of the pod template it was made for, and what was decided, in words.
const (
	// AnnotationTemplateHash is the hash of the rendered pod template: when the rendering's hash differs from the
	// live Deployment's, a rollout starts and its strategy is decided anew.
	AnnotationTemplateHash = "serving.privatellm.dev/template-hash"
	// AnnotationRollout says how the last rollout replaces pods and why (shown in the Reconciling message).
	AnnotationRollout = "serving.privatellm.dev/rollout"
)

// Strategy is a rolling update that, with surge, starts one new replica before an old one stops (it needs free
// GPUs for that replica and never lowers the serving capacity); without, stops one old replica first and starts
// its replacement on the GPUs it frees.
func Strategy(surge bool) appsv1.DeploymentStrategy {
	s, u := int32(0), int32(1)
	if surge {
		s, u = 1, 0
	}
	return appsv1.DeploymentStrategy{
		Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{
			MaxSurge: ptr.To(intstr.FromInt32(s)), MaxUnavailable: ptr.To(intstr.FromInt32(u)),
		},
	}
}

// Surges says whether a Deployment's strategy starts a new replica before stopping an old one.
func Surges(s appsv1.DeploymentStrategy) bool {
	ru := s.RollingUpdate
	return s.Type != appsv1.RecreateDeploymentStrategyType && ru != nil && ru.MaxSurge != nil && ru.MaxSurge.IntValue() > 0 &&
		(ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() == 0)
}

// templateHash is a short hash of a pod template. The template is the operator's own rendering (no server
// defaults), so the hash is stable across passes.
func templateHash(t *corev1.PodTemplateSpec) string {
	b, err := json.Marshal(t)
	if err != nil {
		// A typed PodTemplateSpec always marshals; an empty hash only means "decide again".
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
