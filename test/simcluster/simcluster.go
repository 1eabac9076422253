package simcluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Options configure a cluster. The zero value is a working default.
type Options struct {
	// Dir holds all state: etcd data, certificates, kubeconfigs, logs (logs/<component>.log), the claims'
	// folders (volumes/<volume>/) and the pods' own volumes (pods/<namespace>_<pod>/). What a previous
	// cluster left there is removed at start. When empty, a temporary folder is used and removed by Stop; a
	// given Dir is kept (without its kubeconfig, which exists only while the cluster runs).
	Dir string
	// BinDir is the folder with the binaries; when empty, FindBinaries(ctx, BuildBinaries) locates it.
	BinDir string
	// BuildBinaries lets Start run hack/build-k8s-binaries.sh when BinDir and $PRIVATELLM_K8S_BIN_DIR are
	// empty (minutes on a cold cache; instant once built). When false, Start only looks in the cache.
	BuildBinaries bool

	// Nodes is the fake node inventory. When empty, NodesFile is read; when that is empty too,
	// DefaultNodes() is used. More nodes can be added later with AddNodes.
	Nodes     []NodePool
	NodesFile string

	// PodReadyDelay is how long a pod on a fake node stays Running but not Ready (model loading) before it
	// turns Ready. 0 means the default, 3s; a negative value means no delay. The pod annotation
	// sim.privatellm.dev/ready-delay overrides it per pod.
	PodReadyDelay time.Duration
	// PodReadyJitter adds a random extra delay in [0, PodReadyJitter) to each pod's ready delay.
	PodReadyJitter time.Duration
	// CrashRestartInterval is how often a crash-looping pod's restartCount grows (default 10s).
	CrashRestartInterval time.Duration

	// PodCIDR is the range kwok takes pod IPs from. The default is a random loopback /16 (127.N.0.0/16), so
	// a test process can bind a pod's IP on this machine and several clusters rarely share addresses.
	PodCIDR string

	// RoutablePodIPs takes pod IPs from a random 10.N.0.0/16 instead, made local to this machine by a local route
	// on lo for the cluster's life (what `ip route add local 10.N.0.0/16 dev lo table local` does). EndpointSlices
	// refuse loopback addresses, so only then do the models' Services get endpoints, and a client that routes by
	// EndpointSlices (the gateway) reaches the engine-sims. Needs Linux and CAP_NET_ADMIN; Start fails without.
	// Ignored when PodCIDR is set.
	RoutablePodIPs bool

	// EngineSim is the path of a built engine-sim binary (go build -o bin/engine-sim ./test/engine-sim). When
	// set, a pod agent plays what the kubelet does for containers: it keeps a pod Pending in
	// CreateContainerConfigError while a Secret or ConfigMap (or key) its environment names is missing, and for
	// each Running pod of an LLMDeployment it runs one engine-sim with the first container's command line,
	// literal environment and user, bound to the pod's IP, after a load delay of the pod's
	// sim.privatellm.dev/ready-delay annotation (else none). An engine that exits on its own crash-loops its pod
	// with its exit code and message. Pod readiness stays kwok's; the engines carry traffic and metrics. Logs:
	// <Dir>/logs/engine-sim/<namespace>_<pod>.log. Empty: off. The engine sees its pod's volumes as the folders
	// behind them: every mount path in its command line and environment is rewritten (HF_HUB_CACHE=/mnt/model-cache
	// becomes the folder of the model cache's claim), as for the loader.
	EngineSim string

	// Loader is the path of a built cmd/loader (BuildLoader). When set, the pod agent runs it for each Running pod
	// labelled serving.privatellm.dev/modelcache (a ModelCache's download Job) with the container's args and
	// literal environment, every volume mount path mapped to the folder behind it (a claim's volume, the
	// Secret's files, an emptyDir), --progress-addr bound to the pod's IP and the termination log in the pod's
	// folder; when it exits, the pod turns Succeeded or Failed with its exit code and termination message, as the
	// kubelet reports a restartPolicy Never pod, so the Job's podFailurePolicy sees the loader's exit status.
	// Logs: <Dir>/logs/loader/<namespace>_<pod>.log. Empty: off (kwok completes such pods after the ready delay,
	// as any Job's).
	Loader string

	// StartTimeout bounds Start, not counting a build of the binaries (default 3m).
	StartTimeout time.Duration
	// ExtraArgs are appended to a component's command line, keyed by binary name ("kube-apiserver", …).
	ExtraArgs map[string][]string
}

