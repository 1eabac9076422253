package usage

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/cost"
	"github.com/privatellm/privatellm/internal/manager"
	"github.com/privatellm/privatellm/test/testutil"
)

// The suite runs the usage controller alone against a real kube-apiserver and etcd: the tests play the engines
// (an HTTP server with a vLLM /metrics page), the scheduler and the kubelet (pods bound to a GPU node, ready).

var (
	testScheme = testutil.NewScheme()
	k8sClient  client.Client
	testCost   = config.CostConfig{
		Prices: cost.Prices{GPUHourly: map[string]float64{"NVIDIA-L4": 0.80},
			APIs: []cost.APIPrice{{Name: "big", InputPerMTok: 3, OutputPerMTok: 15}}},
		Currency:        "USD",
		ScrapeInterval:  metav1.Duration{Duration: 500 * time.Millisecond},
		RefreshInterval: metav1.Duration{Duration: time.Second},
	}
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
	k8sClient = env.Client
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme: testScheme, Cache: manager.CacheOptions(config.GatewayConfig{}), Metrics: metricsserver.Options{BindAddress: "0"},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "manager: %v\n", err)
		return 1
	}
	if err := (&Reconciler{Client: mgr.GetClient(), Config: testCost}).SetupWithManager(mgr); err != nil {
		fmt.Fprintf(os.Stderr, "setup usage: %v\n", err)
		return 1
	}
	defer testutil.StartManager(mgr)()
	return m.Run()
}
