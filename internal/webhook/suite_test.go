package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/privatellm/privatellm/test/testutil"
)

// The integration tests run the webhook behind a real kube-apiserver (test/testutil.StartEnvtest):
// KUBEBUILDER_ASSETS=$(ls -d bin/k8s/*/) go test ./internal/webhook/. Without KUBEBUILDER_ASSETS they are skipped,
// so that `go test ./internal/...` runs the pure tests anywhere, unless PRIVATELLM_REQUIRE_ENVTEST is set: then a
// missing KUBEBUILDER_ASSETS fails the package.

var (
	testScheme = testutil.NewScheme()
	testEnv    *envtest.Environment
	restCfg    *rest.Config
	k8sClient  client.Client
	// envtestSkipReason is why the integration tests skip; empty when the API server runs.
	envtestSkipReason string
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	env, err := testutil.StartEnvtest(filepath.Join("..", ".."), testScheme, filepath.Join("..", "..", "config", "webhook"))
	if errors.Is(err, testutil.ErrNoEnvtest) {
		envtestSkipReason = err.Error()
		return m.Run()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer env.Stop()
	testEnv, restCfg, k8sClient = env.Env, env.Config, env.Client
	cfg := restCfg

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
	defer testutil.StartManager(mgr)()
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
