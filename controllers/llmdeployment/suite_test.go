package llmdeployment

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/manager"
	"github.com/privatellm/privatellm/test/testutil"
)

// The integration suite runs against a real kube-apiserver and etcd (test/testutil.StartEnvtest). envtest runs no
// controllers besides ours: Deployment status and pods are written by the tests.

var (
	testScheme = testutil.NewScheme()
	restCfg    *rest.Config
	k8sClient  client.Client
	// testConfig is the operator configuration of the suite: a short stall grace period keeps tests fast.
	testConfig = func() config.OperatorConfig {
		c := config.Default()
		c.StallGracePeriod = metav1.Duration{Duration: 3 * time.Second}
		return c
	}()
	// reconciler is the instance the manager runs; tests may also call it directly.
	reconciler *Reconciler
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	env, err := testutil.StartEnvtest(filepath.Join("..", ".."), testScheme)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer env.Stop()
	restCfg, k8sClient = env.Config, env.Client

	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:  testScheme,
		Cache:   manager.CacheOptions(config.GatewayConfig{}),
		Metrics: metricsserver.Options{BindAddress: "0"},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "manager: %v\n", err)
		return 1
	}
	reconciler = &Reconciler{
		Client:   mgr.GetClient(),
		Scheme:   mgr.GetScheme(),
		Config:   testConfig,
		Recorder: mgr.GetEventRecorder("privatellm"),
	}
	if err := reconciler.SetupWithManager(mgr); err != nil {
		fmt.Fprintf(os.Stderr, "setup: %v\n", err)
		return 1
	}
	defer testutil.StartManager(mgr)()
	return m.Run()
}

// newNamespace creates a namespace for one test.
func newNamespace(t *testing.T) string { return testutil.NewNamespace(t, k8sClient) }
