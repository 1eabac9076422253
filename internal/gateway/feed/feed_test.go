package feed_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/apikey"
	"github.com/privatellm/privatellm/internal/gateway/catalog"
	"github.com/privatellm/privatellm/internal/gateway/feed"
	"github.com/privatellm/privatellm/internal/render"
	"github.com/privatellm/privatellm/test/testutil"
)

// TestFeedAsTheGatewaysRole runs the gateway's watches against a real kube-apiserver as a user that holds only
// config/gateway/role.yaml (what the chart grants the gateway): the catalog learns the keys, the models and their
// endpoints, and the replicas are counted from the gateway's own Service. A rule missing from the role fails the
// manager's caches to sync, and so this test.
func TestFeedAsTheGatewaysRole(t *testing.T) {
	scheme := testutil.NewScheme()
	env, err := testutil.StartEnvtest(filepath.Join("..", "..", ".."), scheme)
	if errors.Is(err, testutil.ErrNoEnvtest) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer env.Stop()
	ctx := context.Background()
	admin := env.Client
	if err := testutil.BindClusterRole(context.Background(), admin, filepath.Join("..", "..", "..", "config", "gateway", "role.yaml"), "privatellm-gateway"); err != nil {
		t.Fatal(err)
	}

	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "privatellm-gateway"}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Cache: feed.CacheOptions(), Metrics: metricsserver.Options{BindAddress: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.New()
	if err := feed.Setup(ctx, mgr, cat); err != nil {
		t.Fatal(err)
	}
	peers, err := feed.WatchPeers(ctx, mgr, "privatellm-system", "privatellm-gateway")
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.StartManager(mgr)()
	syncCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if !mgr.GetCache().WaitForCacheSync(syncCtx) {
		t.Fatal("the gateway's caches did not sync as its role: a rule is missing from config/gateway/role.yaml")
	}

	ns := testutil.NewNamespace(t, admin)
	if err := admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "privatellm-system"}}); err != nil {
		t.Fatal(err)
	}
	llm := &v1.LLMDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "chat"}}
	llm.Spec.Model.URI = "hf://meta-llama/Llama-3.1-8B-Instruct"
	llm.Spec.Model.ServedName = "chat"
	llm.Spec.GPU.Count = ptr.To(int32(1))
	if err := admin.Create(ctx, llm); err != nil {
		t.Fatal(err)
	}
	g, err := apikey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	key := &v1.APIKey{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "team"}}
	if err := admin.Create(ctx, key); err != nil {
		t.Fatal(err)
	}
	key.Status.Keys = []v1.APIKeyHash{{ID: g.ID, Hash: g.Hash, CreatedAt: metav1.Now()}}
	if err := admin.Status().Update(ctx, key); err != nil {
		t.Fatal(err)
	}
	// The model's slice, as the EndpointSlice controller writes it from the operator's Service (which envtest does
	// not run): the Service's labels, managed-by privatellm among them, plus the service-name label.
	modelSlice := slice(ns, "chat-abc", "chat", render.Labels(llm), endpoint("10.0.0.1", false), endpoint("10.0.0.2", true))
	if err := admin.Create(ctx, modelSlice); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*discoveryv1.EndpointSlice{
		slice("privatellm-system", "gw-a", "privatellm-gateway", nil, endpoint("10.1.0.1", false), endpoint("10.1.0.2", false)),
		slice("privatellm-system", "gw-b", "privatellm-gateway", nil, endpoint("10.1.0.3", true)),
		// Another Service's slice in the same namespace is no peer.
		slice("privatellm-system", "other", "privatellm", nil, endpoint("10.1.0.9", false)),
	} {
		if err := admin.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}

	testutil.Eventually(t, 30*time.Second, func() error {
		id, ok := cat.Authenticate(g.Key, time.Now())
		if !ok {
			return errors.New("the key is not known")
		}
		m, ok := cat.Resolve(id, llm.Spec.Model.ServedName)
		if !ok {
			return fmt.Errorf("model %q not resolved for the key", llm.Spec.Model.ServedName)
		}
		if n := m.Pool.Len(); n != 1 {
			return fmt.Errorf("the model has %d endpoints, want the 1 ready and not terminating", n)
		}
		if n := peers.Count(7); n != 2 {
			return fmt.Errorf("counted %d gateway replicas, want 2 (the terminating one is not a peer)", n)
		}
		return nil
	})

	// A replica scales in: the count follows.
	if err := admin.Delete(ctx, &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "privatellm-system", Name: "gw-a"}}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 30*time.Second, func() error {
		if n := peers.Count(7); n != 1 {
			return fmt.Errorf("counted %d gateway replicas with none listed, want at least 1 (itself)", n)
		}
		return nil
	})
}

func slice(ns, name, service string, labels map[string]string, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	l := map[string]string{discoveryv1.LabelServiceName: service}
	for k, v := range labels {
		l[k] = v
	}
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name, Labels: l},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To(catalog.ServicePortName), Port: ptr.To[int32](8000)}},
		Endpoints:   eps,
	}
}

func endpoint(ip string, terminating bool) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{
		Addresses:  []string{ip},
		Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(!terminating), Serving: ptr.To(true), Terminating: ptr.To(terminating)},
		TargetRef:  &corev1.ObjectReference{Kind: "Pod", Name: "pod-" + ip, UID: types.UID("uid-" + ip)},
	}
}
