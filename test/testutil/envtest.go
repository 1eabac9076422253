package testutil

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/yaml"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// The envtest suites (controllers/llmdeployment, controllers/autoscaler, internal/webhook) run against a real
// kube-apiserver and etcd, built from Go modules by hack/build-k8s-binaries.sh; `make test-integration` points
// KUBEBUILDER_ASSETS at them and sets RequireEnvtestEnv. envtest runs no controllers of Kubernetes: Deployment
// status and pods are written by the tests.

// RequireEnvtestEnv, when set, makes a missing KUBEBUILDER_ASSETS fail an envtest suite instead of skipping it.
const RequireEnvtestEnv = "PRIVATELLM_REQUIRE_ENVTEST"

// ErrNoEnvtest is returned by StartEnvtest when KUBEBUILDER_ASSETS is not set and the suite may skip.
var ErrNoEnvtest = errors.New("KUBEBUILDER_ASSETS is not set: the envtest tests need kube-apiserver and etcd (make test-integration)")

// Envtest is a running kube-apiserver and etcd with the repository's CRDs.
type Envtest struct {
	// Env is the envtest environment (its WebhookInstallOptions hold the webhook server's address and certs).
	Env *envtest.Environment
	// Config reaches the API server as an administrator.
	Config *rest.Config
	// Client is an administrator's client with Scheme.
	Client client.Client
}

// NewScheme is the client-go types and the LLMDeployment API.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1.AddToScheme(s))
	return s
}

// StartEnvtest starts the API server with the CRDs of <repoRoot>/config/crd/bases and test/crds installed and, when given, the
// webhook configurations of webhookDirs pointed at a local webhook server (see Env.WebhookInstallOptions). It
// sets the controller-runtime logger (errors only, unless TEST_VERBOSE_LOGS is set). Without KUBEBUILDER_ASSETS
// it returns ErrNoEnvtest, or a plain error when RequireEnvtestEnv is set.
func StartEnvtest(repoRoot string, scheme *runtime.Scheme, webhookDirs ...string) (*Envtest, error) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		if os.Getenv(RequireEnvtestEnv) != "" {
			return nil, fmt.Errorf("KUBEBUILDER_ASSETS is not set but %s is: run `make test-integration`, which builds kube-apiserver and etcd into bin/k8s", RequireEnvtestEnv)
		}
		return nil, ErrNoEnvtest
	}
	level := zapcore.ErrorLevel
	if os.Getenv("TEST_VERBOSE_LOGS") != "" {
		level = zapcore.DebugLevel
	}
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(level)))
	env := &envtest.Environment{
		// test/crds: third-party CRDs the operator works with when they are installed (InferencePool).
		CRDDirectoryPaths:     []string{filepath.Join(repoRoot, "config", "crd", "bases"), filepath.Join(repoRoot, "test", "crds")},
		ErrorIfCRDPathMissing: true,
	}
	if len(webhookDirs) > 0 {
		env.WebhookInstallOptions = envtest.WebhookInstallOptions{Paths: webhookDirs}
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting envtest: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("envtest client: %w", err)
	}
	return &Envtest{Env: env, Config: cfg, Client: c}, nil
}

// Stop stops the API server and etcd.
func (e *Envtest) Stop() {
	if err := e.Env.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stopping envtest: %v\n", err)
	}
}

// NewNamespace creates a namespace for one test, with the default ServiceAccount the pod admission plugin wants
// (envtest runs no controller that would make it).
func NewNamespace(t *testing.T, c client.Client) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "t-"}}
	if err := c.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns.Name}}
	if err := c.Create(context.Background(), sa); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// StartManager runs mgr in the background and returns the function that stops it and waits for it to return, at
// most 30s (a manager whose caches never synced, e.g. for want of RBAC, may not return; the test has failed then).
func StartManager(mgr manager.Manager) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				fmt.Fprintf(os.Stderr, "manager: %v\n", err)
			}
		case <-time.After(30 * time.Second):
			fmt.Fprintln(os.Stderr, "manager: did not stop within 30s")
		}
	}
}

// BindClusterRole installs the ClusterRole of the YAML file at path (a generated role, e.g. config/rbac/role.yaml)
// and binds it to user, so a client impersonating user acts with exactly that role.
func BindClusterRole(ctx context.Context, c client.Client, path, user string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.UnmarshalStrict(raw, role); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := c.Create(ctx, role); err != nil {
		return fmt.Errorf("creating the ClusterRole %s: %w", role.Name, err)
	}
	return c.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	})
}
