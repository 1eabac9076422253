package simcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// What the pod agent recognises in the operator's pods. It knows no engine: engine-sim recognises the engine from
// the container's own command line, as the image's program would.
const (
	// LabelLLMDeployment marks a pod of an LLMDeployment: its first container is the engine.
	LabelLLMDeployment = "serving.privatellm.dev/llmdeployment"
	// AnnotationFailMetrics, set to "true" on a pod, makes its engine-sim answer /metrics with 500 (a broken
	// metrics endpoint, for autoscaler tests).
	AnnotationFailMetrics = "sim.privatellm.dev/fail-metrics"
	// AnnotationExitCode and AnnotationTerminationMessage are what the pod agent records, with AnnotationCrash,
	// when a pod's engine exits on its own: the crash stages report them in lastState.terminated, as the kubelet
	// reports a container's exit code and (with FallbackToLogsOnError) the tail of its log.
	AnnotationExitCode           = "sim.privatellm.dev/exit-code"
	AnnotationTerminationMessage = "sim.privatellm.dev/termination-message"
)

// engineStopGrace is how long a process of the agent (engine-sim, the loader) has to exit after SIGTERM.
const engineStopGrace = 5 * time.Second

// terminationMessageBytes is how much of a crashed engine's output becomes its termination message (the kubelet
// keeps at most 2048 bytes of the log tail with FallbackToLogsOnError).
const terminationMessageBytes = 2048

// procKind is what the agent runs for a pod.
type procKind string

const (
	kindEngine procKind = "engine-sim" // an LLMDeployment's engine
	kindLoader procKind = "loader"     // a ModelCache's download Job (loaders.go)
)

// procSpec is what one process of a pod runs; a change restarts the process. Comparable, so the command line
// and environment are kept joined.
type procSpec struct {
	kind procKind
	uid  types.UID
	args string // the process's arguments, NUL-separated
	env  string // its environment, NUL-separated KEY=VALUE
	// termLog is the file the loader writes its report to (the container's terminationMessagePath), and
	// logsOnError the container's FallbackToLogsOnError.
	termLog     string
	logsOnError bool
}

func (s procSpec) argv() []string { return splitNUL(s.args) }

func (s procSpec) environ() []string { return splitNUL(s.env) }

func splitNUL(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "\x00")
}

// runningWithIP says whether a pod's containers run on a fake node with an IP, and it is not being deleted: when
// the agent runs its processes.
func runningWithIP(pod *corev1.Pod) bool {
	return pod != nil && pod.DeletionTimestamp == nil && pod.Status.Phase == corev1.PodRunning && pod.Status.PodIP != "" &&
		pod.Spec.NodeName != "" && len(pod.Spec.Containers) > 0
}

// engineFor returns the engine-sim process of an LLMDeployment's Running pod, or false when the pod needs none.
// The engine is the first container: engine-sim gets the simulator's options, then the container's command line,
// with its literal environment and user, every mount path mapped to the folder behind it.
func (a *podAgent) engineFor(pod *corev1.Pod) (procSpec, []func() error, bool, error) {
	if a.engineSim == "" || !runningWithIP(pod) || pod.Labels[LabelLLMDeployment] == "" {
		return procSpec{}, nil, false, nil
	}
	ctr := &pod.Spec.Containers[0]
	paths, fills, err := a.sources.containerMounts(a.dir, pod, ctr)
	if err != nil {
		return procSpec{}, nil, false, err
	}
	// The user: the container's, else the pod's, else the image's (root for the engines' images).
	var uid int64
	if sc := pod.Spec.SecurityContext; sc != nil && sc.RunAsUser != nil {
		uid = *sc.RunAsUser
	}
	if sc := ctr.SecurityContext; sc != nil && sc.RunAsUser != nil {
		uid = *sc.RunAsUser
	}
	var loadDelay time.Duration
	if v, ok := pod.Annotations[AnnotationReadyDelay]; ok {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			loadDelay = d
		}
	}
	// The mounts are mapped to folders here: engine-sim opens the model's files as the engine would.
	args := []string{"--bind=" + pod.Status.PodIP, "--uid=" + strconv.FormatInt(uid, 10), "--load-delay=" + loadDelay.String(), "--check-files"}
	if pod.Annotations[AnnotationFailMetrics] == "true" {
		args = append(args, "--fail-metrics")
	}
	args = append(append(args, "--"), paths.mapArgs(append(append([]string{}, ctr.Command...), ctr.Args...))...)
	return procSpec{kind: kindEngine, uid: pod.UID, args: strings.Join(args, "\x00"),
		env: strings.Join(paths.literalEnv(ctr.Env), "\x00")}, fills, true, nil
}

