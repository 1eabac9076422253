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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

// engineStopGrace is how long an engine-sim process has to exit after SIGTERM.
const engineStopGrace = 5 * time.Second

// terminationMessageBytes is how much of a crashed engine's output becomes its termination message (the kubelet
// keeps at most 2048 bytes of the log tail with FallbackToLogsOnError).
const terminationMessageBytes = 2048

// engineSpec is what one engine-sim process serves; a change restarts the process. Comparable, so the command
// line and environment are kept joined.
type engineSpec struct {
	uid         types.UID
	ip          string
	argv        string // the container's command and args, NUL-separated
	env         string // its literal environment, NUL-separated KEY=VALUE
	runAsUser   int64
	loadDelay   time.Duration
	failMetrics bool
}

// args is engine-sim's command line: the simulator's options, then the container's own command line.
func (s engineSpec) args() []string {
	args := []string{"--bind=" + s.ip, "--uid=" + strconv.FormatInt(s.runAsUser, 10), "--load-delay=" + s.loadDelay.String()}
	if s.failMetrics {
		args = append(args, "--fail-metrics")
	}
	return append(append(args, "--"), strings.Split(s.argv, "\x00")...)
}

func (s engineSpec) environ() []string {
	if s.env == "" {
		return []string{}
	}
	return strings.Split(s.env, "\x00")
}

// engineFor returns what engine-sim should run for pod, or false when the pod needs none: it is not an
// LLMDeployment's pod, not Running with an IP, or being deleted (or nil).
func engineFor(pod *corev1.Pod) (engineSpec, bool) {
	if pod == nil || pod.DeletionTimestamp != nil || pod.Status.Phase != corev1.PodRunning || pod.Status.PodIP == "" ||
		pod.Spec.NodeName == "" || len(pod.Spec.Containers) == 0 || pod.Labels[LabelLLMDeployment] == "" {
		return engineSpec{}, false
	}
	ctr := &pod.Spec.Containers[0]
	s := engineSpec{uid: pod.UID, ip: pod.Status.PodIP,
		argv: strings.Join(append(append([]string{}, ctr.Command...), ctr.Args...), "\x00")}
	var env []string
	for _, e := range ctr.Env {
		if e.ValueFrom == nil {
			env = append(env, e.Name+"="+e.Value)
		}
	}
	s.env = strings.Join(env, "\x00")
	// The user: the container's, else the pod's, else the image's (root for the engines' images).
	if sc := pod.Spec.SecurityContext; sc != nil && sc.RunAsUser != nil {
		s.runAsUser = *sc.RunAsUser
	}
	if sc := ctr.SecurityContext; sc != nil && sc.RunAsUser != nil {
		s.runAsUser = *sc.RunAsUser
	}
	s.failMetrics = pod.Annotations[AnnotationFailMetrics] == "true"
	if v, ok := pod.Annotations[AnnotationReadyDelay]; ok {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			s.loadDelay = d
		}
	}
	return s, true
}

// engineProc is one engine-sim process and what it serves.
type engineProc struct {
	spec    engineSpec
	proc    *process
	stopped bool // the agent stopped it (guarded by podAgent.mu)
}

// podAgent plays the engine inside the pods on the fake nodes: for each Running pod of an LLMDeployment it runs
// one engine-sim process with the engine container's command line, environment and user, bound to the pod's IP,
// and stops it when the pod goes. When the engine exits on its own (it refused its command line, as the real
// engine would), the agent marks the pod crashed, and the crash stages take it to CrashLoopBackOff.
type podAgent struct {
	bin, logDir string
	cs          kubernetes.Interface
	lister      corelisters.PodLister
	secrets     corelisters.SecretLister
	configMaps  corelisters.ConfigMapLister
	queue       *workqueue.Typed[string]
	stopInf     chan struct{}
	workerDone  chan struct{}

	mu       sync.Mutex
	procs    map[string]*engineProc // by namespace/name
	stopping bool
}

