package llmdeployment

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/engine"
)

// A reconcile pass runs phases in order over one scope, the structure Cluster API and Flux use. Each phase reads
// what the earlier ones put in the scope, adds its own, and returns an outcome:
//
//   - done: go on;
//   - wait(after): go on, and look again after that long (the lowest of these wins);
//   - stalled(reason, message): stop; nothing changes until someone acts (status says what to do);
//   - failed(err): stop; controller-runtime retries with backoff;
//   - finished: stop; there is nothing to do (the namespace is going away).
//   - pending(reason, message): stop; something the pass waits for is under way (the model cache's download):
//     Reconciling with that reason, looked at again when it changes (or after the retry).
//
// The status is patched once, after the last phase that ran (Reconcile's deferred patch).

// scope is what one pass knows of one LLMDeployment.
type scope struct {
	// llm is the object; its status is what the pass writes.
	llm *servingv1alpha1.LLMDeployment
	// cache is the Ready ModelCache's snapshot the engine loads offline (nil without one, and for a pvc:// model,
	// which is checked in place), and checkpoint what the loader found (cache phase).
	cache      *engine.CachedModel
	checkpoint *servingv1alpha1.CheckpointStatus
	// checkpointAt says where the checkpoint is, for messages: "at commit <sha>", "in pvc://claim/path".
	checkpointAt string
	// planned is the object the plan was made from: llm, with spec.model.quantized following the checkpoint when
	// one is known (render phase).
	planned *servingv1alpha1.LLMDeployment
	// modelCache is the ModelCache the object uses, nil for none (cache phase).
	modelCache *servingv1alpha1.ModelCache
	// plan is how the engine is run (render phase).
	plan engine.Plan
	// service and deployment are the desired children (render phase; the rollout phase sets the strategy).
	service    *corev1.Service
	deployment *appsv1.Deployment
	// networkPolicy is the desired NetworkPolicy; nil when the operator config asks for none.
	networkPolicy *networkingv1.NetworkPolicy
	// inferencePool is the desired InferencePool; nil unless the operator config asks for one and the CRD exists.
	inferencePool *unstructured.Unstructured
	// live is the Deployment as the cache had it before the pass, nil when none (observe phase); after the apply
	// phase, the applied Deployment.
	live *appsv1.Deployment
	// pods are the object's pods that are not being deleted (observe phase).
	pods []corev1.Pod
	// now is the time of the pass.
	now time.Time
}

type outcomeKind int

const (
	outcomeDone outcomeKind = iota
	outcomeWait
	outcomeStalled
	outcomeFailed
	outcomeFinished
	outcomePending
)

// outcome is how a phase ended.
type outcome struct {
	kind outcomeKind
	// after is how soon to look again (wait; for stalled, an optional retry).
	after time.Duration
	// reason and message go to the conditions (stalled; for failed, when set).
	reason, message string
	err             error
}

func done() outcome                    { return outcome{kind: outcomeDone} }
func wait(after time.Duration) outcome { return outcome{kind: outcomeWait, after: after} }
func finished() outcome                { return outcome{kind: outcomeFinished} }
func pending(reason, msg string) outcome {
	return outcome{kind: outcomePending, reason: reason, message: msg}
}
func failed(err error) outcome { return outcome{kind: outcomeFailed, err: err} }
func stalled(reason, msg string) outcome {
	return outcome{kind: outcomeStalled, reason: reason, message: msg}
}
func (o outcome) retryAfter(d time.Duration) outcome { o.after = d; return o }

// failedWith is an error that status reports while it is retried (the object is Reconciling, not Stalled).
func failedWith(reason, msg string, err error) outcome {
	return outcome{kind: outcomeFailed, reason: reason, message: msg, err: err}
}

// phase is one step of a pass.
type phase struct {
	name string
	run  func(context.Context, *scope) outcome
}

// phases are the steps of a pass, in order.
func (r *Reconciler) phases() []phase {
	return []phase{
		{"cache", r.cachePhase},
		{"render", r.renderPhase},
		{"observe", r.observePhase},
		{"rollout", r.rolloutPhase},
		{"apply", r.applyPhase},
		{"report", r.reportPhase},
	}
}

// runPhases runs the phases over s and turns their outcomes into the pass's result.
func (r *Reconciler) runPhases(ctx context.Context, s *scope) (ctrl.Result, error) {
	var requeue time.Duration
	for _, p := range r.phases() {
		o := p.run(ctx, s)
		if o.after > 0 && (requeue == 0 || o.after < requeue) {
			requeue = o.after
		}
		switch o.kind {
		case outcomeDone, outcomeWait:
			continue
		case outcomeStalled:
			r.setFailure(s.llm, o.reason, o.message, true)
			return ctrl.Result{RequeueAfter: requeue}, nil
		case outcomeFailed:
			if o.reason != "" {
				r.setFailure(s.llm, o.reason, o.message, false)
			}
			return ctrl.Result{}, fmt.Errorf("%s: %w", p.name, o.err)
		case outcomeFinished:
			return ctrl.Result{}, nil
		case outcomePending:
			r.setFailure(s.llm, o.reason, o.message, false)
			return ctrl.Result{RequeueAfter: requeue}, nil
		}
	}
	return ctrl.Result{RequeueAfter: requeue}, nil
}