// podProc is one process the agent runs for a pod, and what it runs.
type podProc struct {
	spec    procSpec
	proc    *process
	started time.Time
	stopped bool // the agent stopped it (guarded by podAgent.mu)
}

// podAgent plays the containers inside the pods on the fake nodes, and the kubelet's checks before them. For each
// Running pod of an LLMDeployment it runs one engine-sim process with the engine container's command line,
// environment and user, bound to the pod's IP, and stops it when the pod goes; when the engine exits on its own (it
// refused its command line, as the real engine would), the agent marks the pod crashed, and the crash stages take
// it to CrashLoopBackOff. For each Running pod of a ModelCache's download Job it runs the real loader, and reports
// its exit as the kubelet would (loaders.go). Both see the pod's volumes as folders on this machine (mounts.go).
type podAgent struct {
	engineSim, loader string // the binaries; "" when that kind is off
	dir               string // the cluster's state folder: logs/<kind>/, pods/
	cs                kubernetes.Interface
	lister            corelisters.PodLister
	secrets           corelisters.SecretLister
	configMaps        corelisters.ConfigMapLister
	sources           volumeSources
	queue             workqueue.TypedDelayingInterface[string]
	stopInf           chan struct{}
	workerDone        chan struct{}

	mu       sync.Mutex
	procs    map[string]*podProc // by namespace/name
	waiting  map[string]string   // why a pod's process cannot start yet, by namespace/name
	stopping bool
}

// agentOptions say what the agent runs.
type agentOptions struct {
	engineSim, loader string
	dir               string
}

// startPodAgent starts the agent and returns once its caches are in sync.
func startPodAgent(ctx context.Context, cs kubernetes.Interface, o agentOptions) (*podAgent, error) {
	for _, kind := range []procKind{kindEngine, kindLoader} {
		if err := os.MkdirAll(filepath.Join(o.dir, "logs", string(kind)), 0o755); err != nil {
			return nil, fmt.Errorf("create the pod agent's log folder: %w", err)
		}
	}
	factory := informers.NewSharedInformerFactory(cs, 30*time.Second)
	podInf := factory.Core().V1().Pods()
	secretInf, configMapInf := factory.Core().V1().Secrets(), factory.Core().V1().ConfigMaps()
	claimInf, volumeInf := factory.Core().V1().PersistentVolumeClaims(), factory.Core().V1().PersistentVolumes()
	a := &podAgent{
		engineSim: o.engineSim, loader: o.loader, dir: o.dir, cs: cs,
		lister:     podInf.Lister(),
		secrets:    secretInf.Lister(),
		configMaps: configMapInf.Lister(),
		sources: volumeSources{secrets: secretInf.Lister(), configMaps: configMapInf.Lister(),
			claims: claimInf.Lister(), volumes: volumeInf.Lister()},
		queue:      workqueue.NewTypedDelayingQueue[string](),
		stopInf:    make(chan struct{}),
		workerDone: make(chan struct{}),
		procs:      map[string]*podProc{},
		waiting:    map[string]string{},
	}
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			a.queue.Add(key)
		}
	}
	if _, err := podInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: enqueue,
	}); err != nil {
		return nil, fmt.Errorf("watch pods for the pod agent: %w", err)
	}
	// A Secret or ConfigMap that appears or changes may let a waiting pod start, as the kubelet retries.
	retryWaiting := func(obj any) {
		if o, ok := obj.(interface{ GetNamespace() string }); ok {
			pods, _ := a.lister.Pods(o.GetNamespace()).List(labels.Everything())
			for _, p := range pods {
				if _, waiting := p.Annotations[AnnotationContainerConfigError]; waiting {
					enqueue(p)
				}
			}
		}
	}
	for _, inf := range []cache.SharedIndexInformer{secretInf.Informer(), configMapInf.Informer()} {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: retryWaiting, UpdateFunc: func(_, obj any) { retryWaiting(obj) },
		}); err != nil {
			return nil, fmt.Errorf("watch secrets and configmaps for the pod agent: %w", err)
		}
	}
	// Claims and volumes are only read when a process starts (a pod whose claim is not bound yet is retried).
	claimInf.Informer()
	volumeInf.Informer()
	factory.Start(a.stopInf)
	go a.work()
	syncCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), podInf.Informer().HasSynced, secretInf.Informer().HasSynced,
		configMapInf.Informer().HasSynced, claimInf.Informer().HasSynced, volumeInf.Informer().HasSynced) {
		a.stop()
		return nil, fmt.Errorf("pod agent: caches not synced: %w", syncCtx.Err())
	}
	return a, nil
}