// startPodAgent starts the agent and returns once its pod cache is in sync.
func startPodAgent(ctx context.Context, cs kubernetes.Interface, bin, logDir string) (*podAgent, error) {
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, fmt.Errorf("create engine-sim log folder: %w", err)
	}
	factory := informers.NewSharedInformerFactory(cs, 30*time.Second)
	podInf := factory.Core().V1().Pods()
	secretInf, configMapInf := factory.Core().V1().Secrets(), factory.Core().V1().ConfigMaps()
	a := &podAgent{
		bin: bin, logDir: logDir, cs: cs,
		lister:     podInf.Lister(),
		secrets:    secretInf.Lister(),
		configMaps: configMapInf.Lister(),
		queue:      workqueue.NewTyped[string](),
		stopInf:    make(chan struct{}),
		workerDone: make(chan struct{}),
		procs:      map[string]*engineProc{},
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
		return nil, fmt.Errorf("watch pods for engine-sim: %w", err)
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
	factory.Start(a.stopInf)
	go a.work()
	syncCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), podInf.Informer().HasSynced, secretInf.Informer().HasSynced, configMapInf.Informer().HasSynced) {
		a.stop()
		return nil, fmt.Errorf("engine-sim pod agent: pod cache not synced: %w", syncCtx.Err())
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

// sync makes the engine-sim process of one pod match the pod.
func (a *podAgent) sync(key string) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return
	}
	want, ok := engineFor(nil)
	pod, err := a.lister.Pods(ns).Get(name)
	switch {
	case err == nil:
		a.checkContainerConfig(pod)
		want, ok = engineFor(pod)
	case !apierrors.IsNotFound(err):
		return
	}
	a.mu.Lock()
	cur, stopping := a.procs[key], a.stopping
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
	if !ok || stopping {
		return
	}
	logPath := filepath.Join(a.logDir, ns+"_"+name+".log")
	p, err := startProcessEnv("engine-sim "+key, a.bin, want.args(), want.environ(), logPath)
	if err != nil {
		if f, ferr := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); ferr == nil {
			fmt.Fprintf(f, "simcluster: %v\n", err)
			f.Close()
		}
		return
	}
	a.mu.Lock()
	if a.stopping { // stop began meanwhile; it waits for this worker, not for this process
		a.mu.Unlock()
		p.stop(engineStopGrace)
		return
	}
	ep := &engineProc{spec: want, proc: p}
	a.procs[key] = ep
	a.mu.Unlock()
	go a.watch(ns, name, ep)
}

// checkContainerConfig plays the kubelet's check of a scheduled, Pending pod's environment: it marks the pod
// ready to start (the running stages wait for the mark), or reports its containers waiting in
// CreateContainerConfigError with the kubelet's message, and records the message so that a Secret or ConfigMap
// that appears later retries the pod.
func (a *podAgent) checkContainerConfig(pod *corev1.Pod) {
	if pod.DeletionTimestamp != nil || pod.Spec.NodeName == "" || pod.Status.Phase != corev1.PodPending {
		return
	}
	msg, err := containerConfigError(pod, a.secrets, a.configMaps)
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
			statuses[i] = corev1.ContainerStatus{Name: c.Name, Image: c.Image, State: corev1.ContainerState{
				Waiting: &corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: msg}}}
		}
		status, err := json.Marshal(map[string]any{"status": map[string]any{"containerStatuses": statuses}})
		if err == nil {
			if _, err := a.cs.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, status, metav1.PatchOptions{}, "status"); err != nil &&
				!apierrors.IsNotFound(err) {
				fmt.Fprintf(os.Stderr, "simcluster: pod %s/%s container status: %v\n", pod.Namespace, pod.Name, err)
			}
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

// watch waits for an engine-sim process to end; one that exits on its own with an error crashes its pod.
func (a *podAgent) watch(ns, name string, ep *engineProc) {
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

// stop ends the watch and every engine-sim process. It is idempotent.
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
	a.procs = map[string]*engineProc{}
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

// engineSims returns the pods (namespace/name) with an engine-sim process that has not exited.
func (a *podAgent) engineSims() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for key, p := range a.procs {
		if !p.proc.exited() {
			out = append(out, key)
		}
	}
	return out
}

// BuildEngineSim builds test/engine-sim of this module into dir and returns the binary's path. It needs the
// go command and runs inside the module (tests do).
func BuildEngineSim(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "engine-sim")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/privatellm/privatellm/test/engine-sim")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build engine-sim: %w\n%s", err, out)
	}
	return bin, nil
}

// startPodAgent starts the engine-sim pod agent of Options.EngineSim.
func (c *Cluster) startPodAgent(ctx context.Context, bin string) error {
	abs, err := filepath.Abs(bin)
	if err != nil {
		return fmt.Errorf("engine-sim binary %s: %w", bin, err)
	}
	if fi, err := os.Stat(abs); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("engine-sim binary %s is not an executable file (build it: go build -o bin/engine-sim ./test/engine-sim): %v",
			abs, err)
	}
	cs, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		return fmt.Errorf("engine-sim pod agent client: %w", err)
	}
	agent, err := startPodAgent(ctx, cs, abs, filepath.Join(c.dir, "logs", "engine-sim"))
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
func (c *Cluster) EngineSims() []string {
	c.mu.Lock()
	agent := c.agent
	c.mu.Unlock()
	if agent == nil {
		return nil
	}
	return agent.engineSims()
}
