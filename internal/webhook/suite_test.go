package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// The integration tests run the webhook behind a real kube-apiserver (envtest, binaries from
// hack/build-k8s-binaries.sh): KUBEBUILDER_ASSETS=$(ls -d bin/k8s/*/) go test ./internal/webhook/. Without
// KUBEBUILDER_ASSETS they are skipped, so that `go test ./internal/...` runs the pure tests anywhere, unless
// PRIVATELLM_REQUIRE_ENVTEST is set: then a missing KUBEBUILDER_ASSETS fails the package.

var (
	testScheme = runtime.NewScheme()
	testEnv    *envtest.Environment
	restCfg    *rest.Config
	k8sClient  client.Client
	// envtestSkipReason is why the integration tests skip; empty when the API server runs.
	envtestSkipReason string
)

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(testScheme))
	utilruntime.Must(v1.AddToScheme(testScheme))
}

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		if os.Getenv("PRIVATELLM_REQUIRE_ENVTEST") != "" {
			fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS is not set but PRIVATELLM_REQUIRE_ENVTEST is: run `make test-integration`, which builds kube-apiserver and etcd into bin/k8s")
			return 1
		}
		envtestSkipReason = "KUBEBUILDER_ASSETS is not set: the envtest tests need kube-apiserver and etcd (make test-integration)"
		return m.Run()
	}
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapLevel())))
	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		WebhookInstallOptions: envtest.WebhookInstallOptions{Paths: []string{filepath.Join("..", "..", "config", "webhook")}},
	}
	cfg, err := testEnv.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting envtest: %v\n", err)
		return 1
	}
	defer func() {
		if err := testEnv.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stopping envtest: %v\n", err)
		}
	}()
	restCfg = cfg
	if k8sClient, err = client.New(cfg, client.Options{Scheme: testScheme}); err != nil {
		fmt.Fprintf(os.Stderr, "client: %v\n", err)
		return 1
	}

	wio := &testEnv.WebhookInstallOptions
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  testScheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		// As the operator should run it: Nodes stripped to what the webhook reads.
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{&corev1.Node{}: {Transform: NodeCacheTransform}}},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "manager: %v\n", err)
		return 1
	}
	if err := Setup(mgr, Options{
		CertDir: wio.LocalServingCertDir, Host: wio.LocalServingHost, Port: wio.LocalServingPort, ManageCerts: false,
	}); err != nil {
		fmt.Fprintf(os.Stderr, "webhook setup: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			fmt.Fprintf(os.Stderr, "manager: %v\n", err)
		}
	}()
	if err := waitForTLS(net.JoinHostPort(wio.LocalServingHost, strconv.Itoa(wio.LocalServingPort)), nil, "", 30*time.Second); err != nil {
		fmt.Fprintf(os.Stderr, "webhook server: %v\n", err)
		return 1
	}
	return m.Run()
}

// requireEnvtest skips a test when the API server does not run.
func requireEnvtest(t *testing.T) {
	t.Helper()
	if envtestSkipReason != "" {
		t.Skip(envtestSkipReason)
	}
}

// waitForTLS polls until a TLS server answers at addr, verified against roots for serverName when roots is set
// (a readiness ping that trusts any certificate otherwise).
func waitForTLS(addr string, roots *x509.CertPool, serverName string, timeout time.Duration) error {
	cfg := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // readiness ping only
	if roots != nil {
		cfg = &tls.Config{RootCAs: roots, ServerName: serverName, MinVersion: tls.VersionTLS12}
	}
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, cfg)
		if err != nil {
			last = err
			return false, nil
		}
		return true, conn.Close()
	})
	if err != nil {
		return fmt.Errorf("no TLS server at %s after %s (last: %v): %w", addr, timeout, last, err)
	}
	return nil
}

// zapLevel logs errors only, unless TEST_VERBOSE_LOGS is set.
func zapLevel() zapcore.Level {
	if os.Getenv("TEST_VERBOSE_LOGS") != "" {
		return zapcore.DebugLevel
	}
	return zapcore.ErrorLevel
}

// newNamespace creates a namespace for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{}
	ns.GenerateName = "t-"
	if err := k8sClient.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}
