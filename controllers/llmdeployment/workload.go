package llmdeployment

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/privatellm/privatellm/internal/render"
)

// workload is what status reads of the child that runs the model's pods: a Deployment today. Another kind of child
// (a LeaderWorkerSet for a model that spans nodes, a download Job of the model cache) gets a constructor like
// deploymentWorkload, not changes to the status code. A nil *workload means the child does not exist yet.
type workload struct {
	// Current is false while the child's own controller has not yet observed its latest spec.
	Current bool
	// Desired is the number of replicas the child is asked for.
	Desired int32
	// Replicas, Updated, Ready and Available count the pods as the child's controller does: all of them, those of
	// the latest pod template, those ready, those ready for the minimum time.
	Replicas, Updated, Ready, Available int32
	// CreateRefusal is the API server's refusal of a pod the child's controller tried to create (a quota, a missing
	// PriorityClass, Pod Security …), and RefusedSince when it began; empty when pods are created.
	CreateRefusal string
	RefusedSince  time.Time
	// DeadlineExceeded is true when a rollout made no progress for DeadlineSeconds.
	DeadlineExceeded bool
	DeadlineSeconds  int32
	// Surge is true when a rollout starts a new replica before it stops an old one, so the old keep serving.
	Surge bool
	// RolloutNote says how the rollout in progress replaces the pods and why, in words; empty when none is.
	RolloutNote string
}

// rollingOut says whether pods of an older template are still around.
func (w *workload) rollingOut() bool { return w.Updated < w.Replicas }

// settled says whether every desired replica is of the latest template and available, and no other is left.
func (w *workload) settled() bool {
	return w.Current && w.Replicas == w.Desired && w.Updated == w.Desired && w.Ready == w.Desired && w.Available == w.Desired
}

// deploymentWorkload is the view of a Deployment (as the cache keeps it: see manager.DeploymentCacheTransform).
func deploymentWorkload(d *appsv1.Deployment) *workload {
	if d == nil {
		return nil
	}
	st := d.Status
	w := &workload{
		Current:  st.ObservedGeneration >= d.Generation,
		Desired:  ptrOr(d.Spec.Replicas, 1),
		Replicas: st.Replicas, Updated: st.UpdatedReplicas, Ready: st.ReadyReplicas, Available: st.AvailableReplicas,
		DeadlineSeconds: ptrOr(d.Spec.ProgressDeadlineSeconds, 600),
		Surge:           render.Surges(d.Spec.Strategy),
		RolloutNote:     d.Annotations[render.AnnotationRollout],
	}
	for _, c := range st.Conditions {
		switch {
		case c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue:
			w.CreateRefusal, w.RefusedSince = c.Message, c.LastTransitionTime.Time
		case c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded":
			w.DeadlineExceeded = true
		}
	}
	return w
}
