// Package apikey is the APIKey reconciler: it generates a key, writes it into the owner's Secret and publishes
// only its hash in status (internal/apikey has the format), rotates it on request or before it expires, and keeps
// the previous key valid for the rotation overlap.
//
// The operator writes Secrets but never reads one: its RBAC on Secrets is create and update, without get, list,
// watch or patch (whose answers would carry other Secrets' data). It creates the Secret and records its UID; a
// rotation replaces that Secret with an update carrying the UID, which the API server refuses if the Secret of that
// name is another one, so the operator overwrites only what it created. The price: a Secret deleted by hand is not
// noticed until the next rotation (raise spec.rotation to write a new one).
package apikey

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/apikey"
	"github.com/privatellm/privatellm/internal/render"
)

// Condition reasons of an APIKey.
const (
	// ReasonKeyIssued: the current key is in its Secret and published.
	ReasonKeyIssued = "KeyIssued"
	// ReasonSecretWriteFailed: the Secret could not be written.
	ReasonSecretWriteFailed = "SecretWriteFailed"
	// ReasonSecretConflict: a Secret of that name exists that the operator did not create.
	ReasonSecretConflict = "SecretConflict"
)

// Secret keys of a key's Secret.
const (
	SecretKeyAPIKey  = "apiKey"
	SecretKeyOpenAI  = "OPENAI_API_KEY"
	SecretKeyBaseURL = "OPENAI_BASE_URL"
)

// Reconciler reconciles APIKeys into a Secret each and the hashes in their status.
type Reconciler struct {
	client.Client
	Scheme   *runtime.Scheme
	Recorder events.EventRecorder
	// GatewayURL, when set, goes into every key's Secret as OPENAI_BASE_URL.
	GatewayURL string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Generate makes keys (apikey.Generate when nil).
	Generate func() (apikey.Generated, error)
}

// +kubebuilder:rbac:groups=serving.privatellm.dev,resources=apikeys,verbs=get;list;watch
// +kubebuilder:rbac:groups=serving.privatellm.dev,resources=apikeys/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=serving.privatellm.dev,resources=apikeys/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=create;update
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile issues, rotates and retires the keys of one APIKey.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	key := &v1.APIKey{}
	if err := r.Get(ctx, req.NamespacedName, key); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !key.DeletionTimestamp.IsZero() {
		// The Secret is owned by the APIKey: the garbage collector removes it.
		return ctrl.Result{}, nil
	}
	before := key.DeepCopy()
	defer func() {
		if err := r.patchStatus(ctx, before, key); err != nil {
			retErr = errors.Join(retErr, err)
		}
	}()

	now := r.now()
	plan := planKeys(key, now)
	if plan.issue {
		g, err := r.generate()
		if err != nil {
			return ctrl.Result{}, err
		}
		uid := ""
		if key.Status.SecretName == plan.secretName {
			uid = key.Status.SecretUID
		}
		uid, err = r.writeSecret(ctx, key, plan.secretName, uid, g.Key)
		switch {
		case errors.Is(err, errNotOurs):
			setCondition(key, false, true, ReasonSecretConflict, fmt.Sprintf(
				"Secret %s exists and was not created for this APIKey: the operator does not overwrite it; choose another spec.secretName, or delete that Secret", plan.secretName))
			return ctrl.Result{}, nil
		case apierrors.IsForbidden(err) || apierrors.IsInvalid(err):
			setCondition(key, false, true, ReasonSecretWriteFailed, fmt.Sprintf("cannot write Secret %s: %v", plan.secretName, err))
			return ctrl.Result{RequeueAfter: 5 * time.Minute}, nil
		case err != nil:
			setCondition(key, false, false, ReasonSecretWriteFailed, fmt.Sprintf("cannot write Secret %s; retrying", plan.secretName))
			return ctrl.Result{}, err
		}
		key.Status.Keys = plan.withNewKey(g, now)
		key.Status.SecretName, key.Status.SecretUID = plan.secretName, uid
		r.event(key, corev1.EventTypeNormal, ReasonKeyIssued, fmt.Sprintf("Wrote key %s into Secret %s", g.ID, plan.secretName))
	} else {
		key.Status.Keys = plan.kept
	}
	setCondition(key, true, false, ReasonKeyIssued, fmt.Sprintf("the key is in Secret %s; only its hash is published", key.Status.SecretName))
	key.Status.ObservedGeneration = key.Generation
	if next := nextChange(key, now); !next.IsZero() {
		return ctrl.Result{RequeueAfter: next.Sub(now)}, nil
	}
	return ctrl.Result{}, nil
}

// keyPlan is what a pass does with an APIKey's keys. Pure: planKeys decides it from the object and the time.
type keyPlan struct {
	// issue is true when a new key must be generated (none yet, a rotation asked for, the current one close to
	// its end, or a new Secret name).
	issue bool
	// secretName is the Secret the current key goes into.
	secretName string
	// kept are the published keys still valid now, current first.
	kept []v1.APIKeyHash
	// overlap is how long a replaced key stays valid.
	overlap time.Duration
	// lifetime of a new key; 0: no expiry.
	lifetime time.Duration
	// rotation is the spec.rotation a new key is issued for.
	rotation int64
}

