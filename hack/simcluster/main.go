// Command simcluster runs the simulated GPU cluster of test/simcluster in the foreground.
//
//	go run ./hack/simcluster up --dir .demo/cluster [--nodes hack/simcluster/nodes.yaml] [--pod-ready-delay 5s] \
//	    [--engine-sim bin/engine-sim] [--loader bin/loader]
//	go run ./hack/simcluster down --dir .demo/cluster
//
// up builds the Kubernetes binaries if needed, starts the cluster, prints `export KUBECONFIG=…` once it is
// ready (the kubeconfig file appears at that moment too), writes <dir>/simcluster.pid and runs until SIGINT or
// SIGTERM. With --engine-sim, every Running vLLM or TGI pod gets an engine-sim process on its pod IP (see
// simcluster.Options.EngineSim), so requests to a pod IP are answered. down signals the cluster recorded in <dir>/simcluster.pid and waits until it has stopped.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/privatellm/privatellm/test/simcluster"
	"github.com/privatellm/privatellm/test/testutil"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "up":
		err = up(os.Args[2:])
	case "down":
		err = down(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "simcluster:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage:
  simcluster up   --dir DIR [--nodes FILE] [--pod-ready-delay 5s] [--crash-restart-interval 10s] [--pod-cidr CIDR]
                  [--engine-sim PATH] [--loader PATH] [--webhook-port PORT --webhook-cert-dir DIR]
  simcluster down --dir DIR`)
	os.Exit(2)
}

func up(args []string) error {
	fs := flag.NewFlagSet("up", flag.ExitOnError)
	dir := fs.String("dir", ".demo/cluster", "state folder (etcd data, certificates, kubeconfig, logs)")
	nodes := fs.String("nodes", "hack/simcluster/nodes.yaml", "node inventory file")
	readyDelay := fs.Duration("pod-ready-delay", 5*time.Second, "how long pods stay Running but not Ready (model loading)")
	crashInterval := fs.Duration("crash-restart-interval", 10*time.Second, "restart interval of crash-looping pods")
	podCIDR := fs.String("pod-cidr", "", "loopback range of pod IPs (default: a random 127.N.0.0/16)")
	engineSim := fs.String("engine-sim", "", "engine-sim binary to serve the engine pods' traffic on their IPs (default: none)")
	loaderBin := fs.String("loader", "", "loader binary (cmd/loader) to run in the model cache's download pods (default: none)")
	routable := fs.Bool("routable-pod-ips", false, "pod IPs from a 10.N.0.0/16 made local by a route on lo (needs root), so Services get endpoints and the gateway reaches the pods")
	webhookPort := fs.Int("webhook-port", 0, "register the operator's admission webhook at https://127.0.0.1:PORT (an operator run on this machine serves it)")
	webhookCertDir := fs.String("webhook-cert-dir", "", "with --webhook-port: where to write the webhook's self-signed tls.crt and tls.key")
	_ = fs.Parse(args)

	if pid, alive := running(*dir); alive {
		return fmt.Errorf("a cluster is already running in %s (pid %d); stop it with: simcluster down --dir %s", *dir, pid, *dir)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	pidFile := filepath.Join(*dir, "simcluster.pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return err
	}
	defer os.Remove(pidFile)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(os.Stderr, "starting the simulated GPU cluster in %s (building the binaries first if needed)…\n", *dir)
	begin := time.Now()
	c, err := simcluster.Start(ctx, simcluster.Options{
		Dir: *dir, NodesFile: *nodes, BuildBinaries: true,
		PodReadyDelay: *readyDelay, CrashRestartInterval: *crashInterval, PodCIDR: *podCIDR,
		EngineSim: *engineSim, Loader: *loaderBin, RoutablePodIPs: *routable,
	})
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "interrupted while starting; stopped")
			return nil
		}
		return err
	}
	defer c.Stop()
	if *webhookPort > 0 {
		if err := registerWebhook(ctx, c, *webhookPort, *webhookCertDir); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "LLMDeployments are admitted by the webhook at https://127.0.0.1:%d (certificate in %s)\n", *webhookPort, *webhookCertDir)
	}
	fmt.Fprintf(os.Stderr, "ready in %s; pod IPs from %s; logs in %s; kubectl is in %s\n",
		time.Since(begin).Round(100*time.Millisecond), c.PodCIDR(), filepath.Join(c.Dir(), "logs"), c.BinDir())
	fmt.Printf("export KUBECONFIG=%s\n", c.Kubeconfig())
	fmt.Fprintln(os.Stderr, "running until Ctrl-C or: go run ./hack/simcluster down --dir", *dir)

	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr, "stopping…")
	case <-c.Failed():
		_ = c.Stop()
		return c.Err()
	}
	return c.Stop()
}

// registerWebhook writes a loopback certificate for the operator's webhook and registers it with the API server.
func registerWebhook(ctx context.Context, c *simcluster.Cluster, port int, certDir string) error {
	if certDir == "" {
		return errors.New("--webhook-port needs --webhook-cert-dir")
	}
	ca, err := testutil.WriteLoopbackCert(certDir)
	if err != nil {
		return fmt.Errorf("webhook certificate: %w", err)
	}
	if err := c.Client().Create(ctx, testutil.LoopbackWebhookConfiguration("privatellm-validating-webhook", port, ca)); err != nil {
		return fmt.Errorf("registering the webhook: %w", err)
	}
	return nil
}

func down(args []string) error {
	fs := flag.NewFlagSet("down", flag.ExitOnError)
	dir := fs.String("dir", ".demo/cluster", "state folder given to up")
	_ = fs.Parse(args)

	pid, alive := running(*dir)
	if !alive {
		_ = os.Remove(filepath.Join(*dir, "simcluster.pid"))
		fmt.Fprintln(os.Stderr, "no cluster running in", *dir)
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("signal pid %d: %w", pid, err)
	}
	deadline := time.Now().Add(time.Minute)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster (pid %d) still running a minute after SIGTERM", pid)
		}
		time.Sleep(100 * time.Millisecond) // poll interval
	}
	fmt.Fprintln(os.Stderr, "stopped the cluster in", *dir)
	return nil
}

// running reads <dir>/simcluster.pid and reports whether that process is alive.
func running(dir string) (int, bool) {
	data, err := os.ReadFile(filepath.Join(dir, "simcluster.pid"))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, processAlive(pid)
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
