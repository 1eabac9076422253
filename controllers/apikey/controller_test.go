package apikey

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/apikey"
	"github.com/privatellm/privatellm/test/testutil"
)

const waitFor = 20 * time.Second

func published(id string, rotation int64, expires *time.Time) v1.APIKeyHash {
	h := v1.APIKeyHash{ID: id, Hash: "sha256:" + id, Rotation: rotation}
	if expires != nil {
		h.ExpiresAt = ptrTime(*expires)
	}
	return h
}

func TestPlanKeys(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	hour := &metav1.Duration{Duration: time.Hour}
	day := &metav1.Duration{Duration: 24 * time.Hour}
	cases := []struct {
		name  string
		spec  v1.APIKeySpec
		keys  []v1.APIKeyHash
		issue bool
		kept  []string
	}{
		{"first key", v1.APIKeySpec{}, nil, true, nil},
		{"steady", v1.APIKeySpec{}, []v1.APIKeyHash{published("a", 0, nil)}, false, []string{"a"}},
		{"rotation raised", v1.APIKeySpec{Rotation: 1}, []v1.APIKeyHash{published("a", 0, nil)}, true, []string{"a"}},
		{"previous key past its overlap is dropped", v1.APIKeySpec{}, []v1.APIKeyHash{published("b", 0, nil), published("a", 0, at(-time.Second))}, false, []string{"b"}},
		{"previous key within its overlap stays", v1.APIKeySpec{}, []v1.APIKeyHash{published("b", 0, nil), published("a", 0, at(time.Minute))}, false, []string{"b", "a"}},
		{"expiring key rotates one overlap before its end", v1.APIKeySpec{ExpiresAfter: day, RotationOverlap: hour}, []v1.APIKeyHash{published("a", 0, at(59*time.Minute))}, true, []string{"a"}},
		{"a key far from its end stays", v1.APIKeySpec{ExpiresAfter: day, RotationOverlap: hour}, []v1.APIKeyHash{published("a", 0, at(2*time.Hour))}, false, []string{"a"}},
		{"an expired current key is replaced", v1.APIKeySpec{}, []v1.APIKeyHash{published("a", 0, at(-time.Minute))}, true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := &v1.APIKey{ObjectMeta: metav1.ObjectMeta{Name: "k"}, Spec: tc.spec, Status: v1.APIKeyStatus{Keys: tc.keys, SecretName: "k"}}
			p := planKeys(k, now)
			var kept []string
			for _, h := range p.kept {
				kept = append(kept, h.ID)
			}
			if p.issue != tc.issue || strings.Join(kept, ",") != strings.Join(tc.kept, ",") {
				t.Errorf("plan = issue %v kept %v; want %v %v", p.issue, kept, tc.issue, tc.kept)
			}
		})
	}
}

func TestWithNewKey(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	soon := now.Add(10 * time.Minute)
	p := keyPlan{kept: []v1.APIKeyHash{published("a", 0, nil), published("old", 0, nil)}, overlap: time.Hour, lifetime: 24 * time.Hour, rotation: 3}
	got := p.withNewKey(apikey.Generated{ID: "b", Hash: "sha256:b"}, now)
	if len(got) != 2 || got[0].ID != "b" || got[0].Rotation != 3 || !got[0].ExpiresAt.Time.Equal(now.Add(24*time.Hour)) {
		t.Fatalf("new key first, with its lifetime and rotation: %+v", got)
	}
	if got[1].ID != "a" || !got[1].ExpiresAt.Time.Equal(now.Add(time.Hour)) {
		t.Errorf("the previous key must stay for the overlap, older ones go: %+v", got)
	}
	// A previous key that expires before the overlap ends keeps its own end.
	p.kept = []v1.APIKeyHash{published("a", 0, &soon)}
	if got := p.withNewKey(apikey.Generated{ID: "b"}, now); !got[1].ExpiresAt.Time.Equal(soon) {
		t.Errorf("previous key's end moved: %v", got[1].ExpiresAt)
	}
	// Without an overlap the previous key goes at once.
	p.overlap = 0
	if got := p.withNewKey(apikey.Generated{ID: "b"}, now); len(got) != 1 {
		t.Errorf("overlap 0 kept %d keys", len(got))
	}
}