func planKeys(key *v1.APIKey, now time.Time) keyPlan {
	p := keyPlan{secretName: key.Spec.SecretName, overlap: time.Hour, rotation: key.Spec.Rotation}
	if p.secretName == "" {
		p.secretName = key.Name
	}
	if d := key.Spec.RotationOverlap; d != nil {
		p.overlap = d.Duration
	}
	if d := key.Spec.ExpiresAfter; d != nil {
		p.lifetime = d.Duration
	}
	for _, k := range key.Status.Keys {
		if k.ExpiresAt == nil || now.Before(k.ExpiresAt.Time) {
			p.kept = append(p.kept, k)
		}
	}
	switch {
	case len(p.kept) == 0 || len(key.Status.Keys) > 0 && p.kept[0].ID != key.Status.Keys[0].ID:
		// No key, or the current one has expired.
		p.issue = true
	case p.kept[0].Rotation < key.Spec.Rotation:
		p.issue = true
	case key.Status.SecretName != p.secretName:
		p.issue = true
	case p.kept[0].ExpiresAt != nil && !now.Before(p.kept[0].ExpiresAt.Add(-p.overlap)):
		// Rotate before the end, so the Secret holds a fresh key while the old one is still accepted.
		p.issue = true
	}
	return p
}

// withNewKey is the published keys after issuing g: g first, the previous current key until the overlap ends (or
// its own expiry, if sooner); older ones go, as at most two keys are valid at once.
func (p keyPlan) withNewKey(g apikey.Generated, now time.Time) []v1.APIKeyHash {
	next := v1.APIKeyHash{ID: g.ID, Hash: g.Hash, Rotation: p.rotation, CreatedAt: metav1.NewTime(now)}
	if p.lifetime > 0 {
		next.ExpiresAt = ptrTime(now.Add(p.lifetime))
	}
	out := []v1.APIKeyHash{next}
	if len(p.kept) > 0 && p.overlap > 0 {
		prev := p.kept[0]
		end := now.Add(p.overlap)
		if prev.ExpiresAt == nil || end.Before(prev.ExpiresAt.Time) {
			prev.ExpiresAt = ptrTime(end)
		}
		out = append(out, prev)
	}
	return out
}

// nextChange is the next time the published keys change by themselves: a previous key's end, or the current
// key's rotation time.
func nextChange(key *v1.APIKey, now time.Time) time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	overlap := time.Hour
	if d := key.Spec.RotationOverlap; d != nil {
		overlap = d.Duration
	}
	for i, k := range key.Status.Keys {
		if k.ExpiresAt == nil {
			continue
		}
		if i == 0 {
			consider(k.ExpiresAt.Add(-overlap))
		} else {
			consider(k.ExpiresAt.Time)
		}
	}
	return next
}

// errNotOurs is a Secret the operator did not create, under the name it should write.
var errNotOurs = errors.New("not ours")

// writeSecret writes the key into the Secret without reading it: a new Secret is created (and its UID returned); the
// operator's own Secret (uid) is replaced by an update that carries its UID, which the API server refuses when the
// Secret of that name is another one. A Secret of the name that the operator did not create is errNotOurs.
func (r *Reconciler) writeSecret(ctx context.Context, key *v1.APIKey, name, uid, value string) (string, error) {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: key.Namespace, UID: types.UID(uid), Labels: map[string]string{
			render.LabelManagedBy: render.ManagedByValue, "serving.privatellm.dev/apikey": key.Name,
		}},
		Type:       corev1.SecretTypeOpaque,
		StringData: map[string]string{SecretKeyAPIKey: value, SecretKeyOpenAI: value},
	}
	if r.GatewayURL != "" {
		s.StringData[SecretKeyBaseURL] = r.GatewayURL
	}
	if err := controllerutil.SetControllerReference(key, s, r.Scheme); err != nil {
		return "", fmt.Errorf("owner reference: %w", err)
	}
	if uid != "" {
		err := r.Update(ctx, s)
		switch {
		case err == nil:
			return uid, nil
		case apierrors.IsInvalid(err) || apierrors.IsConflict(err):
			// The UID does not match: the Secret was replaced by someone else's.
			return "", errNotOurs
		case !apierrors.IsNotFound(err):
			return "", err
		}
		// Deleted: create it again.
		s.UID = ""
	}
	if err := r.Create(ctx, s); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return "", errNotOurs
		}
		return "", err
	}
	return string(s.UID), nil
}

func setCondition(key *v1.APIKey, ready, stalled bool, reason, msg string) {
	gen := key.Generation
	c := metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionFalse, Reason: reason, Message: msg, ObservedGeneration: gen}
	if ready {
		c.Status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&key.Status.Conditions, c)
	switch {
	case ready:
		meta.RemoveStatusCondition(&key.Status.Conditions, v1.ConditionReconciling)
		meta.RemoveStatusCondition(&key.Status.Conditions, v1.ConditionStalled)
	case stalled:
		meta.RemoveStatusCondition(&key.Status.Conditions, v1.ConditionReconciling)
		meta.SetStatusCondition(&key.Status.Conditions, metav1.Condition{Type: v1.ConditionStalled, Status: metav1.ConditionTrue, Reason: reason, Message: msg, ObservedGeneration: gen})
	default:
		meta.RemoveStatusCondition(&key.Status.Conditions, v1.ConditionStalled)
		meta.SetStatusCondition(&key.Status.Conditions, metav1.Condition{Type: v1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: reason, Message: msg, ObservedGeneration: gen})
	}
}

func (r *Reconciler) patchStatus(ctx context.Context, before, after *v1.APIKey) error {
	if equality.Semantic.DeepEqual(before.Status, after.Status) {
		return nil
	}
	if err := r.Status().Patch(ctx, after, client.MergeFrom(before)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("patching status: %w", err)
	}
	return nil
}

func (r *Reconciler) event(key *v1.APIKey, kind, reason, msg string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(key, nil, kind, reason, "Reconcile", "%s", msg)
	}
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reconciler) generate() (apikey.Generated, error) {
	if r.Generate != nil {
		return r.Generate()
	}
	return apikey.Generate()
}

func ptrTime(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t)
	return &mt
}

// SetupWithManager registers the reconciler. Secrets are not watched: the operator may not read them.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1.APIKey{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("apikey").
		Complete(r)
}