// work reconciles queued pods one at a time, so that a process bound to a reused pod IP is stopped before
// the next one starts.
func (a *podAgent) work() {
	defer close(a.workerDone)
	for {
		key, shutdown := a.queue.Get()
		if shutdown {
			return
		}
		a.sync(key)
		a.queue.Done(key)
	}
}

// retryDelay is how soon the agent looks at a pod again whose process cannot start yet (its claim not bound, a
// Secret its volume needs just deleted).
const retryDelay = time.Second

// procFor returns the process a pod needs, what to write before it starts, or false when it needs none.
func (a *podAgent) procFor(pod *corev1.Pod) (procSpec, []func() error, bool, error) {
	if pod.Labels[LabelModelCache] != "" {
		return a.loaderFor(pod)
	}
	return a.engineFor(pod)
}

// sync makes the process of one pod match the pod.
func (a *podAgent) sync(key string) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return
	}
	var want procSpec
	var fills []func() error
	ok, gone := false, false
	pod, err := a.lister.Pods(ns).Get(name)
	switch {
	case err == nil:
		a.checkContainerConfig(pod)
		if want, fills, ok, err = a.procFor(pod); err != nil {
			a.waitFor(key, fmt.Sprintf("not started yet: %v", err))
			return
		}
	case apierrors.IsNotFound(err):
		gone = true
	default:
		return
	}
	a.mu.Lock()
	cur, stopping := a.procs[key], a.stopping
	if !ok {
		delete(a.waiting, key)
	}
	a.mu.Unlock()
	if cur != nil && cur.spec == want && ok {
		return // running as wanted (or exited on its own: its log says why)
	}
	if cur != nil {
		a.mu.Lock()
		cur.stopped = true
		a.mu.Unlock()
		cur.proc.stop(engineStopGrace)
		a.mu.Lock()
		delete(a.procs, key)
		a.mu.Unlock()
	}
	if gone {
		// The pod's emptyDirs and Secret files go with it, as the kubelet cleans up a deleted pod.
		if err := os.RemoveAll(podDir(a.dir, ns, name)); err != nil {
			a.logf(ns, name, "remove the pod's folder: %v", err)
		}
	}
	if !ok || stopping {
		return
	}
	for _, fill := range fills {
		if err := fill(); err != nil {
			a.waitFor(key, fmt.Sprintf("preparing the volumes: %v", err))
			return
		}
	}
	a.waitFor(key, "")
	bin := a.engineSim
	if want.kind == kindLoader {
		bin = a.loader
		// The report of this run only: the kubelet gives each container a new termination-log file.
		if err := os.MkdirAll(filepath.Dir(want.termLog), 0o755); err != nil {
			a.logf(ns, name, "create the termination log: %v", err)
			return
		}
		if err := os.Remove(want.termLog); err != nil && !errors.Is(err, os.ErrNotExist) {
			a.logf(ns, name, "clear the termination log: %v", err)
			return
		}
	}
	logPath := a.logPath(want.kind, ns, name)
	started := time.Now()
	p, err := startProcessEnv(string(want.kind)+" "+key, bin, want.argv(), want.environ(), logPath)
	if err != nil {
		a.logf(ns, name, "%v", err)
		return
	}
	a.mu.Lock()
	if a.stopping { // stop began meanwhile; it waits for this worker, not for this process
		a.mu.Unlock()
		p.stop(engineStopGrace)
		return
	}
	pp := &podProc{spec: want, proc: p, started: started}
	a.procs[key] = pp
	a.mu.Unlock()
	if want.kind == kindLoader {
		go a.watchLoader(ns, name, pp)
	} else {
		go a.watch(ns, name, pp)
	}
}

// waitFor retries a pod soon when why is not empty, noting why in its log once (not on every retry).
func (a *podAgent) waitFor(key, why string) {
	a.mu.Lock()
	noted := a.waiting[key] == why
	if why == "" {
		delete(a.waiting, key)
	} else {
		a.waiting[key] = why
	}
	a.mu.Unlock()
	if why == "" {
		return
	}
	if !noted {
		if ns, name, err := cache.SplitMetaNamespaceKey(key); err == nil {
			a.logf(ns, name, "%s", why)
		}
	}
	a.queue.AddAfter(key, retryDelay)
}

