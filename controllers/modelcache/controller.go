// Package modelcache is the ModelCache reconciler: one volume and one download Job per cache (internal/render),
// the Job's progress and report read into status (progress.go), users counted and unused caches collected
// (users.go). The LLMDeployment reconciler creates the caches it needs and waits for them to be Ready.
package modelcache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/cache"
	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/render"
)

// ProgressInterval is the most often a running download's progress is read and written to status.
const ProgressInterval = 15 * time.Second

// Reconciler reconciles ModelCaches.
type Reconciler struct {
	client.Client
	Scheme   *runtime.Scheme
	Config   config.OperatorConfig
	Recorder events.EventRecorder
	// HTTPClient reads the loaders' progress; nil is a client with a 3 s timeout.
	HTTPClient *http.Client
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// +kubebuilder:rbac:groups=serving.privatellm.dev,resources=modelcaches,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups=serving.privatellm.dev,resources=modelcaches/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=serving.privatellm.dev,resources=modelcaches/finalizers,verbs=update
// +kubebuilder:rbac:groups=serving.privatellm.dev,resources=modelcaches,verbs=update;patch
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=get;list;watch;create
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile makes one cache's volume and download Job exist, reads how the download goes, and counts its users.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	mc := &v1.ModelCache{}
	if err := r.Get(ctx, req.NamespacedName, mc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	now := r.now()
	users, err := r.users(ctx, mc)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !mc.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, mc, users)
	}
	if !controllerutil.ContainsFinalizer(mc, cache.Finalizer) {
		patch := client.MergeFrom(mc.DeepCopy())
		controllerutil.AddFinalizer(mc, cache.Finalizer)
		if err := r.Patch(ctx, mc, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding the finalizer: %w", err)
		}
	}

	before := mc.DeepCopy()
	result, err := r.reconcile(ctx, mc, users, now)
	if perr := r.patchStatus(ctx, before, mc); perr != nil {
		err = errors.Join(err, perr)
	}
	return result, err
}

// reconcile is one pass over a live cache; it changes mc.Status only.
func (r *Reconciler) reconcile(ctx context.Context, mc *v1.ModelCache, users []string, now time.Time) (ctrl.Result, error) {
	mc.Status.ObservedGeneration = mc.Generation
	setUsers(mc, users, now)
	var requeue time.Duration
	if ttl, ok := r.ttl(mc); ok && mc.Status.UnusedSince != nil {
		left := mc.Status.UnusedSince.Add(ttl).Sub(now)
		if left <= 0 {
			ctrl.LoggerFrom(ctx).Info("Deleting an unused model cache", "unusedSince", mc.Status.UnusedSince.Time, "ttl", ttl)
			r.event(mc, corev1.EventTypeNormal, "Collected", "no LLMDeployment has used the cache for %s (the class's TTL): deleting it", ttl)
			return ctrl.Result{}, client.IgnoreNotFound(r.Delete(ctx, mc))
		}
		requeue = minPositive(requeue, left)
	}

	class, ok := r.Config.ModelCache.Class(mc.Spec.ClassName)
	if !ok {
		setStalled(mc, v1.ReasonCacheClassNotFound, fmt.Sprintf("the operator configuration has no cache class %q: use one of %v, or ask the platform team to add it",
			mc.Spec.ClassName, r.Config.ModelCache.ClassNames()))
		return ctrl.Result{RequeueAfter: requeue}, nil
	}
	if cache.IsReady(mc) {
		return ctrl.Result{RequeueAfter: requeue}, nil
	}

	claimName := mc.Name
	if cache.IsPVC(mc.Spec) {
		claimName, _ = cache.PVC(mc.Spec) // the user's: checked, never written, not ours to create
	} else {
		claim := render.CacheClaim(mc, class)
		if err := r.createOwned(ctx, mc, claim, &corev1.PersistentVolumeClaim{}); err != nil {
			return ctrl.Result{}, err
		}
	}
	mc.Status.ClaimName, mc.Status.Path = claimName, cache.Path(mc.Spec)
	job := render.CacheJob(mc, class, r.Config.ModelCache.LoaderImage)
	live := &batchv1.Job{}
	if err := r.Get(ctx, client.ObjectKeyFromObject(job), live); apierrors.IsNotFound(err) {
		// No Job and not Ready: a new attempt (the first one, or someone deleted the failed Job to retry).
		if err := r.createOwned(ctx, mc, job, &batchv1.Job{}); err != nil {
			return ctrl.Result{}, err
		}
		setDownloading(mc, "created the download Job "+job.Name)
		r.event(mc, corev1.EventTypeNormal, v1.ReasonDownloading, "downloading %s at %s with the Job %s", mc.Spec.Source, mc.Spec.Revision, job.Name)
		return ctrl.Result{RequeueAfter: minPositive(requeue, ProgressInterval)}, nil
	} else if err != nil {
		return ctrl.Result{}, err
	}
	pods, err := r.pods(ctx, mc)
	if err != nil {
		return ctrl.Result{}, err
	}
	after := r.observe(ctx, mc, live, pods, claimName, now)
	return ctrl.Result{RequeueAfter: minPositive(requeue, after)}, nil
}