// DefaultPodReadyDelay is the ready delay used when Options.PodReadyDelay is 0.
const DefaultPodReadyDelay = 3 * time.Second

// Cluster is a running simulated cluster. Its methods are safe for concurrent use.
type Cluster struct {
	dir, binDir, podCIDR string
	ownDir               bool
	pki                  *pki
	server               string // https://127.0.0.1:<port>
	kubeconfig           string // user-facing, written when the cluster is ready
	componentKubeconfig  string
	client               client.Client
	agent                *podAgent // nil unless Options.EngineSim or Options.Loader
	provisioner          *volumeProvisioner
	removeRoute          func() error // nil unless Options.RoutablePodIPs

	mu       sync.Mutex
	procs    []*process
	stopping bool
	failErr  error

	failed   chan struct{} // closed when a component exits on its own
	stopped  chan struct{} // closed when Stop has finished
	stopOnce sync.Once
	stopErr  error
}

// Start starts a cluster and returns when it is usable: the API server is ready, the controllers and the
// scheduler are healthy, the default service account exists and every node is Ready and schedulable. The
// cluster runs until Stop is called or ctx is done. On error everything started is stopped again, and the
// error carries the end of each component's log.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	c := &Cluster{failed: make(chan struct{}), stopped: make(chan struct{}), binDir: opts.BinDir}
	// Outside the start timeout: a first build of the binaries takes minutes.
	if c.binDir == "" {
		var err error
		if c.binDir, err = FindBinaries(ctx, opts.BuildBinaries); err != nil {
			return nil, err
		}
	} else if err := checkBinDir(c.binDir); err != nil {
		return nil, err
	}
	timeout := or(opts.StartTimeout, 3*time.Minute)
	startCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := c.start(startCtx, opts); err != nil {
		if ctx.Err() == nil && startCtx.Err() != nil {
			err = fmt.Errorf("simulated cluster not ready within %s: %w", timeout, err)
		}
		if ctx.Err() == nil && len(c.procs) > 0 {
			err = fmt.Errorf("%w\ncomponent logs:\n%s", err, c.LogTails(10))
		}
		_ = c.Stop()
		return nil, err
	}
	go func() {
		select {
		case <-ctx.Done():
			_ = c.Stop()
		case <-c.stopped:
		}
	}()
	return c, nil
}

