package apikey

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

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
	if err := bindOperatorRole(filepath.Join(root, "config", "rbac", "role.yaml")); err != nil {
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

// bindOperatorRole installs the generated ClusterRole and binds it to operatorUser.
func bindOperatorRole(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.UnmarshalStrict(raw, role); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	ctx := context.Background()
	if err := k8sClient.Create(ctx, role); err != nil {
		return fmt.Errorf("creating the operator's ClusterRole: %w", err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "privatellm-operator"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: operatorUser}},
	}
	return k8sClient.Create(ctx, binding)
}

func newNamespace(t *testing.T) string { return testutil.NewNamespace(t, k8sClient) }