// finalize lets a deleted cache go once no LLMDeployment uses it; the garbage collector then removes its volume
// and Job.
func (r *Reconciler) finalize(ctx context.Context, mc *v1.ModelCache, users []string) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(mc, cache.Finalizer) {
		return ctrl.Result{}, nil
	}
	if len(users) > 0 {
		before := mc.DeepCopy()
		mc.Status.Users = users
		if !slices.Equal(before.Status.Users, users) {
			r.event(mc, corev1.EventTypeWarning, "InUse", "the cache is deleted only once no LLMDeployment uses it; in use by %v", users)
		}
		return ctrl.Result{}, r.patchStatus(ctx, before, mc)
	}
	patch := client.MergeFrom(mc.DeepCopy())
	controllerutil.RemoveFinalizer(mc, cache.Finalizer)
	return ctrl.Result{}, client.IgnoreNotFound(r.Patch(ctx, mc, patch))
}

// createOwned creates obj, owned by the cache, unless it exists. Claims and Jobs are not re-applied: their specs
// are mostly immutable, and a changed rendering applies to the next cache, not to a download under way.
func (r *Reconciler) createOwned(ctx context.Context, mc *v1.ModelCache, obj, live client.Object) error {
	if err := r.Get(ctx, client.ObjectKeyFromObject(obj), live); err == nil {
		return nil
	} else if !apierrors.IsNotFound(err) {
		return err
	}
	if err := controllerutil.SetControllerReference(mc, obj, r.Scheme); err != nil {
		return err
	}
	if err := r.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating %s %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), err)
	}
	return nil
}

// pods are the download Job's pods, newest first.
func (r *Reconciler) pods(ctx context.Context, mc *v1.ModelCache) ([]corev1.Pod, error) {
	list := &corev1.PodList{}
	if err := r.List(ctx, list, client.InNamespace(mc.Namespace), client.MatchingLabels{cache.LabelModelCache: mc.Name}); err != nil {
		return nil, fmt.Errorf("listing the download pods: %w", err)
	}
	pods := list.Items
	slices.SortFunc(pods, func(a, b corev1.Pod) int { return b.CreationTimestamp.Compare(a.CreationTimestamp.Time) })
	return pods, nil
}

func (r *Reconciler) ttl(mc *v1.ModelCache) (time.Duration, bool) {
	class, ok := r.Config.ModelCache.Class(mc.Spec.ClassName)
	if !ok {
		return 0, false
	}
	return class.TTL.Duration, true
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reconciler) event(mc *v1.ModelCache, kind, reason, format string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(mc, nil, kind, reason, "Reconcile", format, args...)
	}
}

// patchStatus writes the status once per pass, and only when it changed.
func (r *Reconciler) patchStatus(ctx context.Context, before, after *v1.ModelCache) error {
	if equality.Semantic.DeepEqual(before.Status, after.Status) {
		return nil
	}
	if err := r.Status().Patch(ctx, after, client.MergeFrom(before)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("patching status: %w", err)
	}
	return nil
}

// setConditions writes the kstatus conditions: Ready, Reconciling while downloading, Stalled when it cannot.
func setConditions(mc *v1.ModelCache, ready, reconciling, stalled bool, reason, msg string) {
	cond := func(t string, on bool) {
		if !on {
			meta.RemoveStatusCondition(&mc.Status.Conditions, t)
			return
		}
		meta.SetStatusCondition(&mc.Status.Conditions, metav1.Condition{Type: t, Status: metav1.ConditionTrue,
			Reason: reason, Message: msg, ObservedGeneration: mc.Generation})
	}
	status := metav1.ConditionFalse
	if ready {
		status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&mc.Status.Conditions, metav1.Condition{Type: v1.ConditionReady, Status: status,
		Reason: reason, Message: msg, ObservedGeneration: mc.Generation})
	cond(v1.ConditionReconciling, reconciling)
	cond(v1.ConditionStalled, stalled)
}

func setDownloading(mc *v1.ModelCache, msg string) {
	setConditions(mc, false, true, false, v1.ReasonDownloading, msg)
}

func setStalled(mc *v1.ModelCache, reason, msg string) {
	setConditions(mc, false, false, true, reason, msg)
}

func minPositive(a, b time.Duration) time.Duration {
	switch {
	case a <= 0:
		return b
	case b <= 0:
		return a
	}
	return min(a, b)
}

// SetupWithManager registers the reconciler: ModelCaches, their claims, Jobs and pods, and the LLMDeployments
// that use them (users.go).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := IndexUsers(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return err
	}
	if err := registerMetrics(mgr.GetCache()); err != nil {
		return fmt.Errorf("registering metrics: %w", err)
	}
	podToCache := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		name := o.GetLabels()[cache.LabelModelCache]
		if name == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: name}}}
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1.ModelCache{}).
		Owns(&batchv1.Job{}).
		Owns(&corev1.PersistentVolumeClaim{}).
		Watches(&corev1.Pod{}, podToCache).
		Watches(&v1.LLMDeployment{}, usersChanged{}).
		Named("modelcache").
		Complete(r)
}

// usersChanged enqueues the caches an LLMDeployment used before and after a change.
type usersChanged struct{}

func (usersChanged) Create(_ context.Context, e event.TypedCreateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	enqueueCache(e.Object, q)
}

func (usersChanged) Update(_ context.Context, e event.TypedUpdateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	if usedCache(e.ObjectOld) != usedCache(e.ObjectNew) || e.ObjectNew.GetDeletionTimestamp() != nil {
		enqueueCache(e.ObjectOld, q)
		enqueueCache(e.ObjectNew, q)
	}
}

func (usersChanged) Delete(_ context.Context, e event.TypedDeleteEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	enqueueCache(e.Object, q)
}

func (usersChanged) Generic(_ context.Context, e event.TypedGenericEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	enqueueCache(e.Object, q)
}

func enqueueCache(o client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	if name := usedCache(o); name != "" {
		q.Add(reconcile.Request{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: name}})
	}
}