func (c *Cluster) start(ctx context.Context, opts Options) error {
	var err error
	nodes := opts.Nodes
	if len(nodes) == 0 && opts.NodesFile != "" {
		if nodes, err = LoadNodes(opts.NodesFile); err != nil {
			return err
		}
	}
	if len(nodes) == 0 {
		nodes = DefaultNodes()
	}
	stagesYAML, err := kwokConfig(c.binDir, stageSettings{
		readyDelay:             readyDelay(opts.PodReadyDelay),
		readyJitter:            opts.PodReadyJitter,
		crashRestartInterval:   or(opts.CrashRestartInterval, 10*time.Second),
		waitForContainerConfig: opts.EngineSim != "" || opts.Loader != "",
		agentEndsLoaders:       opts.Loader != "",
	})
	if err != nil {
		return err
	}
	if err := c.prepareDir(opts.Dir); err != nil {
		return err
	}
	switch c.podCIDR = opts.PodCIDR; {
	case c.podCIDR != "":
	case opts.RoutablePodIPs:
		if err := c.routePodCIDR(); err != nil {
			return err
		}
	default:
		c.podCIDR = fmt.Sprintf("127.%d.0.0/16", 10+rand.IntN(240))
	}
	if c.pki, err = makePKI(filepath.Join(c.dir, "pki")); err != nil {
		return err
	}
	stagesFile := filepath.Join(c.dir, "kwok", "stages.yaml")
	if err := os.WriteFile(stagesFile, []byte(stagesYAML), 0o644); err != nil {
		return fmt.Errorf("write kwok stages: %w", err)
	}
	extra := func(name string) []string { return opts.ExtraArgs[name] }

	// etcd
	etcdPorts, err := c.startComponent(ctx, "etcd", 2, func(p []int) []string {
		clientURL, peerURL := fmt.Sprintf("http://127.0.0.1:%d", p[0]), fmt.Sprintf("http://127.0.0.1:%d", p[1])
		return append([]string{
			"--name=simcluster", "--data-dir=" + filepath.Join(c.dir, "etcd"),
			"--listen-client-urls=" + clientURL, "--advertise-client-urls=" + clientURL,
			"--listen-peer-urls=" + peerURL, "--initial-advertise-peer-urls=" + peerURL,
			"--initial-cluster=simcluster=" + peerURL,
			"--unsafe-no-fsync=true", "--log-level=warn",
		}, extra("etcd")...)
	}, func(ctx context.Context, p []int) error {
		return httpOK(ctx, http.DefaultClient, fmt.Sprintf("http://127.0.0.1:%d/health", p[0]), "")
	})
	if err != nil {
		return err
	}

	// kube-apiserver
	caPool := x509.NewCertPool()
	caPool.AppendCertsFromPEM(c.pki.caPEM)
	apiClient := &http.Client{Timeout: 5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool}}}
	apiPorts, err := c.startComponent(ctx, "kube-apiserver", 1, func(p []int) []string {
		return append([]string{
			"--etcd-servers=" + fmt.Sprintf("http://127.0.0.1:%d", etcdPorts[0]),
			"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port=" + strconv.Itoa(p[0]),
			"--tls-cert-file=" + c.pki.serveCert, "--tls-private-key-file=" + c.pki.serveKey,
			"--cert-dir=" + filepath.Join(c.dir, "pki", "apiserver"),
			"--endpoint-reconciler-type=none",
			"--token-auth-file=" + c.pki.tokenFile,
			"--authorization-mode=Node,RBAC",
			"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
			"--service-account-key-file=" + c.pki.saPub, "--service-account-signing-key-file=" + c.pki.saKey,
			"--service-cluster-ip-range=10.96.0.0/16",
			"--allow-privileged=true", "--profiling=false", "--v=0",
		}, extra("kube-apiserver")...)
	}, func(ctx context.Context, p []int) error {
		return httpOK(ctx, apiClient, fmt.Sprintf("https://127.0.0.1:%d/readyz", p[0]), c.pki.adminToken)
	})
	if err != nil {
		return err
	}
	c.server = fmt.Sprintf("https://127.0.0.1:%d", apiPorts[0])
	c.componentKubeconfig = filepath.Join(c.dir, "pki", "admin.kubeconfig")
	if err := writeKubeconfig(c.componentKubeconfig, c.server, c.pki.caPEM, c.pki.adminToken); err != nil {
		return err
	}
	if c.client, err = client.New(c.RESTConfig(), client.Options{Scheme: scheme.Scheme}); err != nil {
		return fmt.Errorf("create client: %w", err)
	}

	// Controllers and scheduler: secure port only for the health check.
	insecure := &http.Client{Timeout: 5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // loopback health check
	common := func(name string, port int) []string {
		return []string{
			"--kubeconfig=" + c.componentKubeconfig,
			"--authentication-kubeconfig=" + c.componentKubeconfig,
			"--authorization-kubeconfig=" + c.componentKubeconfig,
			"--authentication-skip-lookup=true", // there is no client CA to look up
			"--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(port),
			"--cert-dir=" + filepath.Join(c.dir, "pki", name), "--v=0",
		}
	}
	healthz := func(ctx context.Context, p []int) error {
		return httpOK(ctx, insecure, fmt.Sprintf("https://127.0.0.1:%d/healthz", p[0]), "")
	}
	if _, err := c.startComponent(ctx, "kube-controller-manager", 1, func(p []int) []string {
		args := append(common("kube-controller-manager", p[0]),
			"--controllers=*", "--service-account-private-key-file="+c.pki.saKey, "--root-ca-file="+c.pki.caCert,
			"--kube-api-qps=100", "--kube-api-burst=200",
			"--concurrent-replicaset-syncs=10", "--concurrent-deployment-syncs=10")
		return append(args, extra("kube-controller-manager")...)
	}, healthz); err != nil {
		return err
	}
	if _, err := c.startComponent(ctx, "kube-scheduler", 1, func(p []int) []string {
		return append(common("kube-scheduler", p[0]), extra("kube-scheduler")...)
	}, healthz); err != nil {
		return err
	}

	// kwok: the kubelet of every node annotated kwok.x-k8s.io/node=fake.
	if _, err := c.startComponent(ctx, "kwok", 0, func([]int) []string {
		return append([]string{
			"--kubeconfig=" + c.componentKubeconfig,
			"--config=" + stagesFile,
			"--manage-all-nodes=false",
			"--manage-nodes-with-annotation-selector=" + KwokNodeAnnotation + "=fake",
			"--cidr=" + c.podCIDR, "--node-ip=127.0.0.1",
			"--node-lease-duration-seconds=40",
		}, extra("kwok")...)
	}, nil); err != nil {
		return err
	}

	if err := c.AddNodes(ctx, nodes...); err != nil {
		return err
	}
	// Pods are refused until the service account controller has made the namespace's default account.
	if err := c.poll(ctx, "the default service account", func(ctx context.Context) error {
		return c.client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "default"}, &corev1.ServiceAccount{})
	}); err != nil {
		return err
	}

	if err := c.startVolumes(ctx); err != nil {
		return err
	}
	if opts.EngineSim != "" || opts.Loader != "" {
		if err := c.startPodAgent(ctx, opts); err != nil {
			return err
		}
	}

	kubeconfig := filepath.Join(c.dir, "kubeconfig")
	if err := writeKubeconfig(kubeconfig, c.server, c.pki.caPEM, c.pki.adminToken); err != nil {
		return err
	}
	c.kubeconfig = kubeconfig
	return nil
}

