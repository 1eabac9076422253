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
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/test/simcluster"
)

var (
	repoRoot = func() string { wd, _ := os.Getwd(); return filepath.Join(wd, "..", "..") }()
	cluster  *simcluster.Cluster
	c        client.Client
	scheme   = runtime.NewScheme()
	op       *operator
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

	manager := filepath.Join(tmp, "manager")
	build := exec.Command("go", "build", "-o", manager, "./cmd")
	build.Dir, build.Stdout, build.Stderr = repoRoot, os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the manager:", err)
		return 1
	}

	engineSim, err := simcluster.BuildEngineSim(ctx, tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "building engine-sim:", err)
		return 1
	}
	cluster, err = simcluster.Start(ctx, simcluster.Options{
		BinDir: bins, NodesFile: filepath.Join(repoRoot, "hack", "simcluster", "nodes.yaml"),
		PodReadyDelay: 2 * time.Second, CrashRestartInterval: 2 * time.Second,
		// Every engine pod gets an engine-sim bound to its IP: real HTTP traffic and metrics for the autoscaler.
		EngineSim: engineSim,
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
	if out, err := kubectl("wait", "--for=condition=Established", "crd/llmdeployments.serving.privatellm.dev", "--timeout=60s"); err != nil {
		fmt.Fprintln(os.Stderr, err, out)
		return 1
	}
	cfg := filepath.Join(tmp, "operator-config.yaml")
	if err := os.WriteFile(cfg, []byte("apiVersion: config.privatellm.dev/v1alpha1\nkind: OperatorConfig\nstallGracePeriod: 5s\n"), 0o644); err != nil {
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
	op = &operator{bin: manager, config: cfg, log: filepath.Join(tmp, "operator.log"), args: []string{
		"--enable-webhook", "--webhook-manage-certs=false", "--webhook-cert-dir=" + certDir, fmt.Sprintf("--webhook-port=%d", webhookPort),
	}}
	if err := op.start(); err != nil {
		fmt.Fprintln(os.Stderr, "starting the operator:", err)
		return 1
	}
	code := m.Run()
	op.stop()
	if code != 0 {
		if b, err := os.ReadFile(op.log); err == nil {
			fmt.Fprintf(os.Stderr, "operator log (last 4 KiB):\n%s\n", tail(b, 4096))
		}
	}
	return code
}

// operator is the manager process under test.
type operator struct {
	bin, config, log string
	args             []string
	mu               sync.Mutex
	cmd              *exec.Cmd
}

func (o *operator) start() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	logf, err := os.OpenFile(o.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(o.bin, append([]string{"--config", o.config, "--health-probe-bind-address=0", "--zap-log-level=debug"}, o.args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cluster.Kubeconfig())
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	o.cmd = cmd
	return nil
}

// kill ends the operator abruptly, as a node failure or OOM kill would.
func (o *operator) kill() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cmd != nil {
		_ = o.cmd.Process.Kill()
		_ = o.cmd.Wait()
		o.cmd = nil
	}
}

func (o *operator) stop() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cmd != nil {
		_ = o.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = o.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = o.cmd.Process.Kill()
			<-done
		}
		o.cmd = nil
	}
}

// kubectl runs the cluster's kubectl, as a user would.
func kubectl(args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(cluster.BinDir(), "kubectl"), append([]string{"--kubeconfig", cluster.Kubeconfig()}, args...)...)
	cmd.Dir = repoRoot
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), err
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
