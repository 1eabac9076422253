// Command bench is the operator's control-plane benchmark on the simulated GPU cluster (test/simcluster).
//
// It measures how long the operator takes to turn N LLMDeployments into N Ready models, against the cluster's own
// floor: N plain apps/v1 Deployments whose pod templates are exactly what the operator renders, alone and with the
// Services the operator renders. Then it watches the operator while nothing changes and reports the write requests
// it still sends, and its memory.
//
//	go run ./test/bench [-n 200] [-idle 60s] [-ready-delay 0] [-profile-dir DIR] [-keep]
//	make bench BENCH_ARGS="-n 1000"
//
// The run, in order:
//
//  1. Start a simulated cluster with ceil(2N/8)+2 fake nodes of 8 NVIDIA L4 GPUs each (room for two phases' pods
//     at once; pod IPs from 10.244.0.0/16, see benchPodCIDR), install the CRD, build ./cmd and start the operator
//     as a subprocess (default configuration, metrics on a free loopback port, log to a file).
//  2. Warm-up: a few plain Deployments are created, become Ready and are deleted, so no phase pays for the
//     cluster's first pods.
//  3. Phase B, the floor: N plain Deployments (rendered with internal/engine and internal/render from the
//     server-defaulted LLMDeployments, minus the operator's labels and owner, so the operator never sees them) are
//     created as fast as possible; the phase ends when every one has readyReplicas 1 at its current generation.
//     They are then deleted and their pods awaited, so the next phase finds the same empty cluster. The operator
//     is running but idle throughout.
//  4. Phase C: the same, each Deployment preceded by the Service the operator would render for it (relabelled
//     likewise): what one would write by hand to get what an LLMDeployment gives.
//  5. Phase A: N LLMDeployments (1 × NVIDIA-L4 each) are created as fast as possible; the phase ends when every
//     one is Ready=True with status.observedGeneration equal to its generation.
//  6. Idle window: with the N models Ready, the operator's own rest_client_requests_total counter (its /metrics)
//     is read before and after the window; POST, PUT, PATCH and DELETE requests in between are writes it made
//     while nothing changed. Then its peak (VmHWM) and current (VmRSS) resident memory are read from /proc.
//
// Around each measured phase the CPU time of every process (from /proc) and the API server's apiserver_request_total
// are read, so the report shows where a phase's time went: on a machine whose cores the control plane saturates,
// a phase lasts as long as the CPU work it causes. -profile-dir adds CPU profiles of the API server and the operator.
//
// The plain phases run before A so that the idle window and the memory reading happen with the N LLMDeployments
// in place, and so that the operator never has deletions of its own objects to process while a floor is measured.
// Readiness is followed with a watch (one per phase), which timestamps the last transition exactly and costs the
// cluster the same in every phase.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/test/simcluster"
)

// options are the command-line flags.
type options struct {
	n          int
	idle       time.Duration
	readyDelay time.Duration
	keep       bool
	timeout    time.Duration
	// operatorArgs are extra manager flags, e.g. "--max-concurrent-reconciles=8", to compare settings.
	operatorArgs string
	// profileDir, when set, receives CPU profiles of the API server during each measured phase.
	profileDir     string
	profileSeconds int
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 200, "Number of LLMDeployments (and of plain Deployments).")
	flag.DurationVar(&o.idle, "idle", 60*time.Second, "Idle window after everything is Ready, in which the operator's writes are counted (0 skips it).")
	flag.DurationVar(&o.readyDelay, "ready-delay", 0, "Simulated model load time: how long each pod stays Running but not Ready (0: none).")
	flag.BoolVar(&o.keep, "keep", false, "Leave the cluster and the operator running after the report, until Ctrl-C.")
	flag.DurationVar(&o.timeout, "timeout", 15*time.Minute, "Limit for each phase.")
	flag.StringVar(&o.operatorArgs, "operator-args", "", "Extra flags for the operator, space-separated (e.g. --max-concurrent-reconciles=8).")
	flag.StringVar(&o.profileDir, "profile-dir", "", "Write CPU profiles of the API server and the operator for each measured phase into this folder (go tool pprof reads them).")
	flag.IntVar(&o.profileSeconds, "profile-seconds", 8, "Length of each API server profile, from the phase's start.")
	flag.Parse()
	if o.n < 1 || o.readyDelay < 0 || o.idle < 0 {
		fmt.Fprintln(os.Stderr, "bench: -n must be at least 1, -idle and -ready-delay not negative")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("interrupted: %w", err)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		stop()
		os.Exit(1)
	}
}

// scheme knows the built-in kinds and LLMDeployment.
var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1.AddToScheme(scheme))
}

