package simcluster

import (
	"context"
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
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// What the pod agent recognises in the operator's pods (internal/engine and internal/render own these names;
// they are repeated here so that the simulator does not depend on the operator).
const (
	// LabelLLMDeployment names a pod's LLMDeployment; the served name when the container passes none.
	LabelLLMDeployment = "serving.privatellm.dev/llmdeployment"
	// EngineContainerVLLM and EngineContainerTGI are the names of the engine container, the pod's first.
	EngineContainerVLLM = "vllm"
	EngineContainerTGI  = "tgi"
	// AnnotationFailMetrics, set to "true" on a pod, makes its engine-sim answer /metrics with 500 (a broken
	// metrics endpoint, for autoscaler tests).
	AnnotationFailMetrics = "sim.privatellm.dev/fail-metrics"
)

// engineStopGrace is how long an engine-sim process has to exit after SIGTERM.
const engineStopGrace = 5 * time.Second

// engineSpec is what one engine-sim process serves; a change restarts the process.
type engineSpec struct {
	uid         types.UID
	engine      string
	ip          string
	port        int32
	metricsPort int32 // TGI's exporter; 0 for vLLM
	servedName  string
	loadDelay   time.Duration
	failMetrics bool
}

func (s engineSpec) args() []string {
	args := []string{"--engine=" + s.engine, "--host=" + s.ip, "--port=" + strconv.Itoa(int(s.port)),
		"--served-model-name=" + s.servedName, "--load-delay=" + s.loadDelay.String()}
	if s.failMetrics {
		args = append(args, "--fail-metrics")
	}
	if s.metricsPort > 0 {
		args = append(args, "--metrics-port="+strconv.Itoa(int(s.metricsPort)))
	} else {
		args = append(args, "--metrics-port=-1")
	}
	return args
}

// engineFor returns what engine-sim should serve for pod, or false when the pod needs none: it is not Running
// with an IP, is being deleted, or its first container is not a vLLM or TGI engine.
func engineFor(pod *corev1.Pod) (engineSpec, bool) {
	if pod.DeletionTimestamp != nil || pod.Status.Phase != corev1.PodRunning || pod.Status.PodIP == "" ||
		pod.Spec.NodeName == "" || len(pod.Spec.Containers) == 0 {
		return engineSpec{}, false
	}
	ctr := &pod.Spec.Containers[0]
	s := engineSpec{uid: pod.UID, engine: ctr.Name, ip: pod.Status.PodIP}
	switch ctr.Name {
	case EngineContainerVLLM:
		s.port = containerPort(ctr, "http", 8000)
	case EngineContainerTGI:
		s.port = containerPort(ctr, "http", 8080)
		s.metricsPort = containerPort(ctr, "metrics", 9000)
	default:
		return engineSpec{}, false
	}
	s.servedName = servedModelName(ctr)
	if s.servedName == "" {
		s.servedName = pod.Labels[LabelLLMDeployment]
	}
	if s.servedName == "" {
		s.servedName = pod.Name
	}
	s.failMetrics = pod.Annotations[AnnotationFailMetrics] == "true"
	if v, ok := pod.Annotations[AnnotationReadyDelay]; ok {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			s.loadDelay = d
		}
	}
	return s, true
}

// containerPort returns the container port called name, or def.
func containerPort(ctr *corev1.Container, name string, def int32) int32 {
	for _, p := range ctr.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return def
}

// servedModelName returns the first name of the container's --served-model-name (as `--flag=v` or `--flag v`).
func servedModelName(ctr *corev1.Container) string {
	args := append(append([]string{}, ctr.Command...), ctr.Args...)
	for i, a := range args {
		v, ok := strings.CutPrefix(a, "--served-model-name=")
		if !ok && a == "--served-model-name" && i+1 < len(args) {
			v, ok = args[i+1], true
		}
		if ok {
			name, _, _ := strings.Cut(v, ",")
			return name
		}
	}
	return ""
}

// engineProc is one engine-sim process and what it serves.
type engineProc struct {
	spec engineSpec
	proc *process
}

// podAgent plays the engine inside the pods on the fake nodes: for each Running vLLM or TGI pod it runs one
// engine-sim process bound to the pod's IP and port, and stops it when the pod goes.
type podAgent struct {
	bin, logDir string
	lister      corelisters.PodLister
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
	a := &podAgent{
		bin: bin, logDir: logDir,
		lister:     podInf.Lister(),
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
	factory.Start(a.stopInf)
	go a.work()
	syncCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), podInf.Informer().HasSynced) {
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
	want, ok := engineSpec{}, false
	pod, err := a.lister.Pods(ns).Get(name)
	switch {
	case err == nil:
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
		cur.proc.stop(engineStopGrace)
		a.mu.Lock()
		delete(a.procs, key)
		a.mu.Unlock()
	}
	if !ok || stopping {
		return
	}
	logPath := filepath.Join(a.logDir, ns+"_"+name+".log")
	p, err := startProcess("engine-sim "+key, a.bin, want.args(), logPath)
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
	a.procs[key] = &engineProc{spec: want, proc: p}
	a.mu.Unlock()
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

// BuildEngineSim builds cmd/engine-sim of this module into dir and returns the binary's path. It needs the
// go command and runs inside the module (tests do).
func BuildEngineSim(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "engine-sim")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/privatellm/privatellm/cmd/engine-sim")
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
		return fmt.Errorf("engine-sim binary %s is not an executable file (build it: go build -o bin/engine-sim ./cmd/engine-sim): %v",
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
