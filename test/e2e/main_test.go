// Package e2e runs the operator against the simulated GPU cluster (test/simcluster): a real kube-apiserver, etcd,
// kube-scheduler and kube-controller-manager, with kwok-managed fake GPU nodes. Manifests are applied with the
// real kubectl, as a user would; the operator runs as its own process, built from ./cmd.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/test/hubsim"
	"github.com/privatellm/privatellm/test/s3sim"
	"github.com/privatellm/privatellm/test/simcluster"
	"github.com/privatellm/privatellm/test/testutil"
)

var (
	repoRoot = func() string { wd, _ := os.Getwd(); return filepath.Join(wd, "..", "..") }()
	cluster  *simcluster.Cluster
	c        client.Client
	scheme   = runtime.NewScheme()
	op       *testutil.Operator
	// gateway is the OpenAI-compatible gateway, run as its own process; gatewayURL its API, gatewayMetrics its
	// metrics page.
	gateway                    *testutil.Operator
	gatewayURL, gatewayMetrics string
	// hub is the Hugging Face Hub the model cache's loader downloads from (HF_ENDPOINT).
	hub *hubsim.Hub
	// s3 is the S3 endpoint of s3:// models.
	s3 *s3sim.Server
)

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1.AddToScheme(scheme))
}

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctx := context.Background()
	bins, err := simcluster.FindBinaries(ctx, false)
	if err != nil {
		if os.Getenv(simcluster.RequireEnv) == "" {
			fmt.Println("skipping the end-to-end suite: no simulated cluster binaries (run make test-e2e):", err)
			return 0
		}
		fmt.Fprintln(os.Stderr, "simulated cluster binaries:", err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "privatellm-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)

	manager, err := testutil.BuildManager(ctx, repoRoot, tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	gatewayBin, err := testutil.BuildGateway(ctx, repoRoot, tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	engineSim, err := simcluster.BuildEngineSim(ctx, tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "building engine-sim:", err)
		return 1
	}
	loaderBin, err := simcluster.BuildLoader(ctx, tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "building the loader:", err)
		return 1
	}
	// The Hub the model cache downloads from: a mirror at HF_ENDPOINT, as an air-gapped cluster would have.
	if hub, err = hubsim.Listen(); err != nil {
		fmt.Fprintln(os.Stderr, "starting the Hub simulator:", err)
		return 1
	}
	defer hub.Close()
	// An S3 endpoint (MinIO's role) for s3:// models, with its access keys in each namespace's Secret s3-credentials.
	s3 = s3sim.New(s3sim.Credentials(s3AccessKey, s3SecretKey))
	defer s3.Close()
	cluster, err = simcluster.Start(ctx, simcluster.Options{
		BinDir: bins, NodesFile: filepath.Join(repoRoot, "hack", "simcluster", "nodes.yaml"),
		PodReadyDelay: 2 * time.Second, CrashRestartInterval: 2 * time.Second,
		// Every engine pod gets an engine-sim bound to its IP: real HTTP traffic and metrics for the autoscaler.
		EngineSim: engineSim,
		// Download pods run the real loader, against the Hub simulator, into the claims' host folders.
		Loader: loaderBin,
		// Pod IPs that EndpointSlices accept, so the models' Services have endpoints and the gateway routes to them.
		RoutablePodIPs: true,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the simulated cluster:", err)
		return 1
	}
	defer cluster.Stop()
	c, err = client.New(cluster.RESTConfig(), client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if out, err := kubectl("apply", "--server-side", "-f", filepath.Join(repoRoot, "config", "crd", "bases")); err != nil {
		fmt.Fprintln(os.Stderr, "installing the CRD:", err, out)
		return 1
	}
	if out, err := kubectl("wait", "--for=condition=Established", "crd/llmdeployments.serving.privatellm.dev", "crd/modelcaches.serving.privatellm.dev", "--timeout=60s"); err != nil {
		fmt.Fprintln(os.Stderr, err, out)
		return 1
	}
	cfg := filepath.Join(tmp, "operator-config.yaml")
	gatewayPort, err := freePort()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	gatewayMetricsPort, err := freePort()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	gatewayURL = fmt.Sprintf("http://127.0.0.1:%d/v1", gatewayPort)
	gatewayMetrics = fmt.Sprintf("http://127.0.0.1:%d/metrics", gatewayMetricsPort)
	if err := os.WriteFile(cfg, []byte("apiVersion: config.privatellm.dev/v1alpha1\nkind: OperatorConfig\nstallGracePeriod: 5s\ngateway:\n  url: "+gatewayURL+"\n  metricsURLs: ["+gatewayMetrics+"]\n"+
		"cost:\n  gpuHourly: {NVIDIA-L4: 0.70}\n  apis: [{name: reference, inputPerMTok: 3, outputPerMTok: 15}]\n  scrapeInterval: 1s\n  refreshInterval: 2s\n"+
		"modelCache:\n  loaderImage: ghcr.io/privatellm/privatellm:e2e\n  classes:\n    default: {size: 1Gi, ttl: 10m, hubEndpoint: "+hub.URL()+
		", s3: {endpoint: "+s3.URL()+", pathStyle: true, credentialsSecret: s3-credentials}}\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if webhookPort, err = freePort(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	certDir := filepath.Join(tmp, "webhook-certs")
	if webhookCA, err = serveWebhookCert(certDir); err != nil {
		fmt.Fprintln(os.Stderr, "webhook certificate:", err)
		return 1
	}
	op = &testutil.Operator{Bin: manager, Kubeconfig: cluster.Kubeconfig(), Log: filepath.Join(tmp, "operator.log"), Args: []string{
		"--config", cfg, "--health-probe-bind-address=0", "--zap-log-level=debug",
		"--enable-webhook", "--webhook-manage-certs=false", "--webhook-cert-dir=" + certDir, fmt.Sprintf("--webhook-port=%d", webhookPort),
	}}
	if err := op.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "starting the operator:", err)
		return 1
	}
	gateway = &testutil.Operator{Bin: gatewayBin, Kubeconfig: cluster.Kubeconfig(), Log: filepath.Join(tmp, "gateway.log"), Args: []string{
		fmt.Sprintf("--listen-address=127.0.0.1:%d", gatewayPort), fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", gatewayMetricsPort),
		"--health-probe-bind-address=0", "--max-wait=20s", "--zap-log-level=debug",
	}}
	if err := gateway.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "starting the gateway:", err)
		return 1
	}
	code := m.Run()
	gateway.Stop(15 * time.Second)
	op.Stop(15 * time.Second)
	if code != 0 {
		fmt.Fprintf(os.Stderr, "operator log (last 4 KiB):\n%s\n", op.LogTail(4096))
		fmt.Fprintf(os.Stderr, "gateway log (last 4 KiB):\n%s\n", gateway.LogTail(4096))
	}
	return code
}

// kubectl runs the cluster's kubectl, as a user would.
func kubectl(args ...string) (string, error) { return kubectlStdin("", args...) }

// kubectlStdin runs kubectl with stdin, e.g. `apply -f -` of a manifest ("" for none).
func kubectlStdin(stdin string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(cluster.BinDir(), "kubectl"), append([]string{"--kubeconfig", cluster.Kubeconfig()}, args...)...)
	cmd.Dir = repoRoot
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), err
}