// run is the whole benchmark; everything it starts is stopped when it returns.
func run(ctx context.Context, o options) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "privatellm-bench-")
	if err != nil {
		return err
	}
	logf("work folder %s (the operator's log stays there)", work)

	logf("building the operator")
	manager := filepath.Join(work, "manager")
	if err := buildManager(ctx, root, manager); err != nil {
		return err
	}
	defer os.Remove(manager)

	nodes := nodePools(o.n)
	logf("starting the simulated cluster: %d nodes × 8 NVIDIA-L4", nodes[0].Count)
	cluster, err := startCluster(ctx, nodes, o.readyDelay, o.profileDir != "")
	if err != nil {
		return err
	}
	defer func() {
		logf("stopping the simulated cluster")
		_ = cluster.Stop()
	}()
	if err := installCRD(ctx, cluster, root); err != nil {
		return err
	}
	c, err := client.NewWithWatch(cluster.RESTConfig(), client.Options{Scheme: scheme})
	if err != nil {
		return err
	}

	op, err := startOperator(ctx, manager, cluster.Kubeconfig(), filepath.Join(work, "operator.log"), o.profileDir != "", strings.Fields(o.operatorArgs))
	if err != nil {
		return err
	}
	defer op.stop()
	logf("operator pid %d, metrics %s, log %s", op.pid(), op.metricsURL, op.log)

	r := &result{n: o.n, nodes: nodes[0].Count, gpus: nodes[0].Count * nodes[0].GPU.Count, idle: o.idle, readyDelay: o.readyDelay}
	cs, err := kubernetes.NewForConfig(cluster.RESTConfig())
	if err != nil {
		return err
	}
	b := &bench{c: c, cluster: cluster, api: cs.CoreV1().RESTClient(), op: op, n: o.n, timeout: o.timeout}
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return err
		}
		b.profileDir, b.profileFor = o.profileDir, time.Duration(o.profileSeconds)*time.Second
	}
	if err := b.createNamespaces(ctx); err != nil {
		return err
	}
	if err := b.warmUp(ctx); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	if err := b.phaseB(ctx, r); err != nil {
		return fmt.Errorf("phase B (plain Deployments): %w", err)
	}
	if err := b.phaseC(ctx, r); err != nil {
		return fmt.Errorf("phase C (plain Deployments with Services): %w", err)
	}
	if err := b.phaseA(ctx, r); err != nil {
		return fmt.Errorf("phase A (LLMDeployments): %w\noperator log (end):\n%s", err, op.logTail(20))
	}
	if err := b.compareTemplates(ctx, r); err != nil {
		return err
	}
	if err := idleWindow(ctx, op, o.idle, r); err != nil {
		return err
	}
	if r.rssPeakKiB, r.rssKiB, err = op.memory(); err != nil {
		return err
	}
	if op.exited() {
		return fmt.Errorf("the operator exited during the benchmark; see %s", op.log)
	}
	r.print(os.Stdout)

	if o.keep {
		logf("-keep: cluster and operator keep running; KUBECONFIG=%s; Ctrl-C stops them", cluster.Kubeconfig())
		select {
		case <-ctx.Done():
		case <-cluster.Failed():
			return cluster.Err()
		}
	}
	return nil
}

// benchPodCIDR is where the benchmark's pod IPs come from. The simulated cluster's default is a loopback range, so
// that tests can run an engine on a pod's IP; but the API server refuses loopback addresses in Endpoints and
// EndpointSlices, and the endpoint controllers then retry each Service's update with backoff and a warning event
// each time, work a real cluster never does. The benchmark runs no engines, so its pods get ordinary addresses.
const benchPodCIDR = "10.244.0.0/16"

// startCluster starts the simulated cluster with the given nodes; readyDelay 0 means pods turn Ready at once.
func startCluster(ctx context.Context, nodes []simcluster.NodePool, readyDelay time.Duration, profiling bool) (*simcluster.Cluster, error) {
	bins, err := simcluster.FindBinaries(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("%w (run make k8s-bins, or use make bench)", err)
	}
	if readyDelay == 0 {
		readyDelay = -1 // simcluster: negative is no delay, 0 its default
	}
	opts := simcluster.Options{
		BinDir: bins, Nodes: nodes, PodReadyDelay: readyDelay, StartTimeout: 5 * time.Minute, PodCIDR: benchPodCIDR,
	}
	if profiling {
		opts.ExtraArgs = map[string][]string{"kube-apiserver": {"--profiling=true"}}
	}
	return simcluster.Start(ctx, opts)
}

// nodePools sizes the fake GPU nodes for 2×n single-GPU replicas: 8 L4s per node, two nodes spare.
func nodePools(n int) []simcluster.NodePool {
	const gpusPerNode = 8
	count := (2*n+gpusPerNode-1)/gpusPerNode + 2
	return []simcluster.NodePool{{
		Name: "l4x8", Count: count, CPU: "96", Memory: "384Gi", Pods: 110,
		GPU: &simcluster.GPU{Product: "NVIDIA-L4", Count: gpusPerNode, MemoryMiB: 23034},
	}}
}

// idleWindow counts the operator's write requests and reconciles while nothing changes.
func idleWindow(ctx context.Context, op *operator, d time.Duration, r *result) error {
	if d == 0 {
		return nil
	}
	logf("idle window: %s with %d Ready LLMDeployments", d, r.n)
	before, err := op.scrape(ctx)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
	}
	after, err := op.scrape(ctx)
	if err != nil {
		return err
	}
	r.idleWrites = after.writes().minus(before.writes())
	r.idleReconciles = after.reconciles() - before.reconciles()
	return nil
}

// repoRoot is the module root above the working directory (go run and make run from it).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "cmd", "main.go")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				return dir, nil
			}
		}
	}
	return "", errors.New("run from inside the privatellm checkout (no go.mod with cmd/main.go above the working directory)")
}

// logf prints a progress line with the time of day to stderr; the report goes to stdout.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}
