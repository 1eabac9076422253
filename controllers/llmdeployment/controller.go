// Package llmdeployment is the LLMDeployment reconciler: fetch, plan (internal/engine), render (internal/render),
// server-side apply the children (internal/apply), observe them, write status (status.go).
package llmdeployment

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/apply"
	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/internal/render"
)

// Reconciler reconciles LLMDeployments into a Deployment and a Service each.
type Reconciler struct {
	client.Client
	Scheme   *runtime.Scheme
	Config   config.OperatorConfig
	Recorder events.EventRecorder
	// MaxConcurrentReconciles is how many LLMDeployments are reconciled at once (default 1).
	MaxConcurrentReconciles int

	applier *apply.Applier
}

// +kubebuilder:rbac:groups=serving.privatellm.dev,resources=llmdeployments,verbs=get;list;watch
// +kubebuilder:rbac:groups=serving.privatellm.dev,resources=llmdeployments/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=serving.privatellm.dev,resources=llmdeployments/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one LLMDeployment's children to its spec and reports what it observes.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	log := ctrl.LoggerFrom(ctx)
	llm := &servingv1alpha1.LLMDeployment{}
	if err := r.Get(ctx, req.NamespacedName, llm); err != nil {
		if apierrors.IsNotFound(err) {
			r.applier.Forget("Deployment", req.Namespace, req.Name)
			r.applier.Forget("Service", req.Namespace, req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !llm.DeletionTimestamp.IsZero() {
		// Owner references let the garbage collector remove the children.
		return ctrl.Result{}, nil
	}

	before := llm.DeepCopy()
	defer func() {
		if err := r.patchStatus(ctx, before, llm); err != nil {
			retErr = errors.Join(retErr, err)
		}
	}()

	plan, err := engine.For(llm, r.Config.EngineImages())
	if err != nil {
		// The schema should have refused this spec; nothing will change until the spec does.
		r.setFailure(llm, servingv1alpha1.ReasonInvalidSpec, err.Error(), true)
		return ctrl.Result{}, nil
	}

	deploy, err := r.applyChildren(ctx, llm, plan)
	if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
		// The namespace is being deleted: its objects go with it, nothing to create or report.
		return ctrl.Result{}, nil
	}
	if err != nil {
		return r.applyFailed(llm, err)
	}

	pods, err := r.pods(ctx, llm)
	if err != nil {
		return ctrl.Result{}, err
	}
	a := assess(llm, observed{Deployment: deploy, Pods: pods, Now: time.Now(), StallGrace: r.Config.StallGracePeriod.Duration})
	r.recordTransition(llm, a)
	setConditions(llm, a)
	setFitStatus(llm)
	setQuantizationStatus(llm)
	setReplicaStatus(llm, deploy)
	llm.Status.ObservedGeneration = llm.Generation
	log.V(1).Info("Reconciled", "ready", a.Ready, "stalled", a.Stalled, "reason", a.Reason)
	return ctrl.Result{RequeueAfter: a.RecheckAfter}, nil
}

// forbiddenRetry is how soon an apply the API server forbade is tried again: RBAC or an admission policy may be
// fixed without any change to the LLMDeployment.
const forbiddenRetry = 5 * time.Minute

// applyFailed reports an apply the API server refused, by the kind of refusal: what the spec renders to is
// invalid (Stalled, and nothing changes until the spec does: no retry), the operator is forbidden (Stalled,
// looked at again after forbiddenRetry), someone else changed the object meanwhile (retry with backoff, status
// untouched), or a transient error (Reconciling, retry with backoff).
func (r *Reconciler) applyFailed(llm *servingv1alpha1.LLMDeployment, err error) (ctrl.Result, error) {
	switch {
	case apierrors.IsInvalid(err):
		r.setFailure(llm, servingv1alpha1.ReasonApplyFailed, "the API server refuses what this spec renders to: "+
			truncate(err.Error(), 600)+"; change the spec fields it names (the admission webhook checks them when it is installed)", true)
		return ctrl.Result{}, nil
	case apierrors.IsForbidden(err):
		r.setFailure(llm, servingv1alpha1.ReasonApplyFailed, "the operator may not apply this object's children: "+
			truncate(err.Error(), 600)+"; check the operator's RBAC and the namespace's admission policies", true)
		return ctrl.Result{RequeueAfter: forbiddenRetry}, nil
	case apierrors.IsConflict(err):
		return ctrl.Result{}, err
	default:
		r.setFailure(llm, servingv1alpha1.ReasonApplyFailed, "applying the children failed; retrying", false)
		return ctrl.Result{}, err
	}
}

// applyChildren applies the Service and the Deployment, each owned by the LLMDeployment, and returns the live
// Deployment.
func (r *Reconciler) applyChildren(ctx context.Context, llm *servingv1alpha1.LLMDeployment, plan engine.Plan) (*appsv1.Deployment, error) {
	svc := render.Service(llm, plan)
	deploy := render.Deployment(llm, plan)
	for _, obj := range []client.Object{svc, deploy} {
		if err := controllerutil.SetControllerReference(llm, obj, r.Scheme); err != nil {
			return nil, fmt.Errorf("owner reference: %w", err)
		}
	}

	liveSvc := &corev1.Service{}
	if _, _, err := r.applier.Apply(ctx, svc, r.getOrNil(ctx, client.ObjectKeyFromObject(svc), liveSvc)); err != nil {
		return nil, err
	}
	liveDeploy := &appsv1.Deployment{}
	out, applied, err := r.applier.Apply(ctx, deploy, r.getOrNil(ctx, client.ObjectKeyFromObject(deploy), liveDeploy))
	if err != nil {
		return nil, err
	}
	if applied {
		ctrl.LoggerFrom(ctx).V(1).Info("Applied Deployment", "deployment", klog.KObj(deploy))
	}
	return out.(*appsv1.Deployment), nil
}

// getOrNil reads an object from the cache; nil when it does not exist or cannot be read (apply then decides).
func (r *Reconciler) getOrNil(ctx context.Context, key client.ObjectKey, obj client.Object) client.Object {
	if err := r.Get(ctx, key, obj); err != nil {
		return nil
	}
	return obj
}

// pods lists the LLMDeployment's pods that are not being deleted.
func (r *Reconciler) pods(ctx context.Context, llm *servingv1alpha1.LLMDeployment) ([]corev1.Pod, error) {
	list := &corev1.PodList{}
	if err := r.List(ctx, list, client.InNamespace(llm.Namespace), client.MatchingLabels(render.SelectorLabels(llm))); err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	out := list.Items[:0]
	for _, p := range list.Items {
		if p.DeletionTimestamp.IsZero() {
			out = append(out, p)
		}
	}
	return out, nil
}

// setFailure reports a failure of the operator's own pass (not of the pods).
func (r *Reconciler) setFailure(llm *servingv1alpha1.LLMDeployment, reason, msg string, stalled bool) {
	a := assessment{Reason: reason, Message: msg, Stalled: stalled}
	r.recordTransition(llm, a)
	setConditions(llm, a)
	llm.Status.ObservedGeneration = llm.Generation
}

// recordTransition emits an event when the Ready reason changes, so `kubectl describe` tells the story.
func (r *Reconciler) recordTransition(llm *servingv1alpha1.LLMDeployment, a assessment) {
	if r.Recorder == nil {
		return
	}
	prev := meta.FindStatusCondition(llm.Status.Conditions, servingv1alpha1.ConditionReady)
	if prev != nil && prev.Reason == a.Reason {
		return
	}
	// A new object starting its rollout is no news: the Deployment's own events tell that story. Skipping it saves
	// the API server one write per object when many are created at once.
	if prev == nil && a.Reason == servingv1alpha1.ReasonProgressing {
		return
	}
	kind := corev1.EventTypeNormal
	if a.Stalled || a.Reason == servingv1alpha1.ReasonUnschedulable || a.Reason == servingv1alpha1.ReasonSecretNotFound ||
		a.Reason == servingv1alpha1.ReasonQuotaExceeded {
		kind = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(llm, nil, kind, a.Reason, "Reconcile", "%s", a.Message)
}

// patchStatus writes the status once per pass, and only when it changed.
func (r *Reconciler) patchStatus(ctx context.Context, before, after *servingv1alpha1.LLMDeployment) error {
	if equality.Semantic.DeepEqual(before.Status, after.Status) {
		return nil
	}
	if err := r.Status().Patch(ctx, after, client.MergeFrom(before)); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("patching status: %w", err)
	}
	return nil
}

// SetupWithManager registers the reconciler: LLMDeployments, the Deployments and Services they own, and their
// pods (whose states explain a Deployment that does not progress).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.applier = apply.New(r.Client)
	if err := registerMetrics(mgr.GetCache()); err != nil {
		return fmt.Errorf("registering metrics: %w", err)
	}
	podToOwner := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		name := o.GetLabels()[render.LabelLLMDeployment]
		if name == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: name}}}
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&servingv1alpha1.LLMDeployment{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Watches(&corev1.Pod{}, podToOwner).
		Named("llmdeployment").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r)
}