// readyDelay applies the documented meaning of Options.PodReadyDelay.
func readyDelay(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return DefaultPodReadyDelay
	case d < 0:
		return 0
	}
	return d
}

// prepareDir creates the state folder (or a temporary one) and clears what a previous run left.
func (c *Cluster) prepareDir(dir string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "simcluster-")
		if err != nil {
			return fmt.Errorf("create state folder: %w", err)
		}
		c.dir, c.ownDir = d, true
	} else {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fmt.Errorf("state folder %s: %w", dir, err)
		}
		c.dir = abs
		for _, old := range []string{"etcd", "pki", "logs", "kwok", "kubeconfig", "volumes", "pods"} {
			if err := os.RemoveAll(filepath.Join(c.dir, old)); err != nil {
				return fmt.Errorf("clear state folder: %w", err)
			}
		}
	}
	for _, sub := range []string{"logs", "kwok"} {
		if err := os.MkdirAll(filepath.Join(c.dir, sub), 0o755); err != nil {
			return fmt.Errorf("create state folder: %w", err)
		}
	}
	return nil
}

// startComponent starts one binary on nPorts free loopback ports and waits until ready (nil: until it has
// started). When the component dies because a port got taken in between, it tries again
// with new ports. It returns the ports it runs on.
func (c *Cluster) startComponent(ctx context.Context, name string, nPorts int, args func(ports []int) []string,
	ready func(ctx context.Context, ports []int) error) ([]int, error) {
	const attempts = 3
	if ready == nil {
		ready = func(context.Context, []int) error { return nil }
	}
	for attempt := 1; ; attempt++ {
		ports, err := freePorts(nPorts)
		if err != nil {
			return nil, err
		}
		logPath := filepath.Join(c.dir, "logs", name+".log")
		p, err := startProcess(name, filepath.Join(c.binDir, name), args(ports), logPath)
		if err != nil {
			return nil, err
		}
		if err := c.track(p); err != nil {
			return nil, err
		}
		err = c.poll(ctx, name+" to become ready", func(ctx context.Context) error {
			if p.exited() {
				return errExited
			}
			return ready(ctx, ports)
		})
		if err == nil {
			c.watch(p)
			return ports, nil
		}
		if !p.exited() {
			return nil, err
		}
		if attempt < attempts && p.logContains("address already in use") {
			continue
		}
		return nil, p.exitError()
	}
}

var errExited = errors.New("process exited")

