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
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	// APIReader reads what the caches do not hold: the pods of other workloads on a GPU node, counted when a
	// rollout starts (rollout.go). SetupWithManager sets the manager's when nil.
	APIReader client.Reader

	applier *apply.Applier
	// coldStarts observes the pods' cold starts once each (startup.go).
	coldStarts *coldStarts
	// imagePulls reads the kubelet's Pulled events for the startup timeline (startup.go).
	imagePulls *imagePulls
	// inferencePools is true when the config asks for InferencePools and their CRD is installed (SetupWithManager).
	inferencePools bool
}

// +kubebuilder:rbac:groups=serving.privatellm.dev,resources=llmdeployments,verbs=get;list;watch
// +kubebuilder:rbac:groups=serving.privatellm.dev,resources=llmdeployments/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=serving.privatellm.dev,resources=llmdeployments/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=inference.networking.k8s.io,resources=inferencepools,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=serving.privatellm.dev,resources=modelcaches,verbs=get;list;watch;create
// +kubebuilder:rbac:groups="",resources=nodes,verbs=list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=events,verbs=list

// Reconcile brings one LLMDeployment's children to its spec and reports what it observes, in the phases of
// phases.go.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	llm := &servingv1alpha1.LLMDeployment{}
	if err := r.Get(ctx, req.NamespacedName, llm); err != nil {
		if apierrors.IsNotFound(err) {
			r.applier.Forget("Deployment", req.Namespace, req.Name)
			r.applier.Forget("Service", req.Namespace, req.Name)
			r.applier.Forget("NetworkPolicy", req.Namespace, req.Name)
			r.applier.Forget(render.InferencePoolGVK.Kind, req.Namespace, req.Name)
			r.coldStarts.forget(req.NamespacedName)
			r.imagePulls.forget(req.NamespacedName)
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
	return r.runPhases(ctx, &scope{llm: llm, now: time.Now()})
}

// renderPhase plans the engine and renders the children, each owned by the LLMDeployment.
func (r *Reconciler) renderPhase(_ context.Context, s *scope) outcome {
	llm := s.llm
	if s.checkpoint != nil {
		var mismatch string
		if llm, mismatch = checkpointSpec(s.llm, s.checkpointAt, s.checkpoint); mismatch != "" {
			meta.SetStatusCondition(&s.llm.Status.Conditions, metav1.Condition{Type: servingv1alpha1.ConditionQuantizationResolved,
				Status: metav1.ConditionFalse, Reason: servingv1alpha1.ReasonQuantizationMismatch, Message: mismatch, ObservedGeneration: s.llm.Generation})
			return stalled(servingv1alpha1.ReasonQuantizationMismatch, mismatch)
		}
	}
	s.planned = llm
	plan, err := engine.ForCached(llm, r.Config.EngineImages(), s.cache)
	if err != nil {
		// The schema should have refused this spec; nothing will change until the spec does.
		return stalled(servingv1alpha1.ReasonInvalidSpec, err.Error())
	}
	s.plan = plan
	s.service, s.deployment = render.Service(s.llm, plan), render.Deployment(llm, plan)
	children := []client.Object{s.service, s.deployment}
	if np := r.Config.Gateway.NetworkPolicy; np != nil {
		s.networkPolicy = render.NetworkPolicy(s.llm, plan, peers(np))
		children = append(children, s.networkPolicy)
	}
	if r.inferencePools {
		s.inferencePool = render.InferencePool(s.llm, plan, endpointPicker(s.llm, r.Config.InferencePool))
		children = append(children, s.inferencePool)
	}
	for _, obj := range children {
		if err := controllerutil.SetControllerReference(s.llm, obj, r.Scheme); err != nil {
			return failed(fmt.Errorf("owner reference: %w", err))
		}
	}
	return done()
}

// observePhase reads the live Deployment and the pods from the cache.
func (r *Reconciler) observePhase(ctx context.Context, s *scope) outcome {
	if live := (&appsv1.Deployment{}); r.getOrNil(ctx, client.ObjectKeyFromObject(s.deployment), live) != nil {
		s.live = live
	}
	pods, err := r.pods(ctx, s.llm)
	if err != nil {
		return failed(err)
	}
	s.pods = pods
	return done()
}

// endpointPicker is the EPP Service the LLMDeployment's InferencePool names; nil when the config names none.
func endpointPicker(llm *servingv1alpha1.LLMDeployment, c *config.InferencePoolConfig) *render.EndpointPicker {
	if c == nil || c.EndpointPicker == nil {
		return nil
	}
	e := c.EndpointPicker
	return &render.EndpointPicker{Service: llm.Name + e.ServiceSuffix, Port: e.Port, FailureMode: e.FailureMode}
}

// peers are the pods the NetworkPolicy admits.
func peers(np *config.NetworkPolicyConfig) []render.Peer {
	out := make([]render.Peer, 0, len(np.AllowFrom))
	for _, p := range np.AllowFrom {
		out = append(out, render.Peer{Namespace: p.Namespace, Labels: p.Labels})
	}
	return out
}

// applyPhase applies the NetworkPolicy (before any pod could run unprotected), the Service, then the Deployment.
func (r *Reconciler) applyPhase(ctx context.Context, s *scope) outcome {
	if s.networkPolicy != nil {
		live := &networkingv1.NetworkPolicy{}
		if _, _, err := r.applier.Apply(ctx, s.networkPolicy, r.getOrNil(ctx, client.ObjectKeyFromObject(s.networkPolicy), live)); err != nil {
			return applyFailed(err)
		}
	}
	liveSvc := &corev1.Service{}
	if _, _, err := r.applier.Apply(ctx, s.service, r.getOrNil(ctx, client.ObjectKeyFromObject(s.service), liveSvc)); err != nil {
		return applyFailed(err)
	}
	var live client.Object
	if s.live != nil {
		live = s.live
	}
	out, applied, err := r.applier.Apply(ctx, s.deployment, live)
	if err != nil {
		return applyFailed(err)
	}
	if applied {
		ctrl.LoggerFrom(ctx).V(1).Info("Applied Deployment", "deployment", klog.KObj(s.deployment))
	}
	s.live = out.(*appsv1.Deployment)
	if s.inferencePool != nil {
		// Last: the pool is another way in to pods that are already protected and serving.
		live := inferencePoolMeta()
		if _, _, err := r.applier.Apply(ctx, s.inferencePool, r.getOrNil(ctx, client.ObjectKeyFromObject(s.inferencePool), live)); err != nil {
			if apierrors.IsInvalid(err) {
				return stalled(servingv1alpha1.ReasonApplyFailed, "the API server refuses the InferencePool the operator config asks for: "+
					truncate(err.Error(), 600)+"; the InferencePool CRD before v1.6 requires an endpoint picker: set inferencePool.endpointPicker in the operator config, or upgrade the CRD")
			}
			return applyFailed(err)
		}
	}
	return done()
}

// inferencePoolMeta is an empty InferencePool as the cache holds it: its metadata only, enough for the applier.
func inferencePoolMeta() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(render.InferencePoolGVK)
	return m
}