func createKey(t *testing.T, ns, name string, spec v1.APIKeySpec) {
	t.Helper()
	if err := k8sClient.Create(context.Background(), &v1.APIKey{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}); err != nil {
		t.Fatal(err)
	}
}

func waitForKey(t *testing.T, ns, name string, check func(*v1.APIKey) error) *v1.APIKey {
	t.Helper()
	k := &v1.APIKey{}
	testutil.Eventually(t, waitFor, func() error {
		if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, k); err != nil {
			return err
		}
		return check(k)
	})
	return k
}

func issued(k *v1.APIKey) error {
	r := meta.FindStatusCondition(k.Status.Conditions, v1.ConditionReady)
	if r == nil || r.Status != metav1.ConditionTrue || len(k.Status.Keys) == 0 || k.Status.ObservedGeneration != k.Generation {
		return fmt.Errorf("not issued: %+v", k.Status)
	}
	return nil
}

func secretKey(t *testing.T, ns, name string) (string, *corev1.Secret) {
	t.Helper()
	s := &corev1.Secret{}
	if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
		t.Fatal(err)
	}
	return string(s.Data[SecretKeyAPIKey]), s
}

// TestKeyIsWrittenAndOnlyItsHashPublished: the Secret holds a key whose hash is the published one, for env use
// (OPENAI_API_KEY, OPENAI_BASE_URL), owned by the APIKey; the APIKey itself carries no part of the secret.
func TestKeyIsWrittenAndOnlyItsHashPublished(t *testing.T) {
	ns := newNamespace(t)
	createKey(t, ns, "team-a", v1.APIKeySpec{SecretName: "team-a-openai"})
	k := waitForKey(t, ns, "team-a", issued)
	key, s := secretKey(t, ns, "team-a-openai")
	if !apikey.Matches(key, k.Status.Keys[0].Hash) {
		t.Fatalf("the Secret's key does not match the published hash %s", k.Status.Keys[0].Hash)
	}
	if id, _ := apikey.ID(key); id != k.Status.Keys[0].ID || k.Status.SecretName != "team-a-openai" {
		t.Errorf("id %s, status %+v", id, k.Status)
	}
	if string(s.Data[SecretKeyOpenAI]) != key || string(s.Data[SecretKeyBaseURL]) != gatewayURL {
		t.Errorf("Secret lacks the OpenAI client variables: %v", keysOf(s.Data))
	}
	if ref := metav1.GetControllerOf(s); ref == nil || ref.UID != k.UID {
		t.Errorf("Secret not owned by the APIKey: %+v", s.OwnerReferences)
	}
	raw, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	if secretPart := key[len("pllm-")+13:]; strings.Contains(string(raw), secretPart) {
		t.Error("the APIKey object carries the secret part of the key")
	}
}

// TestRotationKeepsThePreviousKey: raising spec.rotation writes a new key into the Secret and keeps the previous
// one valid for the overlap; a pass one overlap later (a clock moved forward) drops it.
func TestRotationKeepsThePreviousKey(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	createKey(t, ns, "rot", v1.APIKeySpec{RotationOverlap: &metav1.Duration{Duration: 30 * time.Minute}})
	first := waitForKey(t, ns, "rot", issued).Status.Keys[0]
	firstKey, _ := secretKey(t, ns, "rot")

	k := &v1.APIKey{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "rot"}, k); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(k.DeepCopy())
	k.Spec.Rotation = 1
	if err := k8sClient.Patch(ctx, k, patch); err != nil {
		t.Fatal(err)
	}
	k = waitForKey(t, ns, "rot", func(k *v1.APIKey) error {
		if err := issued(k); err != nil {
			return err
		}
		if len(k.Status.Keys) != 2 || k.Status.Keys[0].Rotation != 1 || k.Status.Keys[1].ID != first.ID || k.Status.Keys[1].ExpiresAt == nil {
			return fmt.Errorf("want the new key then the previous with an end: %+v", k.Status.Keys)
		}
		return nil
	})
	if left := time.Until(k.Status.Keys[1].ExpiresAt.Time); left < 25*time.Minute || left > 31*time.Minute {
		t.Errorf("previous key ends in %s, want about the 30m overlap", left)
	}
	newKey, _ := secretKey(t, ns, "rot")
	if newKey == firstKey || !apikey.Matches(newKey, k.Status.Keys[0].Hash) || !apikey.Matches(firstKey, k.Status.Keys[1].Hash) {
		t.Error("the Secret must hold the new key, and both hashes stay published")
	}

	later := &Reconciler{Client: operatorClient, Scheme: testScheme, Now: func() time.Time { return time.Now().Add(31 * time.Minute) }}
	if _, err := later.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: "rot"}}); err != nil {
		t.Fatal(err)
	}
	waitForKey(t, ns, "rot", func(k *v1.APIKey) error {
		if len(k.Status.Keys) != 1 || k.Status.Keys[0].ID == first.ID {
			return fmt.Errorf("the previous key must be gone after its overlap: %+v", k.Status.Keys)
		}
		return nil
	})
}