// track records a started process so Stop ends it.
func (c *Cluster) track(p *process) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping {
		p.stop(time.Second)
		return errors.New("simulated cluster is stopping")
	}
	c.procs = append(c.procs, p)
	return nil
}

// watch turns an exit of a ready component, other than by Stop, into a cluster failure.
func (c *Cluster) watch(p *process) {
	go func() {
		<-p.done
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.stopping || c.failErr != nil {
			return
		}
		c.failErr = p.exitError()
		close(c.failed)
	}()
}

// poll calls check every 100ms until it returns nil, ctx is done or a component has failed. The error names
// what was awaited and carries check's last error.
func (c *Cluster) poll(ctx context.Context, what string, check func(ctx context.Context) error) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check(ctx)
		if err == nil || errors.Is(err, errExited) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last error: %v)", what, ctx.Err(), err)
		case <-c.failed:
			return fmt.Errorf("waiting for %s: %w", what, c.Err())
		case <-c.stopped:
			return fmt.Errorf("waiting for %s: simulated cluster stopped", what)
		case <-tick.C:
		}
	}
}

// AddNodes creates the fake nodes of the pools and waits until all of them are Ready and schedulable (the
// node lifecycle controller has lifted its not-ready taint).
func (c *Cluster) AddNodes(ctx context.Context, pools ...NodePool) error {
	var nodes []*corev1.Node
	for _, p := range pools {
		n, err := p.Build()
		if err != nil {
			return err
		}
		nodes = append(nodes, n...)
	}
	// Create in parallel: a benchmark may ask for hundreds of nodes.
	work := make(chan *corev1.Node)
	errs := make(chan error, len(nodes))
	var wg sync.WaitGroup
	for range min(8, len(nodes)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range work {
				if err := c.client.Create(ctx, n); err != nil {
					errs <- fmt.Errorf("create node %s: %w", n.Name, err)
				}
			}
		}()
	}
	for _, n := range nodes {
		work <- n
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := errors.Join(collect(errs)...); err != nil {
		return err
	}

	want := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		want[n.Name] = true
	}
	return c.poll(ctx, fmt.Sprintf("%d nodes to become Ready", len(nodes)), func(ctx context.Context) error {
		var list corev1.NodeList
		if err := c.client.List(ctx, &list); err != nil {
			return err
		}
		ready := 0
		var notReady string
		for i := range list.Items {
			n := &list.Items[i]
			if !want[n.Name] {
				continue
			}
			if nodeUsable(n) {
				ready++
			} else if notReady == "" {
				notReady = n.Name
			}
		}
		if ready < len(want) {
			return fmt.Errorf("%d of %d nodes ready (e.g. %s is not)", ready, len(want), notReady)
		}
		return nil
	})
}

// nodeUsable reports whether a node is Ready and free of the not-ready/unreachable taints.
func nodeUsable(n *corev1.Node) bool {
	for _, t := range n.Spec.Taints {
		if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
			return false
		}
	}
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

func collect(errs <-chan error) []error {
	var out []error
	for err := range errs {
		out = append(out, err)
	}
	return out
}

// Stop stops every component (SIGTERM, then SIGKILL to each process group) and, when Start made the state
// folder, removes it. It is idempotent and safe to call concurrently; later calls return the first result.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		c.mu.Lock()
		c.stopping = true
		procs, agent, provisioner := c.procs, c.agent, c.provisioner
		c.mu.Unlock()
		if agent != nil {
			agent.stop() // before the API server it watches
		}
		if provisioner != nil {
			provisioner.stop()
		}
		var wg sync.WaitGroup
		// kwok and the controllers first, so they do not log the API server going away; then the API server,
		// then etcd.
		for i := len(procs) - 1; i >= 0; i-- {
			p := procs[i]
			if p.name == "kube-apiserver" || p.name == "etcd" {
				wg.Wait()
				p.stop(5 * time.Second)
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.stop(5 * time.Second)
			}()
		}
		wg.Wait()
		if c.removeRoute != nil {
			if err := c.removeRoute(); err != nil {
				c.stopErr = err
			}
		}
		if c.dir != "" {
			if c.ownDir {
				c.stopErr = os.RemoveAll(c.dir)
			} else if err := os.Remove(filepath.Join(c.dir, "kubeconfig")); err != nil && !os.IsNotExist(err) {
				c.stopErr = err
			}
		}
		close(c.stopped)
	})
	return c.stopErr
}