// forbiddenRetry is how soon an apply the API server forbade is tried again: RBAC or an admission policy may be
// fixed without any change to the LLMDeployment.
const forbiddenRetry = 5 * time.Minute

// applyFailed reports an apply the API server refused, by the kind of refusal: what the spec renders to is
// invalid (Stalled, and nothing changes until the spec does: no retry), the operator is forbidden (Stalled,
// looked at again after forbiddenRetry), someone else changed the object meanwhile (retry with backoff, status
// untouched), the namespace is being deleted (its objects go with it: nothing to do), or a transient error
// (Reconciling, retry with backoff).
func applyFailed(err error) outcome {
	switch {
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return finished()
	case apierrors.IsInvalid(err):
		return stalled(servingv1alpha1.ReasonApplyFailed, "the API server refuses what this spec renders to: "+
			truncate(err.Error(), 600)+"; change the spec fields it names (the admission webhook checks them when it is installed)")
	case apierrors.IsForbidden(err):
		return stalled(servingv1alpha1.ReasonApplyFailed, "the operator may not apply this object's children: "+
			truncate(err.Error(), 600)+"; check the operator's RBAC and the namespace's admission policies").retryAfter(forbiddenRetry)
	case apierrors.IsConflict(err):
		return failed(err)
	default:
		return failedWith(servingv1alpha1.ReasonApplyFailed, "applying the children failed; retrying", err)
	}
}

// reportPhase writes the conditions and counters from what the pass observed.
func (r *Reconciler) reportPhase(ctx context.Context, s *scope) outcome {
	llm := s.llm
	w := deploymentWorkload(s.live)
	a := assess(llm, observed{Workload: w, Pods: s.pods, Now: s.now, StallGrace: r.Config.StallGracePeriod.Duration})
	r.recordTransition(llm, a)
	setConditions(llm, a)
	setFitStatus(llm, s.checkpoint)
	setQuantizationStatus(llm, &s.planned.Spec, s.checkpointAt, s.checkpoint)
	setReplicaStatus(llm, w)
	llm.Status.Startup = startupTimeline(llm, s.pods, s.modelCache, s.now, r.imagePulls.lookup(ctx, llm, s.pods))
	r.coldStarts.observe(llm, s.pods)
	llm.Status.ObservedGeneration = llm.Generation
	ctrl.LoggerFrom(ctx).V(1).Info("Reconciled", "ready", a.Ready, "stalled", a.Stalled, "reason", a.Reason)
	return wait(a.RecheckAfter)
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
	r.coldStarts = newColdStarts(time.Now())
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	r.imagePulls = newImagePulls(r.APIReader)
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
	b := ctrl.NewControllerManagedBy(mgr).
		For(&servingv1alpha1.LLMDeployment{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{})
	if r.Config.Gateway.NetworkPolicy != nil {
		b = b.Owns(&networkingv1.NetworkPolicy{})
	}
	if r.Config.InferencePool != nil {
		if _, err := mgr.GetRESTMapper().RESTMapping(render.InferencePoolGVK.GroupKind(), render.InferencePoolGVK.Version); err != nil {
			mgr.GetLogger().Error(err, "The operator config asks for InferencePools, but their CRD (inference.networking.k8s.io/v1) is not installed: no pools are published; install the CRD and restart the operator")
		} else {
			r.inferencePools = true
			b = b.Owns(inferencePoolMeta())
		}
	}
	if r.Config.ModelCache != nil {
		// A cache's progress and readiness wake the LLMDeployments that wait for it.
		b = b.Watches(&servingv1alpha1.ModelCache{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			mc, ok := o.(*servingv1alpha1.ModelCache)
			if !ok {
				return nil
			}
			out := make([]reconcile.Request, 0, len(mc.Status.Users))
			for _, u := range mc.Status.Users {
				out = append(out, reconcile.Request{NamespacedName: client.ObjectKey{Namespace: mc.Namespace, Name: u}})
			}
			return out
		}))
	}
	return b.
		Watches(&corev1.Pod{}, podToOwner).
		Named("llmdeployment").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r)
}