// logPath is the log of a pod's process: <Dir>/logs/<kind>/<namespace>_<pod>.log.
func (a *podAgent) logPath(kind procKind, ns, name string) string {
	return filepath.Join(a.dir, "logs", string(kind), ns+"_"+name+".log")
}

// logf notes in the log of a pod's process why the agent could not (yet) run it.
func (a *podAgent) logf(ns, name, format string, args ...any) {
	kind := kindEngine
	if pod, err := a.lister.Pods(ns).Get(name); err == nil && pod.Labels[LabelModelCache] != "" {
		kind = kindLoader
	}
	if f, err := os.OpenFile(a.logPath(kind, ns, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
		fmt.Fprintf(f, "simcluster: "+format+"\n", args...)
		f.Close()
	}
}

// checkContainerConfig plays the kubelet's checks of a scheduled, Pending pod before it starts the containers: its
// Secret and ConfigMap volumes must mount, then its environment must resolve. It marks the pod ready to start
// (the running stages wait for the mark), or reports its containers waiting as the kubelet does — in
// ContainerCreating with a FailedMount event for a volume, in CreateContainerConfigError with the message for the
// environment — and records the message so that a Secret or ConfigMap that appears later retries the pod.
func (a *podAgent) checkContainerConfig(pod *corev1.Pod) {
	if pod.DeletionTimestamp != nil || pod.Spec.NodeName == "" || pod.Status.Phase != corev1.PodPending {
		return
	}
	reason := "ContainerCreating"
	msg, err := volumeMountError(pod, a.secrets, a.configMaps)
	if err == nil && msg == "" {
		reason = "CreateContainerConfigError"
		msg, err = containerConfigError(pod, a.secrets, a.configMaps)
	}
	if err != nil {
		return
	}
	annotations := map[string]any{AnnotationContainerConfig: "ok", AnnotationContainerConfigError: nil}
	if msg != "" {
		annotations = map[string]any{AnnotationContainerConfig: nil, AnnotationContainerConfigError: msg}
	}
	if pod.Annotations[AnnotationContainerConfig] == "ok" && msg == "" || pod.Annotations[AnnotationContainerConfigError] == msg && msg != "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if msg != "" {
		statuses := make([]corev1.ContainerStatus, len(pod.Spec.Containers))
		for i, c := range pod.Spec.Containers {
			waiting := &corev1.ContainerStateWaiting{Reason: reason, Message: msg}
			if reason == "ContainerCreating" {
				waiting.Message = "" // the kubelet says why in the pod's events only
			}
			statuses[i] = corev1.ContainerStatus{Name: c.Name, Image: c.Image, State: corev1.ContainerState{Waiting: waiting}}
		}
		status, err := json.Marshal(map[string]any{"status": map[string]any{"containerStatuses": statuses}})
		if err == nil {
			if _, err := a.cs.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, status, metav1.PatchOptions{}, "status"); err != nil &&
				!apierrors.IsNotFound(err) {
				fmt.Fprintf(os.Stderr, "simcluster: pod %s/%s container status: %v\n", pod.Namespace, pod.Name, err)
			}
		}
		if reason == "ContainerCreating" {
			a.event(ctx, pod, corev1.EventTypeWarning, "FailedMount", msg)
		}
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": annotations}})
	if err != nil {
		return
	}
	if _, err := a.cs.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil &&
		!apierrors.IsNotFound(err) {
		fmt.Fprintf(os.Stderr, "simcluster: pod %s/%s container config: %v\n", pod.Namespace, pod.Name, err)
	}
}

// event records an event on a pod as its node's kubelet does.
func (a *podAgent) event(ctx context.Context, pod *corev1.Pod, kind, reason, msg string) {
	now := metav1.Now()
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, GenerateName: pod.Name + "."},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name,
			UID: pod.UID, ResourceVersion: pod.ResourceVersion},
		Reason: reason, Message: msg, Type: kind, Count: 1, FirstTimestamp: now, LastTimestamp: now,
		Source:              corev1.EventSource{Component: "kubelet", Host: pod.Spec.NodeName},
		ReportingController: "kubelet", ReportingInstance: pod.Spec.NodeName,
	}
	if _, err := a.cs.CoreV1().Events(pod.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		fmt.Fprintf(os.Stderr, "simcluster: event %s on pod %s/%s: %v\n", reason, pod.Namespace, pod.Name, err)
	}
}

