package catalog

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/apikey"
)

func model(ns, name, served string, shared ...string) *v1.LLMDeployment {
	l := &v1.LLMDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	l.Spec.Model.ServedName = served
	if shared != nil {
		l.Spec.Gateway = &v1.GatewaySpec{SharedWith: shared}
	}
	return l
}

func issue(t *testing.T, c *Catalog, ns, name string, models []string, expires *time.Time) string {
	t.Helper()
	g, err := apikey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	k := &v1.APIKey{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: v1.APIKeySpec{Models: models}}
	h := v1.APIKeyHash{ID: g.ID, Hash: g.Hash}
	if expires != nil {
		h.ExpiresAt = &metav1.Time{Time: *expires}
	}
	k.Status.Keys = []v1.APIKeyHash{h}
	c.SetAPIKey(k)
	return g.Key
}

func TestAuthenticate(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	c := New()
	good := issue(t, c, "team-a", "k", nil, nil)
	past := now.Add(-time.Second)
	expired := issue(t, c, "team-a", "old", nil, &past)
	id, ok := c.Authenticate(good, now)
	if !ok || id.Namespace != "team-a" || id.Name != "k" || id.KeyID == "" {
		t.Fatalf("a published key: %+v %v", id, ok)
	}
	if _, ok := c.Authenticate(expired, now); ok {
		t.Error("an expired key was accepted")
	}
	forged := good[:len(good)-1] + "A"
	if forged == good {
		forged = good[:len(good)-1] + "B"
	}
	if _, ok := c.Authenticate(forged, now); ok {
		t.Error("a key with the right ID and the wrong secret was accepted")
	}
	other, _ := apikey.Generate()
	if _, ok := c.Authenticate(other.Key, now); ok {
		t.Error("an unpublished key was accepted")
	}
	c.DeleteAPIKey("team-a", "k")
	if _, ok := c.Authenticate(good, now); ok {
		t.Error("the key of a deleted APIKey was accepted")
	}
}

// TestRotationReplacesKeys: a new status replaces the old set, so a key dropped from status is refused at once.
func TestRotationReplacesKeys(t *testing.T) {
	c := New()
	first := issue(t, c, "ns", "k", nil, nil)
	second := issue(t, c, "ns", "k", nil, nil)
	now := time.Now()
	if _, ok := c.Authenticate(first, now); ok {
		t.Error("a key no longer in status was accepted")
	}
	if _, ok := c.Authenticate(second, now); !ok {
		t.Error("the current key was refused")
	}
}

func TestAccess(t *testing.T) {
	c := New()
	c.SetModel(model("team-a", "llama", "llama-8b"))
	c.SetModel(model("team-b", "llama", "llama-8b", "team-a"))
	c.SetModel(model("team-b", "qwen", "qwen", "team-a"))
	c.SetModel(model("team-c", "mixtral", "mixtral", "*"))
	c.SetModel(model("team-d", "private", "private"))
	now := time.Now()
	ident := func(ns string, models []string) Identity {
		k := issue(t, c, ns, "key-"+ns, models, nil)
		id, ok := c.Authenticate(k, now)
		if !ok {
			t.Fatal("key refused")
		}
		return id
	}
	cases := []struct {
		name   string
		id     Identity
		served string
		want   string // ref of the resolved model, "" for none
	}{
		{"own namespace wins over a shared model of the same name", ident("team-a", nil), "llama-8b", "team-a/llama"},
		{"a model shared with the namespace", ident("team-a", nil), "qwen", "team-b/qwen"},
		{"a model shared with every namespace", ident("team-x", nil), "mixtral", "team-c/mixtral"},
		{"a model not shared", ident("team-a", nil), "private", ""},
		{"a model shared with others only", ident("team-x", nil), "qwen", ""},
		{"unknown model", ident("team-a", nil), "gpt-4", ""},
		{"spec.models narrows: own model listed", ident("team-b", []string{"llama"}), "llama-8b", "team-b/llama"},
		{"spec.models narrows: own model not listed", ident("team-b", []string{"llama"}), "qwen", ""},
		{"spec.models lists a shared model", ident("team-a", []string{"team-b/qwen"}), "qwen", "team-b/qwen"},
		{"spec.models lists a model not shared", ident("team-a", []string{"team-d/private"}), "private", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := c.Resolve(tc.id, tc.served)
			got := ""
			if ok {
				got = m.Ref()
			}
			if got != tc.want {
				t.Errorf("Resolve(%s, %q) = %q, want %q", tc.id.Namespace, tc.served, got, tc.want)
			}
		})
	}
	var names []string
	for _, m := range c.Models(ident("team-a", nil)) {
		names = append(names, m.Ref())
	}
	if want := []string{"team-a/llama", "team-c/mixtral", "team-b/qwen"}; !equal(names, want) {
		t.Errorf("Models(team-a) = %v, want %v", names, want)
	}
	c.DeleteModel("team-a", "llama")
	if m, ok := c.Resolve(ident("team-a", nil), "llama-8b"); !ok || m.Ref() != "team-b/llama" {
		t.Errorf("after deleting its own, team-a must reach the shared one: %v", m)
	}
}

func slice(ns, svc, name string, ready bool, ips ...string) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To(ServicePortName), Port: ptr.To(int32(8000)), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	for _, ip := range ips {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready)}})
	}
	return s
}

// TestEndpointsReachWaitingRequests: a request waiting on a model at zero replicas wakes when its Service's slice
// gets a ready endpoint, whether the slice or the model was seen first; unready endpoints are not used.
func TestEndpointsReachWaitingRequests(t *testing.T) {
	c := New()
	c.SetEndpointSlice(slice("ns", "llama", "llama-abc", false, "10.0.0.1"))
	c.SetModel(model("ns", "llama", "llama"))
	id, ok := c.Authenticate(issue(t, c, "ns", "k", nil, nil), time.Now())
	if !ok {
		t.Fatal("key refused")
	}
	m, ok := c.Resolve(id, "llama")
	if !ok || m.Pool.Len() != 0 {
		t.Fatalf("model %v with %d endpoints, want it with none ready", ok, m.Pool.Len())
	}
	woke := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		woke <- m.Pool.WaitReady(ctx)
	}()
	c.SetEndpointSlice(slice("ns", "llama", "llama-abc", true, "10.0.0.1", "10.0.0.2"))
	if err := <-woke; err != nil {
		t.Fatalf("the waiting request did not wake: %v", err)
	}
	if m.Pool.Len() != 2 {
		t.Errorf("%d endpoints, want 2", m.Pool.Len())
	}
	c.DeleteEndpointSlice("ns", "llama-abc", map[string]string{discoveryv1.LabelServiceName: "llama"})
	if m.Pool.Len() != 0 {
		t.Errorf("%d endpoints after the slice went, want 0", m.Pool.Len())
	}
	// Slices of Services that are not models' are kept apart and harmless.
	c.SetEndpointSlice(slice("ns", "kubernetes", "kubernetes", true, "10.0.0.9"))
	if m.Pool.Len() != 0 {
		t.Error("another Service's endpoints reached the model")
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