// TestOperatorCannotReadSecrets: the operator's ClusterRole writes Secrets but cannot read, list or watch any.
func TestOperatorCannotReadSecrets(t *testing.T) {
	ns := newNamespace(t)
	createKey(t, ns, "r", v1.APIKeySpec{})
	waitForKey(t, ns, "r", issued)
	err := operatorClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "r"}, &corev1.Secret{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("get Secret as the operator: %v, want Forbidden", err)
	}
	if err := operatorClient.List(context.Background(), &corev1.SecretList{}, client.InNamespace(ns)); !apierrors.IsForbidden(err) {
		t.Errorf("list Secrets as the operator: %v, want Forbidden", err)
	}
}

func keysOf(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func stalledWith(reason string) func(*v1.APIKey) error {
	return func(k *v1.APIKey) error {
		s := meta.FindStatusCondition(k.Status.Conditions, v1.ConditionStalled)
		if s == nil || s.Status != metav1.ConditionTrue || s.Reason != reason {
			return fmt.Errorf("not Stalled/%s: %+v", reason, k.Status.Conditions)
		}
		return nil
	}
}

// TestSecretsNotCreatedByTheOperatorAreLeftAlone: an APIKey naming an existing Secret, or whose Secret was
// replaced by someone else's, does not overwrite it (the operator cannot read it to check: the UID it recorded
// does the check).
func TestSecretsNotCreatedByTheOperatorAreLeftAlone(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	theirs := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hf-token"}, StringData: map[string]string{"token": "hf_theirs"}}
	if err := k8sClient.Create(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	createKey(t, ns, "clash", v1.APIKeySpec{SecretName: "hf-token"})
	k := waitForKey(t, ns, "clash", stalledWith(ReasonSecretConflict))
	if msg := meta.FindStatusCondition(k.Status.Conditions, v1.ConditionStalled).Message; !strings.Contains(msg, "choose another spec.secretName") {
		t.Errorf("message %q must say what to do", msg)
	}
	if len(k.Status.Keys) != 0 {
		t.Errorf("a key was published without a Secret: %+v", k.Status.Keys)
	}
	if tok, _ := secretKey(t, ns, "hf-token"); tok != "" {
		t.Errorf("the other Secret was written: apiKey=%q", tok)
	}
	s := &corev1.Secret{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "hf-token"}, s); err != nil || string(s.Data["token"]) != "hf_theirs" {
		t.Errorf("the other Secret changed: %v %v", err, keysOf(s.Data))
	}

	// The operator's Secret is replaced by someone else's of the same name; the next rotation must not touch it.
	createKey(t, ns, "replaced", v1.APIKeySpec{})
	waitForKey(t, ns, "replaced", issued)
	if err := k8sClient.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "replaced"}}); err != nil {
		t.Fatal(err)
	}
	impostor := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "replaced"}, StringData: map[string]string{"other": "data"}}
	if err := k8sClient.Create(ctx, impostor); err != nil {
		t.Fatal(err)
	}
	k = &v1.APIKey{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "replaced"}, k); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(k.DeepCopy())
	k.Spec.Rotation = 1
	if err := k8sClient.Patch(ctx, k, patch); err != nil {
		t.Fatal(err)
	}
	waitForKey(t, ns, "replaced", stalledWith(ReasonSecretConflict))
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "replaced"}, s); err != nil || string(s.Data["other"]) != "data" || len(s.Data) != 1 {
		t.Errorf("the replacing Secret was overwritten: %v %v", err, keysOf(s.Data))
	}
}
