package modelcache

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/privatellm/privatellm/controllers/llmdeployment"
	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/manager"
	"github.com/privatellm/privatellm/test/testutil"
)

// The suite runs the ModelCache and LLMDeployment reconcilers together against a real kube-apiserver and etcd,
// as a user that holds only the operator's generated ClusterRole. envtest runs no Job controller and no kubelet:
// the tests play them, writing the download pod's status (its progress server, its exit and report) and the
// Job's conditions as they would.

const operatorUser = "privatellm-operator"

var (
	testScheme                = testutil.NewScheme()
	k8sClient, operatorClient client.Client
	// progress is what the fake loader's GET /progress answers (JSON); every pod IP dials it.
	progress atomic.Value
)

func testConfig() config.OperatorConfig {
	cfg, err := config.Parse([]byte(`
stallGracePeriod: 1s
modelCache:
  loaderImage: ghcr.io/privatellm/privatellm:test
  classes:
    default:
      size: 10Gi
      ttl: 1m
      hubEndpoint: https://hub.mirror.example
`))
	if err != nil {
		panic(err)
	}
	return cfg
}

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
	progress.Store(`{}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, progress.Load().(string))
	}))
	defer srv.Close()
	// Every pod IP reaches the fake loader.
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
		},
	}}
	opCfg := testConfig()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: testScheme, Metrics: metricsserver.Options{BindAddress: "0"},
		Cache: manager.CacheOptions(config.GatewayConfig{})})
	if err != nil {
		fmt.Fprintf(os.Stderr, "manager: %v\n", err)
		return 1
	}
	if err := (&Reconciler{Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Config: opCfg, Recorder: mgr.GetEventRecorder("privatellm"), HTTPClient: hc}).SetupWithManager(mgr); err != nil {
		fmt.Fprintf(os.Stderr, "setup: %v\n", err)
		return 1
	}
	if err := (&llmdeployment.Reconciler{Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Config: opCfg, Recorder: mgr.GetEventRecorder("privatellm")}).SetupWithManager(mgr); err != nil {
		fmt.Fprintf(os.Stderr, "setup: %v\n", err)
		return 1
	}
	defer testutil.StartManager(mgr)()
	return m.Run()
}