// routePodCIDR picks a free 10.N.0.0/16 and makes it local (Options.RoutablePodIPs).
func (c *Cluster) routePodCIDR() error {
	var last error
	for range 8 {
		cidr := fmt.Sprintf("10.%d.0.0/16", 200+rand.IntN(50))
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			return err
		}
		remove, err := addLocalRoute(n)
		if err == nil {
			c.podCIDR, c.removeRoute = cidr, remove
			return nil
		}
		last = err
		if !errors.Is(err, syscall.EEXIST) {
			break
		}
	}
	return fmt.Errorf("routable pod IPs (a local route on lo, which needs root with CAP_NET_ADMIN): %w", last)
}

// Failed is closed when a component exits while the cluster runs (not during Start or Stop); Err says which.
func (c *Cluster) Failed() <-chan struct{} { return c.failed }

// Stopped is closed when Stop has finished, whether called directly or because the context was done.
func (c *Cluster) Stopped() <-chan struct{} { return c.stopped }

// Err returns why the cluster failed, or nil.
func (c *Cluster) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failErr
}

// Kubeconfig returns the path of the admin kubeconfig (<Dir>/kubeconfig). The file exists only while the
// cluster is ready: Start writes it last and Stop removes it.
func (c *Cluster) Kubeconfig() string { return c.kubeconfig }

// RESTConfig returns a new admin client configuration (bearer token of a system:masters user, TLS verified
// against the cluster's CA, QPS 200, burst 400).
func (c *Cluster) RESTConfig() *rest.Config {
	return &rest.Config{
		Host:            c.server,
		BearerToken:     c.pki.adminToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: append([]byte(nil), c.pki.caPEM...)},
		QPS:             200,
		Burst:           400,
	}
}

// Client returns an admin controller-runtime client that knows the built-in kinds.
func (c *Cluster) Client() client.Client { return c.client }

// Dir returns the state folder; logs are under Dir()/logs.
func (c *Cluster) Dir() string { return c.dir }

// BinDir returns the folder of the binaries (kubectl is there too).
func (c *Cluster) BinDir() string { return c.binDir }

// PodCIDR returns the range pod IPs come from (loopback unless Options.RoutablePodIPs), local to this machine.
func (c *Cluster) PodCIDR() string { return c.podCIDR }

// PIDs returns the process ID of each running component by name (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, kwok), e.g. to read their CPU time from /proc.
func (c *Cluster) PIDs() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.procs))
	for _, p := range c.procs {
		if !p.exited() {
			out[p.name] = p.cmd.Process.Pid
		}
	}
	return out
}

// LogTails returns the last n lines of each component's log, for test failure output.
func (c *Cluster) LogTails(n int) string {
	c.mu.Lock()
	procs := append([]*process(nil), c.procs...)
	c.mu.Unlock()
	var b strings.Builder
	for _, p := range procs {
		fmt.Fprintf(&b, "==> %s <==\n%s\n", p.logPath, p.logTail(n))
	}
	return b.String()
}

// writeKubeconfig writes an admin kubeconfig for server.
func writeKubeconfig(path, server string, caPEM []byte, token string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["simcluster"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["simcluster"] = &clientcmdapi.Context{Cluster: "simcluster", AuthInfo: "admin", Namespace: "default"}
	cfg.CurrentContext = "simcluster"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}

// httpOK returns nil when a GET of url answers 200.
func httpOK(ctx context.Context, hc *http.Client, url, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, lastLines(string(body), 5))
	}
	return nil
}

// Ports handed out by this process, never handed out twice: two clusters starting at once in one test
// binary cannot pick the same port. (Across processes the kernel's ephemeral port choice makes a clash
// unlikely, and startComponent retries when one happens.)
var (
	portsMu   sync.Mutex
	portsUsed = map[int]bool{}
)

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		listeners = append(listeners, l)
		port := l.Addr().(*net.TCPAddr).Port
		if portsUsed[port] {
			continue
		}
		portsUsed[port] = true
		ports = append(ports, port)
	}
	return ports, nil
}
