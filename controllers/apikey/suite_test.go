package apikey

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/privatellm/privatellm/test/testutil"
)

// The suite runs the APIKey reconciler against a real kube-apiserver and etcd, as a user that holds only the
// operator's generated ClusterRole (config/rbac/role.yaml): what the reconciler does must be allowed by it, and
// reading a Secret is not.

const operatorUser = "privatellm-operator"

var (
	testScheme = testutil.NewScheme()
	// k8sClient is an administrator's client; operatorClient acts as the operator.
	k8sClient, operatorClient client.Client
	gatewayURL                = "http://privatellm-gateway.privatellm-system.svc/v1"
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	root := filepath.Join("..", "..")
	env, err := testutil.StartEnvtest(root, testScheme)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer env.Stop()
	k8sClient = env.Client
	if err := testutil.BindClusterRole(context.Background(), k8sClient, filepath.Join(root, "config", "rbac", "role.yaml"), operatorUser); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: operatorUser}
	if operatorClient, err = client.New(cfg, client.Options{Scheme: testScheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: testScheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	if err != nil {
		fmt.Fprintf(os.Stderr, "manager: %v\n", err)
		return 1
	}
	if err := (&Reconciler{Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Recorder: mgr.GetEventRecorder("privatellm"), GatewayURL: gatewayURL}).SetupWithManager(mgr); err != nil {
		fmt.Fprintf(os.Stderr, "setup: %v\n", err)
		return 1
	}
	defer testutil.StartManager(mgr)()
	return m.Run()
}

func newNamespace(t *testing.T) string { return testutil.NewNamespace(t, k8sClient) }