// watch waits for an engine-sim process to end; one that exits on its own with an error crashes its pod.
func (a *podAgent) watch(ns, name string, ep *podProc) {
	<-ep.proc.done
	a.mu.Lock()
	stopped := ep.stopped || a.stopping
	a.mu.Unlock()
	var exit *exec.ExitError
	if stopped || !errors.As(ep.proc.waitErr, &exit) || exit.ExitCode() <= 0 {
		return
	}
	msg := ep.proc.output()
	if len(msg) > terminationMessageBytes {
		msg = msg[len(msg)-terminationMessageBytes:]
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
		AnnotationCrash: "true", AnnotationExitCode: strconv.Itoa(exit.ExitCode()), AnnotationTerminationMessage: msg,
	}}})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := a.cs.CoreV1().Pods(ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil &&
		!apierrors.IsNotFound(err) {
		fmt.Fprintf(os.Stderr, "simcluster: marking pod %s/%s crashed: %v\n", ns, name, err)
	}
}

// stop ends the watch and every process. It is idempotent.
func (a *podAgent) stop() {
	a.mu.Lock()
	if a.stopping {
		a.mu.Unlock()
		return
	}
	a.stopping = true
	a.mu.Unlock()
	a.queue.ShutDown()
	close(a.stopInf)
	<-a.workerDone
	a.mu.Lock()
	procs := a.procs
	a.procs = map[string]*podProc{}
	a.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.proc.stop(engineStopGrace)
		}()
	}
	wg.Wait()
}

// running returns the pods (namespace/name) with a process of that kind that has not exited.
func (a *podAgent) running(kind procKind) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for key, p := range a.procs {
		if p.spec.kind == kind && !p.proc.exited() {
			out = append(out, key)
		}
	}
	return out
}

// BuildEngineSim builds test/engine-sim of this module into dir and returns the binary's path. It needs the
// go command and runs inside the module (tests do).
func BuildEngineSim(ctx context.Context, dir string) (string, error) {
	return build(ctx, dir, "engine-sim", "github.com/privatellm/privatellm/test/engine-sim")
}

// build builds a command of this module into dir/name.
func build(ctx context.Context, dir, name, pkg string) (string, error) {
	bin := filepath.Join(dir, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", name, err, out)
	}
	return bin, nil
}

// executable returns the absolute path of a binary, or an error saying how to build it.
func executable(bin, what, how string) (string, error) {
	abs, err := filepath.Abs(bin)
	if err != nil {
		return "", fmt.Errorf("%s binary %s: %w", what, bin, err)
	}
	if fi, err := os.Stat(abs); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s binary %s is not an executable file (build it: %s): %v", what, abs, how, err)
	}
	return abs, nil
}

// startPodAgent starts the pod agent of Options.EngineSim and Options.Loader.
func (c *Cluster) startPodAgent(ctx context.Context, opts Options) error {
	o := agentOptions{dir: c.dir}
	var err error
	if opts.EngineSim != "" {
		if o.engineSim, err = executable(opts.EngineSim, "engine-sim", "go build -o bin/engine-sim ./test/engine-sim"); err != nil {
			return err
		}
	}
	if opts.Loader != "" {
		if o.loader, err = executable(opts.Loader, "loader", "go build -o bin/loader ./cmd/loader"); err != nil {
			return err
		}
	}
	cs, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		return fmt.Errorf("pod agent client: %w", err)
	}
	agent, err := startPodAgent(ctx, cs, o)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping {
		agent.stop()
		return errors.New("simulated cluster is stopping")
	}
	c.agent = agent
	return nil
}

// EngineSims returns the pods (namespace/name) whose engine-sim process runs now, when Options.EngineSim is set.
func (c *Cluster) EngineSims() []string { return c.runningProcs(kindEngine) }

// Loaders returns the pods (namespace/name) whose loader process runs now, when Options.Loader is set.
func (c *Cluster) Loaders() []string { return c.runningProcs(kindLoader) }

func (c *Cluster) runningProcs(kind procKind) []string {
	c.mu.Lock()
	agent := c.agent
	c.mu.Unlock()
	if agent == nil {
		return nil
	}
	return agent.running(kind)
}
