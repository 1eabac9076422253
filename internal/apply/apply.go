// Package apply server-side applies the operator's children with its one field manager, and skips requests whose
// desired state the live object already carries, so that an idle operator writes nothing. DryRun has the API server
// check rendered children without persisting them (the admission webhook's check).
package apply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// FieldManager is the one field manager the operator applies its children with.
const FieldManager = "privatellm"

// Applier applies rendered children with server-side apply and skips the request when the same desired state was
// already applied to the live object's current version, so an idle operator makes no writes. The version is the
// metadata.generation for objects that have one (a Deployment's status updates then cost no re-apply), else the
// resourceVersion.
type Applier struct {
	client client.Client
	mu     sync.Mutex
	// applied maps an object to the hash of what was last applied and the resourceVersion that produced.
	applied map[string]appliedState
}

type appliedState struct {
	hash    string
	version string
}

// version is what identifies a state of the live object for the skip: its generation when it has one.
func version(obj client.Object) string {
	if g := obj.GetGeneration(); g > 0 {
		return fmt.Sprintf("g%d", g)
	}
	return "rv" + obj.GetResourceVersion()
}

// New returns an Applier that writes through c.
func New(c client.Client) *Applier {
	return &Applier{client: c, applied: map[string]appliedState{}}
}

// Apply server-side applies desired (a typed object with TypeMeta set) unless live — the object as the cache has
// it, or nil — already carries exactly this applied state. It returns the object after the apply, in live's type.
func (a *Applier) Apply(ctx context.Context, desired client.Object, live client.Object) (client.Object, bool, error) {
	u, err := ToApplyObject(desired)
	if err != nil {
		return nil, false, err
	}
	raw, err := json.Marshal(u.Object)
	if err != nil {
		return nil, false, fmt.Errorf("hashing %s: %w", desired.GetName(), err)
	}
	sum := sha256.Sum256(raw)
	hash := hex.EncodeToString(sum[:])
	key := fmt.Sprintf("%s/%s/%s", u.GetKind(), desired.GetNamespace(), desired.GetName())

	if live != nil {
		a.mu.Lock()
		st, ok := a.applied[key]
		a.mu.Unlock()
		if ok && st.hash == hash && st.version == version(live) {
			return live, false, nil
		}
	}
	if err := a.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return nil, false, fmt.Errorf("applying %s %s: %w", u.GetKind(), types.NamespacedName{Namespace: desired.GetNamespace(), Name: desired.GetName()}, err)
	}
	a.mu.Lock()
	a.applied[key] = appliedState{hash: hash, version: version(u)}
	a.mu.Unlock()

	out := desired.DeepCopyObject().(client.Object)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out); err != nil {
		return nil, true, fmt.Errorf("decoding applied %s: %w", u.GetKind(), err)
	}
	return out, true, nil
}

// Forget drops what is known of an object, e.g. when its owner is gone.
func (a *Applier) Forget(kind, namespace, name string) {
	a.mu.Lock()
	delete(a.applied, fmt.Sprintf("%s/%s/%s", kind, namespace, name))
	a.mu.Unlock()
}

// DryRun server-side applies obj as the operator would, without persisting it: the API server defaults and
// validates it exactly as it would the real apply and answers with the same errors.
func DryRun(ctx context.Context, c client.Client, obj client.Object) error {
	u, err := ToApplyObject(obj)
	if err != nil {
		return err
	}
	return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership, client.DryRunAll)
}

// ToApplyObject converts a typed object into the apply request: only the fields the renderer set (omitempty
// leaves the rest out), without status and without the null timestamps typed objects carry.
func ToApplyObject(obj client.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("converting %s for apply: %w", obj.GetName(), err)
	}
	delete(m, "status")
	dropNulls(m)
	return &unstructured.Unstructured{Object: m}, nil
}

func dropNulls(m map[string]any) {
	for k, v := range m {
		switch t := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			dropNulls(t)
		case []any:
			for _, e := range t {
				if em, ok := e.(map[string]any); ok {
					dropNulls(em)
				}
			}
		}
	}
}
